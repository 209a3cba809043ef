"""Versioned sync messages: the event envelope, batches and acks (see docs/sync-protocol.md).

Wire payloads become these objects at the edge; nothing deeper sees raw JSON.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from posdomain.canonical import canonical_json, canonical_plain_text, canonical_text
from posdomain.contract import DownKind, EventType, field_details
from posdomain.errors import PayloadTooLarge, Reason, ValidationError
from posdomain.payloads import SaleCompleted
from posdomain.wire import (
    MAX_EVENT_DEPTH,
    MAX_SEQ,
    Counter,
    Seq,
    Shape,
    WireTime,
    json_shape,
    load_json,
    value_depth,
)

PROTOCOL_VERSION = 1
MAX_MESSAGE_BYTES = 256 * 1024
MAX_BATCH_EVENTS = 200

_ID = r"^[A-Za-z0-9_.:-]{1,64}$"
T = TypeVar("T")


def fitting_prefix(items: Sequence[T], size_of: Callable[[Sequence[T]], int]) -> int:
    """The largest n >= 1 whose `size_of(items[:n])` fits MAX_MESSAGE_BYTES (1 if even one
    does not fit: the hub then refuses that message, the box never splits an event). Size
    grows with n, so a binary search: one call when everything fits, about log2(n) otherwise
    (halving instead sent 12 of the 21 30-line sales that fit, issue 15)."""
    if len(items) <= 1 or size_of(items) <= MAX_MESSAGE_BYTES:
        return len(items)
    lo, hi = 1, len(items) - 1  # items[:lo] is taken anyway; items[:hi + 1] does not fit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if size_of(items[:mid]) <= MAX_MESSAGE_BYTES:
            lo = mid
        else:
            hi = mid - 1
    return lo


M = TypeVar("M", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Versions(_Strict):
    """Versions of the master data the box used when it made the event."""

    catalog: Counter = 0
    price: Counter = 0
    tax: Counter = 0
    policy: Counter = 0
    staff: Counter = 0
    config: Counter = 0


class EventEnvelope(_Strict):
    """One business event from a box. `seq` is gap-free per box; `event_id` globally unique."""

    v: Literal[1] = 1
    event_id: uuid.UUID
    box_id: str = Field(pattern=_ID)
    tenant_id: str = Field(pattern=_ID)
    branch_id: str = Field(pattern=_ID)
    seq: Seq
    type: str = Field(pattern=r"^[a-z_]+(\.[a-z_]+)+$", max_length=64)
    occurred_at: WireTime
    correlation_id: str = Field(pattern=r"^[\x20-\x7e]{1,64}$")
    versions: Versions = Versions()
    payload: dict[str, Any]


class EventBatch(_Strict):
    """An ordered batch of a box's events, published on the box's events topic."""

    v: Literal[1] = 1
    batch_id: uuid.UUID
    box_id: str = Field(pattern=_ID)
    sent_at: WireTime
    events: list[EventEnvelope] = Field(min_length=1, max_length=MAX_BATCH_EVENTS)


class BatchHead(_Strict):
    """An EventBatch with its events still raw: each is checked on its own (`decode_batch`),
    so one malformed event is refused alone instead of taking the whole batch with it."""

    v: Literal[1] = 1
    batch_id: uuid.UUID
    box_id: str = Field(pattern=_ID)
    sent_at: WireTime
    events: list[Any] = Field(min_length=1, max_length=MAX_BATCH_EVENTS)


class _EventKey(BaseModel):
    """The identity of an event, salvaged from an envelope that failed its schema."""

    model_config = ConfigDict(extra="ignore")

    event_id: uuid.UUID
    seq: Seq


class BatchAck(_Strict):
    """Hub → box: sent only after the hub's database commit."""

    v: Literal[1] = 1
    batch_id: uuid.UUID
    box_id: str
    acked_through: int = Field(ge=0, le=MAX_SEQ)
    accepted: list[uuid.UUID] = []
    duplicates: list[uuid.UUID] = []
    missing_seqs: list[int] = []
    rejected: list[dict[str, Any]] = []  # {event_id, seq, reason, message}; never delivered


class BatchReceived(_Strict):
    """Hub → box flow signal (docs/sync-protocol.md "Flow control"): the hub holds this
    batch and will answer it. Advisory only: it extends the box's wait for the BatchAck,
    it never delivers an event (only a BatchAck after the commit does)."""

    v: Literal[1] = 1
    batch_id: uuid.UUID
    box_id: str
    stage: Literal["queued", "applying"]
    ahead: int = Field(ge=0, le=1_000_000)  # batches queued before it on that worker
    eta_ms: int = Field(ge=0, le=3_600_000)  # the worker's estimate of the wait for its ack


