"""``client.contacts``: an account's customers and providers."""

from __future__ import annotations

from typing import Any, Unpack, cast

from ._base import Service, resource_path, unwrap
from ._pagination import MAX_PAGE_SIZE, ListPage
from ._tin import compact_tin, same_tin, split_tin
from ._types import AccountId, Contact, ContactListParams, ContactParams, ResourceId


def _contact(data: dict[str, Any]) -> Contact:
    return cast(Contact, data)


class ContactsService(Service):
    """Create, list, read, update and delete contacts; find one by TIN."""

    def list(self, account: AccountId, **filters: Unpack[ContactListParams]) -> ListPage[Contact]:
        """List an account's contacts (``GET /accounts/{account}/contacts``).

        Filters: ``name`` (also matches the tax code), ``is_client``, ``is_provider``,
        ``integration_code``, ``offset``, ``limit`` (at most 500).
        """
        return self._list(resource_path("/accounts/{}/contacts", account), "contacts", filters, _contact)

    def create(self, account: AccountId, contact: ContactParams) -> Contact:
        """Create a contact in an account (``POST /accounts/{account}/contacts``)."""
        body = self._client.request(
            "POST", resource_path("/accounts/{}/contacts", account), json={"contact": contact}
        )
        return _contact(unwrap(body, "contact"))

    def retrieve(self, contact_id: ResourceId) -> Contact:
        """Read a contact (``GET /contacts/{id}``)."""
        return _contact(unwrap(self._client.request("GET", resource_path("/contacts/{}", contact_id)), "contact"))

    def update(self, contact_id: ResourceId, changes: ContactParams) -> Contact:
        """Change a contact (``PUT /contacts/{id}``)."""
        body = self._client.request("PUT", resource_path("/contacts/{}", contact_id), json={"contact": changes})
        return _contact(unwrap(body, "contact"))

    def delete(self, contact_id: ResourceId) -> None:
        """Delete a contact (``DELETE /contacts/{id}``)."""
        self._client.request("DELETE", resource_path("/contacts/{}", contact_id))

    def find_by_tin(self, account: AccountId, tin: str, country: str | None = None) -> Contact | None:
        """Return the account's first contact whose TIN equals ``tin``, or None.

        The API has no exact TIN filter, so this searches with ``name=<tin>`` (which also
        matches tax codes) and compares normalised TINs locally: case, spaces, dots and
        dashes are ignored and the 2-letter country prefix is optional on either side, so
        ``ESB12345678`` finds a contact stored as ``B12345678`` and the reverse. ``country``
        is the country of a ``tin`` written without prefix; when known on both sides the
        countries must agree.
        """
        compact = compact_tin(tin)
        if not compact:
            raise ValueError("tin is empty")
        prefix, national = split_tin(tin, country)
        # The search is a text match on the server: the national part finds both prefixed and
        # unprefixed stored values if it is a substring match; the other forms cover an exact match.
        terms = list(dict.fromkeys([national, compact] + ([prefix + national] if prefix else [])))
        for term in terms:
            for contact in self.list(account, name=term, limit=MAX_PAGE_SIZE):
                stored = contact.get("tin_value")
                if isinstance(stored, str) and same_tin(stored, compact, country_b=country):
                    return contact
        return None
