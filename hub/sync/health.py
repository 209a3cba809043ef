"""Box heartbeats, clock skew, late sales and the per-box sync health view (REP-O-08).

Clock rule (docs/sync-protocol.md "Late events and clock skew"): every observation of the
box clock is `received_at - box_ts` = true skew + transit delay, and the delay is never
negative, so the smallest recent observation is the best estimate. The hub takes the smaller
of (a) the skew measured from the latest live (non-retained) heartbeat of the last hour and
(b) `received_at - batch.sent_at` of the batch being applied. A sale is *late* when
`received_at - (occurred_at + skew) > window` (default 15 min, `CFPOS_LATE_WINDOW_SECONDS`),
so a box whose clock is hours off is neither reported late nor hides a late sale.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, Literal

from peewee import fn
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from hub.core.db import platform_tx, tenant_tx
from hub.core.models import utcnow
from hub.identity.models import Box
from hub.sales.models import Sale
from hub.settings import settings
from hub.sync.models import BoxHeartbeat, ReconciliationItem
from posdomain import topics
from posdomain.errors import Reason, ValidationError
from posdomain.wire import MAX_COUNTER, WireTime

SKEW_MAX_AGE = timedelta(hours=1)
TELEMETRY = {
    "version",
    "print_queue",
    "print_failed",
    "print_oldest_at",
    "disk_free_bytes",
    "disk_total_bytes",
    "devices",
    "refused",
    "refused_sales",
}
# an observation further off than this is a broken or forged clock, not a skew to correct by
# (it would push corrected sale times out of the calendar)
MAX_PLAUSIBLE_SKEW_S = 366 * 24 * 3600


def late_window() -> timedelta:
    """The configured late window (`CFPOS_LATE_WINDOW_SECONDS`, default 15 minutes)."""
    return timedelta(seconds=settings().late_window_seconds)


class Heartbeat(BaseModel):
    """A box `status` message (`online:false, ts:null` is the last will)."""

    model_config = ConfigDict(extra="ignore")

    v: Literal[1]
    box_id: str = Field(min_length=1, max_length=64)
    online: bool
    queued: int | None = Field(default=None, ge=0, le=MAX_COUNTER)
    ts: WireTime | None = None
    oldest_unsynced_at: WireTime | None = None
    # FR-500 telemetry a box may add (docs/sync-protocol.md "Heartbeat"); all optional
    version: str | None = Field(default=None, max_length=40)
    print_queue: int | None = Field(default=None, ge=0, le=MAX_COUNTER)
    print_failed: int | None = Field(default=None, ge=0, le=MAX_COUNTER)
    print_oldest_at: WireTime | None = None
    disk_free_bytes: int | None = Field(default=None, ge=0)
    disk_total_bytes: int | None = Field(default=None, ge=0)
    # today's box sends {"service": bool, "<device>": {"state", "detail"}, "print_queue": n}
    devices: dict[str, Any] | None = Field(default=None, max_length=32)
    # events (sales) the hub refused that the box holds unsettled (issue 9)
    refused: int | None = Field(default=None, ge=0, le=MAX_COUNTER)
    refused_sales: int | None = Field(default=None, ge=0, le=MAX_COUNTER)


def _device_state(value: Any) -> str | None:
    if isinstance(value, bool):
        return "ok" if value else "down"
    if isinstance(value, dict) and value.get("state") is not None:
        return str(value["state"])[:40]
    return None


def telemetry(beat: Heartbeat) -> dict[str, Any]:
    """The FR-500 fields of a heartbeat as stored: device name → state, print queue depth.

    Odd device data never refuses a heartbeat: what cannot be read is left out.
    """
    out = beat.model_dump(include=TELEMETRY - {"devices"}, exclude_none=True)
    if beat.devices is not None:
        states = {str(k)[:40]: _device_state(v) for k, v in beat.devices.items()}
        out["devices"] = {k: v for k, v in states.items() if v is not None}
        queue = beat.devices.get("print_queue")
        if "print_queue" not in out and isinstance(queue, int) and queue >= 0:
            out["print_queue"] = queue
    return out


def parse_heartbeat(topic: str, raw: bytes) -> Heartbeat:
    """Validate a status message against its topic (ValidationError with a reason code)."""
    try:
        beat = Heartbeat.model_validate(json.loads(raw))
    except (ValueError, PydanticValidationError) as err:
        raise ValidationError("malformed heartbeat", Reason.MALFORMED_MESSAGE) from err
    if beat.box_id != topics.box_id_from_topic(topic):
        raise ValidationError("heartbeat box_id does not match the topic", Reason.BOX_MISMATCH)
    return beat


def record_heartbeat(topic: str, raw: bytes, *, retained: bool) -> Heartbeat | None:
    """Store a box's latest heartbeat; None for an empty (cleared) retained message.

    A retained copy is replayed by the broker at subscribe time, so its `ts` says nothing
    about the clock now: it updates the status but never the skew.
    """
    if not raw:
        return None
    beat = parse_heartbeat(topic, raw)
    with platform_tx():
        box = Box.get_or_none(Box.box_id == beat.box_id)
    if box is None:
        raise ValidationError(f"unknown box {beat.box_id}", Reason.UNKNOWN_BOX)
    now = utcnow()
    row: dict[str, Any] = {
        "box_id": box.box_id,
        "tenant_id": box.tenant_id,
        "branch_id": box.branch_id,
        "online": beat.online,
        "queued": beat.queued,
        "oldest_unsynced_at": beat.oldest_unsynced_at,
        "box_ts": beat.ts,
        "received_at": now,
        **telemetry(beat),  # only what the beat carries: a last will keeps the rest
    }
    if beat.ts is not None and not retained:
        row["clock_skew_seconds"] = (now - beat.ts).total_seconds()
        row["skew_measured_at"] = now
    update = {getattr(BoxHeartbeat, k): v for k, v in row.items() if k != "box_id"}
    with tenant_tx(box.tenant_id):
        BoxHeartbeat.insert(**row).on_conflict(
            conflict_target=[BoxHeartbeat.box_id], update=update
        ).execute()
    return beat


def clock_skew(box_id: str, batch_sent_at: datetime, received_at: datetime) -> float:
    """Best estimate (seconds) of hub clock minus box clock (caller's tenant transaction);
    implausible observations (more than a year off) are ignored, none left means 0."""
    observed = [(received_at - batch_sent_at).total_seconds()]
    beat = BoxHeartbeat.get_or_none(BoxHeartbeat.box_id == box_id)
    measured = None if beat is None else beat.skew_measured_at
    if beat is not None and measured is not None and received_at - measured <= SKEW_MAX_AGE:
        observed.append(float(beat.clock_skew_seconds or 0.0))
    plausible = [s for s in observed if abs(s) <= MAX_PLAUSIBLE_SKEW_S]
    return min(plausible, default=0.0)


def is_late(occurred_at: datetime, received_at: datetime, skew_seconds: float) -> bool:
    """True if the sale, on the hub's clock, arrived more than the late window after it."""
    corrected = occurred_at + timedelta(seconds=skew_seconds)
    return received_at - corrected > late_window()


def _oldest_age(box: Box, beat: BoxHeartbeat | None, now: datetime) -> float | None:
    """Seconds the oldest unsynced event has waited (hub clock), None if unknown."""
    if beat is None or beat.queued is None:
        return None
    if beat.queued == 0:
        return 0.0
    skew = float(beat.clock_skew_seconds or 0.0)
    if beat.oldest_unsynced_at is not None:
        return max(0.0, float((now - beat.oldest_unsynced_at).total_seconds()) - skew)
    since = box.last_acked_at or box.created_at  # upper bound: nothing acked since then
    return max(0.0, float((now - since).total_seconds()))


def _counts(field: Any, where: Any, box_ids: list[str]) -> dict[str, int]:
    if not box_ids:
        return {}
    return {
        r[0]: int(r[1])
        for r in field.model.select(field, fn.COUNT(field))
        .where(where, field.in_(box_ids))
        .group_by(field)
        .tuples()
    }


def health(tenant_id: str, branches: list[str] | None) -> list[dict[str, Any]]:
    """One row per box: last seen, sync position, outbox depth, skew, late sales, open
    conflicts, and the refused events (sales) the box still holds unsettled."""
    now = utcnow()
    with tenant_tx(tenant_id):
        query = Box.select().where(Box.tenant_id == tenant_id)
        if branches is not None:
            query = query.where(Box.branch_id.in_(branches))
        boxes = list(query.order_by(Box.box_id))
        ids = [b.box_id for b in boxes]
        beats = {b.box_id: b for b in BoxHeartbeat.select().where(BoxHeartbeat.box_id.in_(ids))}
        late = _counts(Sale.box_id, Sale.late == True, ids)  # noqa: E712 - SQL expression
        conflicts = _counts(ReconciliationItem.box_id, ReconciliationItem.state == "open", ids)
    rows = []
    for box in boxes:
        beat = beats.get(box.box_id)
        age = _oldest_age(box, beat, now)
        rows.append(
            {
                "box_id": box.box_id,
                "branch_id": box.branch_id,
                "name": box.name,
                "status": box.status,
                "online": beat.online if beat else None,
                "last_seen_at": box.last_seen_at.isoformat() if box.last_seen_at else None,
                "heartbeat_at": beat.received_at.isoformat() if beat else None,
                "last_contiguous_seq": box.last_contiguous_seq,
                "max_seq_seen": box.max_seq_seen,
                "outbox_depth": beat.queued if beat else None,
                "oldest_unsynced_age_s": None if age is None else round(age, 1),
                "clock_skew_s": (
                    None
                    if beat is None or beat.clock_skew_seconds is None
                    else round(float(beat.clock_skew_seconds), 1)
                ),
                "late_events": late.get(box.box_id, 0),
                "open_conflicts": conflicts.get(box.box_id, 0),
                "refused": beat.refused if beat else None,
                "refused_sales": beat.refused_sales if beat else None,
            }
        )
    return rows
