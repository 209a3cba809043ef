"""What boxes send and get about customers (FR-400, FR-402): `customer.enrolled` with a box-made
id, card conflicts, the versioned card directory (chunks chain, no PII, tier and balance
changes re-sent), till search over BoxRequest; and the cashier performance rows (FR-600)."""

from __future__ import annotations

import itertools
import json
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from hub.core.db import tenant_tx
from hub.customers import directory
from hub.customers.models import Customer
from hub.governance import versions
from hub.identity.models import Box
from hub.loyalty import jobs, rules
from hub.performance.models import StaffDay
from hub.sync.box_requests import handle_request
from posdomain import topics
from posdomain.customer_fields import new_card
from posdomain.staff_stats import TimedSale, active_time
from tests.hub.conftest import enrol_box
from tests.hub.loyalty_helpers import (
    _envelope,
    customer_sale,
    enable_loyalty,
    items,
    new_customer,
    refund_event,
    send,
    void_event,
)

pytestmark = [pytest.mark.pg]
T, B = "t-greenbasket", "b-downtown"


def _enrolled(box: str, seq: int, card: str, cid: str | None = None, **extra) -> dict:
    payload = {
        "customer_id": cid or str(uuid.uuid4()),
        "card": card,
        "display_name": "Till Made",
        "enrolled_at": datetime.now(UTC).isoformat(),
        "enrolled_by": "u-cashier",
        **extra,
    }
    return _envelope(box, seq, "customer.enrolled", payload)


@pytest.mark.req("FR-400", "FR-303")
def test_customer_enrolled_at_the_till_is_created_once_and_earns_in_the_same_batch(app):
    enable_loyalty()
    box = enrol_box(T, B)
    card = new_card()
    enrol = _enrolled(box, 1, card)
    cid = enrol["payload"]["customer_id"]
    ack = send(box, [enrol, customer_sale(box, 2, cid)])
    assert len(ack.accepted) == 2
    with tenant_tx(T):
        c = Customer.get(Customer.id == cid)
    assert (c.card, c.source, c.home_branch_id) == (card, "box", B)
    again = _enrolled(box, 3, card, cid)  # the same enrolment re-sent with a new event id
    bad = _enrolled(box, 4, "1234567890123")  # wrong check digit
    forged = _enrolled(box, 5, new_card(), cid)  # same id, another card
    ack = send(box, [again, bad, forged])
    assert [r["reason"] for r in ack.rejected] == ["INVALID_CARD", "DUPLICATE"]
    assert ack.acked_through == 5  # refused events keep their seq: the box does not resend them
    clash = _enrolled(box, 6, card)  # someone else hands out the same card offline
    send(box, [clash])
    with tenant_tx(T):
        other = Customer.get(Customer.id == clash["payload"]["customer_id"])
    assert other.card is None
    assert [i.event_id for i in items("CUSTOMER_CARD_CONFLICT")].count(clash["event_id"]) == 1


@pytest.mark.req("FR-400", "FR-402")
def test_card_directory_chunks_chain_carry_no_pii_and_resend_changes(app):
    enable_loyalty()
    box_id = enrol_box(T, B)
    with tenant_tx(T):
        start = versions.current(T, "cards")
    cid = new_customer(phone="+32470000000", email="p@example.org", card=new_card())
    with tenant_tx(T):
        directory.stamp(T, [cid])
        box = Box.get(Box.box_id == box_id)
    old_max = directory.MAX_CHUNK_CARDS
    directory.MAX_CHUNK_CARDS = 2
    try:
        msgs = directory.chunk_messages(box, 0)
    finally:
        directory.MAX_CHUNK_CARDS = old_max
    bodies = [m.body for _t, m in msgs]
    assert all(t == topics.box_down(box_id, "cards") for t, _m in msgs)
    assert bodies[0]["from_version"] == 0
    for prev, nxt in itertools.pairwise(bodies):
        assert nxt["from_version"] == prev["to_version"]
    assert bodies[-1]["last"] is True
    assert all(len(b["cards"]) <= 2 for b in bodies)
    mine = [c for b in bodies for c in b["cards"] if c["customer_id"] == cid]
    assert set(mine[0]) == {
        "customer_id",
        "card",
        "display_name",
        "tier",
        "balance",
        "active",
        "version",
    }
    assert "+32470000000" not in json.dumps(bodies)
    held = bodies[-1]["to_version"]
    assert held > start
    send(box_id, [customer_sale(box_id, 1, cid, qty="10", total="10.00", tax="0.00")])  # 200 points
    with tenant_tx(T):
        jobs.recalculate_tiers(T, datetime.now(UTC), rules.current_rules(T))  # 10.00 spend: GOLD
    delta = [c for _t, m in directory.chunk_messages(box, held) for c in m.body["cards"]]
    assert [
        (c["customer_id"], c["tier"], c["balance"]) for c in delta if c["customer_id"] == cid
    ] == [(cid, "GOLD", 200)]


@pytest.mark.req("FR-400")
def test_till_search_answers_with_directory_fields_only_and_forged_requests_get_nothing(app):
    box_id = enrol_box(T, B)
    name = f"Zed{uuid.uuid4().hex[:6]}"
    new_customer(display_name=name, phone="+32471112233")
    req = {
        "v": 1,
        "box_id": box_id,
        "kind": "customer_search",
        "query": "471112233",
        "request_id": str(uuid.uuid4()),
    }
    [(topic, reply)] = handle_request(topics.box_request(box_id), json.dumps(req).encode())
    assert topic == topics.box_reply(box_id)
    assert [i["display_name"] for i in reply.body["items"]] == [name]
    assert "471112233" not in json.dumps(reply.body["items"])
    forged = handle_request(topics.box_request("box-downtown-1"), json.dumps(req).encode())
    assert forged == []


