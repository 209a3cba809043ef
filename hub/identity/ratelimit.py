"""Per-token rate limits (FR-P7-1012): a fixed one-minute window counted in the database.

Every gunicorn worker shares the count (one upserted row per token and minute, in the
token lookup's platform transaction). The answer carries the standard headers of the IETF
RateLimit draft: ``RateLimit-Limit``, ``RateLimit-Remaining``, ``RateLimit-Reset``
(seconds to the window's end) and ``RateLimit-Policy`` (``<limit>;w=60``); a request over
the limit is ``429 TOKEN_RATE_LIMITED`` with ``Retry-After``. The first refusal of a window
is audited (not every one: a runaway client must not flood the audit chain).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from hub.governance import audit
from hub.identity.models import ApiToken, ApiTokenUsage
from posdomain.audit_chain import Severity
from posdomain.errors import HubReason, TooManyRequests

WINDOW_S = 60
KEEP = timedelta(days=1)


@dataclass(frozen=True)
class RateState:
    """Where a token stands in its current window."""

    limit: int
    remaining: int
    reset_s: int

    def headers(self) -> dict[str, str]:
        """The RateLimit response headers (plus Retry-After once exhausted)."""
        out = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_s),
            "RateLimit-Policy": f"{self.limit};w={WINDOW_S}",
        }
        if self.remaining == 0:
            out["Retry-After"] = str(self.reset_s)
        return out


def window_of(now: datetime) -> datetime:
    """Start of the minute `now` falls in."""
    return now.replace(second=0, microsecond=0)


def count(token: ApiToken, now: datetime) -> tuple[RateState, int]:
    """Count one request of `token` (caller's platform transaction); (state, hits so far)."""
    start = window_of(now)
    (
        ApiTokenUsage.insert(
            token_id=token.id, tenant_id=token.tenant_id, window_start=start, hits=1
        )
        .on_conflict(
            conflict_target=[ApiTokenUsage.token_id, ApiTokenUsage.window_start],
            update={ApiTokenUsage.hits: ApiTokenUsage.hits + 1},
        )
        .execute()
    )
    hits = int(
        ApiTokenUsage.select(ApiTokenUsage.hits)
        .where(ApiTokenUsage.token_id == token.id, ApiTokenUsage.window_start == start)
        .scalar()
    )
    if hits == 1:  # a new window: forget yesterday's counts of this token
        ApiTokenUsage.delete().where(
            ApiTokenUsage.token_id == token.id, ApiTokenUsage.window_start < start - KEEP
        ).execute()
    limit = int(token.rate_limit_per_minute)
    reset = max(1, int((start + timedelta(seconds=WINDOW_S) - now).total_seconds()))
    state = RateState(limit=limit, remaining=max(0, limit - hits), reset_s=reset)
    return state, hits


class RateLimited(TooManyRequests):
    """429 for a token over its limit, carrying the state for the response headers."""

    def __init__(self, state: RateState) -> None:
        super().__init__(
            f"rate limit of {state.limit} requests per minute reached",
            HubReason.TOKEN_RATE_LIMITED,
            {"retry_after_seconds": state.reset_s, "limit_per_minute": state.limit},
        )
        self.state = state


def refuse(token: ApiToken, state: RateState, first: bool) -> RateLimited:
    """The 429 for a token over its limit (the first of a window audited in its tenant)."""
    if first:
        audit.append(
            token.tenant_id,
            f"token:{token.id}",
            "token.rate_limited",
            f"token:{token.id}",
            Severity.WARN,
            {"limit_per_minute": state.limit},
        )
    return RateLimited(state)
