"""Hub users and API tokens (FR-001/101/102): create, list, deactivate, issue, revoke."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from peewee import IntegrityError

from hub.core.db import platform_tx, tenant_tx
from hub.core.models import utcnow
from hub.governance import audit, versions
from hub.identity import sessions
from hub.identity.auth import hash_secret, new_token_secret, token_digest, verify_secret
from hub.identity.models import ApiToken, Branch, Integration, User
from posdomain.api_tokens import redact
from posdomain.audit_chain import Severity
from posdomain.errors import (
    Conflict,
    Forbidden,
    NotFound,
    Reason,
    Unauthenticated,
    ValidationError,
)
from posdomain.permissions import BRANCH_MANAGER_GRANTABLE, Action, Principal, Role, Scope


def user_dict(user: User) -> dict[str, Any]:
    """Public view of a user (never hashes)."""
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "tenant_id": user.tenant_id,
        "branch_ids": user.branch_ids,
        "active": bool(user.active),
        "has_pin": user.pin_hash is not None,
    }


def list_users(principal: Principal, tenant_id: str, scope: Scope) -> list[dict[str, Any]]:
    """Users of the tenant; branch-scoped callers see only users of their branches."""
    with tenant_tx(tenant_id):
        rows = User.select().where(User.tenant_id == tenant_id).order_by(User.username)
        users = list(rows)
    if scope is Scope.BRANCH:
        users = [u for u in users if set(u.branch_ids or []) & principal.branch_ids]
    return [user_dict(u) for u in users]


def _check_grant(principal: Principal, scope: Scope, role: Role, branch_ids: list[str]) -> None:
    if role in (Role.APPLICATION_OWNER, Role.INTEGRATION):
        raise Forbidden(f"role {role.value} cannot be granted here", Reason.FORBIDDEN_ROLE)
    if scope is Scope.BRANCH:
        if role not in BRANCH_MANAGER_GRANTABLE:
            raise Forbidden(f"a branch manager may not grant {role.value}", Reason.FORBIDDEN_ROLE)
        if not branch_ids or not set(branch_ids) <= principal.branch_ids:
            raise Forbidden("that branch is not assigned to you", Reason.FORBIDDEN_BRANCH)


def create_user(
    principal: Principal, tenant_id: str, scope: Scope, data: dict[str, Any]
) -> dict[str, Any]:
    """Create a user in the tenant (role grant rules of the permission matrix apply)."""
    role = Role(data["role"])
    branch_ids = list(data.get("branch_ids") or [])
    _check_grant(principal, scope, role, branch_ids)
    try:
        with tenant_tx(tenant_id):
            known = {b.id for b in Branch.select().where(Branch.id.in_(branch_ids))}
            if set(branch_ids) - known:
                raise NotFound("unknown branch", Reason.NOT_FOUND, {"branch_ids": branch_ids})
            user = User.create(
                id=uuid.uuid4().hex,
                tenant_id=tenant_id,
                username=data["username"],
                display_name=data["display_name"],
                password_hash=hash_secret(data["password"]),
                role=role.value,
                branch_ids=branch_ids,
                pin_hash=hash_secret(data["pin"]) if data.get("pin") else None,
            )
            audit.record(principal, "user.created", f"user:{user.id}", details=user_dict(user))
            versions.bump(tenant_id, "staff")
    except IntegrityError as err:
        raise Conflict("username already taken", Reason.DUPLICATE) from err
    return user_dict(user)


def change_password(principal: Principal, current: str, new: str) -> None:
    """Change the caller's own password; every session of theirs ends (401 SESSION_REVOKED)."""
    if principal.kind != "user":
        raise Forbidden("only a signed-in user has a password", Reason.FORBIDDEN_ROLE)
    ctx = tenant_tx(principal.tenant_id) if principal.tenant_id else platform_tx()
    with ctx:
        user = User.get_or_none(User.id == principal.id)
        if user is None or not verify_secret(user.password_hash, current):
            audit.record(principal, "auth.password_change_failed", f"user:{principal.id}")
            failed = True
        else:
            failed = False
            user.password_hash = hash_secret(new)
            user.updated_at = utcnow()
            user.save()
            ended = sessions.revoke_user(user.id, sessions.PASSWORD_CHANGED, user.updated_at)
            audit.record(
                principal, "auth.password_changed", f"user:{user.id}", details={"ended": ended}
            )
    if failed:
        raise Unauthenticated("current password is wrong", Reason.BAD_CREDENTIALS)


