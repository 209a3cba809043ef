"""The risk mode in force on this box, from the last applied `risk` down message.

The body's `mode_state` (posdomain.contract.RiskModeState) is stored in config_doc by the
down-message apply, so a box restarted offline keeps it. Past `expires_at` (box clock) the
mode is NORMAL again without any message. A leaf: config_docs and posdomain only.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pydantic import ValidationError as PydanticValidationError

from appliance.catalog.config_docs import body_texts
from posdomain.contract import RiskMode, RiskModeState

_parsed: dict[str | None, RiskModeState] = {}


def stored() -> RiskModeState:
    """The mode state as the hub last sent it (NORMAL before any, or if unreadable); parsed
    once per stored text (the risk guard asks on every write request)."""
    text = body_texts("risk").get("risk")
    state = _parsed.get(text)
    if state is None:
        state = _parse(None if text is None else json.loads(text))
        _parsed.clear()
        _parsed[text] = state
    return state.model_copy()


def _parse(body: object) -> RiskModeState:
    raw = body.get("mode_state") if isinstance(body, dict) else None
    if not isinstance(raw, dict):
        return RiskModeState()
    try:
        return RiskModeState.model_validate(raw)
    except PydanticValidationError:
        return RiskModeState()  # checked when applied; an old box body never blocks a till


def expired(state: RiskModeState, now: datetime | None = None) -> bool:
    """True once the box clock is at or past the mode's expiry (an unreadable one: never)."""
    if not state.expires_at:
        return False
    try:
        until = datetime.fromisoformat(state.expires_at)
    except ValueError:
        return False
    if until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    return (now or datetime.now(UTC)) >= until


def effective(now: datetime | None = None) -> RiskModeState:
    """The mode in force now: the stored one, or NORMAL once it expired."""
    state = stored()
    if state.mode != RiskMode.NORMAL and expired(state, now):
        return RiskModeState()
    return state


def enforced(now: datetime | None = None) -> RiskModeState | None:
    """The mode that refuses actions now (READ_ONLY or BLOCK with enforcement on), else None."""
    state = effective(now)
    if state.enforced and state.mode in (RiskMode.READ_ONLY, RiskMode.BLOCK):
        return state
    return None


def banner(now: datetime | None = None) -> dict[str, object] | None:
    """What the till shows above the basket while a mode other than NORMAL is in force."""
    state = effective(now)
    if state.mode == RiskMode.NORMAL:
        return None
    return {
        "mode": state.mode.value,
        "reason_code": state.reason_code,
        "reason": state.reason,
        "enforced": state.enforced,
        "expires_at": state.expires_at,
        "scope": state.scope,
    }
