"""Device service tables: durable receipt print queue, device status, scans, drawer results.

Drawer kicks are deliberately NOT queued: `drawer_log` only records what happened to
a kick at the moment it was asked for (a kick replayed late opens the drawer in front
of nobody).
"""

from __future__ import annotations

from peewee import SqliteDatabase

from appliance.migrations import run_sql

STATEMENTS = [
    """CREATE TABLE print_jobs (
        id INTEGER PRIMARY KEY, ref TEXT NOT NULL, copy_no INTEGER NOT NULL DEFAULT 0,
        kind TEXT NOT NULL DEFAULT 'receipt', payload TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'queued'
            CHECK (state IN ('queued', 'printing', 'done', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,
        next_attempt_at TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        UNIQUE (ref, copy_no))""",
    "CREATE INDEX print_jobs_due ON print_jobs (next_attempt_at) WHERE state = 'queued'",
    """CREATE TABLE device_status (
        name TEXT PRIMARY KEY, kind TEXT NOT NULL, path TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL, online INTEGER NOT NULL, detail TEXT NOT NULL DEFAULT '',
        last_error TEXT NOT NULL DEFAULT '', last_seen TEXT, updated_at TEXT NOT NULL)""",
    """CREATE TABLE scan_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT NOT NULL, source TEXT NOT NULL,
        created_at TEXT NOT NULL)""",
    """CREATE TABLE drawer_log (
        id INTEGER PRIMARY KEY, ref TEXT NOT NULL, reason TEXT NOT NULL,
        ok INTEGER NOT NULL, error TEXT NOT NULL DEFAULT '', at TEXT NOT NULL)""",
    "CREATE INDEX drawer_log_ref ON drawer_log (ref)",
]


def up(db: SqliteDatabase) -> None:
    """Create the device tables."""
    for statement in STATEMENTS:
        run_sql(db, statement)
