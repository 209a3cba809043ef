"""Points at ingest (FR-401, FR-303): earned by the hub's own computation, keyed by the source
event so any replay gives the same balance, reversed proportionally by refunds and in full by
post-voids (in any arrival order), balance = ledger sum after random operations, loyalty
conflicts queued, never a rejected sale."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import psycopg2
import pytest

from hub.core.db import tenant_tx
from hub.loyalty import jobs, rules
from hub.loyalty.models import LedgerRow
from tests.hub.conftest import enrol_box
from tests.hub.loyalty_helpers import (
    balance,
    customer_sale,
    enable_loyalty,
    items,
    new_customer,
    refund_event,
    rows,
    send,
    void_event,
)

pytestmark = [pytest.mark.pg, pytest.mark.req("FR-401")]
T, B = "t-greenbasket", "b-downtown"
# p-001 Bananas (PRODUCE x2): net 2.98 - 0.14 = 2.84 -> 2.84 x 10 x 2 = 56.8 -> 56 points
EARN = 56


@pytest.fixture
def box(app) -> str:
    enable_loyalty()
    return enrol_box(T, B)


def test_sale_earns_the_hubs_points_and_a_replay_books_nothing(box):
    cid = new_customer()
    sale = customer_sale(box, 1, cid)
    first = send(box, [sale])
    assert first.accepted
    assert not first.rejected
    assert rows(cid) == [("earn", 1, EARN)]
    again = send(box, [sale])  # the same batch again: a duplicate, nothing booked
    assert again.duplicates == [first.accepted[0]]
    assert balance(cid) == (EARN, EARN)


def test_refunds_reverse_proportionally_and_a_void_reverses_the_rest(box):
    cid = new_customer()
    sale = customer_sale(box, 1, cid, qty="3", total="3.00", tax="0.00")  # 3.00 x 20 = 60
    send(box, [sale])
    send(box, [refund_event(box, 2, sale, "1", "1.00")])
    assert balance(cid) == (40, 40)
    send(box, [refund_event(box, 3, sale, "1", "1.00")])
    assert balance(cid) == (20, 20)
    send(box, [refund_event(box, 4, sale, "1", "1.00")])  # the last unit takes the rest
    assert balance(cid) == (0, 0)
    other = customer_sale(box, 5, cid, qty="1", total="1.00", tax="0.00")
    send(box, [other, void_event(box, 6, other)])
    assert balance(cid) == (0, 0)
    assert [k for k, _n, _p in rows(cid)].count("earn_reversal") == 4


def test_a_refund_that_arrives_before_its_sale_is_still_reversed(box):
    cid = new_customer()
    sale = customer_sale(box, 1, cid, qty="2", total="2.00", tax="0.00")  # 40 points
    ack = send(box, [refund_event(box, 2, sale, "1", "1.00")])  # above a gap: stored at once
    assert ack.missing_seqs == [1]
    send(box, [sale])
    assert balance(cid) == (20, 20)


def test_redemption_is_deducted_and_over_redemption_by_two_boxes_is_queued(app):
    version = enable_loyalty()
    box_a, box_b = enrol_box(T, B), enrol_box(T, B)
    cid = new_customer()
    send(box_a, [customer_sale(box_a, 1, cid, qty="10", total="10.00", tax="0.00")])  # 200
    facts = {
        "rules_version": version,
        "balance_before": 200,
        "earned": 0,
        "redeemed": 150,
        "redeemed_value": "1.50",
        "offline": True,
    }
    # both boxes, offline, redeem 150 of the same 200 (each 1.50 of a 4.00 basket)
    a = customer_sale(
        box_a, 2, cid, qty="4", total="4.00", tax="0.00", loyalty={**facts, "earned": 80}
    )
    b = customer_sale(
        box_b, 1, cid, qty="4", total="4.00", tax="0.00", loyalty={**facts, "earned": 80}
    )
    assert send(box_a, [a]).rejected == []
    assert balance(cid)[0] == 200 - 150 + 80
    assert items("LOYALTY_OVER_REDEMPTION") == [] or all(
        i.sale_id != a["payload"]["sale_id"] for i in items("LOYALTY_OVER_REDEMPTION")
    )
    ack = send(box_b, [b])
    assert ack.rejected == []  # never rejects the sale
    assert len(ack.accepted) == 1
    over = [i for i in items("LOYALTY_OVER_REDEMPTION") if i.sale_id == b["payload"]["sale_id"]]
    assert len(over) == 1
    assert over[0].details["balance_after"] == 200 - 150 + 80 - 150
    assert {r["box_id"] for r in over[0].details["redemptions"]} >= {box_a, box_b}
    send(box_b, [b])  # redelivered: no second item, no second deduction
    assert (
        len([i for i in items("LOYALTY_OVER_REDEMPTION") if i.sale_id == b["payload"]["sale_id"]])
        == 1
    )
    assert balance(cid) == (200 - 150 + 80 - 150 + 80, 200 - 150 + 80 - 150 + 80)


def test_bad_facts_and_rule_breaks_are_queued_not_rejected(box):
    version = enable_loyalty()
    cid = new_customer()
    fractional = customer_sale(box, 1, cid, loyalty={"rules_version": version, "earned": 1.5})
    too_much = customer_sale(
        box,
        2,
        cid,
        total="2.00",
        tax="0.00",
        loyalty={
            "rules_version": version,
            "balance_before": 5000,
            "redeemed": 1500,
            "redeemed_value": "15.00",
            "earned": 40,
        },
    )
    wrong = customer_sale(box, 3, cid, loyalty={"rules_version": version, "earned": 999})
    ack = send(box, [fractional, too_much, wrong])
    assert len(ack.accepted) == 3
    assert ack.rejected == []
    assert [i.sale_id for i in items("LOYALTY_FACTS_INVALID")].count(
        fractional["payload"]["sale_id"]
    ) == 1
    share = [
        i for i in items("LOYALTY_REDEMPTION_RULES") if i.sale_id == too_much["payload"]["sale_id"]
    ]
    assert share[0].details["reason"] == "REDEMPTION_EXCEEDS_SHARE"
    mismatch = [
        i for i in items("LOYALTY_EARN_MISMATCH") if i.sale_id == wrong["payload"]["sale_id"]
    ]
    assert mismatch[0].details == {**mismatch[0].details, "box_earned": 999, "hub_earned": EARN}
    assert balance(cid)[0] == balance(cid)[1] == 40 - 1500 + EARN  # fractional one: nothing


def test_unknown_and_other_tenants_customers_earn_nothing(box):
    version = enable_loyalty()
    other = new_customer("t-harborfoods")
    ack = send(
        box, [customer_sale(box, 1, other, loyalty={"rules_version": version, "earned": EARN})]
    )
    assert ack.rejected == []
    assert balance(other, "t-harborfoods") == (0, 0)
    unknown = [i for i in items("LOYALTY_CUSTOMER_UNKNOWN") if i.details["customer_id"] == other]
    assert len(unknown) == 1


def test_ledger_refuses_update_and_delete_for_the_app_and_the_owner(box, hub_urls):
    cid = new_customer()
    send(box, [customer_sale(box, 1, cid)])
    with pytest.raises(Exception, match="permission denied"), tenant_tx(T):
        LedgerRow.update(points=1).where(LedgerRow.customer_id == cid).execute()
    with pytest.raises(Exception, match="permission denied"), tenant_tx(T):
        LedgerRow.delete().where(LedgerRow.customer_id == cid).execute()
    conn = psycopg2.connect(hub_urls[0])  # the owner: the trigger still refuses
    try:
        for sql in (
            "UPDATE loyalty_ledger SET points = 1 WHERE customer_id = %s",
            "DELETE FROM loyalty_ledger WHERE customer_id = %s",
        ):
            with pytest.raises(psycopg2.Error, match="append-only"), conn.cursor() as cur:
                cur.execute(sql, (cid,))
            conn.rollback()
    finally:
        conn.close()


@pytest.mark.parametrize("seed", [7, 11])
def test_balance_equals_ledger_sum_after_random_operations(box, seed):
    rng = random.Random(seed)
    version = enable_loyalty()
    customers = [new_customer() for _ in range(3)]
    seq, sales, batches, touched = 0, [], [], set()
    for _ in range(40):
        seq += 1
        cid = rng.choice(customers)
        op = rng.random()
        if op < 0.5 or not sales:
            qty = rng.randint(1, 5)
            redeem = rng.choice([0, 0, 100, 200])
            facts = (
                {
                    "rules_version": version,
                    "redeemed": redeem,
                    "redeemed_value": f"{redeem / 100:.2f}",
                    "balance_before": 1000,
                }
                if redeem
                else None
            )
            ev = customer_sale(
                box, seq, cid, qty=str(qty), total=f"{qty}.00", tax="0.00", loyalty=facts
            )
            sales.append(ev)
        elif op < 0.8:
            sale = rng.choice(sales)
            touched.add(sale["payload"]["sale_id"])
            ev = refund_event(box, seq, sale, "1", "1.00", points_returned=rng.choice([0, 50]))
        else:  # only a sale without refunds, once (as the box allows)
            open_sales = [s for s in sales if s["payload"]["sale_id"] not in touched]
            if not open_sales:
                continue
            sale = rng.choice(open_sales)
            touched.add(sale["payload"]["sale_id"])
            ev = void_event(box, seq, sale)
        batches.append(ev)
    chunks = [batches[i : i + rng.randint(1, 6)] for i in range(0, len(batches), 5)]
    for chunk in chunks:
        send(box, chunk)
        if rng.random() < 0.3:
            send(box, chunk)  # a duplicate batch
    with tenant_tx(T):
        jobs.expire_points(T, datetime.now(UTC) + timedelta(days=800), rules.current_rules(T))
    for cid in customers:
        running, summed = balance(cid)
        assert running == summed
