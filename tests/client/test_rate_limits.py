"""``on_rate_limited``: the caller hears of every 429, with its Retry-After, retried or raised."""

from __future__ import annotations

import contextvars
import threading

import httpx
import pytest

from b2brouter import B2BRouter, RateLimitError, RateLimitObserver, ServerError

from .conftest import API_KEY, BASE_URL, json_response

OK_INVOICE = json_response(200, {"invoice": {"id": 1, "number": "F-1"}})


def slow_down(**headers: str) -> httpx.Response:
    return json_response(429, {"error": {"message": "Too Many Requests"}}, **headers)


def test_every_429_is_reported_with_its_retry_after_before_the_retry(make_client, sleeps):
    heard: list[float | None] = []
    client, script = make_client(slow_down(**{"Retry-After": "3"}), slow_down(), OK_INVOICE,
                                 max_retries=2, on_rate_limited=heard.append)

    assert client.invoices.retrieve(1)["id"] == 1

    assert heard == [3.0, None]  # the second 429 said nothing of when to come back
    assert len(script.requests) == 3 and sleeps[0] == 3.0


def test_a_429_that_is_raised_is_reported_too(make_client):
    heard: list[float | None] = []
    client, script = make_client(slow_down(**{"Retry-After": "90"}), on_rate_limited=heard.append)

    with pytest.raises(RateLimitError) as caught:
        client.invoices.create(1, {"number": "F-1"})  # a POST is never retried

    assert heard == [90.0] and caught.value.retry_after == 90.0
    assert len(script.requests) == 1


def test_an_http_date_retry_after_is_reported_in_seconds(make_client):
    heard: list[float | None] = []
    client, _script = make_client(slow_down(**{"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}), max_retries=0,
                                  on_rate_limited=heard.append)

    with pytest.raises(RateLimitError):
        client.invoices.retrieve(1)

    assert heard == [0.0]  # a date in the past: come back now


def test_other_answers_are_not_reported(make_client):
    heard: list[float | None] = []
    client, _script = make_client(json_response(503, ""), OK_INVOICE, json_response(500, ""),
                                  on_rate_limited=heard.append)

    client.invoices.retrieve(1)
    with pytest.raises(ServerError):
        client.invoices.retrieve(1)

    assert heard == []


def test_what_the_observer_raises_is_raised_from_the_call(make_client):
    class Stop(Exception):
        pass

    def observer(retry_after: float | None) -> None:
        raise Stop

    client, script = make_client(slow_down(**{"Retry-After": "1"}), OK_INVOICE, on_rate_limited=observer)

    with pytest.raises(Stop):
        client.invoices.retrieve(1)
    assert len(script.requests) == 1  # not retried behind the caller's back


def test_a_shared_client_reports_to_the_calling_threads_context(sleeps):
    """One client, many threads: a context variable routes each 429 to the thread that met it."""
    current: contextvars.ContextVar[list[float | None] | None] = contextvars.ContextVar("current", default=None)

    def route(retry_after: float | None) -> None:
        heard = current.get()
        if heard is not None:
            heard.append(retry_after)

    def answer(request: httpx.Request) -> httpx.Response:
        # Invoice 1 is always rate limited, invoice 2 never.
        if request.url.path.endswith("/invoices/1"):
            return slow_down(**{"Retry-After": "7"})
        return json_response(200, {"invoice": {"id": 2}})

    observer: RateLimitObserver = route
    client = B2BRouter(API_KEY, base_url=BASE_URL, transport=httpx.MockTransport(answer), max_retries=1,
                       on_rate_limited=observer)
    heard: dict[int, list[float | None]] = {1: [], 2: []}
    start = threading.Barrier(2)

    def work(invoice_id: int) -> None:
        current.set(heard[invoice_id])
        start.wait()
        try:
            client.invoices.retrieve(invoice_id)
        except RateLimitError:
            pass

    threads = [threading.Thread(target=work, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client.close()

    assert heard == {1: [7.0, 7.0], 2: []}  # the first attempt and its retry; nothing for the other thread
