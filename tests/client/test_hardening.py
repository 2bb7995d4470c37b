"""The client's limits: a total deadline per call, a cap on the answer's size, the request id."""

from __future__ import annotations

import gzip
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

import b2brouter
from b2brouter import (
    DEFAULT_DEADLINE,
    DEFAULT_MAX_RESPONSE_SIZE,
    APIConnectionError,
    APITimeoutError,
    B2BRouter,
    PermissionDeniedError,
    RateLimitError,
    ResponseTooLargeError,
    UnexpectedResponseError,
)

from .conftest import API_KEY, json_response

INVOICE = {"invoice": {"id": 1, "number": "F-1"}}


# A server on 127.0.0.1 that trickles its answer -----------------------------------------------


class TrickleServer:
    """Answer every connection by sending ``head`` at once, then ``trickle`` one byte per ``gap``.

    It stops a connection when the client hangs up (or when the test ends) and counts the
    connections, so a test can tell whether the client tried again.
    """

    def __init__(self, head: bytes, trickle: bytes, gap: float = 0.5) -> None:
        self.head, self.trickle, self.gap = head, trickle, gap
        self.connections = 0
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)  # the request (small enough for one read)
                if self.head:
                    conn.sendall(self.head)
                for byte in self.trickle:
                    if self._stop.wait(self.gap):
                        return
                    conn.sendall(bytes([byte]))
                self._stop.wait(30)  # then say nothing more, with the connection open
            except OSError:
                return  # the client hung up

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(timeout=2)


@pytest.fixture
def trickle_server() -> Iterator[Callable[..., TrickleServer]]:
    servers: list[TrickleServer] = []

    def start(head: bytes, trickle: bytes, gap: float = 0.5) -> TrickleServer:
        server = TrickleServer(head, trickle, gap)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def timed(call: Callable[[], object]) -> tuple[BaseException, float]:
    started = time.monotonic()
    with pytest.raises(APITimeoutError) as caught:
        call()
    return caught.value, time.monotonic() - started


def test_a_body_trickled_byte_by_byte_is_cut_at_the_deadline(trickle_server):
    body = b'{"invoice": {"id": 1, "number": "F-1", "notes": "' + b"x" * 200 + b'"}}'
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    server = trickle_server(head, body)
    # Every byte arrives well within the 5 s read timeout: only the deadline can stop the call.
    with B2BRouter(API_KEY, base_url=server.url, timeout=5.0, deadline=1.0) as client:
        err, elapsed = timed(lambda: client.invoices.retrieve(1))

    assert 0.9 <= elapsed < 2.0
    assert err.deadline_exceeded is True
    assert err.maybe_applied is False  # a GET
    assert "1 s deadline" in str(err) and "GET /invoices/1" in str(err)
    assert server.connections == 1  # not retried: the deadline covers the retries too


