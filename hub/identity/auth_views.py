"""Login / logout / whoami (JSON API and portal form)."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request
from flask import session as flask_session
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict, Field

from hub.core.openapi import OkOut, api
from hub.governance.brand import platform_brand
from hub.i18n.reasons import shown_reason
from hub.i18n.request_locale import current_locale
from hub.identity import auth, users
from hub.identity.responses import PasswordChangedOut, SessionOut
from hub.web import csrf_token, current_principal, end_session, parse_body, start_session
from posdomain.errors import PosError, TooManyRequests
from posdomain.permissions import Principal

bp = Blueprint("auth", __name__, template_folder="templates")


class LoginIn(BaseModel):
    """JSON login body."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    # usernames are unique per tenant: name the tenant when two tenants share a username
    tenant_id: str | None = Field(default=None, min_length=1, max_length=64)


class PasswordIn(BaseModel):
    """JSON password change body."""

    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=10, max_length=256)


def _principal_json(p: Principal) -> dict[str, object]:
    return {
        "id": p.id,
        "kind": p.kind,
        "name": p.name,
        "role": p.role.value,
        "tenant_id": p.tenant_id,
        "branch_ids": sorted(p.branch_ids),
        "scopes": sorted(p.scopes),
    }


@bp.post("/api/v1/auth/login")
@api({200: SessionOut}, body=LoginIn, errors=(400, 401, 413, 423, 429), public=True)
def api_login() -> ResponseReturnValue:
    """JSON login: sets the session cookie."""
    body = parse_body(LoginIn)
    principal = auth.login(body.username, body.password, request.remote_addr, body.tenant_id)
    start_session(principal)
    return jsonify({"principal": _principal_json(principal), "csrf_token": csrf_token()})


@bp.post("/api/v1/auth/logout")
@api({200: OkOut}, errors=(400,), public=True)
def api_logout() -> ResponseReturnValue:
    """End the session: the server-side record is revoked, so the old cookie stops working."""
    end_session()
    return jsonify({"ok": True})


@bp.post("/api/v1/auth/password")
@api({200: PasswordChangedOut}, body=PasswordIn, errors=(400, 401, 403, 413))
def api_change_password() -> ResponseReturnValue:
    """Change the caller's password: all their sessions end, this caller gets a new one."""
    principal = current_principal()
    assert principal is not None
    body = parse_body(PasswordIn)
    users.change_password(principal, body.current_password, body.new_password)
    flask_session.clear()  # the server-side record is already revoked
    start_session(principal)
    return jsonify({"ok": True, "csrf_token": csrf_token()})


@bp.get("/api/v1/auth/me")
@api({200: SessionOut}, errors=(400, 401))
def api_me() -> ResponseReturnValue:
    """The calling principal."""
    principal = current_principal()
    assert principal is not None
    return jsonify({"principal": _principal_json(principal), "csrf_token": csrf_token()})


@bp.route("/login", methods=["GET", "POST"])
def login_page() -> ResponseReturnValue:
    """Portal login form."""
    error = None
    if request.method == "POST":
        try:
            principal = auth.login(
                request.form.get("username", ""),
                request.form.get("password", ""),
                request.remote_addr,
                request.form.get("tenant_id") or None,
            )
        except TooManyRequests:
            raise  # 429 page, not a retry prompt
        except PosError as err:
            error = shown_reason(err.reason, current_locale(), err.message)
        else:
            start_session(principal)
            return redirect("/")
    status = 401 if error else 200
    return render_template("login.html", brand=platform_brand(), error=error), status


@bp.post("/logout")
def logout_page() -> ResponseReturnValue:
    """Portal logout (revokes the session like the API logout)."""
    end_session()
    return redirect("/login")
