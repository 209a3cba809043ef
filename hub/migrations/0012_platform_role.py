"""Platform scope by role, not by a flag the app role could set itself (P0 probe item 8).

Before: every RLS policy let a transaction past the tenant check when
`current_setting('app.platform', true) = 'on'`, and the app role may call set_config, so
injected SQL in a tenant transaction could widen itself to every tenant. Now the policies
let exactly one role past: `cfpos_platform`, a separate login role that inherits the app
role's table privileges. `cfpos_app` is not a member of it, so neither `SET ROLE` nor any
setting gets a tenant connection there (docs/security.md has the threat model).

Every existing policy naming the flag is rewritten in place (`ALTER POLICY`), so the
tenant conditions each table already had stay exactly as they were.
"""

from __future__ import annotations

import re
from typing import Any

PLATFORM_ROLE = "cfpos_platform"
# the flag as PostgreSQL prints it back, bare or wrapped in a scalar sub-select (the form
# PITFALLS recommends so the setting is read once per query, not once per row)
FLAG = re.compile(
    r"\(*\s*(?:SELECT\s+)?current_setting\('app\.platform'::text, true\)"
    r"(?:\s+AS\s+current_setting\))?\s*\)?\s*=\s*'on'::text\)?"
)
PLATFORM_CHECK = f"(CURRENT_USER = '{PLATFORM_ROLE}'::name)"


def _rewrite(expr: str | None) -> str | None:
    return None if expr is None else FLAG.sub(PLATFORM_CHECK, expr)


def up(ctx: Any) -> None:
    """Point every policy that trusted the flag at the platform role (granted in migrate)."""
    if ctx.dialect != "postgres":
        return
    ctx.cursor.execute(
        "SELECT tablename, policyname, qual, with_check FROM pg_policies "
        "WHERE schemaname = 'public'"
    )
    for table, name, qual, check in ctx.cursor.fetchall():
        if "app.platform" not in f"{qual} {check}":
            continue
        clauses = []
        if qual is not None:
            clauses.append(f"USING ({_rewrite(qual)})")
        if check is not None:
            clauses.append(f"WITH CHECK ({_rewrite(check)})")
        ctx.execute(f'ALTER POLICY "{name}" ON "{table}" {" ".join(clauses)}')