def token_dict(token: ApiToken) -> dict[str, Any]:
    """Public view of a token (never the secret or its hash)."""
    return {
        "id": token.id,
        "name": token.name,
        "scopes": token.scopes,
        "created_by": token.created_by,
        "created_at": token.created_at.isoformat(),
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
        "expires_at": token.expires_at.isoformat(),
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
        "integration_id": token.integration_id,
        "rate_limit_per_minute": token.rate_limit_per_minute,
        "revoked_by": token.revoked_by,
    }


@dataclass(frozen=True)
class TokenRequest:
    """What a new token is for, and for how long (days; capped by HubSettings)."""

    name: str
    scopes: list[str]
    lifetime_days: int
    max_days: int
    integration_id: str | None = None  # None: the tenant's pre-integration tokens integration
    rate_limit_per_minute: int = 120
    issued_at: datetime | None = None  # the app's clock (tests move it); None: now


PRE_INTEGRATION = "API tokens (pre-integration)"  # the name migration 0025 gives it


def _default_integration(principal: Principal, tenant_id: str) -> str:
    """The tenant's integration for tokens issued without one (made on first use, audited;
    caller's tenant transaction): its kill switch stops them all at once."""
    row = Integration.get_or_none(
        Integration.tenant_id == tenant_id, Integration.name == PRE_INTEGRATION
    )
    if row is None:
        row = Integration.create(
            id=uuid.uuid4().hex, tenant_id=tenant_id, name=PRE_INTEGRATION,
            created_by=principal.actor,
        )  # fmt: skip
        audit.record(
            principal,
            "integration.created",
            f"integration:{row.id}",
            details={"name": row.name, "for": "API tokens issued without an integration"},
        )
    return str(row.id)


def create_token(principal: Principal, tenant_id: str, req: TokenRequest) -> dict[str, Any]:
    """Issue a scoped INTEGRATION token; the raw token is returned once, only its hash kept."""
    valid = {a.value for a in Action}
    bad = [s for s in req.scopes if s not in valid]
    if bad:
        raise ValidationError("unknown scopes", Reason.VALIDATION_FAILED, {"scopes": bad})
    if not 1 <= req.lifetime_days <= req.max_days:
        raise ValidationError(
            f"expires_in_days must be from 1 to {req.max_days}",
            Reason.OUT_OF_RANGE,
            {"field": "expires_in_days", "minimum": 1, "maximum": req.max_days},
        )
    token_id, raw = new_token_secret()
    created = req.issued_at or utcnow()
    with tenant_tx(tenant_id):
        if req.integration_id is not None and not Integration.get_or_none(
            Integration.id == req.integration_id, Integration.tenant_id == tenant_id
        ):
            raise NotFound("no such integration")
        integration_id = req.integration_id or _default_integration(principal, tenant_id)
        token = ApiToken.create(
            id=token_id,
            tenant_id=tenant_id,
            name=req.name,
            token_hash=token_digest(raw),
            scopes=sorted(set(req.scopes)),
            created_by=principal.actor,
            created_at=created,
            expires_at=created + timedelta(days=req.lifetime_days),
            integration_id=integration_id,
            rate_limit_per_minute=req.rate_limit_per_minute,
        )
        details = {
            "scopes": req.scopes,
            "expires_at": token.expires_at.isoformat(),
            "integration_id": integration_id,
            "rate_limit_per_minute": req.rate_limit_per_minute,
            "shown": redact(raw),
        }
        audit.record(principal, "token.created", f"token:{token_id}", details=details)
    return {**token_dict(token), "token": raw}


def list_tokens(tenant_id: str, integration_id: str | None = None) -> list[dict[str, Any]]:
    """Tokens of the tenant, or of one of its integrations (no secrets)."""
    with tenant_tx(tenant_id):
        rows = ApiToken.select().where(ApiToken.tenant_id == tenant_id)
        if integration_id is not None:
            rows = rows.where(ApiToken.integration_id == integration_id)
        return [token_dict(t) for t in rows.order_by(ApiToken.name)]


def revoke_token(
    principal: Principal, tenant_id: str, token_id: str, integration_id: str | None = None
) -> dict[str, Any]:
    """Revoke a token at once (the next request with it is 401 TOKEN_REVOKED), audited with
    who revoked it; revoking a revoked token changes nothing."""
    with tenant_tx(tenant_id):
        token = ApiToken.get_or_none(ApiToken.id == token_id, ApiToken.tenant_id == tenant_id)
        if token is None or (integration_id is not None and token.integration_id != integration_id):
            raise NotFound("no such token")
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            token.revoked_by = principal.actor
            token.save()
            details = {"name": token.name, "integration_id": token.integration_id}
            audit.record(principal, "token.revoked", f"token:{token_id}", Severity.WARN, details)
        return token_dict(token)
