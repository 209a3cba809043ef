"""Staff lifecycle (FR-102): create, activate/deactivate, change role, assign branches, set or
reset a till PIN, set or generate a staff badge — all audited, all pushed to the boxes in the
`staff` down message (bumped in the same transaction, published right after the commit).

Who may do what (permission matrix "manage users and roles", "deactivate staff"): a
TENANT_OWNER manages the whole tenant (never APPLICATION_OWNER or INTEGRATION roles); a
BRANCH_MANAGER manages only staff whose role is at most SUPERVISOR (`BRANCH_MANAGER_GRANTABLE`)
and who work at one of the manager's branches, grants only those roles, and adds or removes
only the manager's own branches. Nobody changes their own role or deactivates themselves.
Deactivation revokes the user's hub sessions at once (`sessions.revoke_user`); role
changes apply on the next request because every request re-reads the user.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from peewee import IntegrityError

from hub.core.db import tenant_tx
from hub.core.models import utcnow
from hub.core.paging import PAGE_SIZE, paged
from hub.governance import audit, versions
from hub.identity import sessions
from hub.identity.auth import hash_secret
from hub.identity.models import Branch, User
from posdomain.audit_chain import Severity
from posdomain.customer_fields import badge_digest, new_badge
from posdomain.errors import Conflict, Forbidden, NotFound, Reason
from posdomain.permissions import BRANCH_MANAGER_GRANTABLE, Principal, Role, Scope

NOT_GRANTABLE = frozenset({Role.APPLICATION_OWNER, Role.INTEGRATION})
PIN_DIGITS = 6


def staff_dict(user: User) -> dict[str, Any]:
    """Public view of a staff member (never a hash, never the badge itself)."""
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "branch_ids": list(user.branch_ids or []),
        "active": bool(user.active),
        "has_pin": user.pin_hash is not None,
        "has_badge": user.badge_digest is not None,
        "updated_at": user.updated_at.isoformat(),
    }


def _may_grant(principal: Principal, scope: Scope, role: Role) -> None:
    if role in NOT_GRANTABLE:
        raise Forbidden(f"role {role.value} cannot be granted here", Reason.FORBIDDEN_ROLE)
    if scope is Scope.BRANCH and role not in BRANCH_MANAGER_GRANTABLE:
        raise Forbidden(f"a branch manager may not grant {role.value}", Reason.FORBIDDEN_ROLE)


def _target(principal: Principal, scope: Scope, tenant_id: str, user_id: str) -> User:
    """The staff member the caller may manage (404 for another tenant's id)."""
    user = User.get_or_none(User.id == user_id, User.tenant_id == tenant_id)
    if user is None:
        raise NotFound("no such staff member")
    if scope is Scope.BRANCH:
        if not set(user.branch_ids or []) & principal.branch_ids:
            raise Forbidden("that staff member is not in your branches", Reason.FORBIDDEN_BRANCH)
        if Role(user.role) not in BRANCH_MANAGER_GRANTABLE:
            raise Forbidden(
                "a branch manager manages roles up to SUPERVISOR only", Reason.FORBIDDEN_ROLE
            )
    return user


def _not_self(principal: Principal, user: User, what: str) -> None:
    if principal.kind == "user" and principal.id == user.id:
        raise Forbidden(f"you cannot {what} yourself", Reason.FORBIDDEN_ROLE)


def _check_branches(
    principal: Principal, scope: Scope, tenant_id: str, old: set[str], new: set[str]
) -> None:
    known = {b.id for b in Branch.select().where(Branch.tenant_id == tenant_id)}
    if new - known:
        raise NotFound("unknown branch", Reason.UNKNOWN_BRANCH, {"branch_ids": sorted(new - known)})
    if scope is Scope.BRANCH and not (old ^ new) <= principal.branch_ids:
        raise Forbidden("you may assign only your own branches", Reason.FORBIDDEN_BRANCH)


def _changed(principal: Principal, user: User, action: str, details: dict[str, Any],
             severity: Severity = Severity.INFO) -> None:  # fmt: skip
    user.updated_at = utcnow()
    user.save()
    audit.record(principal, action, f"user:{user.id}", severity, details)
    versions.bump(str(user.tenant_id), "staff")


def list_staff(
    principal: Principal, tenant_id: str, scope: Scope, filters: dict[str, str], page: int
) -> dict[str, Any]:
    """Staff of the tenant (branch roles: of their branches), filtered and paged."""
    with tenant_tx(tenant_id):
        query = User.select().where(User.tenant_id == tenant_id)
        if filters.get("role"):
            query = query.where(User.role == filters["role"])
        if filters.get("active") in ("true", "false"):
            query = query.where(User.active == (filters["active"] == "true"))
        if filters.get("q"):
            like = f"%{filters['q'][:60]}%"
            query = query.where((User.display_name**like) | (User.username**like))
        users = list(query.order_by(User.display_name, User.id))
    if scope is Scope.BRANCH:
        users = [u for u in users if set(u.branch_ids or []) & principal.branch_ids]
    if filters.get("branch_id"):
        users = [u for u in users if filters["branch_id"] in (u.branch_ids or [])]
    page = max(page, 1)
    chunk = users[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return paged([staff_dict(u) for u in chunk], page, len(users))


def get_staff(principal: Principal, tenant_id: str, scope: Scope, user_id: str) -> dict[str, Any]:
    """One staff member the caller may see."""
    with tenant_tx(tenant_id):
        user = User.get_or_none(User.id == user_id, User.tenant_id == tenant_id)
        if user is None:
            raise NotFound("no such staff member")
        if scope is Scope.BRANCH and not set(user.branch_ids or []) & principal.branch_ids:
            raise Forbidden("that staff member is not in your branches", Reason.FORBIDDEN_BRANCH)
        return staff_dict(user)


def create_staff(
    principal: Principal, tenant_id: str, scope: Scope, data: dict[str, Any]
) -> dict[str, Any]:
    """Create a staff member; a till-only one gets an unusable random hub password."""
    role = Role(data["role"])
    branches = set(data.get("branch_ids") or [])
    _may_grant(principal, scope, role)
    if scope is Scope.BRANCH and not branches:
        raise Forbidden("name at least one of your branches", Reason.FORBIDDEN_BRANCH)
    password = data.get("password") or secrets.token_urlsafe(32)
    try:
        with tenant_tx(tenant_id):
            _check_branches(principal, scope, tenant_id, set(), branches)
            user = User.create(
                id=uuid.uuid4().hex, tenant_id=tenant_id, username=data["username"],
                display_name=data["display_name"], password_hash=hash_secret(password),
                role=role.value, branch_ids=sorted(branches),
                pin_hash=hash_secret(data["pin"]) if data.get("pin") else None,
            )  # fmt: skip
            audit.record(principal, "user.created", f"user:{user.id}", details=staff_dict(user))
            versions.bump(tenant_id, "staff")
            return staff_dict(user)
    except IntegrityError as err:
        raise Conflict("username already taken", Reason.DUPLICATE) from err


def update_staff(
    principal: Principal, tenant_id: str, scope: Scope, user_id: str, change: dict[str, Any]
) -> dict[str, Any]:
    """Change display name, role and/or branches (the role applies on the next request)."""
    with tenant_tx(tenant_id):
        user = _target(principal, scope, tenant_id, user_id)
        before = staff_dict(user)
        if change.get("role") and change["role"] != user.role:
            _not_self(principal, user, "change the role of")
            _may_grant(principal, scope, Role(change["role"]))
            user.role = Role(change["role"]).value
        if change.get("branch_ids") is not None:
            new = set(change["branch_ids"])
            _check_branches(principal, scope, tenant_id, set(user.branch_ids or []), new)
            user.branch_ids = sorted(new)
        if change.get("display_name"):
            user.display_name = change["display_name"]
        after = staff_dict(user)
        diff = {k: {"before": before[k], "after": after[k]} for k in after if before[k] != after[k]}
        if diff:
            _changed(principal, user, "user.updated", diff)
        return staff_dict(user)


def set_active(
    principal: Principal, tenant_id: str, scope: Scope, user_id: str, active: bool
) -> dict[str, Any]:
    """Activate or deactivate; deactivation ends the user's hub sessions at once."""
    with tenant_tx(tenant_id):
        user = _target(principal, scope, tenant_id, user_id)
        before = bool(user.active)
        if not active:
            _not_self(principal, user, "deactivate")
        user.active = active
        action = "user.activated" if active else "user.deactivated"
        details: dict[str, Any] = {"before": before, "after": active}
        if not active:
            ended = sessions.revoke_user(user.id, sessions.DEACTIVATED, utcnow())
            details["sessions_revoked"] = ended
        _changed(principal, user, action, details, Severity.INFO if active else Severity.WARN)
        return staff_dict(user)


def set_pin(
    principal: Principal, tenant_id: str, scope: Scope, user_id: str, pin: str | None
) -> dict[str, Any]:
    """Set a till PIN, or reset it to a random one returned once (argon2 at rest)."""
    chosen = pin or "".join(secrets.choice("0123456789") for _ in range(PIN_DIGITS))
    with tenant_tx(tenant_id):
        user = _target(principal, scope, tenant_id, user_id)
        user.pin_hash = hash_secret(chosen)
        _changed(principal, user, "user.pin_set" if pin else "user.pin_reset", {}, Severity.WARN)
        result = staff_dict(user)
    return result if pin else {**result, "pin": chosen}


def set_badge(
    principal: Principal, tenant_id: str, scope: Scope, user_id: str, badge: str | None
) -> dict[str, Any]:
    """Set a badge barcode (unique per tenant), or generate one returned once to print."""
    chosen = badge or new_badge()
    digest = badge_digest(tenant_id, chosen)
    try:
        with tenant_tx(tenant_id):
            user = _target(principal, scope, tenant_id, user_id)
            other = User.get_or_none(User.tenant_id == tenant_id, User.badge_digest == digest)
            if other is not None and other.id != user.id:
                raise Conflict("that badge belongs to another staff member", Reason.BADGE_TAKEN)
            user.badge_digest = digest
            _changed(principal, user, "user.badge_set", {"generated": badge is None}, Severity.WARN)
            result = staff_dict(user)
    except IntegrityError as err:
        raise Conflict("that badge belongs to another staff member", Reason.BADGE_TAKEN) from err
    return result if badge else {**result, "badge": chosen}


def clear_badge(principal: Principal, tenant_id: str, scope: Scope, user_id: str) -> dict[str, Any]:
    """Withdraw a staff member's badge (a lost card)."""
    with tenant_tx(tenant_id):
        user = _target(principal, scope, tenant_id, user_id)
        user.badge_digest = None
        _changed(principal, user, "user.badge_cleared", {}, Severity.WARN)
        return staff_dict(user)
