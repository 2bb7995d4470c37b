"""The retry policy: safe methods are retried with backoff; a POST only if it never left."""

from __future__ import annotations

import random

import httpx
import pytest

from b2brouter import (
    APIConnectionError,
    APITimeoutError,
    B2BRouter,
    RateLimitError,
    ServerError,
)
from b2brouter import _client

from .conftest import json_response

OK_INVOICE = json_response(200, {"invoice": {"id": 1, "number": "F-1"}})
CREATED = json_response(201, {"invoice": {"id": 1, "number": "F-1"}})


def unavailable() -> httpx.Response:
    return json_response(503, {"error": {"message": "Service Unavailable"}})


def test_get_is_retried_on_503_then_succeeds(make_client, sleeps):
    client, script = make_client(unavailable(), unavailable(), OK_INVOICE, max_retries=2)

    assert client.invoices.retrieve(1)["id"] == 1

    assert len(script.requests) == 3
    assert len(sleeps) == 2 and all(s > 0 for s in sleeps)


@pytest.mark.parametrize("status", [502, 503, 504])
def test_put_and_delete_are_retried_on_gateway_errors(make_client, status):
    client, script = make_client(
        json_response(status, ""), json_response(200, {"invoice": {"id": 1}}),
        json_response(status, ""), json_response(200, {}),
    )

    client.invoices.update(1, {"extra_info": "x"})
    client.invoices.delete(1)

    assert [r.method for r in script.requests] == ["PUT", "PUT", "DELETE", "DELETE"]


def test_500_is_not_retried(make_client):
    client, script = make_client(json_response(500, {"error": {"message": "bug"}}))

    with pytest.raises(ServerError):
        client.invoices.retrieve(1)

    assert len(script.requests) == 1


def test_retries_are_capped_by_max_retries(make_client, sleeps):
    client, script = make_client(*[unavailable() for _ in range(4)], max_retries=3)

    with pytest.raises(ServerError) as caught:
        client.invoices.retrieve(1)

    assert len(script.requests) == 4
    assert len(sleeps) == 3
    assert caught.value.status_code == 503 and caught.value.maybe_applied is False


def test_max_retries_zero_disables_retries(make_client, sleeps):
    client, script = make_client(unavailable(), max_retries=0)

    with pytest.raises(ServerError):
        client.invoices.retrieve(1)

    assert len(script.requests) == 1 and sleeps == []


def test_429_honours_retry_after(make_client, sleeps):
    client, script = make_client(
        json_response(429, {"error": {"message": "slow down"}}, **{"Retry-After": "3"}), OK_INVOICE
    )

    client.invoices.retrieve(1)

    assert len(script.requests) == 2
    assert sleeps == [3.0]


