"""Webhook registration, signed state-change deliveries, retries and the delivery log."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from b2brouter_sim import webhooks as sim_webhooks
from tests.sim.conftest import Account
from tests.sim.test_states import advance, run_worker, sent_invoice

try:
    from b2brouter.webhooks import verify
except ImportError:  # pragma: no cover - the client package is written alongside
    verify = None


def register(account: Account, url: str = "http://127.0.0.1:9/hook", **extra: Any) -> dict[str, Any]:
    response = account.call("POST", "web_hooks", {"web_hook": {"url": url, "events": ["issued_invoice.state_change"],
                                                              "enabled": True} | extra})
    assert response.status_code == 201, response.content
    return response.json()["web_hook"]


class Recorder:
    """An httpx transport that records requests and answers from a list of status codes."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.statuses = statuses or []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status = self.statuses.pop(0) if self.statuses else 200
        return httpx.Response(status)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    monkeypatch.setattr(sim_webhooks, "TRANSPORT", httpx.MockTransport(recorder))
    return recorder


def test_secret_is_shown_once(account: Account) -> None:
    hook = register(account)
    assert hook["signing_secret"].startswith("whsec_")
    again = account.call("GET", f"web_hooks/{hook['id']}").json()["web_hook"]
    assert "signing_secret" not in again
    listed = account.call("GET", "web_hooks").json()
    assert [h["id"] for h in listed["web_hooks"]] == [hook["id"]]
    assert "signing_secret" not in listed["web_hooks"][0]


def test_webhook_needs_a_url(account: Account) -> None:
    response = account.call("POST", "web_hooks", {"web_hook": {"events": []}})
    assert response.status_code == 422
    assert response.json()["error"]["param"] == "url"


def test_every_state_change_is_delivered_signed(account: Account, recorder: Recorder, instant_tasks: None) -> None:
    hook = register(account)
    invoice = sent_invoice(account, scenario="refuse")
    run_worker()
    events = [json.loads(r.content) for r in recorder.requests]
    assert [e["data"]["state"] for e in events] == ["sending", "sent", "refused"]
    assert all(e["code"] == "issued_invoice.state_change" and e["data"]["invoice_id"] == invoice["id"] for e in events)
    assert len({e["data"]["event_id"] for e in events}) == 3
    assert "Refused by the simulated recipient" in events[-1]["data"]["notes"]
    for request in recorder.requests:
        header = request.headers["X-B2Brouter-Signature"]
        if verify is not None:
            assert verify(request.content, header, hook["signing_secret"])["code"] == "issued_invoice.state_change"
        t, s = (part.split("=", 1)[1] for part in header.split(","))
        assert sim_webhooks.sign(hook["signing_secret"], int(t), request.content) == header
    tampered = recorder.requests[0].content.replace(b"sending", b"sent")
    if verify is not None:
        with pytest.raises(Exception, match="does not match"):
            verify(tampered, recorder.requests[0].headers["X-B2Brouter-Signature"], hook["signing_secret"])
    log = account.call("GET", f"web_hooks/{hook['id']}").json()["web_hook"]["deliveries"]
    assert [(d["state"], d["status"], d["attempts"], d["status_code"]) for d in log] == [
        ("sending", "delivered", 1, 200), ("sent", "delivered", 1, 200), ("refused", "delivered", 1, 200)
    ]


def test_disabled_or_unsubscribed_endpoints_get_nothing(account: Account, recorder: Recorder, instant_tasks: None) -> None:
    register(account, enabled=False)
    register(account, url="http://127.0.0.1:9/other", events=["received_invoice.new"])
    sent_invoice(account)
    run_worker()
    assert recorder.requests == []


def test_failed_deliveries_are_retried_with_backoff(account: Account, recorder: Recorder, instant_tasks: None) -> None:
    recorder.statuses = [500, 503]
    hook = register(account)
    invoice = sent_invoice(account, scenario="stay")
    run_worker()
    log = account.call("GET", f"web_hooks/{hook['id']}").json()["web_hook"]["deliveries"]
    first = log[0]
    assert (first["state"], first["status"], first["attempts"], first["status_code"]) == ("sending", "delivered", 3, 200)
    assert first["last_error"] == ""
    event_ids = [json.loads(r.content)["data"]["event_id"] for r in recorder.requests]
    assert event_ids.count(first["event_id"]) == 3  # the same event, three times; others may interleave
    assert state_is(account, invoice["id"], "sent")


