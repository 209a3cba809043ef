"""Staff PIN or badge login against the last synced staff list (works offline), with lockout
(FR-001, FR-102)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from appliance.audit import log as audit_log
from appliance.core.context import BoxContext
from appliance.core.db import select_one, write_txn
from appliance.identity.models import PinFailure, Staff
from posdomain.audit_chain import Severity
from posdomain.customer_fields import badge_digest, normalize_badge
from posdomain.errors import Forbidden, Locked, PosError, Reason, Unauthenticated
from posdomain.permissions import Principal, Role

_hasher = PasswordHasher()
BOX_SCOPE = "box"


def _scopes(staff_id: str | None) -> list[str]:
    return [BOX_SCOPE] + ([f"staff:{staff_id}"] if staff_id else [])


def _locked_until(scopes: list[str], now: datetime) -> datetime | None:
    for row in PinFailure.select().where(PinFailure.scope.in_(scopes)):
        if row.locked_until and datetime.fromisoformat(row.locked_until) > now:
            return datetime.fromisoformat(row.locked_until)
    return None


def _verify(pin_hash: str, pin: str) -> bool:
    try:
        return _hasher.verify(pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return False


def _match(pin: str, staff_id: str | None) -> Staff | None:
    query = Staff.select().order_by(Staff.id)
    if staff_id:
        query = query.where(Staff.id == staff_id)
    for staff in query:
        if _verify(staff.pin_hash, pin):
            return staff
    return None


def _record_failure(ctx: BoxContext, scopes: list[str], now: datetime) -> datetime | None:
    """Count a failure on each scope; lock a scope that reaches the limit."""
    cfg = ctx.config
    locked = None
    for scope in scopes:
        row = PinFailure.get_or_none(PinFailure.scope == scope)
        if row is None:
            PinFailure.insert(scope=scope, failures=0).execute()
        failures = (row.failures if row else 0) + 1
        until = None
        if failures >= cfg.pin_max_failures:
            locked = now + timedelta(minutes=cfg.pin_lockout_minutes)
            until, failures = locked.isoformat(), 0
        PinFailure.update(failures=failures, locked_until=until).where(
            PinFailure.scope == scope
        ).execute()
    return locked


def _denied(ctx: BoxContext, err: PosError, target: str, sev: Severity) -> PosError:
    audit_log.append(
        ctx,
        actor="staff:unknown" if not target else f"staff:{target}",
        action="auth.pin.denied",
        target=target or ctx.config.till_name,
        severity=sev,
        details={"reason": str(err.reason)},
    )
    return err


def _by_badge(ctx: BoxContext, badge: str) -> Staff | None:
    digest = badge_digest(ctx.config.tenant_id, badge)
    return Staff.get_or_none(Staff.badge_digest == digest)


def _attempt(
    ctx: BoxContext,
    find: Callable[[], Staff | None],
    staff_id: str | None,
    now: datetime,
    method: str = "pin",
) -> Staff | PosError:
    scopes = _scopes(staff_id)
    until = _locked_until(scopes, now)
    if until is not None:
        err = Locked(
            "too many wrong PINs: this till is locked",
            Reason.ACCOUNT_LOCKED,
            {"locked_until": until.isoformat()},
        )
        return _denied(ctx, err, staff_id or "", Severity.WARN)
    staff = find()
    if staff is None:
        locked = _record_failure(ctx, scopes, now)
        if locked is not None:
            err = Locked(
                "too many wrong PINs: this till is locked",
                Reason.ACCOUNT_LOCKED,
                {"locked_until": locked.isoformat()},
            )
            return _denied(ctx, err, staff_id or "", Severity.WARN)
        wrong = Unauthenticated(f"wrong {method.upper()}", Reason.BAD_CREDENTIALS)
        return _denied(ctx, wrong, staff_id or "", Severity.INFO)
    problem = _staff_problem(ctx, staff)
    if problem is not None:
        return _denied(ctx, problem, staff.id, Severity.WARN)
    PinFailure.delete().where(PinFailure.scope.in_(_scopes(staff.id))).execute()
    audit_log.append(
        ctx,
        actor=f"staff:{staff.id}",
        action="auth.login",
        target=ctx.config.till_name,
        details={"role": staff.role, "method": method},
    )
    return staff


def _staff_problem(ctx: BoxContext, staff: Staff) -> PosError | None:
    if not staff.active:
        return Forbidden("this staff account is inactive", Reason.ACCOUNT_INACTIVE)
    if ctx.config.branch_id not in json.loads(staff.branch_ids):
        return Forbidden(
            "this staff member is not assigned to this branch", Reason.FORBIDDEN_BRANCH
        )
    return None


def login_pin(ctx: BoxContext, pin: str, staff_id: str | None = None) -> Staff:
    """Verify a PIN; every outcome is audited and committed before an error is raised."""
    now = datetime.now(UTC)
    with write_txn():
        outcome = _attempt(ctx, lambda: _match(pin, staff_id), staff_id, now)
    if isinstance(outcome, PosError):
        raise outcome
    return outcome


def login_badge(ctx: BoxContext, badge: str) -> Staff:
    """Verify a scanned staff badge (FR-102) against the synced digests, like a PIN: only
    active staff of this branch, wrong badges count towards the till's lockout, audited."""
    code = normalize_badge(badge)  # 400 INVALID_BADGE before anything is counted
    now = datetime.now(UTC)
    with write_txn():
        outcome = _attempt(ctx, lambda: _by_badge(ctx, code), None, now, "badge")
    if isinstance(outcome, PosError):
        raise outcome
    return outcome


def logout(ctx: BoxContext, staff_id: str) -> None:
    """Audit a logout."""
    audit_log.append_now(
        ctx, actor=f"staff:{staff_id}", action="auth.logout", target=ctx.config.till_name
    )


def current_staff(ctx: BoxContext, staff_id: str | None) -> Staff:
    """The session's staff member, re-checked against the synced list on every request."""
    if not staff_id:
        raise Unauthenticated("log in with your PIN first", Reason.AUTH_REQUIRED)
    staff = select_one(Staff, "SELECT * FROM staff WHERE id = ?", (staff_id,))
    if staff is None:
        raise Unauthenticated("your account is no longer on this till", Reason.AUTH_REQUIRED)
    problem = _staff_problem(ctx, staff)
    if problem is not None:
        raise problem
    return staff


def principal_for(ctx: BoxContext, staff: Staff) -> Principal:
    """The permission principal of a staff member on this box."""
    try:
        role = Role(staff.role)
    except ValueError as err:
        raise Forbidden(f"unknown role {staff.role}", Reason.FORBIDDEN_ROLE) from err
    return Principal(
        kind="staff",
        id=staff.id,
        role=role,
        tenant_id=ctx.config.tenant_id,
        branch_ids=frozenset(json.loads(staff.branch_ids)),
        name=staff.name,
    )
