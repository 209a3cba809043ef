"""Server-side staff sessions (FR-001, issue 10 item 1): the cookie carries only a secret.

`staff_sessions` holds one row per PIN login keyed by the SHA-256 of the cookie's secret:
when it was opened, last used and must end (one shift at most), and when and why it was
revoked (logout, PIN change, deactivation). A row is never deleted while it could still
be presented, so an old cookie answers SESSION_REVOKED rather than "unknown".
"""

from __future__ import annotations

from peewee import SqliteDatabase

from appliance.migrations import run_sql

STATEMENTS = [
    """CREATE TABLE staff_sessions (
        id TEXT PRIMARY KEY, staff_id TEXT NOT NULL, created_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL, expires_at TEXT NOT NULL,
        revoked_at TEXT, revoked_reason TEXT)""",
    "CREATE INDEX staff_sessions_staff_id ON staff_sessions (staff_id)",
]


def up(db: SqliteDatabase) -> None:
    """Create the staff session table."""
    for statement in STATEMENTS:
        run_sql(db, statement)
