"""Identity API: PIN login, logout and who is logged in on this browser."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from appliance.identity import auth
from appliance.identity.schemas import BadgeLogin, LoginOut, PinLogin
from appliance.identity.session import current_staff, end_session, start_session
from appliance.web.openapi import api
from appliance.web.request import box, json_body
from posdomain.openapi import OkOut

bp = Blueprint("identity", __name__)
V1 = "/api/v1"


def _staff_dict(staff: Any) -> dict[str, Any]:
    return {"id": staff.id, "name": staff.name, "role": staff.role}


@bp.post(f"{V1}/auth/pin")
@api({200: LoginOut}, body=PinLogin, public=True, errors=(400, 401, 403, 413, 423))
def login() -> Response:
    """PIN login (offline against the synced staff list)."""
    body = json_body(PinLogin)
    staff = auth.login_pin(box(), body.pin, body.staff_id)
    start_session(staff)
    return jsonify({"staff": _staff_dict(staff), "till_name": box().config.till_name})


@bp.post(f"{V1}/auth/badge")
@api({200: LoginOut}, body=BadgeLogin, public=True, errors=(400, 401, 403, 413, 423))
def login_badge() -> Response:
    """Badge login (offline against the synced badge digests)."""
    staff = auth.login_badge(box(), json_body(BadgeLogin).badge)
    start_session(staff)
    return jsonify({"staff": _staff_dict(staff), "till_name": box().config.till_name})


@bp.post(f"{V1}/auth/logout")
@api({200: OkOut}, public=True, errors=(400, 413))
def logout() -> Response:
    """End the session server-side (audited if someone was logged in)."""
    staff_id = end_session()
    if staff_id:
        auth.logout(box(), staff_id)
    return jsonify({"ok": True})


@bp.get(f"{V1}/auth/me")
@api({200: LoginOut})
def me() -> Response:
    """Who is logged in on this browser (lets the screen resume after a reload)."""
    staff = current_staff()
    return jsonify({"staff": _staff_dict(staff), "till_name": box().config.till_name})
