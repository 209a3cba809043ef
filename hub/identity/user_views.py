"""Users and API tokens (tenant from the principal or a checked path)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict, Field

from hub.identity import staff, users
from hub.web import integrity, notify_boxes, parse_body, target_tenant
from posdomain.permissions import Action, Role

bp = Blueprint("admin", __name__)


class UserIn(BaseModel):
    """POST user body."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(pattern=r"^[a-z0-9_.-]{3,64}$")
    display_name: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=10, max_length=256)
    role: Role
    branch_ids: list[str] = []
    pin: str | None = Field(default=None, pattern=r"^\d{4,8}$")


class ActiveIn(BaseModel):
    """PUT user active body."""

    model_config = ConfigDict(extra="forbid")

    active: bool


class TokenIn(BaseModel):
    """POST token body."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=80)
    scopes: list[str] = Field(min_length=1)


@bp.get("/api/v1/users")
@bp.get("/api/v1/tenants/<tenant_id>/users")
def list_users(tenant_id: str | None = None) -> ResponseReturnValue:
    """Users of the tenant (branch managers: their branches)."""
    principal, tenant, scope = target_tenant(Action.USER_MANAGE, tenant_id)
    return jsonify({"items": users.list_users(principal, tenant, scope)})


@bp.post("/api/v1/users")
@bp.post("/api/v1/tenants/<tenant_id>/users")
def create_user(tenant_id: str | None = None) -> ResponseReturnValue:
    """Create a user."""
    principal, tenant, scope = target_tenant(Action.USER_MANAGE, tenant_id)
    integrity().guard_writes()
    body = parse_body(UserIn)
    created = users.create_user(principal, tenant, scope, body.model_dump(mode="json"))
    notify_boxes(tenant)
    return jsonify(created), 201


@bp.put("/api/v1/users/<user_id>/active")
def set_active(user_id: str) -> ResponseReturnValue:
    """Activate or deactivate a user."""
    principal, tenant, scope = target_tenant(Action.STAFF_DEACTIVATE)
    integrity().guard_writes()
    body = parse_body(ActiveIn)
    result = staff.set_active(principal, tenant, scope, user_id, body.active)
    notify_boxes(tenant)
    return jsonify(result)


@bp.get("/api/v1/tokens")
def list_tokens() -> ResponseReturnValue:
    """API tokens of the tenant."""
    _principal, tenant, _scope = target_tenant(Action.TOKEN_MANAGE)
    return jsonify({"items": users.list_tokens(tenant)})


@bp.post("/api/v1/tokens")
def create_token() -> ResponseReturnValue:
    """Issue a scoped integration token (secret shown once)."""
    principal, tenant, _scope = target_tenant(Action.TOKEN_MANAGE)
    integrity().guard_writes()
    body = parse_body(TokenIn)
    return jsonify(users.create_token(principal, tenant, body.name, body.scopes)), 201


@bp.delete("/api/v1/tokens/<token_id>")
def revoke_token(token_id: str) -> ResponseReturnValue:
    """Revoke a token."""
    principal, tenant, _scope = target_tenant(Action.TOKEN_MANAGE)
    integrity().guard_writes()
    return jsonify(users.revoke_token(principal, tenant, token_id))
