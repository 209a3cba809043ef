"""A crafted event on the real box's next sale seq (issue 9): the outside tester's way to
make the hub refuse the box's real sale (SEQ_CONFLICT), used by the fault and browser tests.

The box's outbox is read from its SQLite file, read-only; the crafted batch goes out with
`mosquitto_pub` as the box itself, and its ack is read with `mosquitto_sub`.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from posdomain import topics
from scripts.outside_ingest_probe import AckTap, publish
from scripts.sync_harness import hub_rows
from scripts.testkit.crafted import sale_event
from scripts.testkit.hostile import batch_bytes
from scripts.testkit.waiting import wait_until

if TYPE_CHECKING:
    from scripts.demo_smoke import BoxClient
    from scripts.sync_harness import FaultStack


def box_rows(box_db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of one read query on the box's SQLite file (read-only)."""
    conn = sqlite3.connect(f"file:{box_db}?mode=ro", uri=True, timeout=10)
    try:
        return list(conn.execute(sql, params).fetchall())
    finally:
        conn.close()


def waiting(box_db: Path) -> int:
    """Outbox rows still waiting for the hub (neither delivered nor refused)."""
    sql = "SELECT count(*) FROM outbox WHERE acked_at IS NULL AND refused_at IS NULL"
    return int(box_rows(box_db, sql)[0][0])


def refused(box_db: Path) -> list[tuple[Any, ...]]:
    """(seq, type, refused_reason, acked_at) of every refused outbox row."""
    sql = "SELECT seq, type, refused_reason, acked_at FROM outbox WHERE refused_at IS NOT NULL"
    return box_rows(box_db, sql)


def next_seq(box_db: Path) -> int:
    """The seq the box's next event will take."""
    return int(box_rows(box_db, "SELECT next_seq FROM box_state WHERE id = 1")[0][0])


def sale_seq(box_db: Path, sale_id: str) -> int:
    """The outbox seq of a sale's `sale.completed` event."""
    sql = "SELECT seq, payload FROM outbox WHERE type = 'sale.completed'"
    for seq, payload in box_rows(box_db, sql):
        if json.loads(payload)["payload"]["sale_id"] == sale_id:
            return int(seq)
    raise AssertionError(f"sale {sale_id} not in the outbox")


def drained(box_db: Path) -> None:
    """Wait until nothing waits for the hub."""
    wait_until(lambda: waiting(box_db) == 0, 60, "the box outbox to drain")


def take_next_sale_seq(fs: FaultStack, box: BoxClient, codes: list[str]) -> int:
    """Sell twice to learn where a sale's `sale.completed` falls, then publish a crafted sale
    as the box on the seq the next sale's `sale.completed` will take; return that seq."""
    box.sell(codes, "100.00")  # the login and shift events go out with the first sale
    drained(fs.box_db)
    start = next_seq(fs.box_db)
    sale = box.sell(codes, "100.00")
    drained(fs.box_db)
    target = next_seq(fs.box_db) + sale_seq(fs.box_db, sale["sale_id"]) - start
    forged = sale_event(fs.box_id, target, branch_id=fs.seed["box_branch_id"])
    forged["tenant_id"] = fs.seed["tenant_id"]
    batch_id = str(uuid.uuid4())
    tap = AckTap(fs.broker.port)
    try:
        raw = batch_bytes(fs.box_id, [forged], batch_id)
        publish(fs.broker.port, topics.box_events(fs.box_id), raw)
        assert tap.wait(batch_id, 30) is not None, "the hub answered the crafted batch"
    finally:
        tap.close()
    held = hub_rows(
        fs.admin_dsn,
        "SELECT event_id FROM ingested_events WHERE box_id = %s AND seq = %s",
        (fs.box_id, target),
    )
    assert [str(r[0]) for r in held] == [forged["event_id"]], "the crafted event took the seq"
    return target
