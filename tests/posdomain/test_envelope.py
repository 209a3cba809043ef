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
from posdomain.payloads import SaleCompleted
from tests.posdomain.test_sale_checks import _good


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


# decode_batch / incoming_event: each event of a batch is checked on its own (FR-800).
# Written against mutants that no tests/posdomain test reached (docs/mutation.md).

from posdomain.envelope import (  # noqa: E402
    MAX_EVENT_DEPTH,
    PROTOCOL_VERSION,
    IncomingEvent,
    decode_batch,
    fitting_prefix,
    incoming_event,
)
from posdomain.wire import Unparsable  # noqa: E402


def digest_of(env: dict[str, Any]) -> str:
    import hashlib

    from posdomain.canonical import canonical_json

    same = {k: env[k] for k in ("event_id", "box_id", "seq", "type", "payload")}
    return hashlib.sha256(canonical_json(same)).hexdigest()


def raw_digest(value: Any) -> str:
    import hashlib

    from posdomain.canonical import canonical_json

    return hashlib.sha256(canonical_json(value)).hexdigest()


@pytest.mark.req("FR-800")
def test_a_good_event_comes_back_with_its_envelope_and_content_digest() -> None:
    data = batch_dict()["events"][0]
    got = incoming_event(data)
    assert isinstance(got, IncomingEvent)
    assert got.error is None
    assert got.envelope == EventEnvelope.model_validate(data)
    assert (got.event_id, got.seq, got.raw) == (data["event_id"], 1, data)
    assert got.digest == digest_of(data)
    # the digest covers id, box, seq, type and payload only
    other_time = {**data, "occurred_at": "2024-05-02T00:00:00Z", "correlation_id": "z"}
    assert incoming_event(other_time).digest == got.digest
    for field, value in (("seq", 2), ("type", "sale.voided"), ("payload", {"total": "2"}),
                         ("box_id", "box-2")):  # fmt: skip
        assert incoming_event({**data, field: value}).digest != got.digest


@pytest.mark.req("FR-800")
def test_a_malformed_event_keeps_its_usable_id_and_seq() -> None:
    data = {**batch_dict()["events"][0], "type": "Bad Type"}
    got = incoming_event(data)
    assert got.envelope is None
    assert got.error is not None
    assert got.error.reason is Reason.MALFORMED_MESSAGE
    assert got.error.message == "event does not match the schema"
    assert got.error.details["fields"][0]["field"] == "type"
    assert (got.event_id, got.seq) == (data["event_id"], 1)
    assert got.digest == raw_digest(data)
    lost = incoming_event({"seq": "x", "event_id": data["event_id"]})
    assert (lost.event_id, lost.seq, lost.envelope) == (None, None, None)
    assert lost.error is not None
    assert lost.digest == raw_digest({"seq": "x", "event_id": data["event_id"]})


@pytest.mark.req("FR-800")
def test_an_event_json_cannot_hold_exactly_is_refused_with_a_digest_anyway() -> None:
    data = batch_dict()["events"][0]
    for payload, message in (
        ({"x": Unparsable("NaN")}, "event holds a number or text JSON cannot represent exactly"),
        ({"x": "\ud800"}, "event holds a number or text JSON cannot represent exactly"),
        ({"x": "a\x00b"}, "event holds a NUL character"),
    ):
        got = incoming_event({**data, "payload": payload})
        assert got.envelope is None
        assert got.error is not None
        assert got.error.reason is Reason.MALFORMED_MESSAGE
        assert got.error.message == message
        assert (got.event_id, got.seq) == (data["event_id"], 1)
        assert len(got.digest) == 64
    # malformed and not canonically encodable: the digest of its repr
    import hashlib

    odd = {**data, "type": "Bad", "payload": {"x": Unparsable("NaN")}}
    got = incoming_event(odd)
    assert got.error is not None
    assert got.digest == hashlib.sha256(repr(odd).encode("utf-8", "replace")).hexdigest()


@pytest.mark.req("FR-800")
def test_an_event_nested_too_deep_is_refused_only_when_the_batch_is_deep() -> None:
    data = batch_dict()["events"][0]
    deep: Any = "leaf"
    for _ in range(MAX_EVENT_DEPTH):
        deep = {"d": deep}
    nested = {**data, "payload": deep}
    got = incoming_event(nested)
    assert got.error is not None
    assert got.error.message == f"event nested deeper than {MAX_EVENT_DEPTH}"
    assert got.envelope is None
    assert (got.event_id, got.seq) == (data["event_id"], 1)
    assert incoming_event(nested, deep=False).error is None  # the caller measured the message
    shallow: Any = "leaf"
    for _ in range(MAX_EVENT_DEPTH - 2):
        shallow = {"d": shallow}
    assert incoming_event({**data, "payload": shallow}).error is None


