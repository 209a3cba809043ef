"""Periodic alert rules over hub data (FR-501), one pass per tenant (`evaluate_tenant`).

Each rule returns what it finds now as (AlertSpec, suppressed) pairs; the pass raises those
(deduplicated by key) and resolves the live alerts of that rule it no longer finds, so an
alert closes itself when its cause ends and re-arms when it comes back. Thresholds are the
tenant's `alerting` config (hub.governance.config.AlertingBody), never code.

Rules here: BRANCH_OFFLINE, BOX_OFFLINE (and silent boxes), SYNC_BACKLOG, PRINT_QUEUE_STUCK
(from the heartbeat's print fields), QUARANTINE_GROWING, AUDIT_CHAIN_BROKEN (hub and box
chains), BACKUP_STALE, RESTORE_DRILL_OVER_TARGET. Elsewhere: LOW_STOCK (hub.inventory.alerts),
RISK_MODE_CHANGED (hub.risk.modes), RISK_SCORE_HIGH and SALES_IN_RESTRICTED_SCOPE
(hub.risk.scoring). Children of an offline branch (its boxes' offline, backlog and print
alerts) are stored suppressed: visible in the feed, not sent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from peewee import fn

from hub.alerting import store as alerting
from hub.alerting.store import AlertSpec
from hub.core.db import platform_tx, tenant_tx
from hub.core.models import utcnow
from hub.governance.audit import verify_chain_with_anchor
from hub.governance.box_chains import box_chain_reports
from hub.governance.config import AlertingBody
from hub.ops import fleet
from hub.ops.models import BackupRun, RestoreDrill
from hub.sync.models import Quarantine

Found = list[tuple[AlertSpec, bool]]
CHILD_RULES = ("BOX_OFFLINE", "SYNC_BACKLOG", "PRINT_QUEUE_STUCK")


def _offline_branches(data: dict[str, Any], t: AlertingBody, now: datetime) -> Found:
    found: Found = []
    limit = t.box_offline_minutes * 60
    for b in data["branches"]:
        if b["offline_branch"] and min(x["state_for_s"] for x in b["boxes"]) > limit:
            spec = AlertSpec(
                "BRANCH_OFFLINE",
                f"branch_offline:{b['branch_id']}",
                "CRITICAL",
                f"branch {b['name']}: every box offline for over {t.box_offline_minutes} min",
                {"boxes": len(b["boxes"])},
                branch_id=b["branch_id"],
            )
            found.append((spec, False))
    return found


def _box_rules(data: dict[str, Any], t: AlertingBody, now: datetime) -> Found:
    """BOX_OFFLINE, SYNC_BACKLOG and PRINT_QUEUE_STUCK per box (children of its branch)."""
    found: Found = []
    for b in data["branches"]:
        parent_down = b["offline_branch"]
        for x in b["boxes"]:
            for spec in _box_specs(x, t, now):
                found.append((spec, parent_down))
    return found


def _offline_spec(x: dict[str, Any], t: AlertingBody) -> AlertSpec | None:
    if x["state"] == "online" or x["state_for_s"] <= t.box_offline_minutes * 60:
        return None
    return AlertSpec(
        "BOX_OFFLINE",
        f"box_offline:{x['box_id']}",
        "WARN",
        f"box {x['name']} {x['state']} for {int(x['state_for_s'] // 60)} min",
        {"state": x["state"], "since": x["state_since"]},
        x["branch_id"],
        x["box_id"],
    )


def _backlog_spec(x: dict[str, Any], t: AlertingBody) -> AlertSpec | None:
    age = x["oldest_unsynced_age_s"]
    if age is None or age <= t.sync_backlog_minutes * 60:
        return None
    return AlertSpec(
        "SYNC_BACKLOG",
        f"sync_backlog:{x['box_id']}",
        "WARN",
        f"box {x['name']}: oldest unsynced event {int(age // 60)} min old",
        {"outbox_depth": x["outbox_depth"], "age_s": age},
        x["branch_id"],
        x["box_id"],
    )


def _print_spec(x: dict[str, Any], t: AlertingBody, now: datetime) -> AlertSpec | None:
    oldest = x["print_oldest_at"]
    if not x["print_queue"] or not oldest:
        return None
    waited = (now - datetime.fromisoformat(oldest)).total_seconds()
    if waited <= t.print_queue_stuck_minutes * 60:
        return None
    return AlertSpec(
        "PRINT_QUEUE_STUCK",
        f"print_stuck:{x['box_id']}",
        "WARN",
        f"box {x['name']}: {x['print_queue']} print jobs waiting",
        {"queue": x["print_queue"], "failed": x["print_failed"], "oldest_s": round(waited)},
        x["branch_id"],
        x["box_id"],
    )


def _box_specs(x: dict[str, Any], t: AlertingBody, now: datetime) -> list[AlertSpec]:
    found = (_offline_spec(x, t), _backlog_spec(x, t), _print_spec(x, t, now))
    return [spec for spec in found if spec is not None]


def _quarantine(data: dict[str, Any], t: AlertingBody, now: datetime) -> Found:
    """QUARANTINE_GROWING: more than the threshold refused messages from a box in an hour."""
    boxes = {x["box_id"]: x for b in data["branches"] for x in b["boxes"]}
    if not boxes:
        return []
    since = now - timedelta(hours=1)
    counts: Any = list(
        Quarantine.select(Quarantine.box_id, fn.COUNT(Quarantine.id))
        .where(Quarantine.box_id.in_(list(boxes)), Quarantine.received_at >= since)
        .group_by(Quarantine.box_id)
        .tuples()
    )
    found: Found = []
    for box_id, n in counts:
        if n > t.quarantine_growth:
            x = boxes[box_id]
            spec = AlertSpec(
                "QUARANTINE_GROWING",
                f"quarantine:{box_id}",
                "WARN",
                f"box {x['name']}: {n} messages quarantined in the last hour",
                {"count": n},
                x["branch_id"],
                box_id,
            )
            found.append((spec, False))
    return found


def _chains(tenant_id: str) -> Found:
    """AUDIT_CHAIN_BROKEN for the tenant's hub chain and every box chain it holds."""
    reports = [verify_chain_with_anchor(tenant_id).to_dict(), *box_chain_reports(tenant_id)]
    found: Found = []
    for r in reports:
        if r["ok"]:
            continue
        where = f"box {r['box_id']}" if r.get("box_id") else "hub"
        spec = AlertSpec(
            "AUDIT_CHAIN_BROKEN",
            f"audit_chain:{r.get('box_id') or ''}:{r['chain']}",
            "CRITICAL",
            f"audit chain {r['chain']} ({where}) broken at seq {r['first_bad_seq']}",
            {"first_bad_seq": r["first_bad_seq"]},
            box_id=r.get("box_id"),
        )
        found.append((spec, False))
    return found


