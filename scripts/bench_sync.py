"""Sync benchmarks (NFR-003): hub ingest events/s vs a plain COPY, backlog drain, first ack.

    python -m scripts.bench_sync [--batches 50 --batch-size 200 --backlog 10000]

Runs on loopback only: a private Mosquitto, an isolated demo stack (real hub ingest worker,
real box web app and sync agent) and the real PostgreSQL in a database of its own.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

import psycopg2

from scripts.sync_harness import FaultStack, box_unacked, hub_rows, start_fault_stack
from scripts.testkit.crafted import CraftedBox
from scripts.testkit.waiting import wait_until


def ingest_rate(fs: FaultStack, batches: int, size: int) -> float:
    """Events/s from MQTT publish of `batches` x `size` sale events to the last ack."""
    crafted = CraftedBox(fs)
    try:
        payloads = [[crafted.event(b * size + i + 1) for i in range(size)] for b in range(batches)]
        started = time.perf_counter()
        for events in payloads:
            crafted.send(events)
        return batches * size / (time.perf_counter() - started)
    finally:
        crafted.close()


def copy_rate(admin_dsn: str, rows: int) -> float:
    """Rows/s of a plain COPY of equivalent event rows into an unindexed scratch table."""
    conn = psycopg2.connect(admin_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "CREATE TEMP TABLE bench_copy (LIKE ingested_events INCLUDING DEFAULTS INCLUDING "
                "CONSTRAINTS INCLUDING INDEXES)"
            )
            sample = hub_rows(admin_dsn, "SELECT payload::text FROM ingested_events LIMIT 1", ())
            payload = sample[0][0] if sample else "{}"
            buf = io.StringIO()
            for n in range(rows):
                buf.write(
                    f"ev-{n}\tt\tb\tbox\t{n}\tsale.completed\t2026-01-01T00:00:00Z\t"
                    f"2026-01-01T00:00:00Z\tcid\t{payload.replace(chr(92), chr(92) * 2)}\n"
                )
            buf.seek(0)
            started = time.perf_counter()
            cur.copy_expert(
                "COPY bench_copy (event_id, tenant_id, branch_id, box_id, seq, type, "
                "occurred_at, received_at, correlation_id, payload) FROM STDIN",
                buf,
            )
            conn.commit()
            return rows / (time.perf_counter() - started)
    finally:
        conn.close()


def backlog(fs: FaultStack, sales: int) -> tuple[float, float]:
    """(seconds to drain `sales` queued sales, seconds from broker start to the first ack)."""
    box = fs.cashier()
    wait_until(lambda: box_unacked(fs.box_db) == 0, 60, "a drained box")
    fs.broker.stop()
    codes = box.first_barcodes(1)
    for _ in range(sales):
        box.sell(codes, "100.00")
    queued = box_unacked(fs.box_db)
    started = time.monotonic()
    fs.broker.start()
    wait_until(lambda: box_unacked(fs.box_db) < queued, 60, "the first ack", every=0.05)
    first_ack = time.monotonic() - started
    wait_until(lambda: box_unacked(fs.box_db) == 0, 600, "the backlog to drain", every=0.2)
    return time.monotonic() - started, first_ack


def main() -> int:
    """Run the benchmarks and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--batches", type=int, default=50)
    ap.add_argument("--batch-size", type=int, default=200)  # MAX_BATCH_EVENTS
    ap.add_argument("--backlog", type=int, default=10000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fs = start_fault_stack(Path(tmp))
        try:
            events = args.batches * args.batch_size
            ingest = ingest_rate(fs, args.batches, args.batch_size)
            copy = copy_rate(fs.admin_dsn, events)
            print(f"hub ingest MQTT->PostgreSQL: {ingest:,.0f} events/s ({events} sale events)")
            print(f"plain COPY of the same rows: {copy:,.0f} rows/s")
            print(f"ingest / COPY ratio: {ingest / copy:.3f} (target >= 0.3)")
            drain, first = backlog(fs, args.backlog)
            print(f"backlog of {args.backlog} sales drained in {drain:.1f}s (target <= 60 s)")
            print(f"link restored -> first ack: {first:.2f}s (target <= 5 s)")
        finally:
            fs.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