def state_is(account: Account, invoice_id: int, state: str) -> bool:
    return account.call("GET", f"invoices/{invoice_id}").json()["invoice"]["state"] == state


def test_retries_give_up_and_keep_the_error(account: Account, recorder: Recorder, settings: Any) -> None:
    settings.B2BROUTER_SIM_WEBHOOK_BACKOFF = 0
    recorder.statuses = [500] * 10
    hook = register(account)
    sent_invoice(account, scenario="stay")  # the `sent` step waits (default delay); only `sending` is delivered
    run_worker()
    log = account.call("GET", f"web_hooks/{hook['id']}").json()["web_hook"]["deliveries"]
    assert [(d["status"], d["attempts"], d["status_code"], d["last_error"]) for d in log] == [
        ("failed", sim_webhooks.MAX_ATTEMPTS, 500, "Endpoint answered HTTP 500")
    ]


def test_backoff_doubles_and_is_capped(settings: Any) -> None:
    settings.B2BROUTER_SIM_WEBHOOK_BACKOFF = 2
    assert [sim_webhooks.backoff(n) for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert sim_webhooks.backoff(20) == 300


def test_pending_retry_waits_for_its_time(account: Account, recorder: Recorder, settings: Any) -> None:
    settings.B2BROUTER_SIM_WEBHOOK_BACKOFF = 3600
    recorder.statuses = [500]
    hook = register(account)
    sent_invoice(account)
    run_worker()
    (entry,) = account.call("GET", f"web_hooks/{hook['id']}").json()["web_hook"]["deliveries"]
    assert (entry["status"], entry["attempts"]) == ("pending", 1)
    assert entry["next_attempt_at"] is not None


class _Handler(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_delivery_over_a_loopback_socket(account: Account, instant_tasks: None) -> None:
    _Handler.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        hook = register(account, url=f"http://127.0.0.1:{server.server_port}/webhooks/b2brouter")
        invoice = sent_invoice(account, scenario="accept")
        run_worker()
    finally:
        server.shutdown()
        server.server_close()
    states = [json.loads(body)["data"]["state"] for _, body in _Handler.received]
    assert states == ["sending", "sent", "accepted"]
    headers, body = _Handler.received[-1]
    if verify is not None:
        assert verify(body, headers["X-B2Brouter-Signature"], hook["signing_secret"])["data"]["invoice_id"] == invoice["id"]


def test_unreachable_endpoint_is_logged(account: Account, settings: Any) -> None:
    settings.B2BROUTER_SIM_WEBHOOK_BACKOFF = 3600
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    hook = register(account, url=f"http://127.0.0.1:{port}/hook")
    sent_invoice(account)
    run_worker()
    (entry,) = account.call("GET", f"web_hooks/{hook['id']}").json()["web_hook"]["deliveries"]
    assert entry["status_code"] is None
    assert entry["last_error"].startswith("ConnectError")


def test_other_task_backends_get_the_work_only_after_commit(account: Account, recorder: Recorder, settings: Any,
                                                            django_capture_on_commit_callbacks: Any) -> None:
    # With RQ (or the immediate backend) a task handed over before the commit could run first and
    # find no delivery row or a stale invoice state: the work must wait for the commit.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    hook = register(account)
    contact = account.contact()
    invoice = account.invoice(contact_id=contact["id"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = account.call("POST", f"invoices/send_invoice/{invoice['id']}")
    assert response.status_code == 200
    assert recorder.requests == [] and callbacks
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()
    states = [json.loads(r.content)["data"]["state"] for r in recorder.requests]
    assert states == ["sending", "sent", "accepted"]
    log = account.call("GET", f"web_hooks/{hook['id']}").json()["web_hook"]["deliveries"]
    assert {d["status"] for d in log} == {"delivered"}
