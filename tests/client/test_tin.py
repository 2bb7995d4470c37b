"""TIN normalisation and contacts.find_by_tin."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from b2brouter import compact_tin, same_tin

from .conftest import json_response

# National numbers that cannot be mistaken for a prefixed TIN: a digit or a single letter first.
nationals = st.from_regex(r"\A([0-9]|[A-Z][0-9])[0-9A-Z]{3,12}\Z")
prefixes = st.sampled_from(["ES", "FR", "NL", "DE", "IT", "PT", "BE"])
noise = st.sampled_from([" ", ".", "-", "  ", " - ", "/"])


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("ESB12345678", "B12345678", True),
        ("B12345678", "ESB12345678", True),
        ("es b-12.345.678", "ESB12345678", True),
        ("ESB12345678", "ESB12345678", True),
        ("ESB12345678", "FRB12345678", False),
        ("B12345678", "B12345679", False),
        ("ELB123", "GRB123", True),
        ("", "", False),
    ],
)
def test_same_tin_examples(a, b, expected):
    assert same_tin(a, b) is expected


def test_country_argument_stands_for_a_missing_prefix():
    assert same_tin("B12345678", "ESB12345678", country_a="ES")
    assert not same_tin("B12345678", "FRB12345678", country_a="es")
    assert same_tin("B12345678", "B12345678", country_a="ES")


def test_compact_tin():
    assert compact_tin(" es-b.123 456/78 ") == "ESB12345678"


@given(nationals, prefixes)
def test_prefix_is_optional_on_either_side(national, prefix):
    assert same_tin(national, prefix + national)
    assert same_tin(prefix + national, national)
    assert same_tin(prefix + national, prefix + national)


@given(nationals, prefixes, st.lists(noise, min_size=1, max_size=5), st.data())
def test_case_and_separators_are_ignored(national, prefix, separators, data):
    text = prefix + national
    for separator in separators:
        at = data.draw(st.integers(min_value=0, max_value=len(text)))
        text = text[:at] + separator + text[at:]
    text = data.draw(st.sampled_from([text, text.lower(), text.title()]))

    assert same_tin(text, prefix + national)
    assert compact_tin(text) == prefix + national


@given(nationals, nationals, prefixes, prefixes)
def test_different_numbers_or_countries_never_match(a, b, prefix_a, prefix_b):
    assert same_tin(prefix_a + a, prefix_b + b) is (a == b and prefix_a == prefix_b)
    assert same_tin(a, b) is (a == b)


@given(st.text(max_size=20), st.text(max_size=20))
def test_same_tin_is_symmetric(a, b):
    assert same_tin(a, b) == same_tin(b, a)


def contacts(*tins: str) -> dict[str, object]:
    items = [{"id": n, "name": f"Contact {n}", "tin_value": tin} for n, tin in enumerate(tins, start=1)]
    return {"contacts": items, "meta": {"total_count": len(items), "offset": 0, "limit": 500}}


def test_find_by_tin_searches_by_name_and_compares_locally(make_client):
    # The name search is fuzzy: it also returns contacts whose TIN merely contains the text.
    client, script = make_client(json_response(200, contacts("B123456789", "FRB12345678", "ES-B12345678")))

    found = client.contacts.find_by_tin(1, "esb 12345678")

    assert found is not None and found["id"] == 3
    assert script.last.url.path == "/accounts/1/contacts"
    assert script.last.url.params["name"] == "B12345678"
    assert script.last.url.params["limit"] == "500"


def test_find_by_tin_tries_the_prefixed_form_when_the_national_part_finds_nothing(make_client):
    client, script = make_client(
        json_response(200, contacts()),
        json_response(200, contacts("ESB12345678")),
    )

    found = client.contacts.find_by_tin(1, "ESB12345678")

    assert found is not None and found["tin_value"] == "ESB12345678"
    assert [r.url.params["name"] for r in script.requests] == ["B12345678", "ESB12345678"]


def test_find_by_tin_with_country_for_an_unprefixed_tin(make_client):
    client, script = make_client(
        json_response(200, contacts("FRB12345678")),
        json_response(200, contacts("FRB12345678")),
    )

    assert client.contacts.find_by_tin(1, "B12345678", country="ES") is None
    assert [r.url.params["name"] for r in script.requests] == ["B12345678", "ESB12345678"]


def test_find_by_tin_returns_none_when_nothing_matches(make_client):
    client, _ = make_client(json_response(200, contacts("B87654321")), json_response(200, contacts()))

    assert client.contacts.find_by_tin(1, "ESB12345678") is None


def test_find_by_tin_refuses_an_empty_tin(make_client):
    client, _ = make_client()

    with pytest.raises(ValueError):
        client.contacts.find_by_tin(1, " - ")
