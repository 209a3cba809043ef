"""Config kinds are named by the application's schemas (hub/governance/config.py SCHEMAS), so
the database no longer lists them: the fixed CHECK of 0001 refused every kind added since
(`alerting`, `till`). The column keeps a shape check so nothing but a kind name is stored.
"""

from __future__ import annotations

from typing import Any

SHAPE = "kind ~ '^[a-z_]{1,32}$'"
# SQLite (the embedded demo hub) cannot drop a CHECK: the table is rebuilt with the new one
SQLITE_REBUILD = [
    """CREATE TABLE config_versions_new (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), branch_id TEXT,
        kind TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 32 AND kind NOT GLOB '*[^a-z_]*'),
        version INTEGER NOT NULL, body TEXT NOT NULL, actor TEXT NOT NULL,
        reason TEXT NOT NULL, before TEXT, after TEXT NOT NULL, created_at TEXT NOT NULL)""",
    "INSERT INTO config_versions_new SELECT id, tenant_id, branch_id, kind, version, body, "
    "actor, reason, before, after, created_at FROM config_versions",
    "DROP TABLE config_versions",
    "ALTER TABLE config_versions_new RENAME TO config_versions",
    """CREATE UNIQUE INDEX config_versions_uniq
        ON config_versions (tenant_id, COALESCE(branch_id, ''), kind, version)""",
]


def up(ctx: Any) -> None:
    """Replace the fixed list of config kinds by a shape check."""
    if ctx.dialect == "postgres":
        ctx.execute("ALTER TABLE config_versions DROP CONSTRAINT config_versions_kind_check")
        ctx.execute(
            f"ALTER TABLE config_versions ADD CONSTRAINT config_versions_kind_check CHECK ({SHAPE})"
        )
        return
    for stmt in SQLITE_REBUILD:
        ctx.execute(stmt)
