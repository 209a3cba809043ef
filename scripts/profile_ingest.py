"""Profile the hub's apply of realistic batches in-process (issue 15 item 2).

    python -m scripts.profile_ingest [--lines 30 --batches 10 --top 30]

Boots the isolated stack of `bench_sync` for a seeded database, enrols a crafted box and runs
what the ingest worker runs per message (`decode_batch` of the raw bytes, then
`hub.sync.apply.apply_events`) on box-sized batches of realistic sales under cProfile
(`--plain`: without it), on the app role like the ingest worker. Prints the apply rate
beside a COPY of the rows it wrote.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg2

from hub.core import db as hub_db
from hub.core import heap
from hub.sync.apply import apply_batch, apply_events
from posdomain.envelope import decode_batch, encode
from scripts.bench_ingest import _events, _xid, box_batches, copy_seconds, written_rows
from scripts.sync_harness import start_fault_stack
from scripts.testkit.crafted import CraftedBox, batch_of


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


def _time_compiling(spent: dict[str, list[float]]) -> None:
    """Accumulate the seconds peewee spends turning query objects into SQL text, by query."""
    cls: Any = type(hub_db.db.obj)

    def execute(self: Any, query: Any, **context_options: Any) -> Any:
        started = time.perf_counter()
        sql, params = self.get_sql_context(**context_options).sql(query).query()
        spent.setdefault(" ".join(sql.split())[:90], []).append(time.perf_counter() - started)
        return self.execute_sql(sql, params)

    cls.execute = execute


def main() -> int:
    """Profile and print."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lines", type=int, default=30)
    ap.add_argument("--batches", type=int, default=10)
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--plain", action="store_true", help="no cProfile: the bare apply rate")
    ap.add_argument("--statements", type=int, default=15, help="statements listed by time")
    ap.add_argument("--dump", help="write the cProfile stats to this file (pstats format)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fs = start_fault_stack(Path(tmp))
        try:
            crafted = CraftedBox(fs)
            crafted.close()
            app_url = fs.stack.env["CFPOS_HUB_DATABASE_URL"]
            hub_db.bind(app_url)
            warm = box_batches(_events(crafted, 1, 20, args.lines))
            seq = 21
            for events in warm:
                apply_batch(batch_of(crafted.box_id, events), crafted.box_id)
            per = len(box_batches(_events(crafted, seq, 200, args.lines))[0])
            events = _events(crafted, seq, per * args.batches, args.lines)
            # raw messages as the worker gets them: decoding is part of the timed apply
            batches = [encode(batch_of(crafted.box_id, b)) for b in box_batches(events)]
            conn = psycopg2.connect(fs.admin_dsn)
            since = _xid(conn)
            conn.commit()
            spent: dict[str, list[float]] = {}
            _time_statements(spent)
            compiling: dict[str, list[float]] = {}
            _time_compiling(compiling)
            prof = cProfile.Profile()
            heap.settle()  # as the worker does after start-up (hub/__main__.py cmd_ingest)
            started = time.perf_counter()
            if not args.plain:
                prof.enable()
            for raw in batches:
                batch_head, decoded = decode_batch(raw)
                ack = apply_events(batch_head, decoded, crafted.box_id)
                assert len(ack.accepted) == len(decoded), ack.rejected[:2]
            prof.disable()
            took = time.perf_counter() - started
            data = written_rows(conn, since)
            rows = sum(n for n, _raw in data.values())
            ref = copy_seconds(conn, data)
            conn.close()
            if args.dump and not args.plain:
                prof.dump_stats(args.dump)
            if not args.plain:
                pstats.Stats(prof).sort_stats("cumulative").print_stats(args.top)
                pstats.Stats(prof).sort_stats("tottime").print_stats(args.top)
            for head, (calls, secs) in sorted(spent.items(), key=lambda kv: -kv[1][1])[
                : args.statements
            ]:
                print(f"{secs:7.3f}s {int(calls):5d}x  {head}")
            calls = sum(int(c) for c, _s in spent.values())
            print(f"{calls} statements through peewee, {calls / len(batches):.1f} per batch")
            compiled = [t for ts in compiling.values() for t in ts]
            print(
                f"peewee query objects compiled to SQL: {len(compiled)}, "
                f"{sum(compiled) * 1000 / len(batches):.2f} ms per batch; the costliest:"
            )
            for head, ts in sorted(compiling.items(), key=lambda kv: -sum(kv[1]))[:8]:
                print(f"  {sum(ts) * 1000 / len(batches):5.2f} ms/batch {len(ts):4d}x  {head}")
            sales = len(events)
            print(
                f"{len(batches)} batches, {len(events)} x {args.lines}-line sales in {took:.2f}s "
                f"({'plain' if args.plain else 'profiled'}): "
                f"{sales * args.lines / took:,.0f} lines/s, {rows / took:,.0f} rows/s "
                f"({rows} rows); COPY {rows / ref:,.0f} rows/s; ratio {ref / took:.3f}"
            )
        finally:
            fs.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
