"""Sync benchmarks (NFR-003): hub ingest of realistic 1/10/30-line sales against a COPY of
the same rows (scripts/bench_ingest.py), backlog drain, first ack.

    python -m scripts.bench_sync [--sizes 1,10,30 --lines 3000 --backlog 1000]
        [--herd-boxes 200 --herd-sales 500] [--baseline-boxes 100 --baseline-sales 100]
        [--workers 1,2,4 --partitions 2 --worker-boxes 50 --worker-sales 200 --worker-lines 1]

Then the thundering herd (simulated boxes of scripts/testkit/herd.py, all reconnecting at
once after a broker outage): drain time, events resent and % wasted, broker drops and an
exact reconciliation; the same smaller herd without flow control as the reference; the
smaller herd after an ingest outage (`--ingest-outage` s with the worker SIGKILLed, broker
up), with boxes ignoring the workers' presence statuses as the reference and with them
holding their ack waits while no worker is online (docs/sync-protocol.md "Hub ingest
presence"); and throughput with 1, 2 and 4 ingest workers in one MQTT 5 shared subscription,
and with 2 workers partitioning the boxes (CFPOS_INGEST_PARTITION). With `--worker-lines`
above 1 each worker run also prints its rows written per second (over the drain
time, reconnects included) beside a COPY of the same rows: item 2's ratio for a hub with
several workers.
Defaults take about ten minutes on a loaded 2-core machine; `--herd-boxes 0
--baseline-boxes 0 --workers '' --partitions ''` skips the herd part.

Runs on loopback only: a private Mosquitto, an isolated demo stack (real hub ingest worker,
real box web app and sync agent) and the real PostgreSQL in a database of its own.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg2

from scripts.bench_ingest import _xid, copy_seconds, ingest_figures, written_rows
from scripts.sync_harness import FaultStack, box_unacked, start_fault_stack
from scripts.testkit.herd import load, partitions_subscribed, run_herd, start_workers
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


def herds(fs: FaultStack, args: argparse.Namespace) -> None:
    """Thundering herd (issue 15 item 4) and several ingest workers (item 3)."""
    logging.getLogger("appliance.sync.transport").setLevel(logging.ERROR)  # 1 line per box
    if args.baseline_boxes:
        for flow in (False, True):
            res = run_herd(fs, args.baseline_boxes, args.baseline_sales, flow=flow)
            what = "flow control" if flow else "reference: fixed 5 s ack wait, no flow signals"
            print(f"herd after an outage ({what}, {load()}): {res.report()}")
    if args.baseline_boxes and args.ingest_outage:
        for presence in (False, True):  # A/B in one run: boxes ignoring the workers' statuses
            res = run_herd(
                fs,
                args.baseline_boxes,
                args.baseline_sales,
                outage=False,
                ingest_outage=args.ingest_outage,
                presence=presence,
            )
            what = "boxes hold while no worker is up" if presence else "reference: no presence"
            print(
                f"herd after a {args.ingest_outage:.0f} s ingest outage ({what}, {load()}): "
                f"{res.report()}"
            )
    if args.herd_boxes:
        res = run_herd(fs, args.herd_boxes, args.herd_sales)
        print(f"HERD after an outage (flow control, {load()}): {res.report()}")
        print("(resends target: under a few percent; nothing lost or duplicated: reconciled)")
    shared = [(int(n), False) for n in args.workers.split(",") if n.strip()]
    parted = [(int(n), True) for n in args.partitions.split(",") if n.strip()]
    for count, partitioned in shared + parted:
        names = start_workers(fs, count, partition=partitioned)
        # partitioned: boxes are enrolled before they sell
        enrolled = partitions_subscribed(fs, names) if partitioned else None
        admin = psycopg2.connect(fs.admin_dsn)
        since = _xid(admin)
        admin.commit()
        res = run_herd(
            fs,
            args.worker_boxes,
            args.worker_sales,
            workers=count,
            outage=False,
            lines=args.worker_lines,
            partitions=count if partitioned else 0,
            enrolled=enrolled,
        )
        how = "partitioning the boxes" if partitioned else "in a shared subscription"
        print(f"ingest workers {how} ({load()}): {res.report()}")
        if args.worker_lines > 1:  # the same rows through COPY: the ratio of item 2
            print("    " + _against_copy(admin, since, res.drain_s, res.unique * res.lines))
        admin.close()


def _against_copy(conn: Any, since: int, seconds: float, lines: int) -> str:
    """The rows a run wrote since `since`, per second, beside a COPY of the same rows."""
    data = written_rows(conn, since)
    rows = sum(n for n, _raw in data.values())
    ref = copy_seconds(conn, data)
    return (
        f"{lines / seconds:,.0f} sale lines/s, {rows / seconds:,.0f} rows written/s ({rows} rows,"
        f" drain time) | COPY of the same rows (median of 3) {rows / ref:,.0f} rows/s"
        f" | ratio {ref / seconds:.3f}"
    )


def main() -> int:
    """Run the benchmarks and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="1,10,30", help="lines per sale, comma separated")
    ap.add_argument("--lines", type=int, default=3000, help="sale lines per size")
    ap.add_argument(
        "--windows", default="1,4", help="batches in flight per box, interleaved per size"
    )
    ap.add_argument("--backlog", type=int, default=1000, help="sales rung offline (0 skips)")
    ap.add_argument("--herd-boxes", type=int, default=200, help="herd: boxes (0 skips)")
    ap.add_argument("--herd-sales", type=int, default=500, help="herd: queued sales per box")
    ap.add_argument(
        "--baseline-boxes", type=int, default=100, help="flow off vs on comparison (0 skips)"
    )
    ap.add_argument("--baseline-sales", type=int, default=100)
    ap.add_argument(
        "--ingest-outage", type=float, default=8.0, help="worker down this long (0 skips)"
    )
    ap.add_argument("--workers", default="1,2,4", help="worker counts to measure ('' skips)")
    ap.add_argument(
        "--partitions", default="2", help="partitioned worker counts to measure ('' skips)"
    )
    ap.add_argument("--worker-boxes", type=int, default=50)
    ap.add_argument("--worker-sales", type=int, default=200)
    ap.add_argument("--worker-lines", type=int, default=1, help="lines per sale of the worker runs")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fs = start_fault_stack(Path(tmp))
        try:
            print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
            sizes = [int(n) for n in args.sizes.split(",") if n.strip()]
            windows = tuple(int(n) for n in args.windows.split(",") if n.strip())
            for fig in ingest_figures(fs, sizes, args.lines, windows):
                print("hub ingest MQTT publish -> BatchAck, " + fig.report())
            print("(ratio = ingest rows/s / COPY rows/s; target >= 0.3 for 30-line sales)")
            if args.backlog:
                drain, first = backlog(fs, args.backlog)
                print(f"backlog of {args.backlog} sales drained in {drain:.1f}s (target <= 60 s)")
                print(f"link restored -> first ack: {first:.2f}s (target <= 5 s)")
            herds(fs, args)
        finally:
            fs.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
