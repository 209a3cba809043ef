"""Sync envelope: strict decoding with reason codes; encode/decode round trip."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from posdomain.envelope import (
    MAX_BATCH_EVENTS,
    MAX_MESSAGE_BYTES,
    BatchAck,
    DownMessage,
    EventBatch,
    EventEnvelope,
    decode,
    encode,
    new_event_id,
    utcnow,
)
from posdomain.errors import PayloadTooLarge, Reason, ValidationError


def event(seq: int = 1, **over: Any) -> EventEnvelope:
    fields: dict[str, Any] = {
        "event_id": new_event_id(), "box_id": "box-1", "tenant_id": "t1", "branch_id": "b1",
        "seq": seq, "type": "sale.completed", "occurred_at": datetime(2024, 5, 1, tzinfo=UTC),
        "correlation_id": "c" * 32, "payload": {"total": "1.99"},
    }  # fmt: skip
    fields.update(over)
    return EventEnvelope(**fields)


def batch_dict(**over: Any) -> dict[str, Any]:
    batch = EventBatch(batch_id=uuid.uuid4(), box_id="box-1", sent_at=utcnow(), events=[event()])
    data: dict[str, Any] = json.loads(encode(batch))
    data.update(over)
    return data


def raw(data: object) -> bytes:
    return json.dumps(data).encode()


@pytest.mark.req("FR-800")
def test_round_trip_batch() -> None:
    batch = EventBatch(
        batch_id=uuid.uuid4(), box_id="box-1", sent_at=utcnow(), events=[event(1), event(2)]
    )
    wire = encode(batch)
    assert decode(wire, EventBatch) == batch
    assert encode(decode(wire, EventBatch)) == wire


def test_round_trip_ack_and_down() -> None:
    ack = BatchAck(batch_id=uuid.uuid4(), box_id="box-1", acked_through=7, missing_seqs=[9])
    assert decode(encode(ack), BatchAck) == ack
    down = DownMessage(
        kind="flags", version=3, tenant_id="t1", branch_id="b1", issued_at=utcnow(),
        body={"loyalty_rules": True},
    )  # fmt: skip
    assert decode(encode(down), DownMessage) == down


@pytest.mark.parametrize("payload", [b"not json", b"\xff\xfe", b"{", b""])
def test_non_json_is_malformed(payload: bytes) -> None:
    with pytest.raises(ValidationError) as info:
        decode(payload, EventBatch)
    assert info.value.reason is Reason.MALFORMED_MESSAGE


def test_oversize_is_payload_too_large() -> None:
    with pytest.raises(PayloadTooLarge) as info:
        decode(b" " * (MAX_MESSAGE_BYTES + 1), EventBatch)
    assert info.value.status == 413
    assert info.value.reason is Reason.PAYLOAD_TOO_LARGE


@pytest.mark.parametrize("version", [2, 0, "1", None])
def test_wrong_version(version: object) -> None:
    data = batch_dict(v=version)
    with pytest.raises(ValidationError) as info:
        decode(raw(data), EventBatch)
    # v=None means "v": null on the wire: not the default, still not version 1.
    expected = Reason.MALFORMED_MESSAGE if version is None else Reason.UNSUPPORTED_VERSION
    assert info.value.reason is expected


def test_missing_version_defaults_to_1() -> None:
    data = batch_dict()
    del data["v"]
    assert decode(raw(data), EventBatch).v == 1


def test_extra_fields_rejected_with_field_errors() -> None:
    with pytest.raises(ValidationError) as info:
        decode(raw(batch_dict(extra="x")), EventBatch)
    assert info.value.reason is Reason.MALFORMED_MESSAGE
    assert info.value.details["fields"][0]["field"] == "extra"


def test_extra_field_inside_event_rejected() -> None:
    data = batch_dict()
    data["events"][0]["surprise"] = 1
    with pytest.raises(ValidationError, match="schema"):
        decode(raw(data), EventBatch)


@pytest.mark.parametrize("seq", [0, -1, "x", 1.5])
def test_bad_seq_rejected(seq: object) -> None:
    data = batch_dict()
    data["events"][0]["seq"] = seq
    with pytest.raises(ValidationError) as info:
        decode(raw(data), EventBatch)
    assert info.value.reason is Reason.MALFORMED_MESSAGE
    assert info.value.details["fields"][0]["field"] == "events.0.seq"


@pytest.mark.parametrize(
    ("field", "value"),
    [("box_id", "bad/box"), ("box_id", ""), ("type", "Sale"), ("type", "sale"),
     ("correlation_id", ""), ("event_id", "not-a-uuid")],
)  # fmt: skip
def test_bad_event_fields(field: str, value: object) -> None:
    data = batch_dict()
    data["events"][0][field] = value
    with pytest.raises(ValidationError):
        decode(raw(data), EventBatch)


def test_batch_size_limits() -> None:
    with pytest.raises(ValidationError):
        decode(raw(batch_dict(events=[])), EventBatch)
    one = batch_dict()["events"][0]
    with pytest.raises(ValidationError):
        decode(raw(batch_dict(events=[one] * (MAX_BATCH_EVENTS + 1))), EventBatch)


def test_non_object_json_is_malformed() -> None:
    with pytest.raises(ValidationError) as info:
        decode(b"[1, 2]", EventBatch)
    assert info.value.reason is Reason.MALFORMED_MESSAGE


def test_utcnow_is_aware() -> None:
    assert utcnow().tzinfo is UTC
