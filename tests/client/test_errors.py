"""How non-2xx answers, whatever their body, become typed exceptions."""

from __future__ import annotations

import json

import httpx
import pytest

import b2brouter
from b2brouter import (
    APIStatusError,
    AccountNotEnabledError,
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)

from .conftest import API_KEY, json_response


@pytest.mark.parametrize(
    ("status", "error_class", "code"),
    [
        (400, InvalidRequestError, "invalid_request_params"),
        (401, AuthenticationError, "unauthorized"),
        (403, PermissionDeniedError, "forbidden"),
        (403, AccountNotEnabledError, "no_account_group"),
        (404, NotFoundError, "resource_missing"),
        (409, ConflictError, "conflict"),
        (422, InvalidRequestError, "parameter_blank"),
        (429, RateLimitError, "rate_limited"),
        (500, ServerError, "internal_error"),
        (502, ServerError, None),
        (503, ServerError, None),
        (504, ServerError, None),
        (418, APIStatusError, "teapot"),
    ],
)
def test_each_status_maps_to_its_error_class(make_client, status, error_class, code):
    body = {"error": {"code": code, "message": "Something is wrong", "type": "invalid_request_error"}}
    # max_retries=0 so that retryable statuses surface at once.
    client, _ = make_client(json_response(status, body, request_id="req_abc"), max_retries=0)

    with pytest.raises(error_class) as caught:
        client.invoices.retrieve(9)

    err = caught.value
    assert type(err) is error_class
    assert isinstance(err, APIStatusError) and isinstance(err, b2brouter.B2BRouterError)
    assert err.status_code == status
    assert err.status == status  # issue 3 names the attribute "status"
    assert err.code == code
    assert err.message == "Something is wrong"
    assert err.request_id == "req_abc"
    assert err.json_body == body
    assert err.body == json.dumps(body)
    assert "req_abc" in str(err)
    assert err.method == "GET" and err.path == "/invoices/9"


def test_documented_error_body_gives_code_param_and_type(make_client):
    body = {
        "error": {
            "code": "parameter_taken",
            "message": "Number has already been taken",
            "param": "invoice.number",
            "type": "invalid_request_error",
        }
    }
    client, _ = make_client(json_response(422, body, request_id="req_42"))

    with pytest.raises(InvalidRequestError) as caught:
        client.invoices.create(1, {"number": "F-1"})

    err = caught.value
    assert (err.code, err.param, err.error_type) == ("parameter_taken", "invoice.number", "invalid_request_error")
    assert err.messages == ["Number has already been taken"]
    assert str(err) == (
        "422 parameter_taken: Number has already been taken "
        "(request id: req_42; POST /accounts/1/invoices)"
    )
    assert err.maybe_applied is False  # a 4xx was refused, not applied


def test_legacy_errors_list_keeps_every_message(make_client):
    body = {"errors": ["Validation failed: Iban is invalid", "Contact tin_value or cin_value can't be blank"]}
    client, _ = make_client(json_response(422, body))

    with pytest.raises(InvalidRequestError) as caught:
        client.invoices.create(1, {"number": "F-1"})

    err = caught.value
    assert err.messages == body["errors"]
    assert err.message == "Validation failed: Iban is invalid; Contact tin_value or cin_value can't be blank"
    assert err.code is None


def test_errors_by_field_name_the_field(make_client):
    body = {"errors": {"number": ["has already been taken"], "base": ["Invoice is locked"]}}
    client, _ = make_client(json_response(422, body))

    with pytest.raises(InvalidRequestError) as caught:
        client.invoices.update(5, {"number": "F-1"})

    assert caught.value.messages == ["number has already been taken", "Invoice is locked"]
    assert caught.value.param == "number"


def test_error_object_with_several_messages(make_client):
    body = {"error": {"code": "parameter_blank", "message": "2 problems", "messages": ["a is blank", "b is blank"]}}
    client, _ = make_client(json_response(422, body))

    with pytest.raises(InvalidRequestError) as caught:
        client.contacts.create(1, {"name": "x"})

    assert caught.value.message == "2 problems"
    assert caught.value.messages == ["a is blank", "b is blank"]


def test_plain_text_body(make_client):
    client, _ = make_client(
        httpx.Response(404, text="Invoice not found\n", headers={"X-B2B-API-Request-Id": "req_t"})
    )

    with pytest.raises(NotFoundError) as caught:
        client.invoices.retrieve(404)

    assert caught.value.message == "Invoice not found"
    assert caught.value.messages == ["Invoice not found"]
    assert caught.value.json_body is None
    assert caught.value.body == "Invoice not found\n"
    assert "req_t" in str(caught.value)


def test_xml_body_is_read_as_text(make_client):
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<errors><error>Number has already been taken</error><error>Iban is invalid</error></errors>"
    )
    client, _ = make_client(httpx.Response(422, text=xml, headers={"Content-Type": "application/xml"}))

    with pytest.raises(InvalidRequestError) as caught:
        client.invoices.create(1, {"number": "F-1"})

    assert caught.value.messages == ["Number has already been taken", "Iban is invalid"]
    assert caught.value.message == "Number has already been taken; Iban is invalid"


