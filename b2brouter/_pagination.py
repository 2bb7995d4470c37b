"""One page of a list answer, and iteration across all pages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "ListPage"]

T = TypeVar("T")

#: The API's page size when the request gives no ``limit``.
DEFAULT_PAGE_SIZE = 25
#: The largest ``limit`` the API accepts.
MAX_PAGE_SIZE = 500


@dataclass
class ListPage(Generic[T]):
    """One page of a list: ``data`` holds this page's items.

    Iterating over the page (or calling :meth:`auto_paging_iter`) yields every item of every
    page, fetching the following pages as needed with the same filters::

        page = client.invoices.list(account, limit=500, sent=True)
        page.total_count          # all matching invoices, when the API says
        for invoice in page:      # this page, then the next ones
            ...

    Paging stops when a page is empty or short (fewer items than the page size), when
    ``offset + len(data)`` reaches ``total_count``, or when a page repeats the previous one
    (a server ignoring ``offset``). ``offset`` is the offset asked for.
    """

    data: list[T]
    total_count: int | None
    offset: int
    limit: int
    _fetch_next: Callable[[int], ListPage[T]] | None = field(default=None, repr=False, compare=False)

    @property
    def has_more(self) -> bool:
        """Tell whether another page may hold more items."""
        count = len(self.data)
        if count == 0 or count < self.limit:
            return False
        return self.total_count is None or self.offset + count < self.total_count

    def next_page(self) -> ListPage[T] | None:
        """Fetch the following page, or return None when this is the last one."""
        if not self.has_more or self._fetch_next is None:
            return None
        return self._fetch_next(self.offset + len(self.data))

    def auto_paging_iter(self) -> Iterator[T]:
        """Yield the items of this page and of every following page."""
        page: ListPage[T] | None = self
        previous: list[T] | None = None
        while page is not None:
            if previous is not None and page.data == previous:
                # A server that ignores ``offset`` answers the same page again: stop rather
                # than loop for ever (or yield duplicates up to total_count).
                return
            yield from page.data
            previous = page.data
            page = page.next_page()

    def __iter__(self) -> Iterator[T]:
        return self.auto_paging_iter()


def read_list(body: Any, key: str) -> tuple[list[Any], int | None, int | None, int | None]:
    """Return ``(items, total_count, offset, limit)`` from a list body.

    Read ``{"<key>": [...], "meta": {"total_count": N, "offset": O, "limit": L}}``, the legacy
    shape with those three at the root, and a bare JSON array.
    """
    if isinstance(body, list):
        return body, None, None, None
    if not isinstance(body, dict):
        return [], None, None, None
    items: Any = body.get(key)
    if not isinstance(items, list):
        items = body.get("data")
        if not isinstance(items, list):
            items = []
    meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
    assert isinstance(meta, dict)

    def number(name: str) -> int | None:
        for source in (meta, body):
            value = source.get(name)
            if value is None or isinstance(value, bool):
                continue
            try:
                return int(value)
            except (TypeError, ValueError, ArithmeticError):
                continue
        return None

    return items, number("total_count"), number("offset"), number("limit")
