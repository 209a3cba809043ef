"""Versioned sync messages: the event envelope, batches and acks (see docs/sync-protocol.md).

Wire payloads become these objects at the edge; nothing deeper sees raw JSON.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from posdomain.canonical import canonical_json
from posdomain.contract import DownKind, field_details
from posdomain.errors import PayloadTooLarge, Reason, ValidationError

PROTOCOL_VERSION = 1
MAX_MESSAGE_BYTES = 256 * 1024
MAX_BATCH_EVENTS = 200

_ID = r"^[A-Za-z0-9_.:-]{1,64}$"
M = TypeVar("M", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Versions(_Strict):
    """Versions of the master data the box used when it made the event."""

    catalog: int = 0
    price: int = 0
    tax: int = 0
    policy: int = 0
    staff: int = 0
    config: int = 0


class EventEnvelope(_Strict):
    """One business event from a box. `seq` is gap-free per box; `event_id` globally unique."""

    v: Literal[1] = 1
    event_id: uuid.UUID
    box_id: str = Field(pattern=_ID)
    tenant_id: str = Field(pattern=_ID)
    branch_id: str = Field(pattern=_ID)
    seq: int = Field(ge=1)
    type: str = Field(pattern=r"^[a-z_]+(\.[a-z_]+)+$", max_length=64)
    occurred_at: datetime
    correlation_id: str = Field(min_length=1, max_length=64)
    versions: Versions = Versions()
    payload: dict[str, Any]


class EventBatch(_Strict):
    """An ordered batch of a box's events, published on the box's events topic."""

    v: Literal[1] = 1
    batch_id: uuid.UUID
    box_id: str = Field(pattern=_ID)
    sent_at: datetime
    events: list[EventEnvelope] = Field(min_length=1, max_length=MAX_BATCH_EVENTS)


class BatchAck(_Strict):
    """Hub → box: sent only after the hub's database commit."""

    v: Literal[1] = 1
    batch_id: uuid.UUID
    box_id: str
    acked_through: int = Field(ge=0)
    accepted: list[uuid.UUID] = []
    duplicates: list[uuid.UUID] = []
    missing_seqs: list[int] = []
    rejected: list[dict[str, Any]] = []


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
    catch-up from `since_version`, or a customer search by name/phone (`query`, online only)."""

    v: Literal[1] = 1
    box_id: str = Field(pattern=_ID)
    kind: Literal["catalog", "cards", "customer_search"]
    since_version: int = Field(default=0, ge=0)
    query: str | None = Field(default=None, min_length=2, max_length=80)
    request_id: uuid.UUID


class BoxReply(_Strict):
    """Hub → box: the answer to one BoxRequest that is not versioned master data (a customer
    search), on `down/reply`, matched by `request_id`."""

    v: Literal[1] = 1
    request_id: uuid.UUID
    kind: Literal["customer_search"]
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


def decode(raw: bytes, model: type[M]) -> M:
    """Parse wire bytes into `model`, raising a ValidationError with a reason code."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise PayloadTooLarge(
            f"message of {len(raw)} bytes exceeds {MAX_MESSAGE_BYTES}", Reason.PAYLOAD_TOO_LARGE
        )
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValidationError(f"message is not JSON: {err}", Reason.MALFORMED_MESSAGE) from err
    if isinstance(data, dict) and data.get("v") not in (None, PROTOCOL_VERSION):
        raise ValidationError(
            f"unsupported protocol version {data.get('v')!r}", Reason.UNSUPPORTED_VERSION
        )
    try:
        return model.model_validate(data)
    except PydanticValidationError as err:
        raise ValidationError(
            "message does not match the schema",
            Reason.MALFORMED_MESSAGE,
            field_details(err),
        ) from err