def test_headers_trickled_byte_by_byte_are_cut_at_the_deadline(trickle_server):
    server = trickle_server(b"", b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: " + b"x" * 100)
    with B2BRouter(API_KEY, base_url=server.url, timeout=5.0, deadline=1.0) as client:
        err, elapsed = timed(lambda: client.invoices.update(1, {"extra_info": "PO 1"}))

    assert 0.9 <= elapsed < 2.0
    assert err.deadline_exceeded is True
    assert err.maybe_applied is True  # a PUT that reached the server
    assert server.connections == 1


def test_a_silent_server_is_cut_at_the_deadline_not_at_the_read_timeout(trickle_server):
    server = trickle_server(b"", b"")
    with B2BRouter(API_KEY, base_url=server.url, timeout=30.0, deadline=0.5, max_retries=3) as client:
        err, elapsed = timed(lambda: client.accounts.retrieve(1))

    assert elapsed < 1.5 and err.deadline_exceeded is True
    assert server.connections == 1


def test_a_read_timeout_within_the_deadline_is_retried_until_the_deadline(trickle_server, sleeps):
    server = trickle_server(b"", b"")
    with B2BRouter(API_KEY, base_url=server.url, timeout=0.3, deadline=5.0, max_retries=2) as client:
        err, elapsed = timed(lambda: client.accounts.retrieve(1))

    # Three attempts of 0.3 s each (the waits are neutralised), each an ordinary read timeout.
    assert err.deadline_exceeded is False
    assert server.connections == 3 and len(sleeps) == 2
    assert elapsed < 3


def test_no_retry_is_started_whose_wait_would_pass_the_deadline(make_client, sleeps):
    too_long = json_response(429, {"error": {"code": "rate_limited"}}, **{"Retry-After": "10"})
    client, script = make_client(too_long, json_response(200, INVOICE), deadline=5.0)

    with pytest.raises(RateLimitError) as caught:
        client.invoices.retrieve(1)

    assert caught.value.retry_after == 10 and sleeps == [] and len(script.requests) == 1


def test_a_retry_within_the_deadline_still_happens(make_client, sleeps):
    short = json_response(429, {"error": {"code": "rate_limited"}}, **{"Retry-After": "1"})
    client, script = make_client(short, json_response(200, INVOICE), deadline=5.0)

    assert client.invoices.retrieve(1)["id"] == 1
    assert sleeps == [1.0] and len(script.requests) == 2


def test_the_deadline_and_the_size_cap_have_defaults_and_can_be_switched_off(make_client):
    client, _ = make_client(json_response(200, INVOICE))
    assert (client.deadline, client.max_response_size) == (DEFAULT_DEADLINE, DEFAULT_MAX_RESPONSE_SIZE)
    assert 60 <= DEFAULT_DEADLINE <= 300 and 1_000_000 <= DEFAULT_MAX_RESPONSE_SIZE < 20_000_000

    unlimited, _ = make_client(json_response(200, INVOICE), deadline=None, max_response_size=None)
    assert unlimited.invoices.retrieve(1)["number"] == "F-1"


@pytest.mark.parametrize("options", [{"deadline": 0}, {"deadline": -1.0}, {"max_response_size": 0}])
def test_a_meaningless_limit_is_refused(options):
    with pytest.raises(ValueError):
        B2BRouter(API_KEY, **options)


# The size cap ----------------------------------------------------------------------------------


def test_an_answer_declaring_a_body_over_the_cap_is_refused_unread(make_client):
    big = httpx.Response(200, content=b"x" * 2048, headers={"X-B2B-API-Request-Id": "req_big"})
    client, script = make_client(big, max_response_size=1024)

    with pytest.raises(ResponseTooLargeError) as caught:
        client.invoices.retrieve(1)

    err = caught.value
    assert isinstance(err, APIConnectionError) and isinstance(err, b2brouter.B2BRouterError)
    assert (err.status_code, err.status, err.request_id, err.limit, err.size) == (200, 200, "req_big", 1024, 2048)
    assert err.maybe_applied is False
    assert "1024 bytes" in str(err) and "req_big" in str(err) and "GET /invoices/1" in str(err)
    assert len(script.requests) == 1  # a larger answer will not shrink: not retried


def test_a_streamed_body_is_cut_when_it_passes_the_cap(make_client):
    chunks = iter([b"[" + b"1," * 300] * 10)  # no Content-Length: only counting can tell
    client, _ = make_client(httpx.Response(200, content=chunks), max_response_size=2000)

    with pytest.raises(ResponseTooLargeError) as caught:
        client.request("GET", "/anything")

    assert caught.value.size is None and caught.value.limit == 2000


def test_a_small_gzip_body_that_inflates_past_the_cap_is_refused(make_client):
    bomb = gzip.compress(b" " * 100_000)
    assert len(bomb) < 1000
    answer = httpx.Response(200, content=bomb, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})
    client, _ = make_client(answer, max_response_size=10_000)

    with pytest.raises(ResponseTooLargeError):
        client.invoices.retrieve(1)


def test_an_answer_exactly_at_the_cap_is_accepted(make_client):
    body = b'{"invoice": {"id": 1}}'
    client, _ = make_client(httpx.Response(200, content=body), max_response_size=len(body))
    assert client.invoices.retrieve(1) == {"id": 1}


