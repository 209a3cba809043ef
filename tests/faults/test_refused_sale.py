"""Issue 9 item 1, box half (FR-303, NFR-003): a crafted event takes the real box's next
sale seq before the box sells. On the real stack (real hub ingest on PostgreSQL, the real box
and sync agent, a private Mosquitto): the hub refuses the box's real sale (SEQ_CONFLICT, a
CRITICAL reconciliation item) and the box must keep it as `refused`, never delivered,
visible in its status and X report, while the rest of its queue drains.

On the old box the real sale was marked delivered by `acked_through` (the crafted event holds
its seq) and vanished: neither the hub nor the box's backlog had it any more."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest

from posdomain import topics
from scripts.outside_ingest_probe import AckTap, publish
from scripts.sync_harness import FaultStack, hub_rows, hub_sales
from scripts.testkit.crafted import sale_event
from scripts.testkit.hostile import batch_bytes
from scripts.testkit.waiting import wait_until

pytestmark = [pytest.mark.pg, pytest.mark.slow]


def _box(box_db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{box_db}?mode=ro", uri=True, timeout=10)
    try:
        return list(conn.execute(sql, params).fetchall())
    finally:
        conn.close()


def _waiting(box_db: Path) -> int:
    sql = "SELECT count(*) FROM outbox WHERE acked_at IS NULL AND refused_at IS NULL"
    return int(_box(box_db, sql)[0][0])


def _next_seq(box_db: Path) -> int:
    return int(_box(box_db, "SELECT next_seq FROM box_state WHERE id = 1")[0][0])


def _sale_seq(box_db: Path, sale_id: str) -> int:
    for seq, payload in _box(
        box_db, "SELECT seq, payload FROM outbox WHERE type = ?", ("sale.completed",)
    ):
        if json.loads(payload)["payload"]["sale_id"] == sale_id:
            return int(seq)
    raise AssertionError(f"sale {sale_id} not in the outbox")


@pytest.mark.req("FR-303", "NFR-003")
def test_a_sale_whose_seq_a_crafted_event_took_ends_refused_on_the_box(
    fault_stack: FaultStack,
) -> None:
    fs, db = fault_stack, fault_stack.box_db
    box = fs.cashier()
    codes = box.first_barcodes(1)
    box.sell(codes, "100.00")  # the login and shift events go out with the first sale
    wait_until(lambda: _waiting(db) == 0, 60, "the box outbox to drain")
    start = _next_seq(db)
    sale = box.sell(codes, "100.00")
    wait_until(lambda: _waiting(db) == 0, 60, "the box outbox to drain")
    per_sale, offset = _next_seq(db) - start, _sale_seq(db, sale["sale_id"]) - start
    target = _next_seq(db) + offset  # where the next sale's sale.completed will go

    tap = AckTap(fs.broker.port)
    try:
        forged = sale_event(fs.box_id, target, branch_id=fs.seed["box_branch_id"])
        forged["tenant_id"] = fs.seed["tenant_id"]
        batch_id = str(uuid.uuid4())
        publish(
            fs.broker.port, topics.box_events(fs.box_id), batch_bytes(fs.box_id, [forged], batch_id)
        )
        assert tap.wait(batch_id, 30) is not None, "the hub answered the crafted batch"
    finally:
        tap.close()
    held_by = hub_rows(
        fs.admin_dsn,
        "SELECT event_id FROM ingested_events WHERE box_id = %s AND seq = %s",
        (fs.box_id, target),
    )
    assert [str(r[0]) for r in held_by] == [forged["event_id"]], "the crafted event took the seq"

    victim = box.sell(codes, "100.00")
    after = [box.sell(codes, "100.00") for _ in range(2)]
    assert _sale_seq(db, victim["sale_id"]) == target, f"{per_sale} events per sale, as measured"

    def refused() -> list[tuple[Any, ...]]:
        sql = "SELECT seq, type, refused_reason, acked_at FROM outbox WHERE refused_at IS NOT NULL"
        return _box(db, sql)

    wait_until(lambda: refused() != [], 60, "the hub's refusal to reach the box")
    wait_until(lambda: _waiting(db) == 0, 60, "the rest of the queue to drain")
    assert refused() == [(target, "sale.completed", "SEQ_CONFLICT", None)], "never delivered"

    on_hub = {sid for sid, _total in hub_sales(fs.admin_dsn, fs.box_id)}
    assert victim["sale_id"] not in on_hub
    assert {s["sale_id"] for s in after} <= on_hub, "the sales after it are booked"
    items = hub_rows(
        fs.admin_dsn,
        "SELECT severity FROM reconciliation_items WHERE box_id = %s AND kind = 'SEQ_CONFLICT'"
        " AND details->>'seq' = %s",
        (fs.box_id, str(target)),
    )
    assert [r[0] for r in items] == ["CRITICAL"]

    status = box.call("GET", "/status")
    assert (status["refused"], status["refused_sales"]) == (1, 1)
    assert status["refused_events"][0]["reason"] == "SEQ_CONFLICT"
    assert box.call("GET", "/shifts/current/x")["refused_sales"] == 1
