"""X report snapshots (`shift.snapshot`, REP-T-03): stored as the till sent them once ingest
checked them (`posdomain.shift_checks`); REP-T-03 reads the latest of each open shift."""

from __future__ import annotations

from hub.identity.models import Box
from hub.reports.models import ShiftSnapshot
from posdomain.envelope import EventEnvelope
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
