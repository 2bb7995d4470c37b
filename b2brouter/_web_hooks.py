"""``client.web_hooks``: the endpoints B2Brouter notifies of invoice state changes.

Verifying what arrives at an endpoint is :mod:`b2brouter.webhooks` (pure functions); this
service registers, lists, reads and removes the endpoints themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Unpack, cast

from ._base import Service, resource_path, unwrap
from ._pagination import ListPage
from ._types import ResourceId, WebhookEndpoint, WebhookEndpointListParams, WebhookEndpointParams

__all__ = ["DEFAULT_WEBHOOK_EVENTS", "WebHooksService"]

#: The events an endpoint subscribes to unless told otherwise.
DEFAULT_WEBHOOK_EVENTS = ("issued_invoice.state_change",)


def _endpoint(data: dict[str, Any]) -> WebhookEndpoint:
    return cast(WebhookEndpoint, data)


class WebHooksService(Service):
    """Register, list, read and remove webhook endpoints (there is no update: re-register)."""

    def create(
        self,
        url: str,
        events: Iterable[str] = DEFAULT_WEBHOOK_EVENTS,
        enabled: bool = True,
    ) -> WebhookEndpoint:
        """Register an endpoint (``POST /web_hooks``); the answer holds ``signing_secret``, once.

        Keep the secret at once: no later answer shows it again. A POST is never retried once
        it may have reached B2Brouter: on an error with ``maybe_applied`` :meth:`list` the
        endpoints and look for ``url`` before registering it again.
        """
        if isinstance(events, str):
            # A bare string would be sent as a list of its characters.
            raise TypeError("events must be a list of event codes, not a string")
        params: WebhookEndpointParams = {"url": url, "events": list(events), "enabled": enabled}
        body = self._client.request("POST", "/web_hooks", json={"web_hook": params})
        return _endpoint(unwrap(body, "web_hook"))

    def list(self, **params: Unpack[WebhookEndpointListParams]) -> ListPage[WebhookEndpoint]:
        """List the API key's endpoints (``GET /web_hooks``), without their secrets.

        Iterating over the answer walks every page; ``offset`` and ``limit`` (at most 500) pick one.
        """
        return self._list("/web_hooks", "web_hooks", params, _endpoint)

    def retrieve(self, web_hook_id: ResourceId) -> WebhookEndpoint:
        """Read an endpoint with its delivery log (``GET /web_hooks/{id}``), without its secret."""
        body = self._client.request("GET", resource_path("/web_hooks/{}", web_hook_id))
        return _endpoint(unwrap(body, "web_hook"))

    def delete(self, web_hook_id: ResourceId) -> None:
        """Remove an endpoint (``DELETE /web_hooks/{id}``); B2Brouter stops notifying it."""
        self._client.request("DELETE", resource_path("/web_hooks/{}", web_hook_id))
