"""Ingest integrity (FR-303, NFR-005): refused events keep their seq and their evidence.

* `ingested_events.outcome` ('applied' | 'quarantined') and `reason`: an event the hub
  refused on its own fresh seq still holds that seq (the box's queue drains); a redelivery
  is answered `rejected` again with the stored reason, never `duplicates`.
  `digest` (sha256 of the event's canonical JSON) tells a true redelivery from another event
  carrying a known id: only the same id with the same digest is a duplicate.
* `quarantine.event_id`, `seq`, `event_type`, `digest`: a single refused event is
  quarantined on its own (not the whole message), once per (box, digest).
* `reconciliation_items.severity` ('INFO' | 'WARN' | 'CRITICAL'; existing rows 'WARN').
"""

from __future__ import annotations

from typing import Any

STATEMENTS = [
    "ALTER TABLE ingested_events ADD COLUMN outcome TEXT NOT NULL DEFAULT 'applied' "
    "CHECK (outcome IN ('applied', 'quarantined'))",
    "ALTER TABLE ingested_events ADD COLUMN reason TEXT",
    "ALTER TABLE ingested_events ADD COLUMN digest TEXT",
    "ALTER TABLE quarantine ADD COLUMN event_id TEXT",
    "ALTER TABLE quarantine ADD COLUMN seq BIGINT",
    "ALTER TABLE quarantine ADD COLUMN event_type TEXT",
    "ALTER TABLE quarantine ADD COLUMN digest TEXT",
    "CREATE UNIQUE INDEX quarantine_event_once ON quarantine (box_id, digest) "
    "WHERE digest IS NOT NULL",
    "ALTER TABLE reconciliation_items ADD COLUMN severity TEXT NOT NULL DEFAULT 'WARN' "
    "CHECK (severity IN ('INFO', 'WARN', 'CRITICAL'))",
    "CREATE INDEX reconciliation_items_severity ON reconciliation_items "
    "(tenant_id, state, severity)",
]


def up(ctx: Any) -> None:
    """Add the outcome/digest/severity columns and the per-event quarantine index."""
    for stmt in STATEMENTS:
        ctx.execute(stmt)