@pytest.mark.parametrize(("status", "maybe_applied"), [(201, True), (503, True), (422, False)])
def test_a_too_large_answer_to_a_post_says_whether_it_may_have_been_applied(make_client, status, maybe_applied):
    client, _ = make_client(httpx.Response(status, content=b"x" * 5000), max_response_size=100)

    with pytest.raises(ResponseTooLargeError) as caught:
        client.invoices.create(1, {"number": "F-1"})

    assert caught.value.maybe_applied is maybe_applied and caught.value.status_code == status
    assert ("may have been applied" in str(caught.value)) is maybe_applied


def test_a_document_over_the_cap_is_refused(make_client):
    client, _ = make_client(httpx.Response(200, content=b"%PDF" + b"\x00" * 5000), max_response_size=4096)
    with pytest.raises(ResponseTooLargeError):
        client.invoices.download(1, "pdf.invoice")


def test_a_refused_answer_is_logged_without_the_key(make_client, caplog):
    client, _ = make_client(httpx.Response(200, content=b"x" * 500, headers={"X-Request-Id": "req_log"}),
                            max_response_size=100)
    with caplog.at_level(logging.INFO, logger="b2brouter"), pytest.raises(ResponseTooLargeError):
        client.invoices.retrieve(1)
    lines = [r.getMessage() for r in caplog.records if r.name == "b2brouter"]
    assert any("max_response_size" in line and "req_log" in line for line in lines)
    assert all(API_KEY not in line for line in lines)


# The request id --------------------------------------------------------------------------------


def legacy(status: int, body: object, request_id: str) -> httpx.Response:
    response = json_response(status, body, request_id=None)
    response.headers["X-Request-Id"] = request_id
    return response


def test_older_api_versions_give_the_request_id_in_x_request_id(make_client):
    client, _ = make_client(legacy(404, {"error": {"code": "resource_missing", "message": "No"}}, "req_old"))

    with pytest.raises(b2brouter.NotFoundError) as caught:
        client.invoices.retrieve(1)

    assert caught.value.request_id == "req_old" and "request id: req_old" in str(caught.value)


def test_the_current_header_wins_over_the_legacy_one(make_client):
    response = json_response(409, {"error": {"code": "conflict"}}, request_id="req_new")
    response.headers["X-Request-Id"] = "req_old"
    client, _ = make_client(response)

    with pytest.raises(b2brouter.ConflictError) as caught:
        client.invoices.update(1, {"extra_info": "x"})

    assert caught.value.request_id == "req_new"


def test_a_body_that_is_not_json_names_the_legacy_request_id(make_client):
    answer = httpx.Response(200, content=b"<html>maintenance</html>", headers={"X-Request-Id": "req_html"})
    client, _ = make_client(answer)

    with pytest.raises(UnexpectedResponseError) as caught:
        client.invoices.retrieve(1)

    assert caught.value.request_id == "req_html" and "req_html" in str(caught.value)


def test_the_log_line_names_the_legacy_request_id(make_client, caplog):
    client, _ = make_client(legacy(200, INVOICE, "req_logged"))
    with caplog.at_level(logging.INFO, logger="b2brouter"):
        client.invoices.retrieve(1)
    assert any("req_logged" in r.getMessage() for r in caplog.records if r.name == "b2brouter")


# 403 no_account_group --------------------------------------------------------------------------


def test_a_key_without_account_group_is_a_typed_permission_error(make_client):
    body = {"error": {"code": "no_account_group", "message": "No account group", "type": "invalid_request_error"}}
    client, _ = make_client(json_response(403, body, request_id="req_403"))

    with pytest.raises(PermissionDeniedError) as caught:
        client.accounts.retrieve(1)

    err = caught.value
    assert isinstance(err, b2brouter.AccountNotEnabledError)
    assert (err.status, err.code, err.request_id) == (403, "no_account_group", "req_403")
    assert str(err).startswith("403 no_account_group: No account group (request id: req_403")
    assert err.maybe_applied is False


def test_another_403_stays_a_plain_permission_error(make_client):
    client, _ = make_client(json_response(403, {"error": {"code": "forbidden", "message": "Not yours"}}))
    with pytest.raises(PermissionDeniedError) as caught:
        client.accounts.retrieve(1)
    assert type(caught.value) is PermissionDeniedError
