"""Risk modes (FR-701): NORMAL, WARN, READ_ONLY, BLOCK per tenant, branch or box.

Set by APPLICATION_OWNER or TENANT_OWNER with a reason and an optional expiry; every change
is a new `risk_modes` row, audited, alerted (`RISK_MODE_CHANGED`) and bumps the `risk` down
kind so each box gets the mode in force for it (`mode_state` in the `risk` body). The newest
row of a scope is in force until its expiry, then that scope is NORMAL again. For a box the
strictest of its tenant, branch and box modes wins: NORMAL < WARN < BLOCK < READ_ONLY
(READ_ONLY forbids every write, BLOCK only sales). Enforcement (refusals) applies only while
the tenant flag `risk_enforcement` is on; WARN banners and audit entries always.
A mode that ends by its expiry is audited once, `risk.mode_expired` (actor `system:risk`,
target `risk_mode:<change id>`, with the scope and the mode that ended), by the scheduled job
`audit_expired_modes` (`audit_expired`); a change replaced before it expired is not.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.alerting import store as alerting
from hub.alerting.store import AlertSpec
from hub.core.db import db, is_postgres, tenant_tx
from hub.core.models import utcnow
from hub.governance import audit, config, versions
from hub.governance.flags import flag_values
from hub.governance.models import AuditLog
from hub.identity.models import Box
from hub.risk.models import RiskModeChange
from posdomain.audit_chain import Severity
from posdomain.contract import RISK_REASONS, RiskMode, RiskModeState
from posdomain.errors import HubReason, NotFound, Reason, ValidationError
from posdomain.permissions import Principal

STRICTNESS = {RiskMode.NORMAL: 0, RiskMode.WARN: 1, RiskMode.BLOCK: 2, RiskMode.READ_ONLY: 3}
MAX_EXPIRY = timedelta(days=90)
EXPIRED_ACTION = "risk.mode_expired"
ScopeKind = Literal["tenant", "branch", "box"]


class ModeIn(BaseModel):
    """Body of a risk-mode change."""

    model_config = ConfigDict(extra="forbid")

    scope: ScopeKind
    scope_id: str | None = Field(default=None, min_length=1, max_length=64)
    mode: RiskMode
    reason: str = Field(min_length=1, max_length=500)
    expires_at: datetime | None = None


def _scope_id(tenant_id: str, body: ModeIn) -> str:
    """The checked scope id (the tenant's own id for scope tenant); 404 if not this tenant's."""
    if body.scope == "tenant":
        return tenant_id
    if body.scope_id is None:
        raise ValidationError(f"scope {body.scope} needs a scope_id", Reason.VALIDATION_FAILED)
    if body.scope == "branch":
        config.require_branch(tenant_id, body.scope_id)
    elif Box.get_or_none(Box.box_id == body.scope_id, Box.tenant_id == tenant_id) is None:
        raise NotFound(f"no box {body.scope_id!r} in this tenant", Reason.UNKNOWN_BOX)
    return body.scope_id


def _check_expiry(expires_at: datetime | None, now: datetime) -> None:
    if expires_at is None:
        return
    if expires_at.tzinfo is None:
        raise ValidationError("expires_at needs a time zone", Reason.VALIDATION_FAILED)
    if not now < expires_at <= now + MAX_EXPIRY:
        raise ValidationError(
            "expires_at must lie in the next 90 days", HubReason.THRESHOLD_OUT_OF_RANGE
        )


def mode_dict(row: RiskModeChange) -> dict[str, Any]:
    """JSON form of a mode change."""
    return {
        "id": row.id,
        "scope": row.scope_kind,
        "scope_id": row.scope_id,
        "mode": row.mode,
        "reason": row.reason,
        "expires_at": row.expires_at.isoformat() if row.expires_at else None,
        "set_by": row.set_by,
        "set_at": row.set_at.isoformat(),
    }


def set_mode(principal: Principal, tenant_id: str, body: ModeIn) -> dict[str, Any]:
    """Change the mode of a scope (audited, alerted, pushed to the boxes)."""
    now = utcnow()
    _check_expiry(body.expires_at, now)
    with tenant_tx(tenant_id):
        config.require_tenant(tenant_id)
        scope_id = _scope_id(tenant_id, body)
        before = in_force(tenant_id, now).get((body.scope, scope_id))
        row = RiskModeChange.create(
            id=uuid.uuid4().hex,
            tenant_id=tenant_id,
            scope_kind=body.scope,
            scope_id=scope_id,
            mode=body.mode.value,
            reason=body.reason.strip(),
            expires_at=body.expires_at,
            set_by=principal.actor,
            set_at=now,
        )
        details = {
            **mode_dict(row),
            "before": before.mode if before else "NORMAL",
            "after": row.mode,
            "branch_id": scope_id if body.scope == "branch" else None,
        }
        audit.record(
            principal, "risk.mode_changed", f"risk:{body.scope}:{scope_id}", Severity.WARN, details
        )
        versions.bump(tenant_id, "risk")
        _alert_change(tenant_id, row, details["before"])
        return mode_dict(row)


def _alert_change(tenant_id: str, row: RiskModeChange, before: str) -> None:
    """RISK_MODE_CHANGED: one alert episode per change (its key is the change id)."""
    severity = "INFO" if row.mode in ("NORMAL", "WARN") else "WARN"
    branch = row.scope_id if row.scope_kind == "branch" else None
    if row.scope_kind == "box":
        box = Box.get_or_none(Box.box_id == row.scope_id)
        branch = box.branch_id if box else None
    spec = AlertSpec(
        rule="RISK_MODE_CHANGED",
        key=f"risk_mode:{row.id}",
        severity=severity,
        summary=f"risk mode of {row.scope_kind} {row.scope_id}: {before} → {row.mode}",
        details={"before": before, "after": row.mode, "reason": row.reason, "by": row.set_by},
        branch_id=branch,
        box_id=row.scope_id if row.scope_kind == "box" else None,
    )
    alerting.raise_alert(tenant_id, spec)


def in_force(tenant_id: str, now: datetime | None = None) -> dict[tuple[str, str], RiskModeChange]:
    """(scope kind, scope id) → its newest unexpired non-NORMAL change (caller's transaction)."""
    at = now or utcnow()
    newest: dict[tuple[str, str], RiskModeChange] = {}
    query = RiskModeChange.select().where(RiskModeChange.tenant_id == tenant_id)
    for row in query.order_by(RiskModeChange.set_at, RiskModeChange.id):
        newest[(row.scope_kind, row.scope_id)] = row
    return {
        k: r
        for k, r in newest.items()
        if r.mode != "NORMAL" and (r.expires_at is None or r.expires_at > at)
    }


def strictest(rows: list[RiskModeChange], enforced: bool) -> RiskModeState:
    """The mode state of the strictest row (NORMAL when none)."""
    if not rows:
        return RiskModeState(enforced=enforced)
    top = max(rows, key=lambda r: (STRICTNESS[RiskMode(r.mode)], r.set_at))
    return RiskModeState(
        mode=RiskMode(top.mode),
        enforced=enforced,
        scope=top.scope_kind,
        scope_id=top.scope_id,
        reason=top.reason,
        reason_code=RISK_REASONS.get(top.mode),
        set_by=top.set_by,
        set_at=top.set_at.isoformat(),
        expires_at=top.expires_at.isoformat() if top.expires_at else None,
    )


def state_for(tenant_id: str, branch_ids: list[str], box_id: str | None = None) -> RiskModeState:
    """The mode in force for a tenant's branches (and a box) (caller's transaction)."""
    rows = in_force(tenant_id)
    wanted = {("tenant", tenant_id), *(("branch", b) for b in branch_ids)}
    if box_id is not None:
        wanted.add(("box", box_id))
    enforced = flag_values(tenant_id).get("risk_enforcement", False)
    return strictest([r for k, r in rows.items() if k in wanted], enforced)


def overview(tenant_id: str, branches: list[str] | None) -> dict[str, Any]:
    """Modes in force and the last 50 changes (branch roles: their branches' rows only)."""
    with tenant_tx(tenant_id):
        rows = list(in_force(tenant_id).values())
        history = RiskModeChange.select().where(RiskModeChange.tenant_id == tenant_id)
        recent = [mode_dict(r) for r in history.order_by(RiskModeChange.set_at.desc()).limit(50)]
        enforced = flag_values(tenant_id).get("risk_enforcement", False)
    if branches is not None:  # branch roles: the tenant's rows and their branches' (no boxes)
        rows = [r for r in rows if r.scope_kind == "tenant" or r.scope_id in branches]
        recent = [r for r in recent if r["scope"] == "tenant" or r["scope_id"] in branches]
    return {"enforced": enforced, "in_force": [mode_dict(r) for r in rows], "recent": recent}


def audit_expired(tenant_id: str, now: datetime | None = None) -> int:
    """Audit every mode of the tenant that ended by its expiry and is not audited yet.

    A change ended by expiry: not NORMAL, `expires_at` passed, and no newer change of its
    scope set before it expired. Idempotent: the audit entry itself (its target names the
    change) is what marks a change as done, checked under the chain's lock.
    """
    at = now or utcnow()
    with tenant_tx(tenant_id):
        if is_postgres():  # the lock audit.append takes: two runs cannot both audit one change
            db.execute_sql("SELECT pg_advisory_xact_lock(hashtext(%s))", (tenant_id,))
        rows = list(
            RiskModeChange.select()
            .where(RiskModeChange.tenant_id == tenant_id)
            .order_by(RiskModeChange.set_at, RiskModeChange.id)
        )
        done = {
            a.target
            for a in AuditLog.select(AuditLog.target).where(
                AuditLog.chain == tenant_id, AuditLog.action == EXPIRED_ACTION
            )
        }
        count = 0
        for i, row in enumerate(rows):
            if row.mode == "NORMAL" or row.expires_at is None or row.expires_at > at:
                continue
            nxt = next(
                (
                    r
                    for r in rows[i + 1 :]
                    if (r.scope_kind, r.scope_id) == (row.scope_kind, row.scope_id)
                ),
                None,
            )
            if nxt is not None and nxt.set_at < row.expires_at:
                continue  # replaced before it expired: that change is audited already
            target = f"risk_mode:{row.id}"
            if target in done:
                continue
            audit.append(
                tenant_id,
                "system:risk",
                EXPIRED_ACTION,
                target,
                Severity.WARN,
                {
                    "scope": row.scope_kind,
                    "scope_id": row.scope_id,
                    "mode": row.mode,
                    "expired_at": row.expires_at.isoformat(),
                    "set_by": row.set_by,
                    "reason": row.reason,
                    "branch_id": row.scope_id if row.scope_kind == "branch" else None,
                },
            )
            count += 1
        return count
