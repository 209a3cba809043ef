"""Supervisor overrides at the till (FR-300, permission matrix "override only").

A cashier starts a privileged action (price override, discount over threshold, refund,
post-void, no-sale); a SUPERVISOR or BRANCH_MANAGER of this branch authorises it with their
PIN at the till (`grant`), which yields a token bound to one action, one requesting cashier
and one reason code. The action's own transaction consumes it (`use`): single use (a trigger
refuses any second write), short-lived (`risk.override_ttl_seconds`, default 120 s).
A supervisor or manager acting themselves approves their own action (still with a reason).
Every grant, use and denial is audited.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from appliance.approvals.models import Override
from appliance.audit import log as audit_log
from appliance.catalog.config_docs import config_body
from appliance.core.context import BoxContext, now_iso
from appliance.core.db import write_txn
from appliance.identity import auth
from appliance.identity.models import Staff
from posdomain.audit_chain import Severity
from posdomain.errors import Forbidden, Reason, ValidationError
from posdomain.permissions import Action, authorize
from posdomain.till_codes import APPROVER_ROLES, MANAGER_ONLY, OverrideAction, OverrideReason

DEFAULT_TTL_S = 120


@dataclass(frozen=True)
class Approval:
    """Who approved which action and why (`token` None = the actor approved themselves)."""

    action: OverrideAction
    approver_id: str
    reason_code: str
    token: str | None


def _risk_setting(key: str) -> Any:
    """A setting from the `risk` config body, else the `pricing` body (never hard-coded)."""
    for kind in ("risk", "pricing"):
        body = config_body(kind) or {}
        if key in body:
            return body[key]
    return None


def ttl_seconds() -> int:
    """How long an override token lives."""
    value = _risk_setting("override_ttl_seconds")
    return value if isinstance(value, int) and 10 <= value <= 900 else DEFAULT_TTL_S


def discount_threshold_percent() -> Decimal | None:
    """Manual discounts above this percent need an override (None: every one needs it)."""
    raw = _risk_setting("discount_override_percent")
    try:
        value = Decimal(str(raw)) if raw is not None else None
    except InvalidOperation:
        return None
    return value if value is not None and 0 <= value <= 100 else None


def discount_needs_override(percent: Decimal) -> bool:
    """True when a manual discount of `percent` is over the configured threshold."""
    threshold = discount_threshold_percent()
    return threshold is None or percent > threshold


def parse_reason(reason_code: str) -> OverrideReason:
    """A reason code from the fixed enum (400 REASON_REQUIRED otherwise)."""
    try:
        return OverrideReason(reason_code)
    except ValueError as err:
        raise ValidationError(
            "a reason code from the fixed list is required",
            Reason.REASON_REQUIRED,
            {"allowed": [r.value for r in OverrideReason]},
        ) from err


#: actions that open the drawer without a sale: the matrix row "no-sale drawer open" (a bank
#: deposit has no row of its own; it takes cash out of the drawer like a no-sale open)
_DRAWER_ACTIONS = frozenset({OverrideAction.NO_SALE, OverrideAction.BANK_DEPOSIT})


def _matrix_action(action: OverrideAction) -> Action:
    return Action.NO_SALE if action in _DRAWER_ACTIONS else Action.PRIVILEGED_SALE_OP


def _may_approve(ctx: BoxContext, staff: Staff, action: OverrideAction) -> bool:
    """A supervisor/manager of this branch (a manager for manager-only actions)."""
    if staff.role not in APPROVER_ROLES:
        return False
    if action in MANAGER_ONLY and staff.role != "BRANCH_MANAGER":
        return False
    try:
        authorize(
            auth.principal_for(ctx, staff),
            _matrix_action(action),
            tenant_id=ctx.config.tenant_id,
            branch_id=ctx.config.branch_id,
        )
    except Forbidden:
        return False
    return True


def _deny(ctx: BoxContext, staff_id: str, action: str, err: Forbidden) -> Forbidden:
    audit_log.append_now(
        ctx,
        actor=f"staff:{staff_id}",
        action="override.denied",
        target=action,
        severity=Severity.WARN,
        details={"reason": str(err.reason)},
    )
    return err


def grant(
    ctx: BoxContext,
    requester: Staff,
    action: OverrideAction,
    reason_code: str,
    pin: str,
    approver_id: str | None = None,
    details: dict[str, Any] | None = None,
    badge: str | None = None,
) -> dict[str, Any]:
    """Verify the approver's PIN (or scanned badge) and issue a single-use token for
    `requester`'s `action`."""
    reason = parse_reason(reason_code)
    ctx.require_chain_intact()
    approver = (  # lockout + audit of wrong PINs and badges
        auth.login_badge(ctx, badge) if badge else auth.login_pin(ctx, pin, approver_id)
    )
    if approver.id == requester.id or not _may_approve(ctx, approver, action):
        raise _deny(
            ctx,
            approver.id,
            action.value,
            Forbidden("this person may not approve that", Reason.FORBIDDEN_ROLE),
        )
    token = secrets.token_urlsafe(24)
    expires = datetime.now(UTC) + timedelta(seconds=ttl_seconds())
    _store_token(ctx, token, (action, reason), approver, requester, details or {}, expires)
    return {
        "token": token,
        "action": action.value,
        "approver": {"id": approver.id, "name": approver.name, "role": approver.role},
        "reason_code": reason.value,
        "expires_at": expires.isoformat(),
    }


