"""An incoming event's digest and payload text (issue 15 item 2, branch ingestcpu): the
payload is encoded once, and the digest is taken over the event's canonical text spliced
around it; both must be exactly what `canonical_json` of the whole gives, for any payload a
box can send, or a true redelivery would stop matching the event the hub holds."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posdomain.canonical import canonical_json, canonical_text
from posdomain.envelope import incoming_event

TEXT = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=12)
LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JSON = st.recursive(
    LEAF,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)


def _event(payload: dict[str, Any], box_id: str, seq: int, kind: str) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()), "box_id": box_id, "tenant_id": "t1", "branch_id": "b1",
        "seq": seq, "type": kind, "occurred_at": "2026-12-02T05:00:00+00:00",
        "correlation_id": "c" * 32, "payload": payload,
    }  # fmt: skip


@pytest.mark.req("FR-800", "NFR-003")
@settings(max_examples=300, deadline=None)
@given(
    payload=st.dictionaries(TEXT, JSON, max_size=6),
    box_id=st.sampled_from(["box-1", "BX_9", "a" * 40]),
    seq=st.integers(1, 2**31),
    kind=st.sampled_from(["sale.completed", "audit.entry", "stock.movement"]),
)
def test_the_digest_is_the_canonical_json_of_the_whole_event(
    payload: dict[str, Any], box_id: str, seq: int, kind: str
) -> None:
    raw = _event(payload, box_id, seq, kind)
    got = incoming_event(raw, deep=False)
    assert got.error is None
    same = {k: raw[k] for k in ("event_id", "box_id", "seq", "type", "payload")}
    assert got.digest == hashlib.sha256(canonical_json(same)).hexdigest()
    assert got.payload_json == canonical_text(payload)
    assert json.loads(got.payload_json) == payload


@pytest.mark.req("FR-800")
def test_a_refused_event_has_no_payload_text() -> None:
    assert incoming_event({"seq": "x"}).payload_json is None
    nul = incoming_event(_event({"name": "a\x00b"}, "box-1", 1, "sale.completed"))
    assert nul.envelope is None
    assert nul.payload_json is None
    lone = incoming_event(_event({"name": "\ud800"}, "box-1", 1, "sale.completed"))
    assert lone.envelope is None
    assert lone.payload_json is None


@pytest.mark.req("FR-800")
def test_the_payload_text_is_compact_sorted_and_keeps_non_ascii() -> None:
    got = incoming_event(_event({"z": 1, "a": ["é", "\u2028"], "m": {"y": None, "b": 1.5}},
                                "box-1", 3, "sale.completed"))  # fmt: skip
    assert got.payload_json == '{"a":["é","\u2028"],"m":{"b":1.5,"y":null},"z":1}'
