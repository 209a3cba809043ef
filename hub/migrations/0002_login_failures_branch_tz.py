"""Per-IP login failure log (FR-001 rate limit) and inheritable branch time zones.

`login_failures` is written before any tenant is known (like `quarantine`), so it has
no tenant column and no RLS; the app role may insert, read and prune it. Keeping it in
the database (not process memory) makes the limit hold across gunicorn workers.

On PostgreSQL `branches.timezone` becomes nullable: NULL means "use the tenant's
pricing config `timezone`, else UTC". The SQLite demo fallback keeps its 'UTC' default.
"""

from __future__ import annotations

from typing import Any

APP_ROLE = "cfpos_app"

TABLES = [
    """CREATE TABLE login_failures (
        id {SERIAL}, client_ip TEXT NOT NULL, failed_at {TS} NOT NULL)""",
    "CREATE INDEX login_failures_ip_at ON login_failures (client_ip, failed_at)",
]

PG_EXTRA = [
    "ALTER TABLE branches ALTER COLUMN timezone DROP NOT NULL",
    "ALTER TABLE branches ALTER COLUMN timezone DROP DEFAULT",
    f"GRANT SELECT, INSERT, DELETE ON login_failures TO {APP_ROLE}",
    f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}",
]


def up(ctx: Any) -> None:
    """Create login_failures; on PostgreSQL grant it and relax branches.timezone."""
    for stmt in TABLES:
        ctx.execute(stmt)
    if ctx.dialect == "postgres":
        for stmt in PG_EXTRA:
            ctx.execute(stmt)
