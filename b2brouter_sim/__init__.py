"""A stateful local simulator of the B2Brouter API."""
