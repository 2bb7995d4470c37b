"""Named B2Brouter environments: where the API lives and where users open documents."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

__all__ = [
    "Environment",
    "PRODUCTION",
    "PRODUCTION_BASE_URL",
    "PRODUCTION_WEB_URL",
    "STAGING",
    "STAGING_BASE_URL",
    "STAGING_WEB_URL",
]

PRODUCTION_BASE_URL = "https://api.b2brouter.net"
PRODUCTION_WEB_URL = "https://app.b2brouter.net"
STAGING_BASE_URL = "https://api-staging.b2brouter.net"
STAGING_WEB_URL = "https://app-staging.b2brouter.net"


@dataclass(frozen=True)
class Environment:
    """A B2Brouter deployment: the API base URL and the web app base URL.

    The sandbox is not a separate environment: it is production with an API key
    that starts with ``test_``.
    """

    name: str
    api_base: str
    web_base: str

    def __post_init__(self) -> None:
        # Normalise once so URL building never doubles or drops a slash.
        object.__setattr__(self, "api_base", self.api_base.rstrip("/"))
        object.__setattr__(self, "web_base", self.web_base.rstrip("/"))

    @classmethod
    def simulator(cls, api_base: str) -> Environment:
        """Return the environment of a local simulator served at ``api_base`` (e.g. ``.../sim``)."""
        api_base = api_base.rstrip("/")
        return cls(name="simulator", api_base=api_base, web_base=f"{api_base}/app")

    def invoice_url(self, invoice_id: int | str) -> str:
        """Return the web app page of an invoice: ``{web_base}/invoices/{id}``."""
        return f"{self.web_base}/invoices/{quote(str(invoice_id), safe='')}"


PRODUCTION = Environment(name="production", api_base=PRODUCTION_BASE_URL, web_base=PRODUCTION_WEB_URL)
STAGING = Environment(name="staging", api_base=STAGING_BASE_URL, web_base=STAGING_WEB_URL)
