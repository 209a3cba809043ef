"""Monthly partitions of the sale-line facts (`report_lines`, partitioned by business month
since migration 0022) that never run out: the `report_partitions` job of the hub scheduler
(hub/ops/scheduler.py, daily) creates the partitions of this month and the next
`AHEAD_MONTHS` months, and gives every month whose lines landed in the DEFAULT partition (a
sale dated past the last partition, or before the first) its own partition, moving those
lines over in the same transaction. Until then the DEFAULT partition holds them: a sale of any
date is stored and reported, only without partition pruning.

Every new partition gets RLS ENABLE + FORCE, the tenant policy and SELECT only for the app
role, like the ones 0022 created (writes go through the parent). Runs with the admin (owner)
DSN: the app role may not create tables. Idempotent; one transaction: ingest waits for it
while lines move (the DEFAULT partition is detached and attached again), nothing is lost.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import psycopg2

from hub.core.rls import tenant_table

PARENT, DEFAULT = "report_lines", "report_lines_default"
AHEAD_MONTHS = 24
# months found in DEFAULT further off than this stay there (a forged date makes no tables)
SPAN_YEARS = 20


def _month(year: int, month: int) -> tuple[str, str, str]:
    nxt = (year + 1, 1) if month == 12 else (year, month + 1)
    return (
        f"{PARENT}_{year}_{month:02d}",
        f"{year}-{month:02d}-01",
        f"{nxt[0]}-{nxt[1]:02d}-01",
    )


def months_ahead(today: date, ahead: int = AHEAD_MONTHS) -> list[tuple[str, str, str]]:
    """(name, first day, first day of the next month) of this month and `ahead` more."""
    out = []
    for n in range(ahead + 1):
        index = today.year * 12 + today.month - 1 + n
        out.append(_month(index // 12, index % 12 + 1))
    return out


def _existing(cur: Any) -> set[str]:
    cur.execute(
        """SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s""",
        (PARENT,),
    )
    return {r[0] for r in cur.fetchall()}


def _stranded(cur: Any, today: date) -> list[tuple[str, str, str]]:
    """The months of the lines held in DEFAULT (within SPAN_YEARS of today)."""
    cur.execute(
        f"""SELECT DISTINCT substr(business_day, 1, 7) FROM {DEFAULT}
            WHERE business_day ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}$'"""
    )
    out = []
    for (ym,) in cur.fetchall():
        year, month = int(ym[:4]), int(ym[5:7])
        if abs(year - today.year) <= SPAN_YEARS and 1 <= month <= 12:
            out.append(_month(year, month))
    return sorted(out)


def ensure(admin_url: str, today: date | None = None, ahead: int = AHEAD_MONTHS) -> dict[str, Any]:
    """Create the missing monthly partitions (ahead of `today` and for lines in DEFAULT);
    {"created": [names], "moved": lines moved out of DEFAULT}."""
    today = today or datetime.now(UTC).date()
    conn = psycopg2.connect(admin_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT set_config('app.platform', 'on', true)")
            cur.execute(f"LOCK TABLE {PARENT} IN SHARE ROW EXCLUSIVE MODE")
            have = _existing(cur)
            stranded = [m for m in _stranded(cur, today) if m[0] not in have]
            plain = [m for m in months_ahead(today, ahead) if m[0] not in have]
            plain = [m for m in plain if m not in stranded]
            created, moved = [], 0
            for name, first, nxt in plain:
                cur.execute(
                    f"CREATE TABLE {name} PARTITION OF {PARENT}"
                    f" FOR VALUES FROM ('{first}') TO ('{nxt}')"
                )
                created.append(name)
            if stranded:
                cur.execute(f"ALTER TABLE {PARENT} DETACH PARTITION {DEFAULT}")
                for name, first, nxt in stranded:
                    cur.execute(
                        f"CREATE TABLE {name} PARTITION OF {PARENT}"
                        f" FOR VALUES FROM ('{first}') TO ('{nxt}')"
                    )
                    cur.execute(
                        f"""WITH gone AS (DELETE FROM {DEFAULT} WHERE business_day >= %s
                            AND business_day < %s RETURNING *)
                            INSERT INTO {PARENT} SELECT * FROM gone""",
                        (first, nxt),
                    )
                    moved += cur.rowcount
                    created.append(name)
                cur.execute(f"ALTER TABLE {PARENT} ATTACH PARTITION {DEFAULT} DEFAULT")
            for name in created:
                for stmt in tenant_table(name, "SELECT"):
                    cur.execute(stmt)
        return {"created": created, "moved": moved}
    finally:
        conn.close()
