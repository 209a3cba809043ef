"""Sync benchmarks (NFR-003): hub ingest of realistic 1/10/30-line sales against a COPY of
the same rows (scripts/bench_ingest.py), backlog drain, first ack.

    python -m scripts.bench_sync [--sizes 1,10,30 --lines 3000 --backlog 1000]

Defaults finish in a couple of minutes on a loaded 2-core machine; raise `--lines` (sale
lines per size) and `--backlog` for steadier figures.

Runs on loopback only: a private Mosquitto, an isolated demo stack (real hub ingest worker,
real box web app and sync agent) and the real PostgreSQL in a database of its own.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from scripts.bench_ingest import ingest_figures
from scripts.sync_harness import FaultStack, box_unacked, start_fault_stack
from scripts.testkit.waiting import wait_until


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
    ap.add_argument("--sizes", default="1,10,30", help="lines per sale, comma separated")
    ap.add_argument("--lines", type=int, default=3000, help="sale lines per size")
    ap.add_argument("--backlog", type=int, default=1000, help="sales rung offline (0 skips)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fs = start_fault_stack(Path(tmp))
        try:
            print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
            sizes = [int(n) for n in args.sizes.split(",")]
            for fig in ingest_figures(fs, sizes, args.lines):
                print("hub ingest MQTT publish -> BatchAck, " + fig.report())
            print("(ratio = ingest rows/s / COPY rows/s; target >= 0.3 for 30-line sales)")
            if not args.backlog:
                return 0
            drain, first = backlog(fs, args.backlog)
            print(f"backlog of {args.backlog} sales drained in {drain:.1f}s (target <= 60 s)")
            print(f"link restored -> first ack: {first:.2f}s (target <= 5 s)")
        finally:
            fs.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
