"""Till shift documents the reports read, stored as the box sent them once ingest checked
them (`posdomain.shift_checks`): X report snapshots (`shift.snapshot`; REP-T-03 reads the
latest of each open shift), line voids and no-sale openings (REP-T-13, one row each)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hub.identity.models import Box
from hub.reports.days import branch_zones, business_day
from hub.reports.models import ReportException, ShiftSnapshot
from posdomain.envelope import EventEnvelope
from posdomain.money import parse_minor
from posdomain.payloads import LineVoided, NoSaleOpened
from posdomain.payloads import ShiftSnapshot as SnapshotIn


def store(box: Box, ev: EventEnvelope, body: SnapshotIn) -> None:
    """Write one checked snapshot (caller's batch transaction; the event id is its key)."""
    ShiftSnapshot.create(
        event_id=str(ev.event_id),
        tenant_id=box.tenant_id,
        branch_id=box.branch_id,
        box_id=box.box_id,
        shift_id=body.shift_id,
        till=body.till,
        cashier_id=body.cashier_id,
        opened_at=body.opened_at,
        as_of=body.as_of,
        net_total_minor=body.net_total_minor,
        body=ev.payload,
    )


def _row(box: Box, ev: EventEnvelope, cashier_id: str, at: datetime) -> dict[str, Any]:
    zone = branch_zones(box.tenant_id).get(box.branch_id) or ZoneInfo("UTC")
    day, _hour = business_day(at, zone)
    return {
        "event_id": str(ev.event_id),
        "tenant_id": box.tenant_id,
        "branch_id": box.branch_id,
        "box_id": box.box_id,
        "cashier_id": cashier_id,
        "business_day": day,
        "at": at,
    }


def store_line_void(box: Box, ev: EventEnvelope, body: LineVoided) -> None:
    """Write one checked line void (REP-T-13)."""
    ReportException.create(
        **_row(box, ev, body.cashier_id, body.voided_at),
        kind="line void",
        ref=body.line_void_id,
        approver_id=body.approver_id,
        reason_code=body.reason_code,
        value=parse_minor(body.value, body.exponent, "value"),
        detail=f"{body.sku} {body.name} x {body.qty}"[:200],
        shift_id=body.shift_id,
    )


def store_no_sale(box: Box, ev: EventEnvelope, body: NoSaleOpened) -> None:
    """Write one checked no-sale drawer opening (REP-T-13)."""
    ReportException.create(
        **_row(box, ev, body.cashier_id, body.opened_at),
        kind="no-sale",
        ref=body.no_sale_id,
        approver_id=body.approver_id,
        reason_code=body.reason_code,
        value=None,
        detail="" if body.drawer_ok in (None, True) else "drawer did not open",
        shift_id=body.shift_id,
    )
