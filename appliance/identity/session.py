"""The staff member behind a request: server-side session (cookie = secret), permission checks.

The signed Flask cookie holds only `sid`, the secret of a `staff_sessions` row
(`session_store`): logout, PIN change and deactivation revoke the row, so the old cookie
answers 401 SESSION_REVOKED; idle timeout and the one-shift lifetime answer SESSION_EXPIRED.
"""

from __future__ import annotations

from datetime import timedelta

from flask import g, session

from appliance.core.context import BoxContext
from appliance.identity import auth, session_store
from appliance.identity.models import Staff
from appliance.web.request import box
from posdomain.errors import PosError, Reason, Unauthenticated
from posdomain.permissions import Action, Principal, authorize


def policy(ctx: BoxContext) -> session_store.SessionPolicy:
    """The box's session timing from its config."""
    return session_store.SessionPolicy(
        idle=timedelta(minutes=ctx.config.session_idle_minutes),
        absolute=timedelta(hours=ctx.config.session_shift_hours),
    )


def start_session(staff: Staff) -> None:
    """Record a fresh server-side session for the staff member and bind its secret."""
    ctx = box()
    raw = session_store.open_session(staff.id, policy(ctx), ctx.clock())
    g.pop("session_staff", None)
    session.clear()
    session["sid"] = raw


def end_session() -> str | None:
    """Revoke this browser's session (logout); the staff id if one was live."""
    raw = session.get("sid")
    g.pop("session_staff", None)
    session.clear()
    if not isinstance(raw, str) or not raw:
        return None
    return session_store.revoke(raw, session_store.LOGOUT, box().clock())


def _resolve(ctx: BoxContext, raw: str) -> str:
    """The staff id of a live session; looked up once per request (the risk guard and the
    view both ask), a failure is not remembered (it answers 401 again)."""
    known = g.get("session_staff")
    if known is not None and known[0] == raw:
        return str(known[1])
    staff_id = session_store.resolve(raw, policy(ctx), ctx.clock())
    g.session_staff = (raw, staff_id)
    return staff_id


def _session_staff_id(ctx: BoxContext) -> str:
    raw = session.get("sid")
    if isinstance(raw, str) and raw:
        try:
            return _resolve(ctx, raw)
        except PosError:
            session.clear()
            raise
    if session.get("staff_id"):  # a cookie from before server-side sessions
        session.clear()
        raise Unauthenticated("your session was ended; log in again", Reason.SESSION_REVOKED)
    raise Unauthenticated("log in with your PIN first", Reason.AUTH_REQUIRED)


def live_staff_id() -> str | None:
    """The staff id of this browser's live session, or None (no cookie, ended, expired);
    never raises, never clears the cookie (the view answers the 401)."""
    raw = session.get("sid")
    if not isinstance(raw, str) or not raw:
        return None
    try:
        return _resolve(box(), raw)
    except PosError:
        return None


def current_staff() -> Staff:
    """The logged-in staff member; 401 AUTH_REQUIRED / SESSION_EXPIRED / SESSION_REVOKED."""
    ctx = box()
    return auth.current_staff(ctx, _session_staff_id(ctx))


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
