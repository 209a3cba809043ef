"""Broker, hub-ingest and link faults on a real stack; each ends with an exact reconciliation.

Real PostgreSQL, a PRIVATE real Mosquitto (persistence on, max_queued_messages 20), the real
hub ingest worker and the real box web app + sync agent as separate processes.
"""

from __future__ import annotations

import json
import sys
import time

import psycopg2
import pytest

from scripts.sync_harness import (
    FaultStack,
    box_unacked,
    hub_rows,
    hub_sales,
    reconcile_box,
)
from scripts.testkit.waiting import wait_until
from tests.faults.ingest_holding_tx import HOOK_LINE
from tests.faults.selling import Seller

pytestmark = [pytest.mark.pg, pytest.mark.slow]


def _ingest_log_count(fs: FaultStack, needle: str) -> int:
    return (fs.stack.var / "hub-ingest.log").read_text(errors="replace").count(needle)


def _events_on_hub(fs: FaultStack) -> int:
    """How many of the box's events the hub has stored."""
    rows = hub_rows(
        fs.admin_dsn, "SELECT count(*) FROM ingested_events WHERE box_id = %s", (fs.box_id,)
    )
    return int(rows[0][0])


@pytest.mark.req("FR-303", "NFR-003")
def test_broker_stopped_mid_batch_while_selling(fault_stack: FaultStack) -> None:
    fs = fault_stack
    box = fs.cashier()
    seller = Seller(box, box.first_barcodes(2))
    seller.start()
    wait_until(lambda: seller.done >= 10, 30, "10 sales")
    fs.broker.stop()  # mid-flow: batches in flight, acks in flight
    at_stop = seller.done
    wait_until(lambda: seller.done >= at_stop + 15, 30, "15 sales with the broker down")
    fs.broker.start()  # same port, same persistence folder
    wait_until(lambda: seller.done >= at_stop + 25, 30, "sales after the restart")
    assert seller.stop() >= at_stop + 25
    assert not seller.errors
    figures = reconcile_box(fs, timeout=90)
    assert figures["sales"] >= 35


@pytest.mark.req("FR-303", "NFR-003")
def test_hub_ingest_sigkilled_inside_its_transaction(fault_stack: FaultStack) -> None:
    fs = fault_stack
    box = fs.cashier()
    reconcile_box(fs)  # start from a drained box
    events_before = _events_on_hub(fs)
    hooks_before = _ingest_log_count(fs, HOOK_LINE)
    fs.stack.kill("hub-ingest")
    normal_ingest = fs.stack.argvs["hub-ingest"]
    fs.stack.start("hub-ingest", [sys.executable, "-m", "tests.faults.ingest_holding_tx", "60"])
    sold = [box.sell(box.first_barcodes(1), "100.00")["sale_id"] for _ in range(3)]
    wait_until(lambda: _ingest_log_count(fs, HOOK_LINE) > hooks_before, 40, "the hook")
    fs.stack.kill("hub-ingest")  # SIGKILL with the batch transaction open
    on_hub = {sid for sid, _t in hub_sales(fs.admin_dsn, fs.box_id)}
    assert not on_hub & set(sold), "a sale of the killed transaction is on the hub"
    events_after = _events_on_hub(fs)
    assert events_after == events_before, "half-applied batch: events without their sales"
    moves = hub_rows(
        fs.admin_dsn, "SELECT count(*) FROM stock_movements WHERE ref = ANY(%s)", (sold,)
    )[0][0]
    assert moves == 0
    fs.stack.start("hub-ingest", normal_ingest)
    reconcile_box(fs, timeout=60)


def _inserting_blocked(admin_dsn: str, table: str) -> bool:
    """Whether a backend of this database waits for a lock on `table` (its insert: the one
    statement that writes it; the query text is no help, the insert may be one of several
    sent in one round trip, past `track_activity_query_size`: hub/core/writer.py)."""
    found = hub_rows(
        admin_dsn,
        "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = %s::regclass",
        (table,),
    )
    return bool(found[0][0])


@pytest.mark.req("FR-303", "NFR-003")
def test_hub_ingest_sigkilled_while_inside_an_insert(fault_stack: FaultStack) -> None:
    """The batch's report lines insert is held inside PostgreSQL by a lock another session
    takes on the table when the worker is SIGKILLed: nothing of
    the batch is on the hub; the box's resend to a new worker stores every sale once."""
    fs = fault_stack
    box = fs.cashier()
    reconcile_box(fs)
    events_before = _events_on_hub(fs)
    normal_ingest = fs.stack.argvs["hub-ingest"]
    blocker = psycopg2.connect(fs.admin_dsn)  # BEGIN … LOCK: inserts wait, reads go on
    try:
        with blocker.cursor() as cur:
            cur.execute("LOCK TABLE report_lines IN EXCLUSIVE MODE")
        codes = box.first_barcodes(2)
        sold = [box.sell(codes, "100.00")["sale_id"] for _ in range(2)]
        wait_until(
            lambda: _inserting_blocked(fs.admin_dsn, "report_lines"), 60, "the batch's insert"
        )
        fs.stack.kill("hub-ingest")  # SIGKILL: the insert still inside PostgreSQL
        on_hub = {sid for sid, _t in hub_sales(fs.admin_dsn, fs.box_id)}
        assert not on_hub & set(sold), "a sale of the killed transaction is on the hub"
    finally:
        blocker.rollback()  # the orphaned backend finishes the insert, then rolls back
        blocker.close()
    events_after = _events_on_hub(fs)
    assert events_after == events_before, "half-applied batch: events without their sales"
    fs.stack.start("hub-ingest", normal_ingest)
    figures = reconcile_box(fs, timeout=90)
    assert figures["sales"] >= len(sold)
    facts = hub_rows(
        fs.admin_dsn,
        "SELECT sale_id, count(*) FROM report_lines WHERE sale_id = ANY(%s) GROUP BY sale_id",
        (sold,),
    )
    assert sorted(facts) == sorted((sid, 2) for sid in sold), "report lines lost or doubled"
    moves = hub_rows(
        fs.admin_dsn, "SELECT count(*) FROM stock_movements WHERE ref = ANY(%s)", (sold,)
    )[0][0]
    assert moves == 2 * len(sold)


