"""Hub identity (FR-001/002): password login with lockout, sessions, hashed API tokens.

Login and token lookups happen before any tenant is known, so they run in a
platform transaction (the separate platform database role, hub.core.db) that reads
rows by a key: the username (unique per tenant, so a name two tenants share is told
apart by the optional tenant id or by whose password matches) or the token hash.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hub.core.db import db, is_postgres, platform_tx, tenant_tx
from hub.core.models import utcnow
from hub.governance import audit
from hub.identity import ratelimit
from hub.identity.models import ApiToken, Integration, LoginFailure, User
from hub.identity.ratelimit import RateState
from posdomain import api_tokens
from posdomain.audit_chain import Severity
from posdomain.errors import (
    HubReason,
    Locked,
    PosError,
    Reason,
    TooManyRequests,
    Unauthenticated,
)
from posdomain.permissions import Principal, Role

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
IP_MAX_FAILURES = 20
IP_WINDOW = timedelta(minutes=5)
MAX_SAME_NAME = 8  # tenants sharing one username that a login without tenant id tries
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_secret(secret: str) -> str:
    """Argon2id hash of a password or PIN."""
    return _hasher.hash(secret)


def verify_secret(stored: str, secret: str) -> bool:
    """True if `secret` matches the argon2 hash `stored`."""
    try:
        return _hasher.verify(stored, secret)
    except (VerificationError, InvalidHashError):
        return False


def principal_for_user(user: User) -> Principal:
    """The Principal a hub user acts as."""
    return Principal(
        kind="user",
        id=user.id,
        role=Role(user.role),
        tenant_id=user.tenant_id,
        branch_ids=frozenset(user.branch_ids or []),
        name=user.display_name,
    )


@dataclass
class _Outcome:
    principal: Principal | None = None
    error: PosError | None = None


def _failed(user: User, now: datetime) -> _Outcome:
    user.failed_logins += 1
    locked = user.failed_logins >= MAX_FAILED_LOGINS
    if locked:
        user.locked_until = now + LOCKOUT
        user.failed_logins = 0
    user.updated_at = now
    user.save()
    who = principal_for_user(user)
    action = "auth.locked_out" if locked else "auth.login_failed"
    audit.record(who, action, f"user:{user.id}", Severity.WARN, {"username": user.username})
    if locked:
        return _Outcome(error=Locked("too many failed logins", Reason.ACCOUNT_LOCKED))
    return _Outcome(error=Unauthenticated("wrong username or password", Reason.BAD_CREDENTIALS))


def _candidate(username: str, password: str, tenant_id: str | None) -> User | None:
    """The user a login names: usernames are unique per tenant, not across tenants."""
    query = User.select().where(User.username == username)
    if tenant_id is not None:
        query = query.where(User.tenant_id == tenant_id)
    users = list(query.order_by(User.id).limit(MAX_SAME_NAME))
    if len(users) <= 1:
        return users[0] if users else None
    matching = [u for u in users if verify_secret(u.password_hash, password)]
    return matching[0] if len(matching) == 1 else None


def _attempt(username: str, password: str, tenant_id: str | None = None) -> _Outcome:
    now = utcnow()
    user = _candidate(username, password, tenant_id)
    if user is None:
        verify_secret(_DUMMY_HASH, password)  # same cost as a real check
        audit.record(None, "auth.login_failed", f"username:{username[:64]}", Severity.WARN)
        return _Outcome(error=Unauthenticated("wrong username or password", Reason.BAD_CREDENTIALS))
    who = principal_for_user(user)
    if user.locked_until and user.locked_until > now:
        audit.record(who, "auth.login_locked", f"user:{user.id}", Severity.WARN)
        return _Outcome(error=Locked("account locked, try again later", Reason.ACCOUNT_LOCKED))
    if not verify_secret(user.password_hash, password):
        return _failed(user, now)
    if not user.active:
        audit.record(who, "auth.login_inactive", f"user:{user.id}", Severity.WARN)
        return _Outcome(error=Unauthenticated("account is inactive", Reason.ACCOUNT_INACTIVE))
    user.failed_logins = 0
    user.locked_until = None
    user.save()
    audit.record(who, "auth.login", f"user:{user.id}")
    return _Outcome(principal=who)


def _ip_failures(client_ip: str, now: datetime) -> int:
    """Failures from `client_ip` inside the window (serialised per IP, old rows pruned)."""
    if is_postgres():
        db.execute_sql("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"login-ip:{client_ip}",))
    since = now - IP_WINDOW
    LoginFailure.delete().where(
        LoginFailure.client_ip == client_ip, LoginFailure.failed_at < since
    ).execute()
    query = LoginFailure.select().where(
        LoginFailure.client_ip == client_ip, LoginFailure.failed_at >= since
    )
    return int(query.count())


def _rate_limited(client_ip: str) -> _Outcome:
    audit.record(
        None,
        "auth.rate_limited",
        f"ip:{client_ip[:64]}",
        Severity.WARN,
        {"limit": IP_MAX_FAILURES, "window_seconds": int(IP_WINDOW.total_seconds())},
    )
    return _Outcome(
        error=TooManyRequests(
            "too many failed logins from this address, try again later",
            details={"retry_after_seconds": int(IP_WINDOW.total_seconds())},
        )
    )


def login(
    username: str, password: str, client_ip: str | None = None, tenant_id: str | None = None
) -> Principal:
    """Check a password login; audit either way.

    Two limits apply: the account locks after 5 failures for 15 min, and a client
    address gets 429 LOGIN_RATE_LIMITED after 20 failures in 5 min (any usernames).
    The per-IP count lives in the database so every gunicorn worker shares it.
    """
    with platform_tx():
        now = utcnow()
        if client_ip and _ip_failures(client_ip, now) >= IP_MAX_FAILURES:
            outcome = _rate_limited(client_ip)
        else:
            outcome = _attempt(username, password, tenant_id)
            if outcome.error is not None and client_ip:
                LoginFailure.create(client_ip=client_ip, failed_at=now)
    if outcome.error is not None:
        raise outcome.error
    assert outcome.principal is not None
    return outcome.principal


def load_user_principal(user_id: str, tenant_id: str | None) -> Principal:
    """Re-read a session's user so deactivation and role changes apply on the next request."""
    ctx = tenant_tx(tenant_id) if tenant_id else platform_tx()
    with ctx:
        user = User.get_or_none(User.id == user_id)
    if user is None or not user.active:
        raise Unauthenticated("account is inactive", Reason.ACCOUNT_INACTIVE)
    return principal_for_user(user)