def test_xml_error_with_code_and_message_elements(make_client):
    xml = "<error><code>unauthorized</code><message>Invalid API key</message></error>"
    client, _ = make_client(httpx.Response(401, text=xml, headers={"Content-Type": "text/xml"}))

    with pytest.raises(AuthenticationError) as caught:
        client.accounts.retrieve(1)

    assert caught.value.code == "unauthorized"
    assert caught.value.message == "Invalid API key"


def test_html_error_page_from_a_proxy(make_client):
    html = (
        "<html><head><title>502 Bad Gateway</title><style>body{color:red}</style></head>"
        "<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
    )
    client, _ = make_client(httpx.Response(502, text=html, headers={"Content-Type": "text/html"}), max_retries=0)

    with pytest.raises(ServerError) as caught:
        client.invoices.retrieve(1)

    assert caught.value.message == "502 Bad Gateway; nginx"
    assert "color" not in caught.value.message


@pytest.mark.parametrize("body", [b"", b"   \n"])
def test_empty_body_falls_back_to_the_reason_phrase(make_client, body):
    client, _ = make_client(
        httpx.Response(409, content=body, headers={"X-B2B-API-Request-Id": "req_empty"})
    )

    with pytest.raises(ConflictError) as caught:
        client.invoices.delete(3)

    err = caught.value
    assert err.message == "Conflict"
    assert err.messages == []
    assert err.code is None and err.json_body is None
    assert str(err) == "409: Conflict (request id: req_empty; DELETE /invoices/3)"


def test_missing_request_id_is_said(make_client):
    client, _ = make_client(json_response(404, {"error": {"message": "Invoice not found"}}, request_id=None))

    with pytest.raises(NotFoundError) as caught:
        client.invoices.retrieve(1)

    assert caught.value.request_id is None
    assert "request id: none" in str(caught.value)


def test_invalid_json_body_is_kept_as_text(make_client):
    client, _ = make_client(json_response(400, "{not json"))

    with pytest.raises(InvalidRequestError) as caught:
        client.accounts.list()

    assert caught.value.message == "{not json"
    assert caught.value.json_body is None


def test_rate_limit_error_carries_retry_after(make_client):
    client, _ = make_client(
        json_response(429, {"error": {"message": "Too many requests"}}, **{"Retry-After": "7"}),
    )

    with pytest.raises(RateLimitError) as caught:
        client.invoices.create(1, {"number": "F-1"})  # a POST: never retried on 429

    assert caught.value.retry_after == 7.0
    assert caught.value.maybe_applied is False


def test_rate_limit_error_without_retry_after(make_client):
    client, _ = make_client(json_response(429, {"error": {"message": "slow down"}}), max_retries=0)

    with pytest.raises(RateLimitError) as caught:
        client.invoices.retrieve(1)

    assert caught.value.retry_after is None


@pytest.mark.parametrize(("method", "expected"), [("create", True), ("retrieve", False)])
def test_server_error_says_whether_a_change_may_have_been_applied(make_client, method, expected):
    client, _ = make_client(json_response(500, {"error": {"message": "boom"}}))

    with pytest.raises(ServerError) as caught:
        if method == "create":
            client.invoices.create(1, {"number": "F-1"})
        else:
            client.invoices.retrieve(1)

    assert caught.value.maybe_applied is expected
    assert ("may have been applied" in str(caught.value)) is expected


def test_api_key_echoed_by_the_server_never_reaches_the_error(make_client):
    client, _ = make_client(
        httpx.Response(401, text=f"Unknown key {API_KEY}"),
    )

    with pytest.raises(AuthenticationError) as caught:
        client.accounts.retrieve(1)

    err = caught.value
    for text in (str(err), repr(err), err.message, err.body, " ".join(err.messages)):
        assert API_KEY not in text
    assert "[redacted]" in err.message


def test_api_key_echoed_in_a_response_header_never_reaches_the_error(make_client):
    client, _ = make_client(httpx.Response(401, text="no", headers={"X-Debug-Echo": f"key={API_KEY}"}))

    with pytest.raises(AuthenticationError) as caught:
        client.accounts.retrieve(1)

    assert all(API_KEY not in value for value in caught.value.headers.values())
    assert caught.value.headers["x-debug-echo"] == "key=[redacted]"


def test_a_server_error_that_outlasts_the_retries_carries_retry_after(make_client, sleeps):
    client, script = make_client(
        *[json_response(503, {"error": {"message": "maintenance"}}, **{"Retry-After": "4"})] * 3
    )

    with pytest.raises(ServerError) as caught:
        client.invoices.retrieve(1)

    assert len(script.requests) == 3 and sleeps == [4.0, 4.0]
    assert caught.value.retry_after == 4.0


def test_a_success_body_that_is_not_json_raises_unexpected_response(make_client):
    client, _ = make_client(httpx.Response(200, text="<html>maintenance</html>", headers={"X-B2B-API-Request-Id": "r1"}))

    with pytest.raises(b2brouter.UnexpectedResponseError) as caught:
        client.invoices.retrieve(1)

    assert caught.value.status_code == 200
    assert "r1" in str(caught.value)