def backup_findings(t: AlertingBody, now: datetime) -> Found:
    """BACKUP_STALE (no good hub backup within the schedule) and RESTORE_DRILL_OVER_TARGET."""
    with platform_tx():
        last = BackupRun.select().where(BackupRun.status == "ok")
        last = last.order_by(BackupRun.snapshot_at.desc()).first()
        drill = RestoreDrill.select().order_by(RestoreDrill.finished_at.desc()).first()
    found: Found = []
    age = None if last is None else (now - last.snapshot_at).total_seconds()
    if age is None or age > t.backup_max_age_minutes * 60:
        text = "no hub backup yet" if age is None else f"last hub backup {int(age // 60)} min old"
        found.append(
            (AlertSpec("BACKUP_STALE", "backup_stale", "CRITICAL", text, {"age_s": age}), False)
        )
    if drill is not None and not drill.ok:
        spec = AlertSpec(
            "RESTORE_DRILL_OVER_TARGET",
            f"restore_drill:{drill.id}",
            "CRITICAL",
            f"restore drill failed or over target: RTO {drill.rto_seconds:.0f} s "
            f"(target {drill.rto_target_seconds} s)",
            {"drill_id": drill.id, "rto_s": drill.rto_seconds, "rpo_s": drill.rpo_seconds},
        )
        found.append((spec, False))
    return found


def _apply(tenant_id: str, rules: tuple[str, ...], found: Found) -> dict[str, int]:
    """Raise what was found, resolve the live alerts of these rules that were not."""
    seen = {spec.key for spec, _ in found}
    opened = sum(alerting.raise_alert(tenant_id, s, suppressed=sup) is not None for s, sup in found)
    resolved = 0
    for rule in rules:
        for key in alerting.live_keys(tenant_id, rule) - seen:
            resolved += alerting.resolve_key(tenant_id, key) is not None
    return {"opened": opened, "resolved": resolved}


FLEET_RULES: tuple[Callable[[dict[str, Any], AlertingBody, datetime], Found], ...] = (
    _offline_branches,
    _box_rules,
    _quarantine,
)
RULES = (
    "BRANCH_OFFLINE",
    *CHILD_RULES,
    "QUARANTINE_GROWING",
    "AUDIT_CHAIN_BROKEN",
    "BACKUP_STALE",
    "RESTORE_DRILL_OVER_TARGET",
)


def evaluate_tenant(tenant_id: str, *, check_backups: bool = True) -> dict[str, int]:
    """One pass of every rule for one tenant; counts of alerts opened and resolved."""
    now = utcnow()
    data = fleet.fleet(tenant_id, None)
    with tenant_tx(tenant_id):
        t = fleet.thresholds(tenant_id)
        found = [f for rule in FLEET_RULES for f in rule(data, t, now)]
        found += _chains(tenant_id)
    if check_backups:
        found += backup_findings(t, now)
    rules = RULES if check_backups else RULES[:-2]
    with tenant_tx(tenant_id):
        return _apply(tenant_id, rules, found)
