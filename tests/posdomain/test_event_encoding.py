"""An event's payload encoded once (issue 15): `encode_event` with the payload's
`plain_json` bytes is `encode(envelope)` byte for byte, and `plain_json` refuses what pydantic
would write by its own rules."""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from posdomain.envelope import EventEnvelope, encode, encode_event, plain_json

TEXT = st.lists(
    st.sampled_from([*'ab"\\:,{}0 \n\x00é€', "payload", '"payload":0']), max_size=6
).map("".join)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=30,
)


def envelope(payload: dict[str, Any], correlation_id: str = "c" * 32) -> EventEnvelope:
    return EventEnvelope(
        event_id=uuid.uuid4(), box_id="box-1", tenant_id="t1", branch_id="b1", seq=7,
        type="sale.completed", occurred_at=datetime(2026, 12, 1, 13, 30, 10, 5, tzinfo=UTC),
        correlation_id=correlation_id, payload=payload,
    )  # fmt: skip


@pytest.mark.req("FR-303")
@settings(max_examples=300, deadline=None)
@given(
    payload=st.dictionaries(TEXT, JSON, max_size=6),
    correlation_id=st.text(st.sampled_from('a"\\:,{}0 ~payload'), min_size=1, max_size=64),
)
@example(payload={"payload": 0, "x": '"payload":0'}, correlation_id='"payload":0')
@example(payload={}, correlation_id="c")
def test_an_event_with_its_payload_bytes_is_the_envelope_encoded(
    payload: dict[str, Any], correlation_id: str
) -> None:
    env = envelope(payload, correlation_id)
    wire = plain_json(payload)
    assert wire is not None
    assert encode_event(env, wire) == encode(env)
    assert encode_event(env, None) == encode(env)
    assert json.loads(wire) == json.loads(encode(env))["payload"]


@pytest.mark.req("FR-303")
@pytest.mark.parametrize(
    "odd",
    [Decimal("1.50"), datetime(2026, 12, 1, tzinfo=UTC), uuid.uuid4(), math.nan, math.inf, {1, 2}],
)
def test_what_pydantic_writes_its_own_way_is_not_plain(odd: object) -> None:
    """A Decimal, datetime, UUID, NaN or set is left to `encode` (pydantic writes a datetime
    with Z, NaN as null): the event is then encoded exactly as before."""
    payload = {"lines": [{"x": odd}]}
    assert plain_json(payload) is None
    env = envelope(payload)
    assert encode_event(env, plain_json(payload)) == encode(env)
