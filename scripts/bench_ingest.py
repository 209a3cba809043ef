"""Hub ingest of realistic sales against the physical limit of the schema (NFR-003, FR-303).

For each sale size (1, 10, 30 lines by default) a crafted box publishes realistic sales
(`scripts.testkit.crafted.realistic_sale`: both tax classes, a weighed line, promoted lines,
card + cash tenders with change; every line is a stock movement on the hub) in batches as a
box builds them (up to `MAX_BATCH_EVENTS`, as many as fit 256 KiB), one batch
in flight, each waiting for its BatchAck (sent after the hub's commit). Timed from the first
publish to the last ack: sale lines/s and rows written/s.

Reference, in the same run on the same database: the rows the ingest wrote (every tuple of
every table whose `xmin` is newer than the run's start: inserts and upserted rows alike) are
read back and `COPY`ed into fresh tables of the same shape *with the same indexes* (logged,
one transaction, durable commit). Ratio = ingest rows/s / COPY rows/s.
"""

from __future__ import annotations

import io
import json
import statistics
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg2

from posdomain.envelope import MAX_BATCH_EVENTS, encode, fitting_prefix
from scripts.sync_harness import FaultStack
from scripts.testkit.crafted import CraftedBox, batch_of, realistic_sale
from scripts.testkit.herd import stack_log


@dataclass(frozen=True)
class IngestFigures:
    """One sale size's run and its COPY reference."""

    lines: int
    window: int
    sales: int
    batches: int
    seconds: float
    rows: int
    copy_seconds: float
    tables: str
    runs: str = ""  # how the worker grouped the batches: "<batches in a run> x <runs>, ..."

    def report(self) -> str:
        lines = self.sales * self.lines
        ingest_rows = self.rows / self.seconds
        copy_rows = self.rows / self.copy_seconds
        return (
            f"{self.lines:>2}-line sales, window {self.window}: {self.sales} sales in "
            f"{self.batches} batches, "
            f"{lines / self.seconds:,.0f} sale lines/s, {self.sales / self.seconds:,.0f} sales/s, "
            f"{ingest_rows:,.0f} rows written/s ({self.rows} rows) | COPY of the same rows "
            f"(median of 3) {copy_rows:,.0f} rows/s | ratio {ingest_rows / copy_rows:.3f}"
            f"\n    rows: {self.tables}"
            + (f"\n    runs applied (batches x times): {self.runs}" if self.runs else "")
        )


def _runs_since(fs: FaultStack, offset: int) -> str:
    """The run sizes of the batches the worker logged as applied past `offset` of its log:
    each batch of a run of k logs `"run": k` (a batch applied alone logs none)."""
    sizes: Counter[int] = Counter()
    for line in stack_log(fs, "hub-ingest")[offset:].splitlines():
        if '"batch applied"' in line and line.startswith("{"):
            sizes[int(json.loads(line).get("run", 1))] += 1
    return ", ".join(f"{k} x {n // k}" for k, n in sorted(sizes.items()))


def _by_table(data: dict[str, tuple[int, bytes]]) -> str:
    return ", ".join(f"{t} {n}" for t, (n, _raw) in sorted(data.items(), key=lambda kv: -kv[1][0]))


def _events(crafted: CraftedBox, first_seq: int, sales: int, lines: int) -> list[dict[str, Any]]:
    out = []
    for seq in range(first_seq, first_seq + sales):
        now = datetime.now(UTC).isoformat()
        payload = realistic_sale(seq, lines)
        out.append(
            {
                "event_id": str(uuid.uuid4()),
                "box_id": crafted.box_id,
                "tenant_id": crafted.tenant,
                "branch_id": crafted.branch,
                "seq": seq,
                "type": "sale.completed",
                "occurred_at": now,
                "correlation_id": uuid.uuid4().hex,
                "versions": {"catalog": 0, "tax": 0, "policy": 0},
                "payload": payload,
            }
        )
    return out


