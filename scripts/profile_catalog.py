"""Profile the hub's catalog CSV import in-process (issue 15 item 7).

    python -m scripts.profile_catalog [--rows 100000 --top 30 --plain]

A throwaway PostgreSQL database (as `bench_hub`), migrated, a fresh bench tenant; the import
of N generated products (`hub.demo.catalog_bench.generate_csv`) through
`hub.catalog.csv_import.import_csv` under cProfile (`--plain`: without it), on the app role.
Prints the top functions by cumulative time and the seconds spent per SQL statement head.
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import pstats
import time
import uuid
from typing import Any

from hub.catalog.csv_import import import_csv
from hub.core import db as hub_db
from hub.demo.catalog_bench import generate_csv, make_bench_tenant
from hub.migrate import migrate
from posdomain.permissions import Principal, Role, Scope
from scripts.bench_hub import ADMIN
from scripts.demo import drop_database


def _time_statements(spent: dict[str, list[float]]) -> None:
    """Accumulate (calls, seconds) per statement head on the hub database."""
    cls: Any = type(hub_db.db.obj)
    inner = cls.execute_sql

    def timed(self: Any, sql: str, params: Any = None, *a: Any, **kw: Any) -> Any:
        started = time.perf_counter()
        try:
            return inner(self, sql, params, *a, **kw)
        finally:
            entry = spent.setdefault(" ".join(sql.split())[:90], [0, 0.0])
            entry[0] += 1
            entry[1] += time.perf_counter() - started

    cls.execute_sql = timed


def main() -> int:
    """Profile and print."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--plain", action="store_true", help="no cProfile: the bare import time")
    args = ap.parse_args()
    logging.disable(logging.INFO)
    import psycopg2

    name = f"cfpos_prof_{uuid.uuid4().hex[:8]}"
    conn = psycopg2.connect(f"{ADMIN}/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    try:
        migrate(f"{ADMIN}/{name}")
        hub_db.bind(f"postgresql://cfpos_app@127.0.0.1:5432/{name}")
        tenant_id = make_bench_tenant()
        who = Principal(kind="system", id="bench", role=Role.TENANT_OWNER, tenant_id=tenant_id)
        text = generate_csv(args.rows)
        spent: dict[str, list[float]] = {}
        _time_statements(spent)
        prof = None if args.plain else cProfile.Profile()
        started = time.perf_counter()
        if prof is not None:
            prof.enable()
        summary = import_csv(who, tenant_id, Scope.TENANT, text)
        if prof is not None:
            prof.disable()
        seconds = time.perf_counter() - started
        print(f"import of {summary['rows']} rows: {seconds:.2f} s ({summary['created']} created)")
        if prof is not None:
            pstats.Stats(prof).sort_stats("cumulative").print_stats(args.top)
            pstats.Stats(prof).sort_stats("tottime").print_stats(args.top)
        print("SQL (calls, seconds):")
        for head, (calls, secs) in sorted(spent.items(), key=lambda kv: -kv[1][1])[:15]:
            print(f"  {calls:6d} {secs:8.3f}  {head}")
    finally:
        hub_db.db.close()
        drop_database(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
