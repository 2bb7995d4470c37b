"""``client.directory``: look a receiver up in B2Brouter's directory.

B2Brouter documents the directory (developer.b2brouter.net/docs/directory): a receiver is
looked up by its country, the EAS scheme of its identifier and the identifier itself, and the
answer names, for each document (``Invoice``, ``Order``, ...), the transport B2Brouter would
use and the document type it would send. The exact path is not in the public documentation
we could read: ``GET /directory/{country}/{scheme}/{id}`` is inferred from those three inputs
and from the migration guide (the directory lost its ``/api/v1`` prefix), and so is the 404
for a receiver that is not listed. See docs/client.md.
"""

from __future__ import annotations

from typing import Any, cast

from ._base import Service, resource_path, unwrap
from ._exceptions import NotFoundError
from ._types import DirectoryDocument, DirectoryEntry

__all__ = ["DirectoryService", "directory_document", "reachable_on_peppol"]


def directory_document(entry: DirectoryEntry, document: str = "Invoice") -> DirectoryDocument | None:
    """Return what ``entry`` says about receiving ``document`` (e.g. ``"Invoice"``), or None.

    The key is matched exactly first, then ignoring case, spaces and underscores, so
    ``"despatch_advice"`` finds ``"Despatch Advice"``.
    """
    data: dict[str, Any] = dict(entry)
    value = data.get(document)
    if not isinstance(value, dict):
        wanted = _key(document)
        value = next((v for k, v in data.items() if _key(k) == wanted and isinstance(v, dict)), None)
    return cast(DirectoryDocument, value) if isinstance(value, dict) else None


def reachable_on_peppol(entry: DirectoryEntry | None, document: str = "Invoice") -> bool:
    """Tell whether the directory would send ``document`` to this receiver over Peppol."""
    if entry is None:
        return False
    found = directory_document(entry, document)
    if found is None:
        return False
    return str(found.get("transport_type_code") or "").lower() == "peppol"


def _key(name: str) -> str:
    return "".join(name.lower().replace("_", " ").split())


class DirectoryService(Service):
    """Look receivers up in B2Brouter's directory (it cannot be listed or searched)."""

    def lookup(self, country: str, scheme: str, identifier: str) -> DirectoryEntry | None:
        """Return the directory's entry for a receiver, or None when it is not listed.

        ``country`` is the ISO 3166 code (``"es"``), ``scheme`` the EAS / ISO 6523 code of the
        identifier, zero-padded (``"9920"`` for a Spanish NIF), ``identifier`` the value
        (``"ESB12345678"``). Calls ``GET /directory/{country}/{scheme}/{identifier}`` (path
        inferred, see the module's docstring). B2Brouter's "resource missing" 404 means "not
        listed" and answers None. Any other error is raised, a 404 without that code included:
        an environment with no directory at this path answers such a 404 from its router, and
        its caller must hear that the check failed, not that the receiver is unknown.
        """
        country = country.strip().lower() if isinstance(country, str) else country
        path = resource_path("/directory/{}/{}/{}", country, scheme, identifier)
        try:
            body = self._client.request("GET", path)
        except NotFoundError as exc:
            if exc.code == "resource_missing":
                return None
            raise
        if not isinstance(body, dict):
            return None
        for envelope in ("directory_entry", "entity"):
            if isinstance(body.get(envelope), dict):
                return cast(DirectoryEntry, unwrap(body, envelope))
        return cast(DirectoryEntry, body)
