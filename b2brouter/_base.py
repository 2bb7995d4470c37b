"""What the resource services share: paths, envelopes and listing."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from ._pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, ListPage, read_list

if TYPE_CHECKING:
    from ._client import B2BRouter

T = TypeVar("T")


def resource_path(template: str, *ids: object) -> str:
    """Fill ``template``'s ``{}`` with URL-quoted ids, refusing empty ones."""
    parts = []
    for value in ids:
        text = str(value).strip() if value is not None else ""
        if not text or isinstance(value, bool):
            raise ValueError(f"an id is required, got {value!r}")
        parts.append(quote(text, safe=""))
    return template.format(*parts)


def unwrap(body: Any, key: str) -> dict[str, Any]:
    """Return ``body[key]`` of a ``{"<key>": {...}}`` envelope, or the body itself when bare."""
    if isinstance(body, dict):
        inner = body.get(key)
        if isinstance(inner, dict):
            return inner
        return body
    return {}


class Service:
    """Base of the per-resource services: holds the client that makes the requests."""

    def __init__(self, client: B2BRouter) -> None:
        self._client = client

    def _list(
        self,
        path: str,
        key: str,
        params: Mapping[str, Any],
        parse: Callable[[dict[str, Any]], T],
        money: bool = False,
    ) -> ListPage[T]:
        limit = params.get("limit")
        if limit is not None and not 1 <= int(limit) <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}, got {limit!r}")
        offset = int(params.get("offset") or 0)
        body = self._client.request("GET", path, params=params, money=money)
        # meta.offset is not trusted for paging: a server echoing a wrong one (say 0) would
        # make the next page the same request again, for ever. The offset asked for is known.
        items, total_count, _meta_offset, meta_limit = read_list(body, key)

        def fetch_next(next_offset: int) -> ListPage[T]:
            return self._list(path, key, {**params, "offset": next_offset}, parse, money)

        return ListPage(
            data=[parse(item) for item in items if isinstance(item, dict)],
            total_count=total_count,
            offset=offset,
            limit=meta_limit or (int(limit) if limit is not None else DEFAULT_PAGE_SIZE),
            _fetch_next=fetch_next,
        )
