"""Row-level security statements for a new tenant table, written once for every migration.

A tenant-owned table gets ENABLE + FORCE row-level security and one policy: rows of the
transaction's tenant (`app.tenant_id`, set transaction-locally by `tenant_tx`), or any row for
the platform login `cfpos_platform` (docs/security.md: the app role cannot become it). The
setting is read through a scalar sub-select so PostgreSQL evaluates it once per query, not per
row (PITFALLS "RLS policies that call current_setting() per row are slow").
"""

from __future__ import annotations

APP_ROLE = "cfpos_app"
PLATFORM_ROLE = "cfpos_platform"
TENANT = "(SELECT nullif(current_setting('app.tenant_id', true), ''))"
PLATFORM = f"CURRENT_USER = '{PLATFORM_ROLE}'"


def tenant_table(
    table: str, grants: str = "SELECT, INSERT, UPDATE", column: str = "tenant_id"
) -> list[str]:
    """ENABLE/FORCE RLS, the tenant-or-platform policy and the app role's grants."""
    cond = f"{column} = {TENANT} OR {PLATFORM}"
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY {table}_scope ON {table} USING ({cond}) WITH CHECK ({cond})",
        f"GRANT {grants} ON {table} TO {APP_ROLE}",
    ]


def platform_table(table: str, grants: str = "SELECT, INSERT, UPDATE") -> list[str]:
    """A table only platform transactions may touch (backups, drills)."""
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY {table}_scope ON {table} USING ({PLATFORM}) WITH CHECK ({PLATFORM})",
        f"GRANT {grants} ON {table} TO {APP_ROLE}",
    ]