class IngestStatus(BaseModel):
    """Hub ingest worker → boxes, retained on `topics.hub_ingest_status` (docs/sync-protocol.md
    "Hub ingest presence"): `online` once the worker is subscribed, `offline` as its last will
    (the broker publishes it when the worker dies) or when it stops. Unknown fields are
    ignored (a later hub may say more); an empty retained message means the worker left."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    v: Literal[1] = 1
    worker: str = Field(min_length=1, max_length=200)
    online: bool
    # a partitioned worker's "k/n" (CFPOS_INGEST_PARTITION): read by the other workers to
    # take over the boxes of an absent partition (hub/sync/takeover.py); boxes ignore it
    partition: str | None = Field(default=None, pattern=r"^\d{1,3}/\d{1,3}$")


class DownMessage(_Strict):
    """Hub → box master data (staff, catalog, config, flags, risk), versioned per kind."""

    v: Literal[1] = 1
    kind: DownKind
    version: int = Field(ge=1)
    tenant_id: str
    branch_id: str
    issued_at: datetime
    body: dict[str, Any]


class BoxRequest(_Strict):
    """Box → hub: ask for data the retained messages cannot carry: catalog or card-directory
    catch-up from `since_version`, a customer search by name/phone (`query`, online only), or
    one chunk of a release file on offer (`release_chunk`: `artifact`, `file`, byte offset in
    `since_version`, and the box's `running` release and `shift_open` as its check-in)."""

    v: Literal[1] = 1
    box_id: str = Field(pattern=_ID)
    kind: Literal["catalog", "cards", "customer_search", "release_chunk"]
    since_version: Counter = 0
    query: str | None = Field(default=None, min_length=2, max_length=80)
    artifact: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    file: str | None = Field(default=None, max_length=200, pattern=r"^[A-Za-z0-9_.+-]+$")
    running: str | None = Field(default=None, max_length=64)
    shift_open: bool = False
    request_id: uuid.UUID


class BoxReply(_Strict):
    """Hub → box: the answer to one BoxRequest that is not versioned master data (a customer
    search), on `down/reply`, matched by `request_id`."""

    v: Literal[1] = 1
    request_id: uuid.UUID
    kind: Literal["customer_search", "release_chunk"]
    issued_at: datetime
    body: dict[str, Any]


def new_event_id() -> uuid.UUID:
    """Globally unique event id."""
    return uuid.uuid4()


def utcnow() -> datetime:
    """Timezone-aware now in UTC (storage is always UTC)."""
    return datetime.now(UTC)


def encode(message: BaseModel) -> bytes:
    """Canonical wire bytes of a message."""
    return canonical_json(message.model_dump(mode="json"))


_PAYLOAD_MARK = b'"payload":0'


def encode_event(envelope: EventEnvelope, payload_json: bytes | None) -> bytes:
    """`encode(envelope)`, byte for byte, with the payload's canonical bytes given
    (`plain_json(envelope.payload)`, made once by a caller that also stores them: issue 15,
    a 30-line sale's payload is 12 KB); None encodes the envelope the usual way. Canonical
    JSON sorts every object's keys on its own, so the payload's bytes are the same inside
    the envelope as alone; the header's strings cannot hold the unescaped mark."""
    if payload_json is None:
        return encode(envelope)
    head = envelope.model_dump(mode="json", exclude={"payload"})
    head["payload"] = 0
    before, after = canonical_json(head).split(_PAYLOAD_MARK)
    return b"".join((before, b'"payload":', payload_json, after))


def _refuse(value: Any) -> Any:
    raise TypeError(f"not plain JSON: {type(value).__name__}")


def plain_json(payload: dict[str, Any]) -> bytes | None:
    """Canonical bytes of a payload made of JSON's own types only (str, int, finite float,
    bool, None, lists and str-keyed dicts: what `encode` writes for them unchanged), else
    None (a Decimal, datetime, UUID... is written by pydantic's rules: `encode`). The keys
    being strings is the caller's promise (json would turn an int key into text)."""
    try:
        return json.dumps(
            payload,
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
            default=_refuse,
        ).encode("utf-8")
    except (TypeError, ValueError):
        return None


def _load(raw: bytes) -> tuple[Any, Shape]:
    """Size, depth and JSON checks of a message: (data, its shape), or ValidationError."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise PayloadTooLarge(
            f"message of {len(raw)} bytes exceeds {MAX_MESSAGE_BYTES}", Reason.PAYLOAD_TOO_LARGE
        )
    shape = json_shape(raw)
    try:
        data = load_json(raw, shape)
    except ValueError as err:  # also UnicodeDecodeError and JSONDecodeError
        raise ValidationError(
            f"message is not usable JSON: {err}", Reason.MALFORMED_MESSAGE
        ) from err
    if isinstance(data, dict) and data.get("v") not in (None, PROTOCOL_VERSION):
        raise ValidationError(
            f"unsupported protocol version {str(data.get('v'))[:20]!r}", Reason.UNSUPPORTED_VERSION
        )
    return data, shape


def _validated(model: type[M], data: Any, what: str = "message") -> M:
    try:
        return model.model_validate(data)
    except PydanticValidationError as err:
        raise ValidationError(
            f"{what} does not match the schema", Reason.MALFORMED_MESSAGE, field_details(err)
        ) from err


def decode(raw: bytes, model: type[M]) -> M:
    """Parse wire bytes into `model`, raising a ValidationError with a reason code."""
    return _validated(model, _load(raw)[0])


@dataclass(frozen=True)
class IncomingEvent:
    """One event of a batch as received: its envelope, or why it has none.

    `digest` (sha256 of the event's canonical JSON) tells a true redelivery (same bytes)
    from another event carrying a known id; `event_id`/`seq` are salvaged from a malformed
    envelope when they are usable, so its seq can still be consumed.
    """

    raw: Any
    digest: str
    envelope: EventEnvelope | None
    event_id: str | None
    seq: int | None
    error: ValidationError | None
    # a sale.completed payload parsed as SaleCompleted where it parses (schema only, no
    # domain rule): done where the batch is decoded, on the ingest worker's decode thread
    # while the previous batch is applied; None otherwise (the apply parses it and refuses)
    body: SaleCompleted | None = None
    # the payload's canonical JSON text, computed for the digest: the hub stores it as is
    # instead of encoding the payload again (None for a malformed event)
    payload_json: str | None = None


def _malformed(raw: Any, error: ValidationError) -> IncomingEvent:
    """A refused event: its digest from its raw form and its id/seq if they are usable."""
    try:
        digest = hashlib.sha256(canonical_json(raw)).hexdigest()
    except (TypeError, ValueError):  # an Unparsable number or a lone surrogate inside
        digest = hashlib.sha256(repr(raw).encode("utf-8", "replace")).hexdigest()
    try:
        key = _EventKey.model_validate(raw)
    except PydanticValidationError:
        return IncomingEvent(raw, digest, None, None, None, error)
    return IncomingEvent(raw, digest, None, str(key.event_id), key.seq, error)


def _bad(raw: Any, message: str) -> IncomingEvent:
    return _malformed(raw, ValidationError(message, Reason.MALFORMED_MESSAGE))


def incoming_event(raw: Any, deep: bool = True, plain: bool = False) -> IncomingEvent:
    """Check one raw event of a batch: not too deep (`deep`: the message nests enough for it
    to matter), matching EventEnvelope, its content storable (no NaN, no NUL, no surrogate).

    The digest covers what makes an event the same event (id, box, seq, type, payload), in
    canonical form, so a resend from another box software version still matches.
    `plain`: the message holds no float (`posdomain.wire.json_shape`), so the payload's
    canonical text may come from orjson (`canonical_plain_text`).
    """
    if deep and value_depth(raw) > MAX_EVENT_DEPTH:
        return _bad(raw, f"event nested deeper than {MAX_EVENT_DEPTH}")
    try:
        env = _validated(EventEnvelope, raw, "event")
    except ValidationError as err:
        return _malformed(raw, err)
    try:
        payload = canonical_plain_text(env.payload) if plain else canonical_text(env.payload)
        body = _same_text(env, payload).encode("utf-8")
    except (TypeError, ValueError):  # an Unparsable number or a lone surrogate
        return _bad(raw, "event holds a number or text JSON cannot represent exactly")
    if b"\\u0000" in body:  # PostgreSQL text and jsonb cannot hold NUL
        return _bad(raw, "event holds a NUL character")
    digest = hashlib.sha256(body).hexdigest()
    event_id = str(env.event_id)
    return IncomingEvent(raw, digest, env, event_id, env.seq, None, _sale_body(env), payload)


def _same_text(env: EventEnvelope, payload: str) -> str:
    """The canonical text of what makes an event the same event, {event_id, box_id, seq,
    type, payload}, around the payload's own canonical text (`payload`): members in key order,
    exactly as `canonical_text` of the whole object writes them."""
    return (
        '{"box_id":'
        + canonical_plain_text(env.box_id)
        + ',"event_id":'
        + canonical_plain_text(str(env.event_id))
        + ',"payload":'
        + payload
        + ',"seq":'
        + canonical_plain_text(env.seq)
        + ',"type":'
        + canonical_plain_text(str(env.type))
        + "}"
    )


def _sale_body(env: EventEnvelope) -> SaleCompleted | None:
    """The payload of a sale.completed as SaleCompleted, or None (any other type, or a
    payload that does not parse, for whatever reason: the apply parses it again and meets
    the same failure there, event by event, exactly as without this)."""
    if env.type != EventType.SALE_COMPLETED:
        return None
    try:
        return SaleCompleted.model_validate(env.payload)
    except Exception:  # noqa: BLE001 - whatever it is, the apply meets it again, as before
        return None


def decode_batch(raw: bytes) -> tuple[BatchHead, list[IncomingEvent]]:
    """Parse an EventBatch leniently: the head must be valid (else ValidationError), each
    event is checked on its own and comes back with its envelope or its error."""
    data, shape = _load(raw)
    head = _validated(BatchHead, data)
    deep = shape.depth > MAX_EVENT_DEPTH + 2  # batch object and events list above each event
    return head, [incoming_event(ev, deep, shape.plain) for ev in head.events]
