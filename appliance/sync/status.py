"""Till status: online/offline as the sync agent last saw it, backlog and held versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from appliance.core.context import BoxContext
from appliance.devices.health import device_summary
from appliance.risk import modes
from appliance.sync import outbox
from appliance.sync.box_state import get_state, held_versions

AGENT_FRESH = timedelta(seconds=12)  # the agent touches it every 5 s while connected
ACK_FRESH = timedelta(seconds=60)


def _fresh(stamp: str | None, window: timedelta, now: datetime) -> bool:
    return stamp is not None and now - datetime.fromisoformat(stamp) <= window


def box_status(ctx: BoxContext) -> dict[str, Any]:
    """Online only if the agent is alive and the hub acked recently or nothing is waiting;
    with the events the hub refused (kept, never delivered) and the latest of them."""
    state = get_state()
    now = datetime.now(UTC)
    queued = outbox.queued_count()  # waiting to be sent; refused events are apart
    refused = outbox.refused_count()
    agent_alive = _fresh(state.agent_seen_at, AGENT_FRESH, now)
    hub_recent = _fresh(state.last_ack_at, ACK_FRESH, now)
    online = agent_alive and (hub_recent or queued == 0)
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