@pytest.mark.req("FR-800")
def test_decode_batch_checks_the_head_and_each_event_alone() -> None:
    data = batch_dict()
    good = data["events"][0]
    bad = {**good, "seq": 2, "surprise": 1}
    data["events"] = [good, bad]
    head, events = decode_batch(raw(data))
    assert str(head.batch_id) == data["batch_id"]
    assert head.events == [good, bad]
    assert [e.error is None for e in events] == [True, False]
    assert events[1].seq == 2
    with pytest.raises(ValidationError) as info:
        decode_batch(raw({**data, "events": []}))
    assert info.value.reason is Reason.MALFORMED_MESSAGE
    assert info.value.message == "message does not match the schema"


@pytest.mark.req("FR-800")
def test_decode_batch_refuses_deep_events_in_a_deep_message_only() -> None:
    data = batch_dict()
    deep: Any = 1
    for _ in range(MAX_EVENT_DEPTH):
        deep = [deep]
    data["events"] = [{**data["events"][0], "payload": {"d": deep}}]
    _, (event_,) = decode_batch(raw(data))
    assert event_.error is not None
    assert event_.error.message == f"event nested deeper than {MAX_EVENT_DEPTH}"


@pytest.mark.req("FR-800")
def test_load_messages_name_the_problem() -> None:
    with pytest.raises(PayloadTooLarge) as big:
        decode(b" " * (MAX_MESSAGE_BYTES + 1), EventBatch)
    assert (
        big.value.message == f"message of {MAX_MESSAGE_BYTES + 1} bytes exceeds {MAX_MESSAGE_BYTES}"
    )
    assert decode(raw(batch_dict()).ljust(MAX_MESSAGE_BYTES), EventBatch).v == 1
    with pytest.raises(ValidationError) as bad:
        decode(b"{", EventBatch)
    assert bad.value.message.startswith("message is not usable JSON: ")
    with pytest.raises(ValidationError) as version:
        decode(raw(batch_dict(v="x" * 50)), EventBatch)
    assert version.value.reason is Reason.UNSUPPORTED_VERSION
    assert version.value.message == f"unsupported protocol version {'x' * 20!r}"
    assert PROTOCOL_VERSION == 1


@pytest.mark.req("FR-800")
def test_fitting_prefix_edges() -> None:
    limit = MAX_MESSAGE_BYTES
    assert fitting_prefix([limit], sum) == 1
    assert fitting_prefix([limit // 2, limit // 2], sum) == 2
    assert fitting_prefix([limit // 2, limit // 2 + 1], sum) == 1
    assert fitting_prefix([1, 1, limit], sum) == 2
    assert fitting_prefix([1, limit - 2, 1, 5], sum) == 3
    calls: list[int] = []

    def size(items: Any) -> int:
        calls.append(len(items))
        return int(sum(items))

    assert fitting_prefix([1] * 50, size) == 50
    assert calls == [50]  # everything fits: one call


def nested_event(depth: int) -> dict[str, Any]:
    """A valid event dict whose value_depth is exactly `depth` (>= 3)."""
    from posdomain.wire import value_depth

    inner: Any = 1
    for _ in range(depth - 2):  # the envelope and its payload object add 2
        inner = [inner]
    data = {**batch_dict()["events"][0], "payload": {"d": inner}}
    assert value_depth(data) == depth
    return data


@pytest.mark.req("FR-800")
def test_an_event_may_nest_exactly_to_the_limit() -> None:
    assert incoming_event(nested_event(MAX_EVENT_DEPTH)).error is None
    data = nested_event(MAX_EVENT_DEPTH + 1)
    too_deep = incoming_event(data)
    assert too_deep.error is not None
    assert too_deep.raw is data


@pytest.mark.req("FR-800")
def test_a_batch_one_level_too_deep_refuses_that_event() -> None:
    data = batch_dict(events=[nested_event(MAX_EVENT_DEPTH + 1)])
    _, (event_,) = decode_batch(raw(data))
    assert event_.error is not None
    assert event_.error.message == f"event nested deeper than {MAX_EVENT_DEPTH}"
    data = batch_dict(events=[nested_event(MAX_EVENT_DEPTH)])
    _, (event_,) = decode_batch(raw(data))
    assert event_.error is None


@pytest.mark.req("FR-800")
def test_a_refused_event_keeps_its_raw_form() -> None:
    data = {**batch_dict()["events"][0], "type": "Bad"}
    assert incoming_event(data).raw is data
    junk = {"nothing": "usable"}
    assert incoming_event(junk).raw is junk


@pytest.mark.req("FR-800", "NFR-003")
def test_a_sale_events_payload_is_parsed_where_the_batch_is_decoded() -> None:
    """The ingest worker decodes a batch (incoming_event) on one thread while it applies the
    previous one: a sale.completed payload that parses comes back as SaleCompleted; any other
    type, or a sale payload that does not parse, has no body (the apply parses it then and
    refuses it with its reason, as without this) and is not an error here."""
    sale = _good()
    data = json.loads(encode(event(payload=sale)))
    got = incoming_event(data)
    assert got.error is None
    assert got.body == SaleCompleted.model_validate(sale)
    voided = incoming_event(json.loads(encode(event(type="sale.voided", payload=sale))))
    assert (voided.error, voided.body) == (None, None)
    broken = incoming_event(json.loads(encode(event(payload={"total": "1.99"}))))
    assert (broken.error, broken.body) == (None, None)
