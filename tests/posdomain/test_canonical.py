"""Canonical JSON: the single byte form hashes and signatures use."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from posdomain.canonical import canonical_json, canonical_plain_text, canonical_text


@pytest.mark.req("FR-802")
def test_key_order_does_not_matter() -> None:
    a = {"b": 1, "a": {"y": [1, 2], "x": "é"}}
    b = {"a": {"x": "é", "y": [1, 2]}, "b": 1}
    assert canonical_json(a) == canonical_json(b) == '{"a":{"x":"é","y":[1,2]},"b":1}'.encode()


@pytest.mark.req("FR-802")
def test_decimal_and_datetime_become_strings() -> None:
    ts = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    out = canonical_json({"amount": Decimal("1.10"), "at": ts})
    assert out == b'{"amount":"1.10","at":"2024-05-01T12:30:00+00:00"}'


def test_unencodable_type_raises() -> None:
    with pytest.raises(TypeError, match="not canonically encodable"):
        canonical_json({"x": {1, 2}})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(), kids, max_size=4),
    max_leaves=20,
)


@pytest.mark.req("FR-802")
@given(json_values)
def test_canonical_is_stable_and_round_trips(value: object) -> None:
    raw = canonical_json(value)
    assert json.loads(raw) == value
    assert canonical_json(json.loads(raw)) == raw


@pytest.mark.req("FR-802")
def test_an_unencodable_value_is_named_by_its_type() -> None:
    with pytest.raises(TypeError, match=r"^not canonically encodable: set$"):
        canonical_json({"x": {1, 2}})
    with pytest.raises(TypeError, match=r"^not canonically encodable: bytes$"):
        canonical_json([b"raw"])


# the texts where encoders differ: escapes, controls, DEL, line separators, surrogates
tricky_text = st.text(
    alphabet=st.sampled_from(list('"\\\x00\x01\b\f\n\r\t\x1f\x7f\u2028\u2029é€😀aZ /'))
    | st.characters(),
    max_size=12,
)
plain_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.integers()  # past 64 bits: orjson refuses, the standard encoder writes it
    | tricky_text,
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(tricky_text, kids, max_size=4),
    max_leaves=25,
)


def _either(encode: Callable[[object], str], value: object) -> str | type[BaseException]:
    try:
        return encode(value)
    except (TypeError, ValueError) as err:
        return type(err)


@pytest.mark.req("FR-802")
@given(plain_values)
def test_plain_text_is_the_canonical_text_byte_for_byte(value: object) -> None:
    """orjson's fast path writes exactly `canonical_text` for any value without a float
    (else a digest computed before and after it would differ for the same event)."""
    fast = _either(canonical_plain_text, value)
    slow = _either(canonical_text, value)
    assert fast == slow
    if isinstance(slow, str):  # a lone surrogate fails later, at .encode("utf-8")
        assert _either(lambda v: canonical_plain_text(v).encode(), value) == _either(
            lambda v: canonical_text(v).encode(), value
        )


@pytest.mark.req("FR-802")
def test_plain_text_of_what_orjson_refuses_is_the_standard_one() -> None:
    assert canonical_plain_text({"n": 2**70}) == canonical_text({"n": 2**70})
    assert canonical_plain_text([-(2**63) - 1]) == "[-9223372036854775809]"
    with pytest.raises(TypeError):
        canonical_plain_text({"x": {1, 2}})
