"""Users and API tokens (tenant from the principal or a checked path)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict, Field

from hub.core.openapi import WRITE_ERRORS, Items, api
from hub.identity import staff, users
from hub.identity.responses import NewTokenOut, TokenOut, UserOut
from hub.identity.staff_schemas import StaffOut
from hub.web import integrity, notify_boxes, now, parse_body, target_tenant
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
    scopes: list[str] = Field(min_length=1, max_length=len(Action))
    # omitted: the configured default (API_TOKEN_DEFAULT_DAYS); at most API_TOKEN_MAX_DAYS
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)
    # the integration whose kill switch covers the token; omitted: the tenant's
    # "API tokens (pre-integration)" integration (made on first use)
    integration_id: str | None = Field(default=None, min_length=1, max_length=64)


@bp.get("/api/v1/users")
@bp.get("/api/v1/tenants/<tenant_id>/users")
@api({200: Items[UserOut]})
def list_users(tenant_id: str | None = None) -> ResponseReturnValue:
    """Users of the tenant (branch managers: their branches)."""
    principal, tenant, scope = target_tenant(Action.USER_MANAGE, tenant_id)
    return jsonify({"items": users.list_users(principal, tenant, scope)})


@bp.post("/api/v1/users")
@bp.post("/api/v1/tenants/<tenant_id>/users")
@api({201: UserOut}, body=UserIn, errors=WRITE_ERRORS)
def create_user(tenant_id: str | None = None) -> ResponseReturnValue:
    """Create a user."""
    principal, tenant, scope = target_tenant(Action.USER_MANAGE, tenant_id)
    integrity().guard_writes()
    body = parse_body(UserIn)
    created = users.create_user(principal, tenant, scope, body.model_dump(mode="json"))
    notify_boxes(tenant)
    return jsonify(created), 201


@bp.put("/api/v1/users/<user_id>/active")
@api({200: StaffOut}, body=ActiveIn, errors=WRITE_ERRORS)
def set_active(user_id: str) -> ResponseReturnValue:
    """Activate or deactivate a user."""
    principal, tenant, scope = target_tenant(Action.STAFF_DEACTIVATE)
    integrity().guard_writes()
    body = parse_body(ActiveIn)
    result = staff.set_active(principal, tenant, scope, user_id, body.active)
    notify_boxes(tenant)
    return jsonify(result)


@bp.get("/api/v1/tokens")
@api({200: Items[TokenOut]})
def list_tokens() -> ResponseReturnValue:
    """API tokens of the tenant."""
    _principal, tenant, _scope = target_tenant(Action.TOKEN_MANAGE)
    return jsonify({"items": users.list_tokens(tenant)})


@bp.post("/api/v1/tokens")
@api({201: NewTokenOut}, body=TokenIn, errors=WRITE_ERRORS)
def create_token() -> ResponseReturnValue:
    """Issue a scoped integration token (secret shown once), filed under `integration_id` or
    the tenant's pre-integration tokens integration, so a kill switch always covers it
    (prefer POST /api/v1/integrations/{integration_id}/tokens)."""
    principal, tenant, _scope = target_tenant(Action.TOKEN_MANAGE)
    integrity().guard_writes()
    body = parse_body(TokenIn)
    cfg = current_app.config
    req = users.TokenRequest(
        name=body.name,
        scopes=body.scopes,
        lifetime_days=body.expires_in_days or cfg["API_TOKEN_DEFAULT_DAYS"],
        max_days=cfg["API_TOKEN_MAX_DAYS"],
        integration_id=body.integration_id,
        issued_at=now(),
    )
    return jsonify(users.create_token(principal, tenant, req)), 201


@bp.delete("/api/v1/tokens/<token_id>")
@api({200: TokenOut}, errors=WRITE_ERRORS)
def revoke_token(token_id: str) -> ResponseReturnValue:
    """Revoke a token."""
    principal, tenant, _scope = target_tenant(Action.TOKEN_MANAGE)
    integrity().guard_writes()
    return jsonify(users.revoke_token(principal, tenant, token_id))
