"""Retention policies per data class and the purge job (FR-P7-1016, FR-P7-1015).

* `audit`: default 730 days, floor 365; never purged (the hash-chained log is append-only:
  the policy records how long it must stay at least);
* `sales`: default and floor the tax config's `retention_years` (default 10) x 365 days;
  sales and their lines completed before the cutoff are purged;
* `webhook_deliveries`: default 90 days, floor 7; sent or dead deliveries and their log.

A purge deletes in ONE platform transaction (all or nothing: a killed purge leaves nothing
half-done), skipping every record a live legal hold covers; a hold on the whole tenant
refuses the purge (409 LEGAL_HOLD). Each run is recorded (`purge_runs`: deleted, kept by
holds) and audited. DELETE is granted to the platform role only (migration 0019).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hub.compliance import holds
from hub.compliance.models import LegalHold, PurgeRun, RetentionPolicy
from hub.core.db import platform_tx, tenant_tx
from hub.core.models import utcnow
from hub.customers.models import CustomerActivity
from hub.governance import audit, config
from hub.integrations.models import WebhookAttempt, WebhookDelivery
from hub.sales.models import Sale, SaleLine
from posdomain.audit_chain import Severity
from posdomain.errors import NotFound, Reason, ValidationError
from posdomain.permissions import Principal

CLASSES = ("audit", "sales", "webhook_deliveries")
DEFAULT_DAYS = {"audit": 730, "webhook_deliveries": 90}
FLOOR_DAYS = {"audit": 365, "webhook_deliveries": 7}
DEFAULT_TAX_YEARS = 10
SYSTEM = "system:retention"


class PolicyIn(BaseModel):
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
    if data_class == "sales":
        return _tax_years(tenant_id) * 365
    return FLOOR_DAYS[data_class]


def _check_class(data_class: str) -> None:
    if data_class not in CLASSES:
        raise NotFound(f"no data class {data_class!r}; known: {list(CLASSES)}")


def policies(tenant_id: str) -> list[dict[str, Any]]:
    """Every class with its days in force, floor and whether the job purges it."""
    with tenant_tx(tenant_id):
        rows = {
            r.data_class: r
            for r in RetentionPolicy.select().where(RetentionPolicy.tenant_id == tenant_id)
        }
        out = []
        for data_class in CLASSES:
            floor = floor_days(tenant_id, data_class)
            row = rows.get(data_class)
            out.append(
                {
                    "data_class": data_class,
                    "keep_days": int(row.keep_days) if row else DEFAULT_DAYS.get(data_class, floor),
                    "floor_days": floor,
                    "purged": data_class != "audit",
                    "reason": row.reason if row else "default",
                    "updated_by": row.updated_by if row else None,
                }
            )
        return out


def set_policy(
    principal: Principal, tenant_id: str, data_class: str, body: PolicyIn
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


def _held_sales(tenant_id: str, live: list[LegalHold]) -> Any:
    """A condition true for sales a live hold covers."""
    cond: Any = False
    for h in live:
        if h.scope == "branch":
            cond = cond | (Sale.branch_id == h.target)
        elif h.scope == "date_range":
            cond = cond | ((Sale.completed_at >= h.starts_at) & (Sale.completed_at < h.ends_at))
        elif h.scope == "customer":
            bought = CustomerActivity.select(CustomerActivity.sale_id).where(
                CustomerActivity.tenant_id == tenant_id, CustomerActivity.customer_id == h.target
            )
            cond = cond | Sale.id.in_(bought)
    return cond


def _purge_sales(tenant_id: str, cutoff: datetime, live: list[LegalHold]) -> tuple[int, int]:
    old = (Sale.tenant_id == tenant_id) & (Sale.completed_at < cutoff)
    held_cond = _held_sales(tenant_id, live)
    held = Sale.select().where(old & held_cond).count() if live else 0
    doomed = (
        Sale.select(Sale.id).where(old & ~held_cond) if live else Sale.select(Sale.id).where(old)
    )
    ids = [s.id for s in doomed]
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        SaleLine.delete().where(
            SaleLine.tenant_id == tenant_id, SaleLine.sale_id.in_(chunk)
        ).execute()
        Sale.delete().where(Sale.tenant_id == tenant_id, Sale.id.in_(chunk)).execute()
    return len(ids), int(held)


def _purge_deliveries(tenant_id: str, cutoff: datetime) -> tuple[int, int]:
    old = WebhookDelivery.select(WebhookDelivery.id).where(
        WebhookDelivery.tenant_id == tenant_id,
        WebhookDelivery.created_at < cutoff,
        WebhookDelivery.state != "pending",
    )
    ids = [d.id for d in old]
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        WebhookAttempt.delete().where(WebhookAttempt.delivery_id.in_(chunk)).execute()
        WebhookDelivery.delete().where(WebhookDelivery.id.in_(chunk)).execute()
    return len(ids), 0


def _keep_days(tenant_id: str, data_class: str) -> int:
    return int(next(p["keep_days"] for p in policies(tenant_id) if p["data_class"] == data_class))


def purge(
    principal: Principal | None, tenant_id: str, data_class: str, now: datetime | None = None
) -> dict[str, Any]:
    """Purge one class of one tenant past its retention, in one transaction; the run."""
    _check_class(data_class)
    if data_class == "audit":
        raise ValidationError("the audit log is append-only: it is kept, never purged")
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
        if data_class == "sales":
            deleted, held = _purge_sales(tenant_id, cutoff, live)
        else:
            deleted, held = _purge_deliveries(tenant_id, cutoff)
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
    for data_class in CLASSES[1:]:
        out[data_class] = purge(None, tenant_id, data_class)
    return out
