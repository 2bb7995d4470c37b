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
printable = st.characters(exclude_categories=("Cs",))
form_text = st.one_of(
    st.text(printable, max_size=12),
    st.sampled_from([t for t in NASTY_TEXT if not any(0xD800 <= ord(c) <= 0xDFFF for c in t)]),
    _long_text(printable),
    st.sampled_from([str(n) for n in BIG_NUMBERS]),
    st.decimals(allow_nan=False, allow_infinity=False, places=4).map(str),
)
# Text inside JSON may carry anything JSON can escape, lone surrogates included.
any_char = st.characters(exclude_categories=())
json_text = st.one_of(st.text(any_char, max_size=12), st.sampled_from(NASTY_TEXT), _long_text(any_char))
json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(), st.sampled_from(BIG_NUMBERS), st.floats(), json_text,
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