def token_digest(raw: str) -> str:
    """SHA-256 hex of a raw API token (the only form stored)."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TokenAuth:
    """A resolved bearer token: who it acts as and where it stands in its rate window."""

    principal: Principal
    rate: RateState


def _token_refusal(token: ApiToken | None, now: datetime) -> PosError | None:
    if token is None:
        return Unauthenticated("unknown API token", Reason.BAD_CREDENTIALS)
    if token.revoked_at is not None:
        return Unauthenticated("API token revoked", Reason.TOKEN_REVOKED)
    if now >= token.expires_at:
        return Unauthenticated(
            "API token expired: issue a new one",
            Reason.TOKEN_EXPIRED,
            {"expired_at": token.expires_at.isoformat()},
        )
    if token.integration_id is not None:
        integration = Integration.get_or_none(Integration.id == token.integration_id)
        if integration is None or not integration.enabled:
            return Unauthenticated(
                "the integration of this token is switched off",
                HubReason.INTEGRATION_DISABLED,
            )
    return None


def authenticate_token(raw: str, now: datetime | None = None) -> TokenAuth:
    """The INTEGRATION principal of a bearer token and its rate state, or 401/429.

    Refused without a lookup when it is not a well-formed token (prefix and checksum,
    posdomain.api_tokens); 401 when unknown, revoked, expired or its integration is switched
    off (the kill switch, FR-P7-1011); 429 TOKEN_RATE_LIMITED over its per-minute limit. A
    good token's `last_used_at` moves to `now`, so owners can see which tokens are idle.
    """
    now = now or utcnow()
    if not api_tokens.well_formed(raw):
        raise Unauthenticated("not an API token of this hub", Reason.BAD_CREDENTIALS)
    error: PosError | None = None
    with platform_tx():
        token = ApiToken.get_or_none(ApiToken.token_hash == token_digest(raw))
        error = _token_refusal(token, now)
        if error is None:
            assert token is not None
            ApiToken.update(last_used_at=now).where(ApiToken.id == token.id).execute()
            rate, hits = ratelimit.count(token, now)
            if hits > rate.limit:
                error = ratelimit.refuse(token, rate, first=hits == rate.limit + 1)
    if error is not None:
        raise error
    assert token is not None
    principal = Principal(
        kind="token",
        id=token.id,
        role=Role.INTEGRATION,
        tenant_id=token.tenant_id,
        scopes=frozenset(token.scopes or []),
        name=token.name,
    )
    return TokenAuth(principal, rate)


def resolve_token(raw: str, now: datetime | None = None) -> Principal:
    """The INTEGRATION principal of a bearer token, or 401 / 429 (see authenticate_token)."""
    return authenticate_token(raw, now).principal


def new_token_secret() -> tuple[str, str]:
    """(id, raw token) for a new API token; the raw value is shown once only."""
    return uuid.uuid4().hex, api_tokens.new_token()