@pytest.mark.req("FR-303", "NFR-003")
def test_puback_is_not_delivery_when_the_broker_drops_queued_messages(
    fault_stack: FaultStack,
) -> None:
    """PITFALLS: with the hub subscriber gone, Mosquitto PUBACKs every batch but drops past
    max_queued_messages. The box keeps its outbox unacked until the hub's own BatchAck and
    redelivers, so the final reconciliation is still exact.

    The box-side unit proof is tests/appliance/sync/test_sync_agent.py
    `test_puback_alone_never_marks_delivered`.
    """
    fs = fault_stack
    box = fs.cashier()
    reconcile_box(fs)
    fs.stack.kill("hub-ingest")  # its persistent session stays: the broker queues for it
    for _ in range(12):
        box.sell(box.first_barcodes(1), "100.00")
    wait_until(fs.broker.dropped_messages, 90, "Mosquitto to drop queued messages", every=1)
    assert box_unacked(fs.box_db) >= 12, "PUBACKed batches were marked delivered"
    fs.stack.restart("hub-ingest")
    reconcile_box(fs, timeout=90)


@pytest.mark.req("FR-303", "NFR-003", "NFR-002")
def test_link_down_with_a_few_hundred_sales_queued(fault_stack: FaultStack) -> None:
    """Short version of the long-outage run (`just chaos` sells thousands)."""
    fs = fault_stack
    box = fs.cashier()
    reconcile_box(fs)
    fs.broker.stop()
    codes = box.first_barcodes(1)
    for _ in range(200):
        box.sell(codes, "100.00")
    assert box_unacked(fs.box_db) >= 200
    started = time.monotonic()
    fs.broker.start()
    figures = reconcile_box(fs, timeout=120)
    drained = time.monotonic() - started
    assert figures["sales"] >= 200
    print(f"200-sale backlog drained {drained:.1f}s after the broker came back")


def _most_in_flight(fs: FaultStack, offset: int) -> int:
    """The largest window the box's sync agent logged ("batch sent") after byte `offset`."""
    path = fs.stack.var / "box-sync.log"
    text = path.read_bytes()[offset:].decode(errors="replace")
    most = 0
    for line in text.splitlines():
        if '"batch sent"' in line:
            try:
                most = max(most, int(json.loads(line).get("in_flight") or 0))
            except ValueError:
                continue
    return most


@pytest.mark.req("FR-303", "NFR-003")
def test_hub_ingest_sigkilled_with_a_window_of_batches_in_flight(fault_stack: FaultStack) -> None:
    """The box has several unacked batches out (its window) when the worker holding the first
    inside its transaction is SIGKILLed: none of them is on the hub, nothing half-written;
    the box gives the window up and sends again from its first unacked event to the new
    worker; every sale ends on the hub exactly once."""
    fs = fault_stack
    box = fs.cashier()
    reconcile_box(fs)
    events_before = _events_on_hub(fs)
    hooks_before = _ingest_log_count(fs, HOOK_LINE)
    offset = (fs.stack.var / "box-sync.log").stat().st_size
    fs.stack.kill("hub-ingest")
    normal_ingest = fs.stack.argvs["hub-ingest"]
    fs.stack.start("hub-ingest", [sys.executable, "-m", "tests.faults.ingest_holding_tx", "90"])
    codes = box.first_barcodes(1)
    sold = [box.sell(codes, "100.00")["sale_id"]]
    wait_until(lambda: _ingest_log_count(fs, HOOK_LINE) > hooks_before, 60, "the hook")
    deadline = time.monotonic() + 60
    while _most_in_flight(fs, offset) < 3 and time.monotonic() < deadline:
        sold.append(box.sell(codes, "100.00")["sale_id"])  # each goes out in its own batch
        time.sleep(0.3)
    assert _most_in_flight(fs, offset) >= 3, "the box never had 3 batches in flight"
    fs.stack.kill("hub-ingest")  # SIGKILL: batch 1 in its transaction, the others queued
    on_hub = {sid for sid, _t in hub_sales(fs.admin_dsn, fs.box_id)}
    assert not on_hub & set(sold), "a sale of the killed worker's batches is on the hub"
    events_after = _events_on_hub(fs)
    assert events_after == events_before, "half-applied batch: events without their sales"
    fs.stack.start("hub-ingest", normal_ingest)
    figures = reconcile_box(fs, timeout=120)
    on_hub = {sid for sid, _t in hub_sales(fs.admin_dsn, fs.box_id)}
    assert set(sold) <= on_hub
    assert figures["sales"] >= len(sold)
