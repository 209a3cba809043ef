"""Server-side login sessions (FR-001, P0 probe item 1): idle, absolute lifetime, revocation.

The session cookie only carries a random secret; the row keyed by its SHA-256 decides
whether it is still good. So logout, a password change or a deactivation ends a session at
once (the old cookie answers 401 SESSION_REVOKED), a session unused for the idle timeout
ends (SESSION_EXPIRED), and a session used every minute still ends at its absolute lifetime.
Sessions are looked up before the tenant is known, like tokens: one row by primary key in a
platform transaction. Every time comes from the caller (`now`), so tests drive a fake clock.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from hub.core.db import platform_tx
from hub.identity.models import HubSession
from posdomain.errors import Reason, Unauthenticated
from posdomain.permissions import Principal

LOGOUT, PASSWORD_CHANGED, DEACTIVATED = "logout", "password_changed", "deactivated"


@dataclass(frozen=True)
class SessionPolicy:
    """How long a session may sit unused (idle) and live at all (absolute)."""

    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True)
class SessionRef:
    """Who a live session belongs to."""

    user_id: str
    tenant_id: str | None


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def open_session(principal: Principal, policy: SessionPolicy, now: datetime) -> str:
    """Record a new session for a logged-in user; return the secret for the cookie."""
    raw = secrets.token_urlsafe(32)
    with platform_tx():
        # the user's own sessions that can never be used again are dropped (table stays small)
        HubSession.delete().where(
            HubSession.user_id == principal.id, HubSession.expires_at < now
        ).execute()
        HubSession.create(
            id=_digest(raw),
            user_id=principal.id,
            tenant_id=principal.tenant_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + policy.absolute,
        )
    return raw


def _check(row: HubSession | None, policy: SessionPolicy, now: datetime) -> None:
    if row is None:
        raise Unauthenticated("unknown session, log in again", Reason.SESSION_REVOKED)
    if row.revoked_at is not None:
        raise Unauthenticated(
            f"session ended ({row.revoked_reason or 'revoked'}), log in again",
            Reason.SESSION_REVOKED,
        )
    if now >= row.expires_at:
        raise Unauthenticated("session reached its maximum lifetime", Reason.SESSION_EXPIRED)
    if now - row.last_seen_at > policy.idle:
        raise Unauthenticated("session expired after inactivity", Reason.SESSION_EXPIRED)


def resolve(raw: str, policy: SessionPolicy, now: datetime) -> SessionRef:
    """The live session of a cookie secret (its last use moves to `now`), else 401."""
    with platform_tx():
        row = HubSession.get_or_none(HubSession.id == _digest(raw))
        _check(row, policy, now)
        assert row is not None
        HubSession.update(last_seen_at=now).where(HubSession.id == row.id).execute()
    return SessionRef(user_id=str(row.user_id), tenant_id=row.tenant_id)


def revoke(raw: str, reason: str, now: datetime) -> None:
    """End one session (logout); unknown or already ended sessions are left as they are."""
    with platform_tx():
        HubSession.update(revoked_at=now, revoked_reason=reason).where(
            HubSession.id == _digest(raw), HubSession.revoked_at.is_null()
        ).execute()


def revoke_user(user_id: str, reason: str, now: datetime) -> int:
    """End every live session of a user (password change, deactivation); how many ended.

    Runs in the caller's transaction when there is one, so a deactivation and the end of
    its sessions commit together.
    """
    query = HubSession.update(revoked_at=now, revoked_reason=reason).where(
        HubSession.user_id == user_id, HubSession.revoked_at.is_null()
    )
    return int(query.execute())
