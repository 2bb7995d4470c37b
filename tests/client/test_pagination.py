"""Pages and auto-paging: meta.total_count, the legacy root total_count, short pages."""

from __future__ import annotations

import httpx
import pytest

from b2brouter import ListPage

from .conftest import json_response


def invoices(start: int, count: int) -> list[dict[str, object]]:
    return [{"id": n, "number": f"F-{n}", "total": "1.00"} for n in range(start, start + count)]


def paged(all_items: list[dict[str, object]], *, legacy: bool = False, server_limit: int | None = None):
    """Answer like the API: slice by offset/limit; meta (or legacy root) total_count."""

    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params.get("offset", 0))
        limit = int(request.url.params.get("limit", 25))
        if server_limit:
            limit = min(limit, server_limit)
        items = all_items[offset : offset + limit]
        paging = {"total_count": len(all_items), "offset": offset, "limit": limit}
        body = {"invoices": items, **paging} if legacy else {"invoices": items, "meta": paging}
        return json_response(200, body)

    return handler


def test_auto_paging_walks_every_page(make_client):
    client, script = make_client(*[paged(invoices(1, 7))] * 4)

    page = client.invoices.list(1, limit=3, sent=True)

    assert isinstance(page, ListPage)
    assert [i["id"] for i in page.data] == [1, 2, 3]
    assert page.total_count == 7 and page.has_more
    assert [i["id"] for i in page.auto_paging_iter()] == list(range(1, 8))
    assert [r.url.params.get("offset", "0") for r in script.requests] == ["0", "3", "6"]
    assert all(r.url.params["limit"] == "3" and r.url.params["sent"] == "1" for r in script.requests)


def test_iterating_a_page_auto_pages(make_client):
    client, _ = make_client(*[paged(invoices(1, 5))] * 3)

    assert [i["id"] for i in client.invoices.list(1, limit=2)] == [1, 2, 3, 4, 5]


def test_legacy_total_count_at_the_root(make_client):
    client, script = make_client(*[paged(invoices(1, 4), legacy=True)] * 3)

    page = client.invoices.list(1, limit=2)

    assert page.total_count == 4
    assert len(list(page)) == 4
    # total_count reached on the second (full) page: no third request for an empty page.
    assert len(script.requests) == 2


def test_stops_on_a_short_page_without_total_count(make_client):
    client, script = make_client(
        json_response(200, {"invoices": invoices(1, 3)}),
        json_response(200, {"invoices": invoices(4, 1)}),
    )

    page = client.invoices.list(1, limit=3)

    assert page.total_count is None
    assert [i["id"] for i in page] == [1, 2, 3, 4]
    assert len(script.requests) == 2


def test_stops_on_an_empty_page_when_the_last_one_was_full(make_client):
    client, script = make_client(
        json_response(200, {"invoices": invoices(1, 2)}),
        json_response(200, {"invoices": []}),
    )

    assert len(list(client.invoices.list(1, limit=2))) == 2
    assert len(script.requests) == 2


def test_short_page_stops_even_if_total_count_says_more(make_client):
    client, script = make_client(json_response(200, {"invoices": invoices(1, 2), "meta": {"total_count": 10}}))

    assert len(list(client.invoices.list(1, limit=5))) == 2
    assert len(script.requests) == 1


def test_server_capping_the_limit_is_followed_through_meta_limit(make_client):
    client, script = make_client(*[paged(invoices(1, 5), server_limit=2)] * 3)

    page = client.invoices.list(1, limit=500)

    assert page.limit == 2
    assert len(list(page)) == 5
    assert [r.url.params.get("offset", "0") for r in script.requests] == ["0", "2", "4"]


def test_default_page_size_without_limit(make_client):
    client, script = make_client(*[paged(invoices(1, 30))] * 2)

    page = client.invoices.list(1)

    assert "limit" not in script.requests[0].url.params
    assert page.limit == 25
    assert len(list(page)) == 30


def test_money_is_parsed_on_every_page(make_client):
    from decimal import Decimal

    client, _ = make_client(*[paged(invoices(1, 3))] * 2)

    assert {i["total"] for i in client.invoices.list(1, limit=2)} == {Decimal("1.00")}


def test_next_page(make_client):
    client, _ = make_client(*[paged(invoices(1, 3))] * 2)

    first = client.invoices.list(1, limit=2)
    second = first.next_page()

    assert second is not None and [i["id"] for i in second.data] == [3]
    assert second.offset == 2 and second.next_page() is None


@pytest.mark.parametrize("limit", [0, 501])
def test_limit_out_of_range_is_refused(make_client, limit):
    client, script = make_client()

    with pytest.raises(ValueError):
        client.invoices.list(1, limit=limit)
    assert script.requests == []


def test_accounts_list_pages_too(make_client):
    client, _ = make_client(
        json_response(200, {"accounts": [{"id": 1}, {"id": 2}], "meta": {"total_count": 3}}),
        json_response(200, {"accounts": [{"id": 3}], "meta": {"total_count": 3}}),
    )

    assert [a["id"] for a in client.accounts.list(limit=2)] == [1, 2, 3]


def test_a_wrong_meta_offset_cannot_make_paging_loop(make_client):
    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params.get("offset", 0))
        # The server pages correctly but always reports offset 0 in meta.
        return json_response(200, {"invoices": invoices(1, 5)[offset : offset + 2],
                                   "meta": {"total_count": 5, "offset": 0, "limit": 2}})

    client, script = make_client(*[handler] * 3)

    assert [i["id"] for i in client.invoices.list(1, limit=2)] == [1, 2, 3, 4, 5]
    assert [r.url.params.get("offset", "0") for r in script.requests] == ["0", "2", "4"]


@pytest.mark.parametrize("total_count", [None, 6])
def test_a_server_ignoring_offset_does_not_loop_or_repeat(make_client, total_count):
    meta = {"total_count": total_count} if total_count else {}
    client, script = make_client(*[json_response(200, {"invoices": invoices(1, 2), "meta": meta})] * 3)

    assert [i["id"] for i in client.invoices.list(1, limit=2)] == [1, 2]
    assert len(script.requests) == 2
