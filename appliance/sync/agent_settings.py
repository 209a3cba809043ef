"""The sync agent's tuning knobs and its reconnect backoff (a leaf of appliance.sync)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from posdomain.envelope import MAX_BATCH_EVENTS
from posdomain.flow import ABSENT_HOLD, WINDOW


@dataclass(frozen=True)
class AgentSettings:
    """Tuning knobs of the agent loop."""

    batch_size: int = MAX_BATCH_EVENTS  # the protocol maximum; also capped at 256 KiB
    window: int = WINDOW  # batches sent before the first one's ack (1: one in flight)
    ack_timeout: float = 5.0  # without a flow signal from the hub (posdomain/flow.py)
    ack_wait_hold: float = 20.0  # one hub flow signal holds the wait at most this long
    ack_wait_cap: float = 600.0  # the hub's flow signals never stretch the wait past this
    absent_hold: float = ABSENT_HOLD  # ack waits held at most this long while the hub is absent
    idle_poll: float = 0.5
    heartbeat_every: float = 5.0
    backoff_base: float = 0.5
    backoff_cap: float = 2.0  # link back -> first batch within NFR-003 5 s
    catalog_timeout: float = 10.0  # re-ask for catalog chunks after this long without one
    cards_poll: float = 60.0  # ask for card-directory changes this often while online


def backoff_delay(failures: int, settings: AgentSettings) -> float:
    """Exponential backoff with full jitter, capped."""
    ceiling = min(settings.backoff_cap, settings.backoff_base * (2 ** min(failures, 10)))
    return random.uniform(ceiling / 2, ceiling)
