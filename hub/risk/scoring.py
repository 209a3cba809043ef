"""Compute and store risk scores per tenant (FR-701), and the alerts that follow from them.

`score_tenant` measures the window's figures (hub.risk.figures), scores every cashier, box
and branch with the tenant's versioned `risk.scoring` rules (posdomain.risk), replaces the
stored scores, and keeps two alert rules current:

* RISK_SCORE_HIGH: a subject's score reached `alert_score` (one live alert per subject);
* SALES_IN_RESTRICTED_SCOPE: sales arrived from a scope in BLOCK or READ_ONLY while
  enforcement was on. The hub never refuses a sale a box completed (the sale happened, the
  money is in the drawer, refusing would lose it); it records it as usual and alerts.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from hub.alerting import store as alerting
from hub.alerting.store import AlertSpec
from hub.core.db import tenant_tx
from hub.core.models import utcnow
from hub.governance import config
from hub.governance.flags import flag_values
from hub.ops import fleet
from hub.risk import figures, modes
from hub.risk.models import RiskModeChange, RiskScore
from hub.sales.models import Sale
from posdomain.risk import RiskScoring, score

SCORE_RULE, RESTRICTED_RULE = "RISK_SCORE_HIGH", "SALES_IN_RESTRICTED_SCOPE"


def scoring_config(tenant_id: str) -> tuple[RiskScoring, int]:
    """The tenant's scoring rules and their config version (defaults: no rules, version 0)."""
    row = config.current(tenant_id, "risk")
    body = (row.body if row else {}).get("scoring") or {}
    return RiskScoring.model_validate(body), (row.version if row else 0)


def _offline(tenant_id: str) -> dict[str, tuple[str, Decimal]]:
    rows = fleet.box_rows(tenant_id, None)
    return {
        r["box_id"]: (r["branch_id"], Decimal(int(r["state_for_s"] // 60)))
        for r in rows
        if r["state"] != "online"
    }


def _store(tenant_id: str, kind: str, subject: str, values: dict[str, Any], **row: Any) -> None:
    """Insert one score (the tenant's old scores were deleted in this transaction)."""
    RiskScore.insert(
        tenant_id=tenant_id,
        subject_kind=kind,
        subject_id=subject,
        figures=figures.as_json(values),
        **row,
    ).execute()


def score_tenant(tenant_id: str) -> dict[str, Any]:
    """Score every subject of a tenant now; store the scores and raise or resolve alerts."""
    offline = _offline(tenant_id)
    now = utcnow()
    with tenant_tx(tenant_id):
        scoring, version = scoring_config(tenant_id)
        since = now - timedelta(hours=scoring.window_hours)
        figs = figures.measure(tenant_id, since, scoring, offline)
        RiskScore.delete().where(RiskScore.tenant_id == tenant_id).execute()
        found: list[AlertSpec] = []
        for (kind, subject), values in sorted(figs.items()):
            total, fired = score(scoring, kind, values)
            _store(
                tenant_id,
                kind,
                subject,
                values,
                branch_id=None,
                score=total,
                fired=fired,
                rules_version=version,
                window_start=since,
                window_end=now,
                computed_at=now,
            )
            if total >= scoring.alert_score and fired:
                found.append(_score_alert(kind, subject, total, fired))
        found += restricted_sales(tenant_id)
        _sync_alerts(tenant_id, found)
    return {"subjects": len(figs), "alerts": len(found), "rules_version": version}


def _score_alert(kind: str, subject: str, total: int, fired: list[dict[str, Any]]) -> AlertSpec:
    rules = ", ".join(f["rule"] for f in fired)
    return AlertSpec(
        SCORE_RULE,
        f"risk_score:{kind}:{subject}",
        "WARN",
        f"risk score {total} for {kind} {subject} ({rules})",
        {"score": total, "fired": fired},
        branch_id=subject if kind == "branch" else None,
        box_id=subject if kind == "box" else None,
    )


def restricted_sales(tenant_id: str) -> list[AlertSpec]:
    """SALES_IN_RESTRICTED_SCOPE per BLOCK/READ_ONLY mode in force (caller's transaction)."""
    if not flag_values(tenant_id).get("risk_enforcement", False):
        return []
    found = []
    for row in modes.in_force(tenant_id).values():
        if row.mode not in ("BLOCK", "READ_ONLY"):
            continue
        n = _sales_since(tenant_id, row)
        if n:
            found.append(
                AlertSpec(
                    RESTRICTED_RULE,
                    f"restricted_sales:{row.id}",
                    "WARN",
                    f"{n} sales from {row.scope_kind} {row.scope_id} while {row.mode}",
                    {"sales": n, "mode_change": row.id},
                    branch_id=row.scope_id if row.scope_kind == "branch" else None,
                    box_id=row.scope_id if row.scope_kind == "box" else None,
                )
            )
    return found


def _sales_since(tenant_id: str, row: RiskModeChange) -> int:
    query = Sale.select().where(Sale.tenant_id == tenant_id, Sale.completed_at > row.set_at)
    if row.scope_kind == "branch":
        query = query.where(Sale.branch_id == row.scope_id)
    elif row.scope_kind == "box":
        query = query.where(Sale.box_id == row.scope_id)
    return int(query.count())


def _sync_alerts(tenant_id: str, found: list[AlertSpec]) -> None:
    seen = {s.key for s in found}
    for spec in found:
        alerting.raise_alert(tenant_id, spec)
    for rule in (SCORE_RULE, RESTRICTED_RULE):
        for key in alerting.live_keys(tenant_id, rule) - seen:
            alerting.resolve_key(tenant_id, key)


def list_scores(
    tenant_id: str, branches: list[str] | None, kind: str | None
) -> list[dict[str, Any]]:
    """Stored scores, highest first (branch roles: their branches' rows only)."""
    with tenant_tx(tenant_id):
        query = RiskScore.select().where(RiskScore.tenant_id == tenant_id)
        if kind:
            query = query.where(RiskScore.subject_kind == kind)
        rows = list(query.order_by(RiskScore.score.desc(), RiskScore.subject_id))
    if branches is not None:
        rows = [r for r in rows if r.subject_kind == "branch" and r.subject_id in branches]
    return [
        {
            "subject_kind": r.subject_kind,
            "subject_id": r.subject_id,
            "score": r.score,
            "fired": r.fired,
            "figures": r.figures,
            "rules_version": r.rules_version,
            "window_start": r.window_start.isoformat(),
            "window_end": r.window_end.isoformat(),
            "computed_at": r.computed_at.isoformat(),
        }
        for r in rows
    ]