def _store_token(
    ctx: BoxContext,
    token: str,
    what: tuple[OverrideAction, OverrideReason],
    approver: Staff,
    requester: Staff,
    details: dict[str, Any],
    expires: datetime,
) -> None:
    """Write the token row and its `override.granted` audit entry in one transaction."""
    action, reason = what
    with write_txn():
        Override.insert(
            token=token,
            action=action.value,
            reason_code=reason.value,
            approver_id=approver.id,
            approver_role=approver.role,
            requested_by=requester.id,
            details=json.dumps(details, sort_keys=True),
            created_at=now_iso(),
            expires_at=expires.isoformat(),
        ).execute()
        audit_log.append(
            ctx,
            actor=f"staff:{approver.id}",
            action="override.granted",
            target=action.value,
            details={"requested_by": requester.id, "reason_code": reason.value, **details},
        )


def _valid_token(token: str, action: OverrideAction, staff_id: str) -> Override | None:
    row = Override.get_or_none(Override.token == token)
    if row is None or row.used_at is not None or row.action != action.value:
        return None
    if row.requested_by != staff_id or datetime.fromisoformat(row.expires_at) <= datetime.now(UTC):
        return None
    return row


def require(
    ctx: BoxContext,
    staff: Staff,
    action: OverrideAction,
    token: str | None,
    reason_code: str | None = None,
) -> Approval:
    """The approval for `staff` doing `action` now (403 OVERRIDE_REQUIRED/INVALID, audited)."""
    if _may_approve(ctx, staff, action):
        return Approval(action, staff.id, parse_reason(reason_code or "").value, None)
    if not token:
        raise _deny(
            ctx,
            staff.id,
            action.value,
            Forbidden(f"{action.value} needs a supervisor override", Reason.OVERRIDE_REQUIRED),
        )
    row = _valid_token(token, action, staff.id)
    if row is None:
        raise _deny(
            ctx,
            staff.id,
            action.value,
            Forbidden(
                "the override is unknown, used, expired or not yours", Reason.OVERRIDE_INVALID
            ),
        )
    return Approval(action, row.approver_id, row.reason_code, token)


def use(ctx: BoxContext, approval: Approval, staff: Staff, ref: str) -> None:
    """Consume the token inside the action's transaction and audit what was approved."""
    if approval.token is not None:
        done = (
            Override.update(used_at=now_iso(), used_ref=ref)
            .where(Override.token == approval.token, Override.used_at.is_null())
            .execute()
        )
        if done != 1:
            raise Forbidden("the override was already used", Reason.OVERRIDE_INVALID)
    audit_log.append(
        ctx,
        actor=f"staff:{staff.id}",
        action=f"override.{approval.action.value}",
        target=ref,
        details={
            "approver_id": approval.approver_id,
            "reason_code": approval.reason_code,
            "self_approved": approval.token is None,
        },
    )


def count_used(since: str, until: str | None = None) -> int:
    """Overrides used (tokens and self-approvals are audited; tokens counted here) in a window."""
    query = Override.select().where(Override.used_at.is_null(False), Override.used_at >= since)
    if until is not None:
        query = query.where(Override.used_at < until)
    return int(query.count())
