"""Flood isolation (issue 15, "bad input under load"): good boxes' ingest with and without a
box flooding the hub with malformed and forged batches.

    python -m scripts.bench_flood [--boxes 2 --sales 200 --lines 10 --flood-rate 500]

Boots the isolated stack of `bench_sync` (private Mosquitto, the real hub ingest worker, the
real PostgreSQL). `--boxes` crafted, enrolled good boxes each send `--sales` realistic sales
(box-built batches, one in flight, waiting for each BatchAck) at the same time, first alone,
then while one more enrolled box publishes `--flood-rate` messages/s (0: as fast as its
client can), alternately an unparseable message (a truncated 4 KB batch) and a well-formed
batch forged for another box (`BOX_MISMATCH`), QoS 1 like a box. Prints the good boxes'
sales/s in both runs and their ratio, the flood's rate, how many of its messages the hub
quarantined (each with its reason) and how many it dropped unread once the box's strike
budget was spent (hub/sync/flood.py), and whether the good boxes' sales are held exactly once.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from posdomain import topics
from posdomain.envelope import encode
from scripts.bench_ingest import _events, box_batches
from scripts.sync_harness import FaultStack, hub_rows, start_fault_stack
from scripts.testkit.crafted import CraftedBox, batch_of


def _good_run(fs: FaultStack, boxes: list[CraftedBox], first: int, sales: int, lines: int) -> float:
    """Seconds for every good box to send `sales` sales (in parallel), all accepted."""
    plans = [box_batches(_events(b, first, sales, lines)) for b in boxes]
    failures: list[str] = []

    def run(box: CraftedBox, batches: list[list[dict[str, Any]]]) -> None:
        for n, events in enumerate(batches):
            try:
                ack = box.send(events)
            except queue.Empty:  # a crafted box does not resend: the hub lost or starved it
                failures.append(f"{box.box_id}: stalled, no ack within 30 s at batch {n + 1}")
                return
            if ack.rejected or len(ack.accepted) != len(events):
                failures.append(f"{box.box_id}: {ack.rejected[:2]}")
                return

    threads = [threading.Thread(target=run, args=pair) for pair in zip(boxes, plans, strict=True)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise SystemExit(f"good boxes failed (no figure): {failures[:3]}")
    return time.perf_counter() - started


class Flood:
    """One enrolled box publishing malformed and forged batches until stopped."""

    def __init__(self, fs: FaultStack, rate: float) -> None:
        self.box = CraftedBox(fs)
        self.rate = rate  # messages/s (0: as fast as the client can)
        self.sent = 0
        self._stop = threading.Event()
        good = encode(batch_of(self.box.box_id, _events(self.box, 1, 3, 10)))
        self.malformed = good[: 4096 - 7]  # cut mid-way: not JSON any more
        forged = json.loads(encode(batch_of(self.box.box_id, _events(self.box, 1, 3, 10))))
        forged["box_id"] = f"box-someone-else-{uuid.uuid4().hex[:6]}"
        self.forged = json.dumps(forged).encode()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        topic = topics.box_events(self.box.box_id)
        while not self._stop.is_set():
            if self.rate and self.sent >= self.rate * (time.perf_counter() - self.started):
                time.sleep(0.002)
                continue
            info = self.box.client.publish(
                topic, self.malformed if self.sent % 2 else self.forged, qos=1
            )
            self.sent += 1
            if self.sent % 200 == 0:
                info.wait_for_publish(5)  # keep paho's queue bounded; the broker paces us

    def start(self) -> float:
        self.started = time.perf_counter()
        self.thread.start()
        return self.started

    def stop(self) -> float:
        self._stop.set()
        self.thread.join()
        return time.perf_counter() - self.started


def main() -> int:
    """Run and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--boxes", type=int, default=2)
    ap.add_argument("--sales", type=int, default=200, help="sales per good box per run")
    ap.add_argument("--lines", type=int, default=10)
    ap.add_argument("--flood-rate", type=float, default=500, help="messages/s (0: unbounded)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fs = start_fault_stack(Path(tmp))
        boxes: list[CraftedBox] = []
        try:
            print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
            boxes = [CraftedBox(fs) for _ in range(args.boxes)]
            _good_run(fs, boxes, 1, 20, args.lines)  # warm-up
            first = 21
            alone = _good_run(fs, boxes, first, args.sales, args.lines)
            first += args.sales
            flood = Flood(fs, args.flood_rate)
            flood.start()
            time.sleep(2.0)  # the flood is on before the good boxes start
            flooded = _good_run(fs, boxes, first, args.sales, args.lines)
            flood_s = flood.stop()
            time.sleep(3.0)  # the worker drains what the broker still holds
            quarantined = hub_rows(
                fs.admin_dsn,
                "SELECT reason, count(*) FROM quarantine WHERE box_id = %s GROUP BY reason",
                (flood.box.box_id,),
            )
            held = hub_rows(
                fs.admin_dsn,
                "SELECT box_id, count(*), count(DISTINCT seq) FROM ingested_events "
                "WHERE box_id = ANY(%s) GROUP BY box_id",
                ([b.box_id for b in boxes],),
            )
            total = args.boxes * args.sales
            q = sum(int(n) for _r, n in quarantined)
            print(
                f"good boxes: {args.boxes} x {args.sales} sales of {args.lines} lines, "
                f"one batch in flight each"
            )
            print(f"  without flood: {total / alone:,.1f} sales/s ({alone:.2f} s)")
            print(f"  with flood:    {total / flooded:,.1f} sales/s ({flooded:.2f} s)")
            print(f"  slow-down factor with the flood: {flooded / alone:.2f}")
            print(
                f"flooding box: {flood.sent} messages in {flood_s:.1f} s "
                f"({flood.sent / flood_s:,.0f}/s, half unparseable, half forged for another box)"
            )
            print(
                f"  quarantined with reason: {q} ({', '.join(f'{r} {n}' for r, n in quarantined)})"
                f"; dropped unread by the per-box budget (or never delivered): {flood.sent - q}"
            )
            expected = 20 + 2 * args.sales
            for box_id, n, seqs in held:
                ok = "ok" if int(n) == int(seqs) == expected else "MISMATCH"
                print(f"  good box {box_id}: {n} events held, {seqs} distinct seqs ({ok})")
        finally:
            for b in boxes:
                b.close()
            fs.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
