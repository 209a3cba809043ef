"""Hub benchmarks for `just bench`: catalog CSV import rows/s on the real PostgreSQL.

Creates a throwaway database, migrates it, imports N generated products through the same
service the portal's import page uses (validate every row, then one transaction), drops it.
"""

from __future__ import annotations

import argparse
import logging
import uuid

from hub.core import db as hub_db
from hub.demo.catalog_bench import bench_import
from hub.migrate import migrate
from scripts.demo import drop_database

ADMIN = "postgresql://postgres@127.0.0.1:5432"


def main() -> None:
    """Print the catalog import figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=10_000)
    args = ap.parse_args()
    logging.disable(logging.INFO)
    import psycopg2

    name = f"cfpos_bench_{uuid.uuid4().hex[:8]}"
    conn = psycopg2.connect(f"{ADMIN}/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    try:
        migrate(f"{ADMIN}/{name}")
        hub_db.bind(f"postgresql://cfpos_app@127.0.0.1:5432/{name}")
        result = bench_import(args.rows)
        print(f"hub: catalog CSV import of {result['rows']} rows (validate all, one transaction)")
        print(f"  import_seconds         {result['seconds']:8.2f}")
        print(f"  import_rows_per_s      {result['rows_per_s']:8.0f}  (issue target: 10 000+ rows)")
    finally:
        hub_db.db.close()
        drop_database(name)


if __name__ == "__main__":
    main()
