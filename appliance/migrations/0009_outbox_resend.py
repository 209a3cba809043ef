"""NFR-004: resend requests after a hub restore (the `resend` down kind).

One row per hub restore: the hub's restored high-water mark (`after_seq`), the box's last
seq when the request arrived (`through_seq`) and how far the agent got (`cursor`, the last
seq whose batch the hub acked again). Outbox rows are never deleted and keep their
`acked_at` (the immutability trigger of 0001): the cursor, not a reset of acked_at, drives
the resend, so the backlog counter (0005, 0007) keeps counting only what never reached a hub.
"""

from __future__ import annotations

from peewee import SqliteDatabase

from appliance.migrations import run_sql

STATEMENTS = [
    """CREATE TABLE outbox_resend (
        restore_id TEXT PRIMARY KEY,
        after_seq INTEGER NOT NULL CHECK (after_seq >= 0),
        through_seq INTEGER NOT NULL CHECK (through_seq >= 0),
        cursor INTEGER NOT NULL CHECK (cursor >= 0),
        requested_at TEXT NOT NULL,
        finished_at TEXT)""",
]


def up(db: SqliteDatabase) -> None:
    """Create the resend request table."""
    for statement in STATEMENTS:
        run_sql(db, statement)
