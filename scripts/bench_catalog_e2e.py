"""Catalog import end to end (issue 15 item 7, FR-200): hub import → first successful scan on
a box, over the real broker.

    python -m scripts.bench_catalog_e2e [--rows 100000]

Boots the isolated stack of `bench_sync` (a private Mosquitto, the real hub web app, ingest
worker, box web app and sync agent as processes, the real PostgreSQL in a database of its
own), logs in to the hub portal as the demo tenant owner and the till as its cashier, then:

1. POSTs a generated catalog CSV of N products (`hub.demo.catalog_bench.generate_csv`: valid
   EAN-13s, tiers, deposits) to `POST /api/v1/products/import`: every row validated, one
   transaction, the retained catalog head published after the commit (the portal's path);
2. polls the till's `POST /api/v1/basket/lines` with the barcode of the **last** product of
   the file until it scans (the box asked for catch-up chunks on the head, applied every
   chunk up to it), then `GET /api/v1/products?q=` for its name until it is found.

Prints the import time, the time from the import's answer to the first successful scan,
to the search hit, and the total hub import → scan (issue targets: import < 10 s, reaching
the box < 20 s), beside the physical references measured in the same run: a plain COPY of
exactly the rows the import wrote into the same PostgreSQL tables (`bench_hub.copy_reference`)
and a plain `executemany` of the same products and barcodes into a durable SQLite file (WAL,
synchronous=FULL, one transaction), and the load average before and after. On a loaded
machine set CFPOS_DEMO_BOOT_TIMEOUT / CFPOS_DEMO_WEB_TIMEOUT (seconds) so the stack comes up
and the import's web worker is not killed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg2

from hub.demo.catalog_bench import bench_barcode, generate_csv
from scripts.bench_hub import ADMIN, copy_reference
from scripts.demo_smoke import HubClient, login_of
from scripts.sync_harness import start_fault_stack


def _scanned(box: object, code: str) -> bool:
    resp = box.http.post(  # type: ignore[attr-defined]
        box.base + "/basket/lines",  # type: ignore[attr-defined]
        json={"barcode": code},
        timeout=10,
    )
    return bool(resp.status_code == 201)  # the line was added: the box knows the product


def _found(box: object, name: str) -> bool:
    resp = box.http.get(box.base + "/products", params={"q": name}, timeout=10)  # type: ignore[attr-defined]
    if resp.status_code != 200:
        return False
    body = resp.json()
    items = body.get("products", body) if isinstance(body, dict) else body
    return any(p.get("name") == name for p in items)


def _until(check: object, timeout: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():  # type: ignore[operator]
            return time.monotonic()
        time.sleep(0.05)
    raise SystemExit(f"{what} did not happen within {timeout:.0f} s")


def _stat(pid: str) -> tuple[int, float] | None:
    """(parent pid, user + system CPU seconds) of a live process, None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_by_process(procs: list[tuple[str, Any]]) -> dict[str, float]:
    """CPU seconds so far of each stack process with its descendants (gunicorn's workers)."""
    stats = {pid: st for pid in os.listdir("/proc") if pid.isdigit() and (st := _stat(pid))}
    children: dict[int, list[int]] = {}
    for pid, (parent, _cpu) in stats.items():
        children.setdefault(parent, []).append(int(pid))
    out: dict[str, float] = {}
    for name, proc in procs:
        todo, total = [proc.pid], 0.0
        while todo:
            pid = todo.pop()
            total += stats[str(pid)][1] if str(pid) in stats else 0.0
            todo.extend(children.get(pid, []))
        out[name] = out.get(name, 0.0) + total
    return out


