"""Issue 9 item 1, box half (FR-303, NFR-003): a crafted event takes the real box's next
sale seq before the box sells. On the real stack (real hub ingest on PostgreSQL, the real box
and sync agent, a private Mosquitto): the hub refuses the box's real sale (SEQ_CONFLICT, a
CRITICAL reconciliation item) and the box must keep it as `refused`, never delivered,
visible in its status and X report, while the rest of its queue drains.

On the old box the real sale was marked delivered by `acked_through` (the crafted event holds
its seq) and vanished: neither the hub nor the box's backlog had it any more."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.sync_harness import FaultStack, hub_rows, hub_sales, start_fault_stack
from scripts.testkit.seq_taking import drained, refused, sale_seq, take_next_sale_seq
from scripts.testkit.waiting import wait_until

pytestmark = [pytest.mark.pg, pytest.mark.slow]


@pytest.fixture
def own_stack(tmp_path: Path, pg_admin_dsn: str) -> Iterator[FaultStack]:
    """A stack of its own: the refused sale stays on this box, so the package's shared stack
    (whose tests reconcile box == hub exactly) never sees it."""
    fs = start_fault_stack(tmp_path)
    try:
        yield fs
    finally:
        fs.stop()


@pytest.mark.req("FR-303", "NFR-003")
def test_a_sale_whose_seq_a_crafted_event_took_ends_refused_on_the_box(
    own_stack: FaultStack,
) -> None:
    fs, db = own_stack, own_stack.box_db
    box = fs.cashier()
    codes = box.first_barcodes(1)
    target = take_next_sale_seq(fs, box, codes)

    victim = box.sell(codes, "100.00")
    after = [box.sell(codes, "100.00") for _ in range(2)]
    assert sale_seq(db, victim["sale_id"]) == target

    wait_until(lambda: refused(db) != [], 60, "the hub's refusal to reach the box")
    drained(db)  # the rest of the queue
    assert refused(db) == [(target, "sale.completed", "SEQ_CONFLICT", None)], "never delivered"

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
