"""Retention policies per data class and the purge job (FR-P7-1016, FR-P7-1015).

The classes, their defaults, floors and what a purge of each deletes are in
hub.compliance.purges (CLASSES): audit (default 730 days, floor 365), the loyalty ledger and
the stock movements (floor: the tax law's years) are never purged, only given the time they
must stay at least, because they are append-only ledgers whose balances must still verify;
sales, refunds and Z reports default to and never go under the tax config's
`retention_years` (default 10) x 365 days; webhook deliveries (90, floor 7), alert
notifications (180, floor 30) and ended login sessions (90, floor 30) are operational logs.

A purge deletes in ONE platform transaction (all or nothing: a killed purge leaves nothing
half-done), skipping every record a live legal hold covers; a hold on the whole tenant
refuses the purge (409 LEGAL_HOLD). Each run is recorded (`purge_runs`: deleted, kept by
holds) and audited. DELETE is granted to the platform role only (migrations 0019, 0026).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hub.compliance import holds
from hub.compliance.models import LegalHold, PurgeRun, RetentionPolicy
from hub.compliance.purges import BY_NAME, CLASSES
from hub.core.db import platform_tx, tenant_tx
from hub.core.models import utcnow
from hub.governance import audit, config
from posdomain.audit_chain import Severity
from posdomain.errors import NotFound, Reason, ValidationError
from posdomain.permissions import Principal

DEFAULT_TAX_YEARS = 10
SYSTEM = "system:retention"


class RetentionPolicyIn(BaseModel):
    """Body of a retention policy change."""

    model_config = ConfigDict(extra="forbid")

    keep_days: int = Field(ge=1, le=36_500)
    reason: str = Field(min_length=3, max_length=300)


def _tax_years(tenant_id: str) -> int:
    row = config.current(tenant_id, "tax")
    years = (row.body or {}).get("retention_years") if row is not None else None
    return int(years) if years else DEFAULT_TAX_YEARS


def floor_days(tenant_id: str, data_class: str) -> int:
    """The shortest retention the class may have (caller's tenant transaction)."""
    return _days(tenant_id, BY_NAME[data_class].floor_days)


def _days(tenant_id: str, days: int | str) -> int:
    return _tax_years(tenant_id) * 365 if days == "tax" else int(days)


def _check_class(data_class: str) -> None:
    if data_class not in BY_NAME:
        raise NotFound(f"no data class {data_class!r}; known: {sorted(BY_NAME)}")


def policies(tenant_id: str) -> list[dict[str, Any]]:
    """Every class with its days in force, floor and whether the job purges it."""
    with tenant_tx(tenant_id):
        rows = {
            r.data_class: r
            for r in RetentionPolicy.select().where(RetentionPolicy.tenant_id == tenant_id)
        }
        out = []
        for spec in CLASSES:
            row = rows.get(spec.name)
            out.append(
                {
                    "data_class": spec.name,
                    "keep_days": int(row.keep_days) if row else _days(tenant_id, spec.default_days),
                    "floor_days": _days(tenant_id, spec.floor_days),
                    "purged": spec.purge is not None,
                    "what": spec.what,
                    "reason": row.reason if row else "default",
                    "updated_by": row.updated_by if row else None,
                }
            )
        return out


def set_policy(
    principal: Principal, tenant_id: str, data_class: str, body: RetentionPolicyIn
) -> dict[str, Any]:
    """Set a class's retention (never under its floor: 400 OUT_OF_RANGE), audited."""
    _check_class(data_class)
    with tenant_tx(tenant_id):
        floor = floor_days(tenant_id, data_class)
        if body.keep_days < floor:
            raise ValidationError(
                f"{data_class} must be kept at least {floor} days",
                Reason.OUT_OF_RANGE,
                {"field": "keep_days", "minimum": floor},
            )
        RetentionPolicy.insert(
            tenant_id=tenant_id,
            data_class=data_class,
            keep_days=body.keep_days,
            reason=body.reason,
            updated_by=principal.actor,
            updated_at=utcnow(),
        ).on_conflict(
            conflict_target=[RetentionPolicy.tenant_id, RetentionPolicy.data_class],
            update={
                RetentionPolicy.keep_days: body.keep_days,
                RetentionPolicy.reason: body.reason,
                RetentionPolicy.updated_by: principal.actor,
                RetentionPolicy.updated_at: utcnow(),
            },
        ).execute()
        details = {"data_class": data_class, "keep_days": body.keep_days, "reason": body.reason}
        audit.record(
            principal, "retention.policy_set", f"retention:{data_class}", Severity.WARN, details
        )
    return next(p for p in policies(tenant_id) if p["data_class"] == data_class)


def _keep_days(tenant_id: str, data_class: str) -> int:
    return int(next(p["keep_days"] for p in policies(tenant_id) if p["data_class"] == data_class))


def purge(
    principal: Principal | None, tenant_id: str, data_class: str, now: datetime | None = None
) -> dict[str, Any]:
    """Purge one class of one tenant past its retention, in one transaction; the run."""
    _check_class(data_class)
    spec = BY_NAME[data_class]
    if spec.purge is None:
        raise ValidationError(f"{data_class} is {spec.what}")
    at = now or utcnow()
    cutoff = at - timedelta(days=_keep_days(tenant_id, data_class))
    actor = principal.actor if principal else SYSTEM
    with platform_tx():  # DELETE is the platform role's alone; RLS-bypass, so filter by tenant
        live = [
            h
            for h in LegalHold.select().where(
                LegalHold.tenant_id == tenant_id, LegalHold.released_at.is_null()
            )
        ]
        holds.refuse_if_held([holds.hold_dict(h) for h in live if h.scope == "tenant"], "purge")
        deleted, held = spec.purge(tenant_id, cutoff, live)
        run = PurgeRun.create(
            id=uuid.uuid4().hex,
            tenant_id=tenant_id,
            data_class=data_class,
            cutoff=cutoff,
            deleted=deleted,
            held=held,
            holds=[h.id for h in live],
            actor=actor,
            finished_at=utcnow(),
        )
        details = {"data_class": data_class, "cutoff": cutoff.isoformat(), "deleted": deleted,
                   "kept_by_holds": held}  # fmt: skip
        audit.append(
            tenant_id, actor, "retention.purged", f"retention:{data_class}", Severity.WARN, details
        )
    return run_dict(run)


def run_dict(run: PurgeRun) -> dict[str, Any]:
    """JSON form of a purge run."""
    return {
        "id": run.id,
        "data_class": run.data_class,
        "cutoff": run.cutoff.isoformat(),
        "deleted": int(run.deleted),
        "kept_by_holds": int(run.held),
        "holds": run.holds,
        "actor": run.actor,
        "finished_at": run.finished_at.isoformat(),
    }


def purge_all(tenant_id: str) -> dict[str, Any]:
    """The scheduled job for one tenant: every purgeable class (a held tenant is skipped)."""
    out: dict[str, Any] = {}
    for spec in CLASSES:
        if spec.purge is not None:
            out[spec.name] = purge(None, tenant_id, spec.name)
    return out
