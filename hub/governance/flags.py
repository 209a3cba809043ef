"""Tenant feature flags (FR-803): owner-only flips, change ticket in PROD, emergency disable."""

from __future__ import annotations

import uuid
from typing import Any

from hub.core.db import tenant_tx
from hub.core.models import utcnow
from hub.governance import audit, config, versions
from hub.governance.models import FeatureFlag
from posdomain.audit_chain import Severity
from posdomain.errors import Conflict, NotFound, Reason, ValidationError
from posdomain.permissions import Principal

FLAGS = ("advanced_discounts", "loyalty_rules", "risk_enforcement")


def flag_values(tenant_id: str) -> dict[str, bool]:
    """name → enabled for every known flag (caller's transaction; default off)."""
    rows = {
        f.name: bool(f.enabled)
        for f in FeatureFlag.select().where(FeatureFlag.tenant_id == tenant_id)
    }
    return {name: rows.get(name, False) for name in FLAGS}


def _flag_dict(row: FeatureFlag) -> dict[str, Any]:
    return {
        "name": row.name,
        "enabled": bool(row.enabled),
        "version": row.version,
        "change_ticket": row.change_ticket,
        "emergency": bool(row.emergency),
        "backfill_required": bool(row.backfill_required),
        "updated_by": row.updated_by,
        "updated_at": row.updated_at.isoformat(),
    }


def list_flags(tenant_id: str) -> list[dict[str, Any]]:
    """Every known flag of the tenant."""
    with tenant_tx(tenant_id):
        rows = {f.name: f for f in FeatureFlag.select().where(FeatureFlag.tenant_id == tenant_id)}
    return [
        _flag_dict(rows[n]) if n in rows else {"name": n, "enabled": False, "version": 0}
        for n in FLAGS
    ]


def _check_ticket(env: str, enabled: bool, ticket: str | None, emergency: bool) -> bool:
    """Return whether back-fill of the ticket is required; raise if the change is refused."""
    if env != "PROD" or ticket:
        return False
    if emergency and not enabled:
        return True
    raise ValidationError(
        "a change ticket is required in PROD (emergency disable excepted)",
        Reason.CHANGE_TICKET_REQUIRED,
    )


def set_flag(
    principal: Principal,
    tenant_id: str,
    name: str,
    change: dict[str, Any],
    env: str,
) -> dict[str, Any]:
    """Flip a flag; audited with tenant and before/after; bumps the boxes' flags version."""
    if name not in FLAGS:
        raise NotFound(f"unknown flag {name!r}", Reason.UNKNOWN_FLAG)
    reason = (change.get("reason") or "").strip()
    if not reason:
        raise ValidationError("a reason is required for a flag flip", Reason.REASON_REQUIRED)
    enabled, ticket = bool(change["enabled"]), change.get("change_ticket")
    emergency = bool(change.get("emergency"))
    backfill = _check_ticket(env, enabled, ticket, emergency)
    with tenant_tx(tenant_id):
        config.require_tenant(tenant_id)
        row = FeatureFlag.get_or_none(FeatureFlag.tenant_id == tenant_id, FeatureFlag.name == name)
        row = row or FeatureFlag(id=uuid.uuid4().hex, tenant_id=tenant_id, name=name, version=0)
        before = bool(row.enabled)
        row.enabled, row.change_ticket, row.emergency = enabled, ticket, emergency
        # an emergency flip stays flagged until its ticket is back-filled (`backfill`), even
        # if a later, ticketed flip follows: that ticket documents the later change only
        row.backfill_required = backfill or bool(row.backfill_required)
        row.version = row.version + 1
        row.updated_by, row.updated_at = principal.actor, utcnow()
        row.save(force_insert=row.version == 1)
        audit.record(
            principal,
            "flag.flipped",
            f"flag:{name}",
            Severity.WARN if emergency else Severity.INFO,
            {
                "tenant_id": tenant_id,
                "flag": name,
                "before": before,
                "after": enabled,
                "reason": reason,
                "change_ticket": ticket,
                "emergency": emergency,
                "backfill_required": backfill,
                "env": env,
            },
        )
        versions.bump(tenant_id, "flags")
        if name == "advanced_discounts":  # the pricing body carries the flag too
            versions.bump(tenant_id, "pricing")
        return _flag_dict(row)


def awaiting_backfill(tenant_id: str) -> list[dict[str, Any]]:
    """Flags whose emergency flip still has no change ticket (FR-803)."""
    with tenant_tx(tenant_id):
        rows = FeatureFlag.select().where(
            FeatureFlag.tenant_id == tenant_id,
            FeatureFlag.backfill_required == True,  # noqa: E712
        )
        return [_flag_dict(r) for r in rows.order_by(FeatureFlag.updated_at)]


def backfill(
    principal: Principal, tenant_id: str, name: str, change: dict[str, Any]
) -> dict[str, Any]:
    """Record the change ticket of an emergency flip after the fact (audited; 409 if none
    is awaiting one). The flag's value does not change."""
    ticket = (change.get("change_ticket") or "").strip()
    if not ticket:
        raise ValidationError("the change ticket is required", Reason.CHANGE_TICKET_REQUIRED)
    with tenant_tx(tenant_id):
        row = FeatureFlag.get_or_none(FeatureFlag.tenant_id == tenant_id, FeatureFlag.name == name)
        if row is None or name not in FLAGS:
            raise NotFound(f"unknown flag {name!r}", Reason.UNKNOWN_FLAG)
        if not row.backfill_required:
            raise Conflict(
                "no emergency flip of this flag awaits a ticket", Reason.INVALID_TRANSITION
            )
        row.backfill_required = False
        row.change_ticket = ticket
        row.save()
        audit.record(
            principal,
            "flag.ticket_backfilled",
            f"flag:{name}",
            Severity.INFO,
            {"tenant_id": tenant_id, "flag": name, "change_ticket": ticket,
             "version": row.version, "reason": change.get("reason") or ""},
        )  # fmt: skip
        return _flag_dict(row)