def test_429_with_http_date_retry_after(make_client, sleeps):
    client, _ = make_client(
        json_response(429, "", **{"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}), OK_INVOICE
    )

    client.invoices.retrieve(1)

    assert sleeps == [0.0]  # a date in the past means: now


def test_429_asking_for_longer_than_the_cap_is_raised_at_once(make_client, sleeps):
    client, script = make_client(json_response(429, "", **{"Retry-After": "3600"}), OK_INVOICE)

    with pytest.raises(RateLimitError) as caught:
        client.invoices.retrieve(1)

    assert caught.value.retry_after == 3600.0
    assert len(script.requests) == 1 and sleeps == []


def test_get_is_retried_on_connection_errors_and_timeouts(make_client, sleeps):
    request = httpx.Request("GET", "https://x")
    client, script = make_client(
        httpx.ConnectError("refused", request=request),
        httpx.ReadTimeout("slow", request=request),
        httpx.RemoteProtocolError("dropped", request=request),
        OK_INVOICE,
        max_retries=3,
    )

    assert client.invoices.retrieve(1)["id"] == 1
    assert len(script.requests) == 4 and len(sleeps) == 3


def test_get_gives_up_with_a_connection_error(make_client):
    request = httpx.Request("GET", "https://x")
    client, script = make_client(*[httpx.ReadTimeout("slow", request=request)] * 3, max_retries=2)

    with pytest.raises(APITimeoutError) as caught:
        client.invoices.retrieve(1)

    assert len(script.requests) == 3
    assert caught.value.maybe_applied is False  # a read changes nothing


@pytest.mark.parametrize(
    "failure",
    [httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError, httpx.WriteTimeout],
)
def test_post_that_failed_after_sending_is_not_retried(make_client, sleeps, failure):
    client, script = make_client(failure("lost", request=httpx.Request("POST", "https://x")), CREATED)

    with pytest.raises(APIConnectionError) as caught:
        client.invoices.create(1, {"number": "F-1"})

    assert len(script.requests) == 1 and sleeps == []
    assert caught.value.maybe_applied is True
    assert "may have been applied" in str(caught.value)
    assert isinstance(caught.value, APITimeoutError) is issubclass(failure, httpx.TimeoutException)


@pytest.mark.parametrize("failure", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
def test_post_that_never_connected_is_retried(make_client, sleeps, failure):
    client, script = make_client(failure("no route", request=httpx.Request("POST", "https://x")), CREATED)

    assert client.invoices.create(1, {"number": "F-1"})["id"] == 1

    assert len(script.requests) == 2 and len(sleeps) == 1
    assert script.requests[0].content == script.requests[1].content


def test_post_that_never_connected_gives_up_with_maybe_applied_false(make_client):
    request = httpx.Request("POST", "https://x")
    client, script = make_client(*[httpx.ConnectError("refused", request=request)] * 2, max_retries=1)

    with pytest.raises(APIConnectionError) as caught:
        client.invoices.create(1, {"number": "F-1"})

    assert len(script.requests) == 2
    assert caught.value.maybe_applied is False


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_post_answered_with_a_retryable_status_is_not_retried(make_client, sleeps, status):
    client, script = make_client(json_response(status, "", **{"Retry-After": "1"}), CREATED)

    with pytest.raises((RateLimitError, ServerError)) as caught:
        client.invoices.send(1)

    assert len(script.requests) == 1 and sleeps == []
    assert caught.value.maybe_applied is (status >= 500)


def test_backoff_is_exponential_capped_and_jittered():
    client = B2BRouter("k")
    random.seed(1)
    delays = [client._backoff(attempt, None) for attempt in range(10)]

    for attempt, delay in enumerate(delays):
        ceiling = min(_client.INITIAL_RETRY_DELAY * 2**attempt, _client.MAX_RETRY_DELAY)
        assert 0.75 * ceiling <= delay <= ceiling
    assert max(delays) <= _client.MAX_RETRY_DELAY
    assert len(set(delays)) == len(delays)  # jitter: no two equal
    assert client._backoff(0, 2.5) == 2.5
    assert client._backoff(0, 10_000) == _client.MAX_RETRY_AFTER


def test_each_retry_is_logged_without_the_key(make_client, caplog):
    from .conftest import API_KEY

    client, _ = make_client(unavailable(), OK_INVOICE)

    with caplog.at_level("INFO", logger="b2brouter"):
        client.invoices.retrieve(1)

    messages = [r.getMessage() for r in caplog.records if r.name == "b2brouter"]
    assert any(m.startswith("Retrying GET /invoices/1 in ") and "(retry 1 of 2)" in m for m in messages)
    assert any("GET /invoices/1 -> 503" in m for m in messages)
    assert not any(API_KEY in m for m in messages)


def test_an_answer_that_cannot_be_decoded_stays_in_the_error_hierarchy(make_client, sleeps):
    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, content=b"not gzip at all", headers={"Content-Encoding": "gzip"})

    client, script = make_client(broken, CREATED)

    with pytest.raises(APIConnectionError) as caught:  # not a bare httpx.DecodingError
        client.invoices.create(1, {"number": "F-1"})

    assert len(script.requests) == 1 and sleeps == []  # the POST reached the server: not repeated
    assert caught.value.maybe_applied is True
