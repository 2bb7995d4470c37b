"""Hypothesis strategies and helpers shared by the fuzz tests (tests/app/test_fuzz_app.py, tests/sim/test_fuzz_sim.py).

The strategies favour what broke before: lists and objects where text is expected, text longer
than its column, NUL characters and lone surrogates (which PostgreSQL cannot store), numbers out
of every column's range, dates out of the calendar, and JSON nested far deeper than any parser's
recursion limit.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from html.parser import HTMLParser
from typing import Any

from django.db import models
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: Bounded runs: each fuzz test stays within a few seconds per database. FUZZ_EXAMPLES=500 searches longer.
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "40")),
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
)

LENGTHS = [0, 1, 2, 3, 4, 5, 21, 33, 41, 61, 65, 101, 121, 201, 256, 301, 501, 1001, 5000]
NASTY_TEXT = ["", " ", "\x00", "a\x00b", "\ud800", "x\udfff", "0", "-1", "1e999", "NaN", "Infinity", "null",
              "9" * 30, "-" + "9" * 30, "2026-02-30", "9999-12-31", "10000-01-01", "0000-00-00", "<b>x</b>",
              "' OR 1=1 --", "%00", "../../etc/passwd", "\u202e", "ß" * 3, "💶", "\r\n", "a,b", "t=1,s=2"]
BIG_NUMBERS = [0, 1, -1, 2**31, 2**31 - 1, 2**63 - 1, 2**63, -(2**63) - 1, 10**12, 10**18, 10**30, -(10**30)]


def _long_text(alphabet: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(lambda ch, n: ch * n, alphabet, st.sampled_from(LENGTHS))


# Text as it can travel in a URL or a form: no lone surrogates (HTTP carries bytes, Django decodes them).
# The known troublemakers are drawn often (one_of picks its branches about evenly).
printable = st.characters(exclude_categories=("Cs",))
_nasty_form_text = st.sampled_from([t for t in NASTY_TEXT if not any(0xD800 <= ord(c) <= 0xDFFF for c in t)])
_big_numbers = st.sampled_from([str(n) for n in BIG_NUMBERS])
form_text = st.one_of(
    st.text(printable, max_size=12),
    _nasty_form_text,
    st.sampled_from(["\x00", "a\x00b", "%00"]),
    _long_text(printable),
    _big_numbers,
    _big_numbers,
    st.decimals(allow_nan=False, allow_infinity=False, places=4).map(str),
)
# Text inside JSON may carry anything JSON can escape, lone surrogates included.
any_char = st.characters(exclude_categories=())
json_text = st.one_of(st.text(any_char, max_size=12), st.sampled_from(NASTY_TEXT), _long_text(any_char))
json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(), st.sampled_from(BIG_NUMBERS), st.sampled_from(BIG_NUMBERS), st.floats(),
    json_text,
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_text, inner, max_size=4),
    max_leaves=12,
)


def deep(depth: int, opener: str = "[") -> bytes:
    """Return JSON nested ``depth`` levels deep (valid JSON when closed)."""
    closer = {"[": "]", "{": "}"}[opener]
    if opener == "{":
        return ('{"a":' * depth + "1" + "}" * depth).encode()
    return (opener * depth + closer * depth).encode()


#: Raw bodies that are not (or not only) JSON objects.
raw_body = st.one_of(
    st.binary(max_size=64),
    st.sampled_from([b"", b"{", b"[]", b"null", b"\xff\xfe", b'{"a": NaN}', b"1e999999", b"[1e999999]",
                     b'"\\ud800"', b"{\"a\":\"\\u0000\"}", deep(100_000), deep(100_000, "{"), deep(5_000),
                     deep(999), deep(64), b"[" * 100_000]),
)


def dumps(value: Any) -> bytes:
    """Encode a generated value as JSON (NaN and Infinity as JavaScript literals, as Python does)."""
    return json.dumps(value).encode()


def fingerprint(*querysets: Iterable[Any]) -> str:
    """Return a digest of every row of the given models or querysets: equal digests, unchanged data."""
    digest = hashlib.sha256()
    for qs in querysets:
        if isinstance(qs, type) and issubclass(qs, models.Model):
            qs = qs._default_manager.all()
        for row in qs.order_by("pk").values_list():  # type: ignore[attr-defined]
            digest.update(repr(row).encode("utf-8", "surrogatepass"))
        digest.update(b"|")
    return digest.hexdigest()


class _Forms(HTMLParser):
    """Collect each form's action and the values its fields would submit as they are shown."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, dict[str, list[str]]]] = []
        self.select: str | None = None
        self.select_first: str | None = None
        self.select_chosen = False
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((a.get("action", ""), {}))
        if not self.forms:
            return
        fields = self.forms[-1][1]
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "button", "image", "file"):
                return
            fields.setdefault(name, []).append(a.get("value", "on" if kind == "checkbox" else ""))
        elif tag == "select" and name:
            self.select, self.select_first, self.select_chosen = name, None, False
        elif tag == "option" and self.select:
            value = a.get("value", "")
            if self.select_first is None:
                self.select_first = value
            if "selected" in a:
                fields.setdefault(self.select, []).append(value)
                self.select_chosen = True
        elif tag == "textarea" and name:
            self.textarea = name
            fields.setdefault(name, []).append("")

    def handle_data(self, data: str) -> None:
        if self.textarea and self.forms:
            self.forms[-1][1][self.textarea][-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self.select and self.forms:
            if not self.select_chosen and self.select_first is not None:
                self.forms[-1][1].setdefault(self.select, []).append(self.select_first)
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def form_fields(html: str, action: str = "") -> dict[str, list[str]]:
    """Return what the page's form posting to ``action`` ("" for the page itself) submits as shown."""
    parser = _Forms()
    parser.feed(html)
    for form_action, fields in parser.forms:
        if form_action == action:
            fields.pop("csrfmiddlewaretoken", None)
            return fields
    raise AssertionError(f"no form posting to {action!r} on the page")
