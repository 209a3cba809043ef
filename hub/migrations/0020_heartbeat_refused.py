"""Issue 9 / FR-303, NFR-006: a box's heartbeat carries its refused events.

`box_heartbeats.refused` / `refused_sales`: events (sales) the hub refused that the box still
holds unsettled (neither resolved by head office nor acknowledged at the till), as the box's
last heartbeat reported them; NULL until a box that reports them sends one. Shown per box on
the fleet and sync-health pages and API, and as `cfpos_box_refused_events` /
`cfpos_box_refused_sales` gauges on /metrics.
"""

from __future__ import annotations

from typing import Any

STATEMENTS = [
    "ALTER TABLE box_heartbeats ADD COLUMN refused BIGINT CHECK (refused >= 0)",
    "ALTER TABLE box_heartbeats ADD COLUMN refused_sales BIGINT CHECK (refused_sales >= 0)",
]


def up(ctx: Any) -> None:
    """Add the refused counters of the heartbeat."""
    for stmt in STATEMENTS:
        ctx.execute(stmt)
