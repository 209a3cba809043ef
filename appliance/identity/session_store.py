"""Server-side staff sessions (FR-001, issue 10 item 1): idle, one-shift lifetime, revocation.

The session cookie only carries a random secret; the `staff_sessions` row keyed by its
SHA-256 decides whether it is still good. So a logout, a PIN change or a deactivation (both
arrive in the hub's `staff` down message) ends a session at once and the old cookie answers
401 SESSION_REVOKED; a session unused for the idle timeout, or older than its absolute
lifetime (one shift) even if used every minute, answers SESSION_EXPIRED. Every time comes
from the caller (`now`), so tests drive a fake clock.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from appliance.core.db import select_one, write_txn
from appliance.identity.models import StaffSession
from posdomain.errors import Reason, Unauthenticated

LOGOUT, PIN_CHANGED, DEACTIVATED, REMOVED = "logout", "pin_changed", "deactivated", "removed"
# last use is written at most this often (a write per request would fsync on every scan)
TOUCH_EVERY = timedelta(seconds=30)


@dataclass(frozen=True)
class SessionPolicy:
    """How long a session may sit unused (idle) and live at all (absolute, one shift)."""

    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True)
class StaffFacts:
    """What of a staff row decides whether its sessions survive a staff down message."""

    pin_hash: str
    active: bool
    in_branch: bool


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def open_session(staff_id: str, policy: SessionPolicy, now: datetime) -> str:
    """Record a new session for a staff member who just logged in; return the cookie secret."""
    raw = secrets.token_urlsafe(32)
    with write_txn():
        # sessions that can never be presented successfully again are dropped (table stays small)
        StaffSession.delete().where(
            StaffSession.expires_at < (now - policy.absolute).isoformat()
        ).execute()
        StaffSession.insert(
            id=_digest(raw),
            staff_id=staff_id,
            created_at=now.isoformat(),
            last_seen_at=now.isoformat(),
            expires_at=(now + policy.absolute).isoformat(),
        ).execute()
    return raw


def _check(row: StaffSession | None, policy: SessionPolicy, now: datetime) -> None:
    if row is None:
        raise Unauthenticated("unknown session, log in again", Reason.SESSION_REVOKED)
    if row.revoked_at is not None:
        raise Unauthenticated(
            f"your session was ended ({row.revoked_reason or 'revoked'}); log in again",
            Reason.SESSION_REVOKED,
        )
    if now >= datetime.fromisoformat(row.expires_at):
        raise Unauthenticated("your shift session ended; log in again", Reason.SESSION_EXPIRED)
    if now - datetime.fromisoformat(row.last_seen_at) > policy.idle:
        raise Unauthenticated("your session timed out; log in again", Reason.SESSION_EXPIRED)


_SESSION_SQL = "SELECT * FROM staff_sessions WHERE id = ?"


def resolve(raw: str, policy: SessionPolicy, now: datetime) -> str:
    """The staff id of a live session (its last use moves to `now`), else 401."""
    row = select_one(StaffSession, _SESSION_SQL, (_digest(raw),))
    _check(row, policy, now)
    assert row is not None
    if now - datetime.fromisoformat(row.last_seen_at) >= TOUCH_EVERY:
        with write_txn():
            StaffSession.update(last_seen_at=now.isoformat()).where(
                StaffSession.id == row.id, StaffSession.revoked_at.is_null()
            ).execute()
    return str(row.staff_id)


def revoke(raw: str, reason: str, now: datetime) -> str | None:
    """End one session (logout); the staff id if it was live, None if unknown or ended."""
    with write_txn():
        row = StaffSession.get_or_none(
            StaffSession.id == _digest(raw), StaffSession.revoked_at.is_null()
        )
        if row is None:
            return None
        StaffSession.update(revoked_at=now.isoformat(), revoked_reason=reason).where(
            StaffSession.id == row.id
        ).execute()
    return str(row.staff_id)


def revoke_staff(staff_id: str, reason: str, now: datetime) -> int:
    """End every live session of a staff member; how many ended (caller's transaction)."""
    query = StaffSession.update(revoked_at=now.isoformat(), revoked_reason=reason).where(
        StaffSession.staff_id == staff_id, StaffSession.revoked_at.is_null()
    )
    return int(query.execute())


def change_reason(before: StaffFacts, after: StaffFacts | None) -> str | None:
    """Why a staff change ends that member's sessions (None: they survive)."""
    if after is None or not after.in_branch:
        return REMOVED
    if before.active and not after.active:
        return DEACTIVATED
    if before.pin_hash != after.pin_hash:
        return PIN_CHANGED
    return None


def revoke_changed(
    before: Mapping[str, StaffFacts], after: Mapping[str, StaffFacts], now: datetime
) -> dict[str, str]:
    """End the sessions of every staff member a new staff list removed, deactivated or gave a
    new PIN (caller's transaction: the list and the revocations commit together); who, why."""
    ended: dict[str, str] = {}
    for staff_id, old in before.items():
        reason = change_reason(old, after.get(staff_id))
        if reason is not None and revoke_staff(staff_id, reason, now):
            ended[staff_id] = reason
    return ended
