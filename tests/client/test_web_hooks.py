"""``client.web_hooks``: paths, envelopes, the signing secret, paging and the POST rule."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from b2brouter import APIConnectionError, NotFoundError, ServerError

from .conftest import json_response

SECRET = "whsec_unit_0123456789abcdef"
ENDPOINT = {
    "id": 5,
    "url": "https://app.example/b2brouter/webhooks/tok",
    "events": ["issued_invoice.state_change"],
    "enabled": True,
    "created_at": "2026-03-02T10:00:00Z",
    "updated_at": "2026-03-02T10:00:00Z",
}
CREATED = json_response(201, {"web_hook": {**ENDPOINT, "signing_secret": SECRET}})


def body_of(request: httpx.Request) -> object:
    return json.loads(request.content, parse_float=Decimal)


def test_create_wraps_the_body_and_returns_the_secret(make_client):
    client, script = make_client(CREATED)

    hook = client.web_hooks.create("https://app.example/b2brouter/webhooks/tok")

    assert script.last.method == "POST"
    assert script.last.url.path == "/web_hooks"
    assert script.last.headers["Content-Type"] == "application/json"
    assert body_of(script.last) == {
        "web_hook": {
            "url": "https://app.example/b2brouter/webhooks/tok",
            "events": ["issued_invoice.state_change"],
            "enabled": True,
        }
    }
    assert hook["signing_secret"] == SECRET
    assert hook["id"] == 5 and hook["events"] == ["issued_invoice.state_change"]


def test_create_sends_the_events_and_enabled_given(make_client):
    client, script = make_client(CREATED)

    client.web_hooks.create("https://app.example/hook", events=("*", "issued_invoice.state_change"), enabled=False)

    assert body_of(script.last) == {
        "web_hook": {"url": "https://app.example/hook", "events": ["*", "issued_invoice.state_change"], "enabled": False}
    }


def test_create_refuses_a_bare_string_of_events(make_client):
    client, script = make_client()

    with pytest.raises(TypeError):
        client.web_hooks.create("https://app.example/hook", events="issued_invoice.state_change")

    assert script.requests == []


def test_create_reads_an_unwrapped_answer(make_client):
    client, _ = make_client(json_response(201, {**ENDPOINT, "signing_secret": SECRET}))

    assert client.web_hooks.create("https://app.example/hook")["signing_secret"] == SECRET


def test_create_whose_answer_was_lost_is_not_retried_and_may_be_applied(make_client, sleeps):
    lost = httpx.ReadTimeout("lost", request=httpx.Request("POST", "https://x"))
    client, script = make_client(lost, CREATED)

    with pytest.raises(APIConnectionError) as caught:
        client.web_hooks.create("https://app.example/hook")

    assert len(script.requests) == 1 and sleeps == []
    assert caught.value.maybe_applied is True


def test_create_that_never_connected_is_retried(make_client, sleeps):
    refused = httpx.ConnectError("refused", request=httpx.Request("POST", "https://x"))
    client, script = make_client(refused, CREATED)

    assert client.web_hooks.create("https://app.example/hook")["signing_secret"] == SECRET
    assert len(script.requests) == 2 and len(sleeps) == 1


def test_create_answered_503_is_not_retried(make_client, sleeps):
    client, script = make_client(json_response(503, ""), CREATED)

    with pytest.raises(ServerError) as caught:
        client.web_hooks.create("https://app.example/hook")

    assert len(script.requests) == 1 and sleeps == []
    assert caught.value.maybe_applied is True


def test_list_pages_through_every_endpoint(make_client):
    first = [{**ENDPOINT, "id": n} for n in (1, 2)]
    client, script = make_client(
        json_response(200, {"web_hooks": first, "meta": {"total_count": 3, "offset": 0, "limit": 2}}),
        json_response(200, {"web_hooks": [{**ENDPOINT, "id": 3}], "meta": {"total_count": 3, "offset": 2, "limit": 2}}),
    )

    page = client.web_hooks.list(limit=2)

    assert page.total_count == 3 and [h["id"] for h in page.data] == [1, 2]
    assert [h["id"] for h in page] == [1, 2, 3]
    assert [(r.url.path, dict(r.url.params)) for r in script.requests] == [
        ("/web_hooks", {"limit": "2"}),
        ("/web_hooks", {"limit": "2", "offset": "2"}),
    ]
    assert all("signing_secret" not in h for h in page.data)


def test_list_refuses_a_limit_out_of_range(make_client):
    client, script = make_client()

    with pytest.raises(ValueError):
        client.web_hooks.list(limit=501)

    assert script.requests == []


def test_retrieve_reads_the_delivery_log(make_client):
    delivery = {"id": 9, "event_id": 40, "invoice_id": 77, "state": "sent", "status": "delivered",
                "attempts": 1, "status_code": 200, "last_error": "", "next_attempt_at": None,
                "delivered_at": "2026-03-02T10:00:01Z"}
    client, script = make_client(json_response(200, {"web_hook": {**ENDPOINT, "deliveries": [delivery]}}))

    hook = client.web_hooks.retrieve(5)

    assert (script.last.method, script.last.url.path) == ("GET", "/web_hooks/5")
    assert hook["deliveries"][0]["status"] == "delivered"
    assert hook["deliveries"][0]["status_code"] == 200


def test_delete_calls_the_endpoint_and_returns_none(make_client):
    client, script = make_client(json_response(200, {"web_hook": ENDPOINT}))

    assert client.web_hooks.delete("5") is None

    assert (script.last.method, script.last.url.path) == ("DELETE", "/web_hooks/5")
    assert script.last.content == b""


def test_delete_of_an_unknown_endpoint_is_not_found(make_client):
    client, _ = make_client(json_response(404, {"error": {"code": "resource_missing", "message": "Web hook not found"}}))

    with pytest.raises(NotFoundError):
        client.web_hooks.delete(404)


@pytest.mark.parametrize("bad", ["", "  ", None, True])
def test_an_empty_id_is_refused_before_any_request(make_client, bad):
    client, script = make_client()

    with pytest.raises(ValueError):
        client.web_hooks.retrieve(bad)
    with pytest.raises(ValueError):
        client.web_hooks.delete(bad)

    assert script.requests == []


def test_ids_are_quoted_into_the_path(make_client):
    client, script = make_client(json_response(200, {"web_hook": ENDPOINT}))

    client.web_hooks.retrieve("a/b")

    assert script.last.url.raw_path == b"/web_hooks/a%2Fb"
