"""Points at the till (FR-401): earn preview, redemption by the rules in force as a `points`
tender, own redemptions deducted until the hub reflects them, the offline cap, and sale
facts the hub's own checks accept."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from appliance.catalog import down_messages
from appliance.core.context import BoxContext
from appliance.customers.directory import note_acked
from appliance.devices.receipts import receipt_doc
from posdomain.contract import Brand
from posdomain.loyalty import EarnLine, earn, parse_rules
from posdomain.payloads import RefundCompleted, SaleCompleted
from posdomain.refund_checks import check_refund
from posdomain.sale_checks import Context, check_sale
from tests.appliance.customers.conftest import (
    ANNA,
    BERT,
    CARDS,
    RULES,
    cards_chunk,
    entry,
    go_online,
)
from tests.appliance.factories import PINS, down
from tests.appliance.till.test_basket import BREAD, MILK, add
from tests.appliance.till.test_checkout import outbox_events, pay

HOUR = timedelta(hours=1)
pytestmark = [pytest.mark.req("FR-401"), pytest.mark.usefixtures("loyal", "shift_open")]


def attach(client: FlaskClient, cid: str = ANNA) -> dict:
    resp = client.post("/api/v1/basket/customer/card", json={"card": CARDS[cid]})
    assert resp.status_code == 200, resp.get_json()
    return dict(resp.get_json())


def redeem(client: FlaskClient, points: int):
    return client.post("/api/v1/basket/redeem", json={"points": points})


def hub_earn(payload: dict) -> int:
    """What the hub computes from the sale event (its lines, the catalog's categories)."""
    categories = {"p-milk": "DAIRY"}
    lines = [
        EarnLine(
            line_no=ln["line_no"],
            line_total=Decimal(ln["line_total"]),
            tax=Decimal(ln["tax"]),
            tax_class=ln["tax_class"],
            category=categories.get(ln["product_id"]),
        )
        for ln in payload["lines"]
    ]
    return earn(lines, parse_rules(RULES, 3)).total


def test_earn_preview_and_redemption_refusals_with_reason_codes(cashier: FlaskClient) -> None:
    add(cashier, MILK)
    add(cashier, BREAD, 2)  # 6.99: milk net 1.66 x10 x2 (DAIRY) + bread net 4.67 x10
    assert redeem(cashier, 100).get_json()["error"]["reason"] == "NO_CUSTOMER"
    panel = attach(cashier)
    assert panel["earn_preview"] == 33 + 46
    assert panel["max_points"] == 300  # offline cap 300 < share 3.49 -> 349 points < 500
    for points, reason in [
        (501, "REDEMPTION_EXCEEDS_BALANCE"),
        (350, "REDEMPTION_EXCEEDS_SHARE"),
        (301, "REDEMPTION_OFFLINE_CAP"),
        (-1, "VALIDATION_FAILED"),
    ]:
        resp = redeem(cashier, points)
        assert resp.status_code == 400, points
        assert resp.get_json()["error"]["reason"] == reason, points
    bad = cashier.post("/api/v1/basket/redeem", json={"points": 1.5})
    assert bad.get_json()["error"]["reason"] == "VALIDATION_FAILED"
    cashier.delete("/api/v1/basket/customer")
    attach(cashier, BERT)  # 50 points: below the 100 minimum
    assert redeem(cashier, 50).get_json()["error"]["reason"] == "REDEMPTION_BELOW_MIN_BALANCE"
    ok = redeem(cashier, 0).get_json()
    assert ok["redeem_points"] == 0


@pytest.mark.req("FR-401", "FR-303")
def test_sale_with_redemption_carries_points_tender_and_facts_the_hub_accepts(
    cashier: FlaskClient, box_db: SqliteDatabase
) -> None:
    add(cashier, MILK)
    add(cashier, BREAD, 2)
    attach(cashier)
    panel = redeem(cashier, 200).get_json()
    assert (panel["redeem_points"], panel["redeem_value"]) == (200, "2.00")
    sale = pay(cashier, "5.00").get_json()
    assert sale["tenders"] == [
        {"kind": "points", "amount": "2.00", "points": 200},
        {"kind": "cash", "amount": "5.00"},
    ]
    assert (sale["total"], sale["payable"], sale["change"]) == ("6.99", "6.99", "0.01")
    assert sale["customer"] == {
        "customer_id": ANNA,
        "customer_name": "Anna K.",
        "card": CARDS[ANNA],
    }
    assert sale["loyalty"] == {
        "customer_id": ANNA,
        "rules_version": 3,
        "tier": None,
        "directory_version": 1,
        "balance_before": 500,
        "earned": hub_earn(sale),
        "redeemed": 200,
        "redeemed_value": "2.00",
        "offline": True,
    }
    window = Context("EUR", 2, datetime.now(UTC) - timedelta(days=1), datetime.now(UTC) + HOUR)
    assert check_sale(SaleCompleted.model_validate(sale), window) == []  # the hub's rules
    forged = {**sale, "tenders": [{**sale["tenders"][0], "amount": "7.00"}, sale["tenders"][1]]}
    assert check_sale(SaleCompleted.model_validate(forged), window) != []
    [event] = outbox_events(box_db, "sale.completed")
    assert event.payload == sale
    add(cashier, BREAD, 2)
    assert attach(cashier)["customer"]["balance"] == 300  # 500 - own unsettled 200
    assert redeem(cashier, 200).get_json()["error"]["reason"] == "REDEMPTION_OFFLINE_CAP"


def test_own_redemptions_count_until_an_entry_built_after_the_ack_arrives(
    cashier: FlaskClient, box_db: SqliteDatabase, loyal: BoxContext
) -> None:
    go_online(box_db)
    add(cashier, MILK)
    add(cashier, BREAD, 2)
    attach(cashier)
    assert redeem(cashier, 300).status_code == 200
    assert pay(cashier, "5.00").status_code == 200
    add(cashier, BREAD, 2)
    assert attach(cashier)["customer"]["balance"] == 200
    # an entry the hub built before it booked the sale does not settle it
    assert down_messages.apply_down(loyal, cards_chunk(2, 3, [entry(ANNA, 3, 520)]))
    assert attach(cashier)["customer"]["balance"] == 220
    box_db.execute_sql("UPDATE outbox SET acked_at = '2026-01-01T00:00:00+00:00'")
    with box_db.atomic():
        assert note_acked() == 1
    assert down_messages.apply_down(loyal, cards_chunk(3, 4, [entry(ANNA, 4, 250)]))
    panel = attach(cashier)
    assert panel["customer"]["balance"] == 250  # the hub's figure now includes it
    assert panel["offline"] is False
    assert redeem(cashier, 200).status_code == 200  # online: no offline cap
    assert redeem(cashier, 251).get_json()["error"]["reason"] == "REDEMPTION_EXCEEDS_BALANCE"


def test_points_cannot_be_chosen_as_a_tender_and_flag_off_means_no_points(
    cashier: FlaskClient, box_db: SqliteDatabase, loyal: BoxContext
) -> None:
    add(cashier, MILK)
    attach(cashier)
    forged = cashier.post(
        "/api/v1/basket/pay",
        json={"tenders": [{"kind": "points", "amount": "1.99"}], "idempotency_key": "k" * 16},
    )
    assert forged.get_json()["error"]["reason"] == "UNKNOWN_TENDER"
    assert down_messages.apply_down(loyal, down("flags", 2, {"loyalty_rules": False}))
    assert redeem(cashier, 100).get_json()["error"]["reason"] == "LOYALTY_DISABLED"
    sale = pay(cashier, "2.00").get_json()
    assert "loyalty" not in sale
    assert sale["customer"]["customer_id"] == ANNA


def test_receipts_show_the_card_tail_and_points(cashier: FlaskClient) -> None:
    add(cashier, BREAD, 2)
    attach(cashier)
    redeem(cashier, 100)
    sale = pay(cashier, "5.00").get_json()
    html = cashier.get(f"/receipts/{sale['sale_id']}").get_data(as_text=True)
    assert f"…{CARDS[ANNA][-4:]}" in html
    assert CARDS[ANNA] not in html  # the tail only
    assert f"Points earned: {sale['loyalty']['earned']}" in html
    assert "Points redeemed: 100 (1.00)" in html
    printed = [ln.text for ln in receipt_doc(sale, Brand("Forge Fresh")).lines]
    # the printed receipt says what the HTML says (issue 14): same labels, the card tail only
    assert any(t.startswith("Customer:") and t.endswith(CARDS[ANNA][-4:]) for t in printed)
    assert CARDS[ANNA] not in "\n".join(printed)
    assert any(t.startswith("Points redeemed") and t.endswith("100 (1.00)") for t in printed)


def refund_line(client: FlaskClient, sale: dict, line_no: int, qty: str = "1") -> dict:
    token = client.post(
        "/api/v1/overrides",
        json={"action": "refund", "reason_code": "DEFECTIVE", "pin": PINS["manager"]},
    ).get_json()["token"]
    resp = client.post(
        "/api/v1/refunds",
        json={
            "receipt": str(sale["receipt_no"]),
            "lines": [{"line_no": line_no, "qty": qty}],
            "tender": "cash",
            "override_token": token,
            "reason_code": "DEFECTIVE",
            "idempotency_key": uuid.uuid4().hex,
        },
    )
    assert resp.status_code == 201, resp.get_json()
    return dict(resp.get_json())


@pytest.mark.req("FR-401", "FR-300")
def test_refunds_give_redeemed_points_back_not_their_money(cashier: FlaskClient) -> None:
    add(cashier, BREAD, 2)  # 5.00, 2.00 of it paid with 200 points
    attach(cashier)
    redeem(cashier, 200)
    sale = pay(cashier, "3.00").get_json()
    line_no = sale["lines"][0]["line_no"]
    first = refund_line(cashier, sale, line_no)  # half the sale back
    assert first["total"] == "-2.50"
    assert first["tenders"] == [
        {"kind": "cash", "amount": "-1.50"},
        {"kind": "points", "amount": "-1.00", "points": 100},
    ]
    assert first["loyalty"] == {"customer_id": ANNA, "points_returned": 100}
    window = Context("EUR", 2, datetime.now(UTC) - timedelta(days=1), datetime.now(UTC) + HOUR)
    second = refund_line(cashier, sale, line_no)  # the last one gives back the rest
    assert second["loyalty"]["points_returned"] == 100
    assert second["tenders"][0] == {"kind": "cash", "amount": "-1.50"}
    for doc in (first, second):  # the hub's refund rules: paid out == payable, and the rest
        assert check_refund(RefundCompleted.model_validate(doc), window) == []
    x = cashier.get("/api/v1/shifts/current/x").get_json()
    assert x["cash"]["cash_refunds"] == "3.00"  # the points were not paid out in cash
    assert x["refunds"]["total"] == "5.00"


def test_points_chosen_on_a_parked_basket_are_never_redeemed_on_the_next(
    cashier: FlaskClient, box_db: SqliteDatabase
) -> None:
    add(cashier, BREAD, 2)
    attach(cashier)
    assert redeem(cashier, 200).status_code == 200
    parked = cashier.post("/api/v1/basket/suspend", json={"label": "Anna"})
    assert parked.status_code == 201, parked.get_json()
    add(cashier, BREAD, 2)  # the next customer, no card
    sale = pay(cashier, "5.00").get_json()
    assert [t["kind"] for t in sale["tenders"]] == ["cash"]
    assert "loyalty" not in sale
    add(cashier, BREAD, 2)
    attach(cashier, BERT)  # another customer: Anna's choice is not theirs
    sale = pay(cashier, "5.00").get_json()
    assert sale["loyalty"]["redeemed"] == 0
    count = box_db.execute_sql("SELECT count(*) FROM loyalty_redemptions").fetchone()[0]
    assert count == 0
