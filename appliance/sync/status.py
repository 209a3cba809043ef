"""Till status: online/offline as the sync agent last saw it, backlog and held versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from appliance.core.context import BoxContext
from appliance.devices.health import device_summary
from appliance.risk import modes
from appliance.sync import outbox
from appliance.sync.box_state import get_state, held_versions
from appliance.sync.models import BoxState

AGENT_FRESH = timedelta(seconds=12)  # the agent touches it every 5 s while connected
ACK_FRESH = timedelta(seconds=60)


def _fresh(stamp: str | None, window: timedelta, now: datetime) -> bool:
    return stamp is not None and now - datetime.fromisoformat(stamp) <= window


def _online(state: BoxState, queued: int, now: datetime) -> bool:
    agent_alive = _fresh(state.agent_seen_at, AGENT_FRESH, now)
    hub_recent = _fresh(state.last_ack_at, ACK_FRESH, now)
    return agent_alive and (hub_recent or queued == 0)


def is_online() -> bool:
    """True while the sync agent is connected and the hub answers (what the till calls online)."""
    return _online(get_state(), outbox.queued_count(), datetime.now(UTC))


def box_status(ctx: BoxContext) -> dict[str, Any]:
    """Online only if the agent is alive and the hub acked recently or nothing is waiting;
    with the events the hub refused (kept, never delivered) and the latest of them."""
    state = get_state()
    queued = outbox.queued_count()  # waiting to be sent; refused events are apart
    refused = outbox.refused_count()
    online = _online(state, queued, datetime.now(UTC))
    return {
        "box_id": ctx.config.box_id,
        "till_name": ctx.config.till_name,
        "online": online,
        "queued": queued,
        "queued_sales": outbox.queued_sales_count(),
        "refused": refused,
        "refused_sales": outbox.refused_sales_count(),
        "refused_events": outbox.latest_refused() if refused else [],
        "agent_seen_at": state.agent_seen_at,
        "last_ack_at": state.last_ack_at,
        "versions": held_versions(),
        "audit_chain_ok": not ctx.chain_broken,
        "devices": device_summary(),
        "risk": modes.banner(),
    }


class StatusOut(BaseModel):
    """GET /status: what the cashier screen polls (the OpenAPI response of `box_status`)."""

    box_id: str
    till_name: str
    online: bool
    queued: int
    queued_sales: int
    refused: int = 0  # refused by the hub, not yet resolved or acknowledged (issue 9)
    refused_sales: int = 0
    refused_events: list[dict[str, Any]] = []  # the latest 5 of them
    agent_seen_at: str | None
    last_ack_at: str | None
    versions: dict[str, int]
    audit_chain_ok: bool
    devices: dict[str, Any]
    risk: dict[str, Any] | None = None  # the risk mode in force (null when NORMAL or expired)
