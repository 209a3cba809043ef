"""CPU time of the hub's apply per event, in-process (issue 15 item 2).

    python -m scripts.ingest_cpu [--lines 30 --batches 10 --rounds 5 --log]

Boots the isolated stack of `bench_sync`, enrols a crafted box and runs what the ingest
worker runs per message (`decode_batch`, then `hub.sync.apply.apply_events`) on box-sized
batches of realistic sales, `--rounds` times on the same database (after a warm-up). Per
round it prints the CPU time of this process (`time.process_time`: the apply's Python, its
writer thread and the client side of psycopg2; waiting for PostgreSQL costs none), the CPU
time of its PostgreSQL
backend (`/proc/<pid>/schedstat`), the wall time, and the same figures for a COPY of the
rows the round wrote (`scripts.bench_ingest.copy_seconds`); then the medians. CPU time is
what a loaded, shared machine cannot distort much: compare builds by it, interleaved.
`--log`: JSON logs at INFO to a temporary file, as the worker writes them. The heap is
settled before each round's batches (`hub.core.heap.settle()`, as the worker settles its
start-up heap: frozen, young threshold raised); `--no-freeze` leaves it as it was before
issue 15's ninth pass.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg2

from hub.core import db as hub_db
from hub.core import heap
from hub.sync.apply import apply_batch, apply_events
from posdomain.envelope import decode_batch, encode
from posdomain.obs import configure_logging
from scripts.bench_ingest import _events, _xid, box_batches, copy_seconds, written_rows
from scripts.sync_harness import start_fault_stack
from scripts.testkit.crafted import CraftedBox, batch_of
from scripts.testkit.proc_cpu import cpu_seconds as backend_cpu


def _pid(cursor_owner: Any) -> int:
    if hasattr(cursor_owner, "execute_sql"):
        return int(cursor_owner.execute_sql("SELECT pg_backend_pid()").fetchone()[0])
    with cursor_owner.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        return int(cur.fetchone()[0])


def _round(crafted: CraftedBox, admin: Any, seq: int, args: Any) -> tuple[int, dict[str, float]]:
    per = len(box_batches(_events(crafted, seq, 200, args.lines))[0])
    events = _events(crafted, seq, per * args.batches, args.lines)
    raws = [encode(batch_of(crafted.box_id, b)) for b in box_batches(events)]
    since = _xid(admin)
    admin.commit()
    app_pid = _pid(hub_db.db)
    if not args.no_freeze:
        heap.settle()  # as the worker does after start-up (hub/__main__.py cmd_ingest)
    cpu0, back0, wall0 = time.process_time(), backend_cpu(app_pid), time.perf_counter()
    for raw in raws:
        head, decoded = decode_batch(raw)
        ack = apply_events(head, decoded, crafted.box_id)
        assert len(ack.accepted) == len(decoded), ack.rejected[:2]
    cpu, back = time.process_time() - cpu0, backend_cpu(app_pid) - back0
    wall = time.perf_counter() - wall0
    data = written_rows(admin, since)
    admin_pid = _pid(admin)
    ref_back0 = backend_cpu(admin_pid)
    ref_wall = copy_seconds(admin, data)
    ref_back = backend_cpu(admin_pid) - ref_back0
    rows = sum(n for n, _raw in data.values())
    figures = {
        "events": len(events),
        "rows": rows,
        "python_cpu": cpu,
        "backend_cpu": back,
        "wall": wall,
        "copy_backend_cpu": ref_back,
        "copy_wall": ref_wall,
    }
    return seq + len(events), figures


def _line(f: dict[str, float]) -> str:
    n = f["events"]
    both = f["python_cpu"] + f["backend_cpu"]
    return (
        f"{int(n)} sales {int(f['rows'])} rows: python {f['python_cpu']:.3f}s "
        f"({f['python_cpu'] / n * 1e6:,.0f} us/sale) backend {f['backend_cpu']:.3f}s "
        f"sum {both:.3f}s wall {f['wall']:.3f}s | COPY backend {f['copy_backend_cpu']:.3f}s "
        f"wall {f['copy_wall']:.3f}s | ratio cpu {f['copy_backend_cpu'] / both:.3f} "
        f"wall {f['copy_wall'] / f['wall']:.3f}"
    )


def main() -> int:
    """Run the rounds and print them with their medians."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lines", type=int, default=30)
    ap.add_argument("--batches", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--log", action="store_true", help="JSON logs at INFO, as the worker")
    ap.add_argument(
        "--no-freeze", action="store_true", help="leave the heap unfrozen (before issue 15's pass)"
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fs = start_fault_stack(Path(tmp))
        try:
            crafted = CraftedBox(fs)
            crafted.close()
            hub_db.bind(fs.stack.env["CFPOS_HUB_DATABASE_URL"])
            if args.log:
                configure_logging("hub-ingest")
                handler = logging.FileHandler(Path(tmp) / "ingest.log")
                logging.getLogger().handlers[-1].setStream(handler.stream)  # type: ignore[attr-defined]
            for events in box_batches(_events(crafted, 1, 20, args.lines)):
                apply_batch(batch_of(crafted.box_id, events), crafted.box_id)
            admin = psycopg2.connect(fs.admin_dsn)
            seq, rounds = 21, []
            for _ in range(args.rounds):
                seq, figures = _round(crafted, admin, seq, args)
                rounds.append(figures)
                print(_line(figures), flush=True)
            admin.close()
            median = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
            print("median: " + _line(median))
        finally:
            fs.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
