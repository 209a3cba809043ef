"""Response models of the identity API (OpenAPI, hub.core.openapi)."""

from __future__ import annotations

from pydantic import BaseModel

from posdomain.permissions import Role


class PrincipalOut(BaseModel):
    """Who is calling."""

    id: str
    kind: str
    name: str
    role: Role
    tenant_id: str | None
    branch_ids: list[str]
    scopes: list[str]


class SessionOut(BaseModel):
    """A signed-in principal and the session's CSRF token."""

    principal: PrincipalOut
    csrf_token: str


class PasswordChangedOut(BaseModel):
    """Password changed: every other session ended, this caller got a new one."""

    ok: bool
    csrf_token: str


class UserOut(BaseModel):
    """A hub user (never a hash)."""

    id: str
    username: str
    display_name: str
    role: Role
    tenant_id: str | None
    branch_ids: list[str]
    active: bool
    has_pin: bool


class TokenOut(BaseModel):
    """An API token (never the secret)."""

    id: str
    name: str
    scopes: list[str]
    created_by: str
    created_at: str
    revoked_at: str | None
    expires_at: str
    last_used_at: str | None
    integration_id: str | None = None
    rate_limit_per_minute: int = 120
    revoked_by: str | None = None


class NewTokenOut(TokenOut):
    """A new token with its secret, shown this once."""

    token: str
