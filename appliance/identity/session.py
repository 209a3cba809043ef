"""The staff member behind a request: signed-cookie session, idle timeout, permission checks."""

from __future__ import annotations

import time

from flask import session

from appliance.identity import auth
from appliance.identity.models import Staff
from appliance.web.request import box
from posdomain.errors import Reason, Unauthenticated
from posdomain.permissions import Action, Principal, authorize


def start_session(staff: Staff) -> None:
    """Bind the staff member to a fresh signed-cookie session."""
    session.clear()
    session["staff_id"] = staff.id
    session["seen"] = time.time()


def current_staff() -> Staff:
    """The logged-in staff member; 401 SESSION_EXPIRED after the idle timeout."""
    ctx = box()
    seen = session.get("seen")
    idle = ctx.config.session_idle_minutes * 60
    if session.get("staff_id") and (
        not isinstance(seen, (int, float)) or time.time() - seen > idle
    ):
        session.clear()
        raise Unauthenticated("your session timed out; log in again", Reason.SESSION_EXPIRED)
    staff = auth.current_staff(ctx, session.get("staff_id"))
    session["seen"] = time.time()
    return staff


def principal() -> Principal:
    """The logged-in staff member as a permission principal."""
    return auth.principal_for(box(), current_staff())


def require(action: Action) -> Staff:
    """The logged-in staff member, allowed `action` in this box's branch (else 401/403)."""
    staff = current_staff()
    ctx = box()
    authorize(
        auth.principal_for(ctx, staff),
        action,
        tenant_id=ctx.config.tenant_id,
        branch_id=ctx.config.branch_id,
    )
    return staff