@pytest.mark.req("FR-600")
def test_cashier_performance_rows_from_sales_refunds_voids_and_audit_entries(app):
    box = enrol_box(T, B)
    cashier = f"u-perf-{uuid.uuid4().hex[:6]}"
    t0 = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 01:30 (CET) in Brussels: DST day
    sales = []
    for n, minutes in enumerate([0, 2, 4, 30, 31], 1):  # a 26-minute idle gap
        ev = customer_sale(box, n, "nobody", when=t0 + timedelta(minutes=minutes))
        ev["payload"]["cashier_id"] = cashier
        ev["payload"]["completed_at"] = ev["occurred_at"]
        sales.append(ev)
    refund = refund_event(box, 6, sales[0], "1", "1.49")
    refund["payload"].update(
        cashier_id=cashier, completed_at=(t0 + timedelta(minutes=5)).isoformat()
    )
    void = void_event(box, 7, sales[-1])
    void["payload"].update(cashier_id=cashier, voided_at=(t0 + timedelta(minutes=32)).isoformat())
    audits = [
        _envelope(
            box,
            8 + i,
            "audit.entry",
            {
                "chain": f"box:{box}",
                "seq": i + 1,
                "ts": t0.isoformat(),
                "actor": f"staff:{cashier}",
                "action": action,
                "target": "x",
                "severity": "INFO",
                "details": {},
                "prev_hash": "0" * 64,
                "hash": f"{i:064d}",
            },
        )
        for i, action in enumerate(
            ["drawer.no_sale", "override.no_sale", "override.granted", "sale.line_void"]
        )
    ]
    batch = [*sales, refund, void, *audits]
    send(box, batch[:4])
    send(box, batch[4:])
    send(box, batch)  # a duplicate batch counts nothing twice
    with tenant_tx(T):
        row = StaffDay.get(StaffDay.cashier_id == cashier)
    assert row.business_day == "2026-03-29"
    assert (row.transactions, row.items, row.total_minor, row.net_minor) == (
        5,
        5,  # each sale is one weighed line (2 kg of bananas): one item
        5 * 298,
        5 * 284,
    )
    assert (row.refunds_count, row.refunds_minor, row.voids_count, row.voids_minor) == (
        1,
        149,
        1,
        298,
    )
    assert (row.no_sale_opens, row.overrides, row.line_voids) == (1, 1, 1)
    assert row.drawer_opens == 5 + 1 + 1 + 1  # cash sales, cash refund, post-void, no-sale
    # timeline: 0 -> 2 -> 4 min (240 s, 4 timed items), idle 26 min, 30 -> 31 (60 s, 2 items)
    # 3 timed sales of one weighed line each
    assert (row.active_ms, row.timed_items) == (300_000, 3)


def test_active_time_excludes_idle_gaps_and_uses_start_times() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    with_starts = [
        TimedSale(t + timedelta(seconds=100), 3, t),
        TimedSale(t + timedelta(seconds=800), 2, t + timedelta(seconds=750)),
    ]
    assert active_time(with_starts) == active_time(list(reversed(with_starts)))
    assert active_time(with_starts).ms == (100 + 50) * 1000  # the 650 s wait is idle
    assert active_time(with_starts).timed_items == 5
    assert active_time([]).items_per_minute() is None


@pytest.mark.req("FR-600")
@pytest.mark.parametrize("seed", [3, 5])
def test_active_time_is_exact_whatever_order_the_sales_arrive_in(app, seed):
    rng = random.Random(seed)
    box = enrol_box(T, B)
    cashier = f"u-order-{uuid.uuid4().hex[:6]}"
    t0 = datetime(2026, 5, 4, 8, tzinfo=UTC)
    offsets, at = [], 0
    for _ in range(30):
        at += rng.choice([20, 90, 300, 700, 1500])  # some gaps are idle
        offsets.append(at)
    events = []
    for n, off in enumerate(offsets, 1):
        ev = customer_sale(box, n, "nobody", when=t0 + timedelta(seconds=off))
        ev["payload"].update(cashier_id=cashier, completed_at=ev["occurred_at"])
        if rng.random() < 0.5:
            start = t0 + timedelta(seconds=off - rng.choice([10, 60]))
            ev["payload"]["started_at"] = start.isoformat()
        events.append(ev)
    batches = [events[i : i + 4] for i in range(0, len(events), 4)]
    rng.shuffle(batches)  # gaps and late batches: the hub applies them in arrival order
    for batch in batches:
        send(box, batch)
    expected = active_time(
        TimedSale(
            datetime.fromisoformat(e["payload"]["completed_at"]),
            1,  # each crafted sale is one weighed line: one item
            datetime.fromisoformat(e["payload"]["started_at"])
            if "started_at" in e["payload"]
            else None,
        )
        for e in events
    )
    with tenant_tx(T):
        row = StaffDay.get(StaffDay.cashier_id == cashier)
    assert (row.active_ms, row.timed_items) == (expected.ms, expected.timed_items)
