"""``client.accounts``: the accounts (issuing companies) the API key can act on."""

from __future__ import annotations

from typing import Any, Unpack, cast

from ._base import Service, resource_path, unwrap
from ._pagination import ListPage
from ._types import Account, AccountId, AccountListParams, AccountParams


def _account(data: dict[str, Any]) -> Account:
    return cast(Account, data)


class AccountsService(Service):
    """List, read and update accounts."""

    def list(self, **params: Unpack[AccountListParams]) -> ListPage[Account]:
        """List the accounts of the API key (``GET /accounts``)."""
        return self._list("/accounts", "accounts", params, _account)

    def retrieve(self, account: AccountId) -> Account:
        """Read an account (``GET /accounts/{account}``)."""
        body = self._client.request("GET", resource_path("/accounts/{}", account))
        return _account(unwrap(body, "account"))

    def update(self, account: AccountId, changes: AccountParams) -> Account:
        """Change an account's writable fields (``PUT /accounts/{account}``).

        ``tin_value`` cannot change (422 ``parameter_cannot_change``).
        """
        body = self._client.request("PUT", resource_path("/accounts/{}", account), json={"account": changes})
        return _account(unwrap(body, "account"))
