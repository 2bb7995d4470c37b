"""The distribution version of the client, sent in the User-Agent."""

__version__ = "0.1.0"
