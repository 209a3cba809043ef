"""Hub benchmarks for `just bench`: catalog CSV import rows/s on the real PostgreSQL.

Creates a throwaway database, migrates it, imports N generated products through the same
service the portal's import page uses (validate every row, then one transaction), drops it.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import time
import uuid

from hub.core import db as hub_db
from hub.demo.catalog_bench import bench_import
from hub.migrate import migrate
from scripts.demo import drop_database
from scripts.testkit.proc_cpu import cpu_seconds as backend_cpu

ADMIN = "postgresql://postgres@127.0.0.1:5432"


_COPIED = {
    "products": "'r' || id, %(dst)s, sku, name, category, tax_class, unit, price_minor,"
    " cost_minor, age_restriction, is_deposit, NULL, active, version, created_at, updated_at",
    "product_barcodes": "%(dst)s, 'r' || product_id, barcode, code",
    "wholesale_tiers": "%(dst)s, 'r' || product_id, min_qty_milli, price_minor",
}


def copy_reference(db_url: str, source_tenant: str) -> dict[str, float]:
    """The physical reference: a plain COPY of exactly the rows the import wrote (products,
    barcodes, tiers of `source_tenant`, re-keyed to a fresh tenant) into the same tables with
    their indexes and foreign keys, as the superuser (COPY cannot write an RLS table as the
    app role), rolled back. Seconds per table."""
    import psycopg2

    target = f"t-copyref-{uuid.uuid4().hex[:8]}"
    conn = psycopg2.connect(db_url)
    out: dict[str, float] = {}
    try:
        with conn.cursor() as cur:
            for table in ("tenants", "categories"):  # the copy's tenant and its categories
                key = "id" if table == "tenants" else "tenant_id"
                cur.execute(
                    f"CREATE TEMP TABLE copyref_{table} AS SELECT * FROM {table} WHERE {key} = %s",
                    (source_tenant,),
                )
                cur.execute(f"UPDATE copyref_{table} SET {key} = %s", (target,))
                cur.execute(f"INSERT INTO {table} SELECT * FROM copyref_{table}")
            for table, select in _COPIED.items():
                buf = io.StringIO()
                query = cur.mogrify(
                    f"SELECT {select} FROM {table} WHERE tenant_id = %(src)s",
                    {"dst": target, "src": source_tenant},
                ).decode()
                cur.copy_expert(f"COPY ({query}) TO STDOUT", buf)
                buf.seek(0)
                started = time.perf_counter()
                cur.copy_expert(f"COPY {table} FROM STDIN", buf)
                out[table] = time.perf_counter() - started
    finally:
        conn.rollback()
        conn.close()
    return out


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
        load = os.getloadavg()[0]
        hub_db.db.connect(reuse_if_open=True)
        (pid,) = hub_db.db.execute_sql("SELECT pg_backend_pid()").fetchone()
        pg_before = backend_cpu(pid)
        result = bench_import(args.rows)
        pg_cpu = backend_cpu(pid) - pg_before
        (pid_after,) = hub_db.db.execute_sql("SELECT pg_backend_pid()").fetchone()
        ref = copy_reference(f"{ADMIN}/{name}", result["tenant_id"])
        copy_s = sum(ref.values())
        print(f"hub: catalog CSV import of {result['rows']} rows (validate all, one transaction)")
        cores = os.cpu_count()
        print(f"  load average           {load:8.1f}  -> {os.getloadavg()[0]:.1f} on {cores} cores")
        print(
            f"  import_seconds         {result['seconds']:8.2f}  (issue target: < 10 s for 100 000)"
        )
        cpu = result["cpu_seconds"]
        print(f"  import_cpu_seconds     {cpu:8.2f}  (this process: parse, validate, audit)")
        same = "" if pid_after == pid else " (connection changed: not the whole import)"
        print(f"  import_pg_cpu_seconds  {pg_cpu:8.2f}  (its PostgreSQL backend){same}")
        print(f"  import_rows_per_s      {result['rows_per_s']:8.0f}")
        print(
            f"  reference: plain COPY of the same rows {copy_s:8.2f} s "
            + ", ".join(f"{t} {v:.2f}" for t, v in ref.items())
        )
        print(f"  import / COPY          {result['seconds'] / copy_s:8.2f}x")
    finally:
        hub_db.db.close()
        drop_database(name)


if __name__ == "__main__":
    main()