def box_batches(events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Split events as the box's sync agent does: up to MAX_BATCH_EVENTS, the longest prefix
    whose encoded batch fits the message limit (`posdomain.envelope.fitting_prefix`)."""
    out, start = [], 0
    while start < len(events):
        take = events[start : start + MAX_BATCH_EVENTS]
        take = take[: fitting_prefix(take, lambda evs: len(encode(batch_of("x" * 40, list(evs)))))]
        out.append(take)
        start += len(take)
    return out


def _xid(conn: Any) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT txid_current() % 4294967296")
        return int(cur.fetchone()[0])


def _tables(conn: Any) -> list[str]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
        return [r[0] for r in cur.fetchall()]


def written_rows(conn: Any, since_xid: int) -> dict[str, tuple[int, bytes]]:
    """{table: (count, COPY binary) of its tuples written after `since_xid`} (tables with any)."""
    out = {}
    newer = f"age(xmin) < age('{since_xid}'::xid)"
    with conn.cursor() as cur:
        for table in _tables(conn):
            # ONLY: a partitioned table's rows are counted once, in their partition
            cur.execute(f"SELECT count(*) FROM ONLY public.{table} WHERE {newer}")
            count = int(cur.fetchone()[0])
            if count:
                buf = io.BytesIO()
                cur.copy_expert(
                    f"COPY (SELECT * FROM ONLY public.{table} WHERE {newer}) "
                    "TO STDOUT (FORMAT binary)",
                    buf,
                )
                out[table] = (count, buf.getvalue())
    conn.commit()
    return out


def copy_seconds(conn: Any, data: dict[str, tuple[int, bytes]], repeat: int = 3) -> float:
    """Seconds to COPY `data` into fresh indexed tables like the originals, committed: the
    median of `repeat` runs (one COPY on this shared VM swings by ±25 % from run to run,
    which made a single run's ratio mostly noise)."""
    return statistics.median(_copy_once(conn, data) for _ in range(max(1, repeat)))


def _copy_once(conn: Any, data: dict[str, tuple[int, bytes]]) -> float:
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA IF EXISTS bench_ref CASCADE; CREATE SCHEMA bench_ref")
        for table in data:
            cur.execute(
                f"CREATE TABLE bench_ref.{table} (LIKE public.{table} INCLUDING DEFAULTS "
                "INCLUDING INDEXES)"
            )
        conn.commit()
        started = time.perf_counter()
        for table, (_n, raw) in data.items():
            cur.copy_expert(f"COPY bench_ref.{table} FROM STDIN (FORMAT binary)", io.BytesIO(raw))
        conn.commit()
        took = time.perf_counter() - started
        cur.execute("DROP SCHEMA bench_ref CASCADE")
        conn.commit()
    return took


def ingest_figures(
    fs: FaultStack, sizes: list[int], lines_per_size: int, windows: tuple[int, ...] = (1,)
) -> list[IngestFigures]:
    """Run each sale size end to end (once per window size, interleaved: the same database
    and machine state) and measure each run's COPY reference."""
    crafted = CraftedBox(fs)
    conn = psycopg2.connect(fs.admin_dsn)
    out, seq = [], 1
    try:
        for lines, window in [(n, w) for n in sizes for w in windows]:
            sales = max(20, lines_per_size // lines)
            batches = box_batches(_events(crafted, seq, sales, lines))
            encoded = [crafted.encoded(events) for events in batches]
            seq += sales
            since = _xid(conn)
            conn.commit()
            logged = len(stack_log(fs, "hub-ingest"))
            started = time.perf_counter()
            acks = crafted.send_windowed(encoded, window)
            for ack, events in zip(acks, batches, strict=True):
                if ack.rejected or len(ack.accepted) != len(events):
                    raise SystemExit(f"ingest refused crafted sales: {ack.rejected[:3]}")
            took = time.perf_counter() - started
            data = written_rows(conn, since)
            rows = sum(n for n, _raw in data.values())
            ref = copy_seconds(conn, data)
            runs = _runs_since(fs, logged)
            out.append(
                IngestFigures(
                    lines, window, sales, len(batches), took, rows, ref, _by_table(data), runs
                )
            )
    finally:
        conn.close()
        crafted.close()
    return out
