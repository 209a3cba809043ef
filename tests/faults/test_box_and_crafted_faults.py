"""Box process kills, crafted duplicate/out-of-order batches and a skewed box clock, through the
real ingest worker on the PRIVATE broker; each ends with an exact reconciliation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scripts.sync_harness import FaultStack, hub_rows, reconcile_box, reconcile_exact
from scripts.testkit.crafted import CraftedBox
from scripts.testkit.waiting import wait_until
from tests.faults.selling import Seller

pytestmark = [pytest.mark.pg, pytest.mark.slow]


@pytest.mark.req("FR-303", "NFR-003")
def test_box_web_and_sync_agent_sigkilled_mid_sale_and_mid_publish(
    fault_stack: FaultStack,
) -> None:
    fs = fault_stack
    box = fs.cashier()
    seller = Seller(box, box.first_barcodes(3))
    seller.start()
    wait_until(lambda: seller.done >= 15, 30, "15 sales")
    fs.stack.kill("box-sync")  # mid-publish: the agent is streaming batches while sales flow
    fs.stack.kill("box-web")  # mid-sale: the seller's current request dies with it
    seller.stop()
    fs.stack.restart("box-web")
    fs.stack.restart("box-sync")
    again = fs.cashier()
    for _ in range(5):
        again.sell(again.first_barcodes(1), "100.00")
    figures = reconcile_box(fs, timeout=60)
    assert figures["sales"] >= 20


@pytest.mark.req("FR-303", "NFR-003")
def test_same_batch_twice_and_out_of_order_then_gap_filled(fault_stack: FaultStack) -> None:
    crafted = CraftedBox(fault_stack)
    try:
        evs = [crafted.event(s) for s in range(1, 10)]
        first, middle, last = evs[0:3], evs[3:6], evs[6:9]
        ack = crafted.send(last)  # out of order: a gap below it
        assert (ack.acked_through, ack.missing_seqs) == (0, [1, 2, 3, 4, 5, 6])
        ack = crafted.send(first)
        assert (ack.acked_through, ack.missing_seqs) == (3, [4, 5, 6])
        ack = crafted.send(first)  # the same batch again
        assert (ack.accepted, len(ack.duplicates), ack.acked_through) == ([], 3, 3)
        ack = crafted.send(middle[::-1] + last)  # the box resends the gap (+ a duplicate)
        assert (ack.acked_through, ack.missing_seqs, len(ack.duplicates)) == (9, [], 3)
        reconcile_exact(crafted.expected(evs), fault_stack.admin_dsn, crafted.box_id)
    finally:
        crafted.close()


@pytest.mark.req("FR-303", "NFR-003")
def test_box_clock_skewed_by_hours_sales_accepted_and_bucketed(fault_stack: FaultStack) -> None:
    """No box clock hook exists, so the skewed box is crafted: its heartbeat and batch carry a
    clock 4 h behind the hub's. A sale made just now is on time; one made 30 min before the
    outage (on the box clock) is late."""
    crafted = CraftedBox(fault_stack)
    try:
        box_now = datetime.now(UTC) - timedelta(hours=4)
        crafted.heartbeat(box_now)
        dsn = fault_stack.admin_dsn
        wait_until(
            lambda: hub_rows(
                dsn,
                "SELECT clock_skew_seconds FROM box_heartbeats WHERE box_id = %s "
                "AND clock_skew_seconds IS NOT NULL",
                (crafted.box_id,),
            ),
            15,
            "the heartbeat",
        )
        evs = [
            crafted.event(1, occurred_at=box_now),
            crafted.event(2, occurred_at=box_now - timedelta(minutes=30)),
        ]
        ack = crafted.send(evs, sent_at=box_now)
        assert ack.acked_through == 2
        late = dict(
            hub_rows(dsn, "SELECT receipt_no, late FROM sales WHERE box_id = %s", (crafted.box_id,))
        )
        assert late == {1: False, 2: True}
        reconcile_exact(crafted.expected(evs), dsn, crafted.box_id)
    finally:
        crafted.close()
