"""Canonical JSON: the single byte form hashes and signatures use."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from posdomain.canonical import canonical_json


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