def sqlite_reference(folder: Path, db_name: str, tenant_id: str) -> float:
    """Seconds for a plain executemany of the tenant's products and barcodes (as the hub holds
    them) into a fresh durable SQLite file, one transaction: the box's physical floor."""
    conn = psycopg2.connect(f"{ADMIN}/{db_name}")
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT id, sku, name, price_minor, tax_class, unit, version FROM products"
                " WHERE tenant_id = %s",
                (tenant_id,),
            )
            products: list[Any] = cur.fetchall()
            cur.execute(
                "SELECT barcode, code, product_id FROM product_barcodes WHERE tenant_id = %s",
                (tenant_id,),
            )
            codes: list[Any] = cur.fetchall()
    finally:
        conn.close()
    lite = sqlite3.connect(folder / "reference.sqlite3", isolation_level=None)
    lite.execute("PRAGMA journal_mode=wal")
    lite.execute("PRAGMA synchronous=FULL")
    lite.execute(
        "CREATE TABLE products (id TEXT PRIMARY KEY, sku TEXT, name TEXT, price_minor INTEGER,"
        " tax_class TEXT, unit TEXT, version INTEGER)"
    )
    lite.execute("CREATE TABLE barcodes (gtin14 TEXT PRIMARY KEY, code TEXT, product_id TEXT)")
    started = time.perf_counter()
    lite.execute("BEGIN IMMEDIATE")
    lite.executemany("INSERT INTO products VALUES (?, ?, ?, ?, ?, ?, ?)", products)
    lite.executemany("INSERT INTO barcodes VALUES (?, ?, ?)", codes)
    lite.execute("COMMIT")
    seconds = time.perf_counter() - started
    lite.close()
    return seconds


def main() -> int:
    """Run and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--keep-logs", type=Path, help="copy the stack's process logs here")
    args = ap.parse_args()
    text = generate_csv(args.rows, sku_prefix="E2E", category="PANTRY")
    last = args.rows - 1
    code, name = bench_barcode(last), f"Bench product {last}"
    with tempfile.TemporaryDirectory() as tmp:
        fs = start_fault_stack(Path(tmp))
        try:
            print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
            box = fs.cashier()
            hub = HubClient(fs.stack.hub_port)
            owner = login_of(fs.seed, "TENANT_OWNER")
            login = hub.http.post(
                hub.base + "/auth/login",
                json={"username": owner["username"], "password": owner["password"]},
                timeout=10,
            )
            csrf = login.json()["csrf_token"]
            cpu_before = cpu_by_process(fs.stack.procs)
            started = time.monotonic()
            resp = hub.http.post(
                hub.base + "/products/import",
                data=text.encode(),
                headers={"Content-Type": "text/csv", "X-CSRF-Token": csrf},
                timeout=600,
            )
            imported = time.monotonic()
            if resp.status_code != 200:
                raise SystemExit(f"import refused: {resp.status_code} {resp.text[:500]}")
            scanned = _until(lambda: _scanned(box, code), 1800, "the scan of the last product")
            cpu_at_scan = cpu_by_process(fs.stack.procs)
            found = _until(lambda: _found(box, name), 60, "the search hit")
            summary = resp.json()
            load_after = os.getloadavg()[0]
            tenant = str(fs.seed["tenant_id"])
            pg_ref = copy_reference(f"{ADMIN}/{fs.db_name}", tenant)
            lite_ref = sqlite_reference(Path(tmp), fs.db_name, tenant)
            print(
                f"catalog import of {summary['rows']} rows over the portal API "
                f"(validate all, one transaction): {imported - started:.2f} s "
                f"({summary['rows'] / (imported - started):,.0f} rows/s; target < 10 s)"
            )
            print(f"  import answered -> first scan on the box: {scanned - imported:.2f} s")
            print(f"  import answered -> found by name search:  {found - imported:.2f} s")
            print(
                f"  hub import start -> first successful scan (end to end): "
                f"{scanned - started:.2f} s (target: reach the box < 20 s)"
            )
            print(f"  load average at the scan: {load_after:.1f}")
            print(
                "  CPU seconds of the stack's processes, import start -> scan: "
                + ", ".join(f"{n} {cpu_at_scan.get(n, 0.0) - c:.2f}" for n, c in cpu_before.items())
            )
            print(
                f"  reference: plain COPY of the imported rows into PostgreSQL "
                f"{sum(pg_ref.values()):.2f} s ("
                + ", ".join(f"{t} {v:.2f}" for t, v in pg_ref.items())
                + ")"
            )
            print(
                f"  reference: plain executemany of those products and barcodes into SQLite "
                f"{lite_ref:.2f} s"
            )
        finally:
            if args.keep_logs is not None:
                args.keep_logs.mkdir(parents=True, exist_ok=True)
                for log in fs.stack.var.glob("*.log"):
                    shutil.copy(log, args.keep_logs / log.name)
            fs.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
