"""The fleet view (FR-500, FR-P7-1001..1004): every enrolled box, per branch, with its state.

A box's state comes from the enrolled inventory joined to its last heartbeat, never from
whether it still reports (PITFALLS "a box whose metric series goes stale silently resolves
its own alert"):

* `silent`: enrolled, never sent a heartbeat;
* `offline`: its last will said so, or `missed_heartbeats` times the interval passed without one;
* `online`: otherwise.

A branch whose every box is offline or silent is itself offline; its boxes' alerts are then
children of the branch alert (suppressed, hub.ops.rules).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hub.alerting import store as alerting
from hub.core.db import tenant_tx
from hub.core.models import utcnow
from hub.governance.config import AlertingBody, effective_body
from hub.identity.models import Box, Branch
from hub.sync import health
from hub.sync.models import BoxHeartbeat

FEED_SIZE = 20


def thresholds(tenant_id: str) -> AlertingBody:
    """The tenant's alerting thresholds (defaults where none are configured; caller's tx)."""
    return AlertingBody.model_validate(effective_body(tenant_id, "alerting", None))


@dataclass(frozen=True)
class BoxState:
    """Online / offline / silent, and since when (hub clock)."""

    state: str
    since: datetime


def box_state(box: Box, beat: BoxHeartbeat | None, now: datetime, t: AlertingBody) -> BoxState:
    """The state of one enrolled box from its last heartbeat (see the module docstring)."""
    if beat is None:
        return BoxState("silent", box.created_at)
    if not beat.online:
        return BoxState("offline", beat.received_at)
    grace = timedelta(seconds=t.heartbeat_interval_seconds * t.missed_heartbeats)
    if now - beat.received_at > grace:
        return BoxState("offline", beat.received_at)
    return BoxState("online", beat.received_at)


def _telemetry(beat: BoxHeartbeat | None) -> dict[str, Any]:
    if beat is None:
        return {k: None for k in health.TELEMETRY}
    out = {k: getattr(beat, k) for k in health.TELEMETRY}
    out["print_oldest_at"] = beat.print_oldest_at.isoformat() if beat.print_oldest_at else None
    return out


def box_rows(tenant_id: str, branches: list[str] | None) -> list[dict[str, Any]]:
    """The sync-health rows of every enrolled box plus state and FR-500 telemetry."""
    now = utcnow()
    rows = health.health(tenant_id, branches)
    with tenant_tx(tenant_id):
        t = thresholds(tenant_id)
        ids = [r["box_id"] for r in rows]
        boxes = {b.box_id: b for b in Box.select().where(Box.box_id.in_(ids))}
        beats = {b.box_id: b for b in BoxHeartbeat.select().where(BoxHeartbeat.box_id.in_(ids))}
    for row in rows:
        beat = beats.get(row["box_id"])
        st = box_state(boxes[row["box_id"]], beat, now, t)
        row.update(_telemetry(beat))
        row["state"] = st.state
        row["state_since"] = st.since.isoformat()
        row["state_for_s"] = round((now - st.since).total_seconds(), 1)
    return rows


def _branch_summary(branch: Branch, boxes: list[dict[str, Any]]) -> dict[str, Any]:
    states = [b["state"] for b in boxes]
    lags = [b["oldest_unsynced_age_s"] for b in boxes if b["oldest_unsynced_age_s"] is not None]
    return {
        "branch_id": branch.id,
        "name": branch.name,
        "boxes": boxes,
        "online": states.count("online"),
        "offline": states.count("offline"),
        "silent": states.count("silent"),
        "offline_branch": bool(boxes) and "online" not in states,
        "max_sync_lag_s": max(lags) if lags else None,
        "outbox_depth": sum(b["outbox_depth"] or 0 for b in boxes),
        "refused_sales": sum(b["refused_sales"] or 0 for b in boxes),
    }


def fleet(tenant_id: str, branches: list[str] | None) -> dict[str, Any]:
    """Branches with their boxes, counts and worst sync lag, plus the live alert feed."""
    rows = box_rows(tenant_id, branches)
    with tenant_tx(tenant_id):
        query = Branch.select().where(Branch.tenant_id == tenant_id)
        if branches is not None:
            query = query.where(Branch.id.in_(branches))
        all_branches = list(query.order_by(Branch.name))
    summaries = [
        _branch_summary(b, [r for r in rows if r["branch_id"] == b.id]) for b in all_branches
    ]
    feed = alerting.list_alerts(tenant_id, branches, 1, state="live")["items"][:FEED_SIZE]
    totals = {s: sum(b[s] for b in summaries) for s in ("online", "offline", "silent")}
    return {"branches": summaries, "alerts": feed, "totals": totals}


def branch_detail(tenant_id: str, branches: list[str] | None, branch_id: str) -> dict[str, Any]:
    """One branch of the fleet view with all its alerts (live first)."""
    data = fleet(tenant_id, branches)
    found = [b for b in data["branches"] if b["branch_id"] == branch_id]
    if not found:
        return {}
    alerts = alerting.list_alerts(tenant_id, branches, 1, branch_id=branch_id)["items"]
    return {"branch": found[0], "alerts": alerts}
