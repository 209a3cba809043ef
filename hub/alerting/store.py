"""Alert state (FR-501): raise, acknowledge, resolve; every state change queues its deliveries.

Rules (hub.ops.rules, hub.inventory.alerts) call `raise_alert` / `resolve_key` inside their
own tenant transaction. Deduplication is by (tenant, key): while an alert of a key is OPEN or
ACKED, raising it again changes nothing and sends nothing; once RESOLVED, the next raise
opens a new episode (re-armed). Each state change inserts one `alert_deliveries` row per
routed channel in the same transaction, so a rolled-back change never sends anything and a
committed one is queued exactly once per channel (unique (alert, transition, channel)).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from hub.alerting.models import Alert, AlertChannel, AlertDelivery
from hub.core.db import tenant_tx
from hub.core.models import utcnow
from hub.core.paging import PAGE_SIZE, paged
from hub.governance import audit
from hub.integrations import events as webhooks
from posdomain.errors import NotFound
from posdomain.permissions import Principal

SEVERITIES = ("INFO", "WARN", "CRITICAL")
LIVE = ("OPEN", "ACKED")
OPENED, ACKED, RESOLVED = "OPENED", "ACKED", "RESOLVED"


@dataclass(frozen=True)
class AlertSpec:
    """What a rule found: its rule name, dedup key, severity, a sentence and the figures."""

    rule: str
    key: str
    severity: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    branch_id: str | None = None
    box_id: str | None = None


def alert_dict(a: Alert) -> dict[str, Any]:
    """JSON form of an alert."""

    def iso(v: Any) -> str | None:
        return v.isoformat() if v else None

    return {
        "id": a.id,
        "rule": a.rule,
        "key": a.key,
        "severity": a.severity,
        "state": a.state,
        "branch_id": a.branch_id,
        "box_id": a.box_id,
        "summary": a.summary,
        "details": a.details,
        "suppressed": bool(a.suppressed),
        "opened_at": iso(a.opened_at),
        "acked_at": iso(a.acked_at),
        "acked_by": a.acked_by,
        "resolved_at": iso(a.resolved_at),
        "resolved_by": a.resolved_by,
    }


def _live(tenant_id: str, key: str) -> Alert | None:
    row: Alert | None = Alert.get_or_none(
        Alert.tenant_id == tenant_id, Alert.key == key, Alert.state.in_(LIVE)
    )
    return row


def enqueue(alert: Alert, transition: str) -> int:
    """Queue one delivery of a state change per channel routed for its severity."""
    channels = AlertChannel.select().where(
        AlertChannel.tenant_id == alert.tenant_id,
        AlertChannel.enabled == True,  # noqa: E712
    )
    now = utcnow()
    payload = {
        "type": f"alert.{transition.lower()}",
        "transition": transition,
        "at": now.isoformat(),
        "alert": alert_dict(alert),
    }
    webhooks.emit(
        alert.tenant_id,
        f"alert.{transition.lower()}",
        f"{alert.id}_{transition.lower()}",
        alert_dict(alert),
    )
    queued = 0
    for ch in channels.order_by(AlertChannel.id):
        if alert.severity not in (ch.severities or []):
            continue
        queued += (
            AlertDelivery.insert(
                tenant_id=alert.tenant_id,
                alert_id=alert.id,
                transition=transition,
                channel_id=ch.id,
                message_id=f"msg_{alert.id}_{transition.lower()}_{ch.id}",
                payload=payload,
                next_attempt_at=now,
                created_at=now,
            )
            .on_conflict(
                conflict_target=[
                    AlertDelivery.alert_id,
                    AlertDelivery.transition,
                    AlertDelivery.channel_id,
                ],
                action="IGNORE",
            )
            .execute()
            is not None
        )
    return queued


def raise_alert(tenant_id: str, spec: AlertSpec, *, suppressed: bool = False) -> Alert | None:
    """Open `spec` unless its key is live (caller's tenant transaction); the new row or None.

    A live alert raised while suppressed (its branch offline) is announced when raised again
    unsuppressed: the parent's outage ended but the child's did not.
    """
    live = _live(tenant_id, spec.key)
    now = utcnow()
    if live is not None:
        if live.suppressed and not suppressed:
            Alert.update(suppressed=False, updated_at=now).where(Alert.id == live.id).execute()
            live.suppressed = False
            enqueue(live, OPENED)
        return None
    row = dict(
        id=uuid.uuid4().hex,
        tenant_id=tenant_id,
        rule=spec.rule,
        key=spec.key,
        severity=spec.severity,
        state="OPEN",
        branch_id=spec.branch_id,
        box_id=spec.box_id,
        summary=spec.summary[:500],
        details=spec.details,
        suppressed=suppressed,
        opened_at=now,
        updated_at=now,
    )
    live_key = Alert.insert(**row).on_conflict(  # the partial index alerts_live_key
        conflict_target=[Alert.tenant_id, Alert.key],
        conflict_where=(Alert.state != "RESOLVED"),
        action="IGNORE",
    )
    if live_key.execute() is None:
        return None  # a concurrent evaluator opened the same key first
    alert = Alert.get_by_id(row["id"])
    if not suppressed:
        enqueue(alert, OPENED)
    return alert


def resolve_key(tenant_id: str, key: str, actor: str = "system:alerting") -> Alert | None:
    """Resolve the live alert of a key, if any (caller's tenant transaction)."""
    live = _live(tenant_id, key)
    if live is None:
        return None
    _set_state(live, "RESOLVED", actor)
    if not live.suppressed:
        enqueue(live, RESOLVED)
    return live


def live_keys(tenant_id: str, rule: str) -> set[str]:
    """Keys of the live alerts of one rule (the evaluator resolves those no longer found)."""
    query = Alert.select(Alert.key).where(
        Alert.tenant_id == tenant_id, Alert.rule == rule, Alert.state.in_(LIVE)
    )
    return {r.key for r in query}


def _set_state(alert: Alert, state: str, actor: str) -> None:
    now = utcnow()
    changes: dict[str, Any] = {"state": state, "updated_at": now}
    if state == "ACKED":
        changes.update(acked_at=now, acked_by=actor)
    else:
        changes.update(resolved_at=now, resolved_by=actor)
    Alert.update(**changes).where(Alert.id == alert.id).execute()
    for name, value in changes.items():
        setattr(alert, name, value)


def _visible(tenant_id: str, branches: list[str] | None, alert_id: str) -> Alert:
    alert = Alert.get_or_none(Alert.id == alert_id, Alert.tenant_id == tenant_id)
    if alert is None or (branches is not None and alert.branch_id not in branches):
        raise NotFound("no such alert")
    return alert


def acknowledge(principal: Principal, branches: list[str] | None, alert_id: str) -> dict[str, Any]:
    """Acknowledge an open alert (audited; idempotent: a second ack keeps the first)."""
    tenant_id = principal.tenant_id or ""
    with tenant_tx(tenant_id):
        alert = _visible(tenant_id, branches, alert_id)
        if alert.state == "OPEN":
            _set_state(alert, "ACKED", principal.actor)
            enqueue(alert, ACKED)
            audit.record(principal, "alert.acked", f"alert:{alert.id}", details=_ref(alert))
        return alert_dict(alert)


def resolve(principal: Principal, branches: list[str] | None, alert_id: str) -> dict[str, Any]:
    """Resolve a live alert by hand (audited); a rule that still fires opens a new episode."""
    tenant_id = principal.tenant_id or ""
    with tenant_tx(tenant_id):
        alert = _visible(tenant_id, branches, alert_id)
        if alert.state in LIVE:
            _set_state(alert, "RESOLVED", principal.actor)
            if not alert.suppressed:
                enqueue(alert, RESOLVED)
            audit.record(principal, "alert.resolved", f"alert:{alert.id}", details=_ref(alert))
        return alert_dict(alert)


def acknowledge_key(principal: Principal, key: str) -> None:
    """Acknowledge the live alert of a key, if open (caller's tenant transaction)."""
    live = _live(principal.tenant_id or "", key)
    if live is not None and live.state == "OPEN":
        _set_state(live, "ACKED", principal.actor)
        enqueue(live, ACKED)


def _ref(alert: Alert) -> dict[str, Any]:
    return {"rule": alert.rule, "key": alert.key, "branch_id": alert.branch_id}


def list_alerts(
    tenant_id: str,
    branches: list[str] | None,
    page: int,
    *,
    state: str | None = None,
    branch_id: str | None = None,
) -> dict[str, Any]:
    """One page of alerts, newest first; `state` "live" means OPEN or ACKED."""
    page = max(page, 1)
    with tenant_tx(tenant_id):
        query = Alert.select().where(Alert.tenant_id == tenant_id)
        if branches is not None:
            query = query.where(Alert.branch_id.in_(branches))
        if branch_id:
            query = query.where(Alert.branch_id == branch_id)
        if state == "live":
            query = query.where(Alert.state.in_(LIVE))
        elif state:
            query = query.where(Alert.state == state)
        total = query.count()
        rows = query.order_by(Alert.opened_at.desc(), Alert.id).paginate(page, PAGE_SIZE)
        items = [alert_dict(a) for a in rows]
    return paged(items, page, total, PAGE_SIZE)


def open_counts(tenant_id: str) -> dict[str, int]:
    """severity → number of live alerts (caller's tenant transaction)."""
    counts = dict.fromkeys(SEVERITIES, 0)
    query = Alert.select(Alert.severity).where(Alert.tenant_id == tenant_id, Alert.state.in_(LIVE))
    for row in query:
        counts[row.severity] = counts.get(row.severity, 0) + 1
    return counts
