"""Exchange at the till (FR-300, FR-302; issue 14 item 3): return an item of an earlier sale
and buy another in one basket, tax on each side, a net total that may be positive, zero or
negative (money back in cash or to a card), approved like a refund, never returning a unit twice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from appliance.devices.receipts import receipt_doc
from posdomain.contract import Brand
from posdomain.payloads import SaleCompleted
from posdomain.sale_checks import Context, check_sale
from tests.appliance.factories import LAGER, PINS
from tests.appliance.till.test_basket import BREAD, GUM, MILK, add
from tests.appliance.till.test_checkout import outbox_events, pay
from tests.appliance.till.test_pricing_till import rich  # noqa: F401 - fixture

pytestmark = [pytest.mark.usefixtures("shift_open"), pytest.mark.req("FR-300", "FR-302")]
NOW = datetime.now(UTC)
WINDOW = Context("EUR", 2, NOW - timedelta(days=1), NOW + timedelta(hours=1))


def token(client: FlaskClient) -> str:
    """A manager's single-use approval for a return."""
    resp = client.post(
        "/api/v1/overrides",
        json={"action": "refund", "reason_code": "WRONG_ITEM", "pin": PINS["manager"]},
    )
    return str(resp.get_json()["token"])


def bring_back(client: FlaskClient, sale: dict, line_no: int, qty: str = "1", **extra: Any):
    body = {"receipt": str(sale["receipt_no"]), "lines": [{"line_no": line_no, "qty": qty}]}
    if "override_token" not in extra:
        extra["override_token"] = token(client)
    return client.post("/api/v1/basket/returns", json={**body, **extra})


def settle(client: FlaskClient, tendered: str) -> dict:
    resp = pay(client, tendered)
    assert resp.status_code == 200, resp.get_json()
    return dict(resp.get_json())


def first_sale(client: FlaskClient) -> dict:
    add(client, MILK, 2)  # 2 x 1.99, STD 20 % inclusive
    add(client, BREAD)  # 2.50, RED 7 %
    return settle(client, "10.00")


def test_return_one_buy_another_pays_the_net_with_tax_on_each_side(
    cashier: FlaskClient, box_db: SqliteDatabase
) -> None:
    sold = first_sale(cashier)
    resp = bring_back(cashier, sold, 1)
    assert resp.status_code == 201, resp.get_json()
    back = resp.get_json()["lines"][0]
    assert (back["qty"], back["unit_price"], back["line_total"]) == ("-1", "1.99", "-1.99")
    assert (back["tax_class"], back["tax"]) == ("STD", "-0.33")
    assert back["return_of"] == {"sale_id": sold["sale_id"], "line_no": 1, "receipt_no": 1}
    add(cashier, BREAD)
    basket = cashier.get("/api/v1/basket").get_json()
    assert (basket["total"], basket["returned_total"]) == ("0.51", "-1.99")
    sale = settle(cashier, "1.00")
    assert (sale["total"], sale["change"], sale["tenders"]) == (
        "0.51",
        "0.49",
        [{"kind": "cash", "amount": "1.00"}],
    )
    rows = {r["tax_class"]: r for r in sale["tax_breakdown"]}
    assert (rows["STD"]["tax"], rows["RED"]["tax"]) == ("-0.33", "0.16")
    assert check_sale(SaleCompleted.model_validate(sale), WINDOW) == []  # the hub's rules
    assert outbox_events(box_db, "sale.completed")[-1].payload == sale
    lookup = cashier.get(f"/api/v1/refunds/lookup?code={sold['receipt_no']}").get_json()
    assert lookup["lines"][0]["refundable_qty"] == "1"  # one of two milk came back
    stored = box_db.execute_sql(
        "SELECT qty_milli, return_sale_id, return_line_no FROM sale_lines WHERE qty_milli < 0"
    ).fetchall()
    assert stored == [(-1000, sold["sale_id"], 1)]


def test_money_back_and_an_even_exchange(cashier: FlaskClient) -> None:
    sold = first_sale(cashier)
    assert bring_back(cashier, sold, 1, "2").status_code == 201  # both milk: -3.98
    add(cashier, GUM)  # 0.10
    basket = cashier.get("/api/v1/basket").get_json()
    assert basket["total"] == "-3.88"
    refused = pay(cashier, "5.00")
    assert refused.get_json()["error"]["reason"] == "VALIDATION_FAILED"
    back = settle(cashier, "0")
    assert (back["total"], back["payable"], back["change"]) == ("-3.88", "-3.88", "0.00")
    assert back["tenders"] == [{"kind": "cash", "amount": "-3.88"}]
    assert check_sale(SaleCompleted.model_validate(back), WINDOW) == []
    x = cashier.get("/api/v1/shifts/current/x").get_json()["cash"]
    assert Decimal(x["expected"]) == Decimal(x["opening_float"]) + Decimal("6.48") - Decimal("3.88")
    assert bring_back(cashier, sold, 2).status_code == 201  # the bread: -2.50
    add(cashier, BREAD)
    even = settle(cashier, "0")
    assert (even["total"], even["payable"], even["tenders"]) == ("0.00", "0.00", [])
    assert check_sale(SaleCompleted.model_validate(even), WINDOW) == []


def test_money_back_to_a_card(cashier: FlaskClient, box_db: SqliteDatabase) -> None:
    """The customer's money back can go to a card: one card refund of exactly the amount back
    with the terminal's reference, no cash, no rounding; the drawer's cash stays, the card's
    expected amount goes down."""
    sold = first_sale(cashier)
    assert bring_back(cashier, sold, 1, "2").status_code == 201  # both milk: -3.98
    add(cashier, GUM)  # 0.10 -> -3.88 back
    before = cashier.get("/api/v1/shifts/current/x").get_json()

    def card(amount: str, ref: str = "RF-0042", **cash: str):
        tenders = [{"kind": "card", "amount": amount, "reference": ref}]
        tenders += [{"kind": "cash", "amount": v} for v in cash.values()]
        return cashier.post(
            "/api/v1/basket/pay", json={"tenders": tenders, "idempotency_key": uuid.uuid4().hex}
        )

    for wrong in (card("3.87"), card("3.89"), card("3.88", cash="1.00")):
        assert wrong.status_code == 400
        error = wrong.get_json()["error"]
        assert (error["reason"], error["details"]["payable"]) == ("VALIDATION_FAILED", "-3.88")
    assert card("3.88", ref="4111111111111111").status_code == 400  # never a card number
    resp = card("3.88")
    assert resp.status_code == 200, resp.get_json()
    back = resp.get_json()
    assert (back["total"], back["payable"], back["change"], back["cash_rounding"]) == (
        "-3.88",
        "-3.88",
        "0.00",
        "0.00",
    )
    assert back["tenders"] == [{"kind": "card", "amount": "-3.88", "reference": "RF-0042"}]
    assert check_sale(SaleCompleted.model_validate(back), WINDOW) == []  # the hub's rules
    assert outbox_events(box_db, "sale.completed")[-1].payload == back
    printed = [ln.text for ln in receipt_doc(back, Brand("Forge Fresh")).lines]
    html = cashier.get(f"/receipts/{back['sale_id']}").get_data(as_text=True)
    assert any(t.startswith("Money back") and t.endswith("3.88") for t in printed), printed
    assert any("RF-0042" in t for t in printed)
    assert "RF-0042" in html
    after = cashier.get("/api/v1/shifts/current/x").get_json()
    assert after["cash"]["expected"] == before["cash"]["expected"]
    card_expected = [
        Decimal(next(r["expected"] for r in x["tenders"] if r["kind"] == "card"))
        for x in (before, after)
    ]
    assert card_expected[1] == card_expected[0] - Decimal("3.88")
    forged = SaleCompleted.model_validate({**back, "cash_rounding": "0.02", "payable": "-3.86"})
    assert [v.reason for v in check_sale(forged, WINDOW)] == ["TENDER_MISMATCH"]


def test_nothing_comes_back_twice_and_a_cashier_needs_approval(
    cashier: FlaskClient, box_db: SqliteDatabase
) -> None:
    sold = first_sale(cashier)
    body = {"receipt": str(sold["receipt_no"]), "lines": [{"line_no": 1, "qty": "1"}]}
    alone = cashier.post("/api/v1/basket/returns", json=body)
    assert (alone.status_code, alone.get_json()["error"]["reason"]) == (403, "OVERRIDE_REQUIRED")
    assert bring_back(cashier, sold, 1).status_code == 201
    assert bring_back(cashier, sold, 1).status_code == 201  # the second milk, same basket
    third = bring_back(cashier, sold, 1)
    assert third.get_json()["error"]["reason"] == "REFUND_EXCEEDS_SALE"
    for line_no, qty, reason in [(9, "1", "LINE_NOT_FOUND"), (2, "0.5", "INVALID_QUANTITY")]:
        resp = bring_back(cashier, sold, line_no, qty)
        assert resp.get_json()["error"]["reason"] == reason
    unknown = bring_back(cashier, {"receipt_no": 99}, 1)
    assert unknown.get_json()["error"]["reason"] == "NOT_FOUND"
    add(cashier, BREAD)
    add(cashier, BREAD)
    settle(cashier, "2.00")  # 5.00 - 3.98 = 1.02
    refund = cashier.post(
        "/api/v1/refunds",
        json={
            "receipt": str(sold["receipt_no"]),
            "lines": [{"line_no": 1, "qty": "1"}],
            "tender": "cash",
            "override_token": token(cashier),
            "reason_code": "DEFECTIVE",
            "idempotency_key": uuid.uuid4().hex,
        },
    )
    assert refund.get_json()["error"]["reason"] == "REFUND_EXCEEDS_SALE"  # exchanged already


def test_a_parked_exchange_keeps_its_returned_lines(cashier: FlaskClient) -> None:
    sold = first_sale(cashier)
    bring_back(cashier, sold, 2)
    add(cashier, MILK)
    parked = cashier.post("/api/v1/basket/suspend", json={"label": "exchange"}).get_json()
    resumed = cashier.post(f"/api/v1/basket/suspended/{parked['id']}/resume")
    assert resumed.status_code == 200
    basket = cashier.get("/api/v1/basket").get_json()
    assert basket["lines"][0]["return_of"]["line_no"] == 2
    assert (basket["lines"][0]["qty"], basket["total"]) == ("-1", "-0.51")


def test_a_unit_taken_while_its_exchange_was_parked_is_not_paid_out_twice(
    cashier: FlaskClient,
) -> None:
    sold = first_sale(cashier)
    assert bring_back(cashier, sold, 2).status_code == 201  # the only bread
    add(cashier, MILK)
    parked = cashier.post("/api/v1/basket/suspend", json={"label": "later"}).get_json()
    assert bring_back(cashier, sold, 2).status_code == 201  # parked lines hold nothing
    add(cashier, MILK)
    settle(cashier, "0")
    cashier.post(f"/api/v1/basket/suspended/{parked['id']}/resume")
    refused = pay(cashier, "0")
    assert refused.get_json()["error"]["reason"] == "REFUND_EXCEEDS_SALE"


def test_receipts_show_both_sides(cashier: FlaskClient) -> None:
    sold = first_sale(cashier)
    bring_back(cashier, sold, 1, "2")
    add(cashier, BREAD)
    sale = settle(cashier, "0")  # 2.50 - 3.98: 1.48 back
    html = cashier.get(f"/receipts/{sale['sale_id']}").get_data(as_text=True)
    assert "Returned: Milk 1L" in html
    assert "Return of receipt 1" in html
    printed = [ln.text for ln in receipt_doc(sale, Brand("Forge Fresh")).lines]
    assert any(t.startswith("Returned: Milk 1L") and t.endswith("-1.99") for t in printed)
    assert any("Return of receipt 1" in t for t in printed)
    assert any(t.startswith("Rye Bread") and t.endswith("2.50") for t in printed)
    assert "Money back" in html
    assert any(t.startswith("Money back") and t.endswith("1.48") for t in printed)
    assert not any(t.startswith("Change") for t in printed)
    # tax on each side: the returns' own rows under the breakdown (both places)
    assert sale["return_tax_breakdown"] == [
        {"tax_class": "STD", "name": "STD", "rate": "0.20", "inclusive": True, "per_unit": None,
         "net": "-3.32", "tax": "-0.66", "gross": "-3.98"}
    ]  # fmt: skip
    assert "Of which on returns" in html
    at = printed.index("Of which on returns")
    assert printed[at + 1].startswith("STD 20%")
    assert printed[at + 1].endswith("-0.66")


def test_a_returned_item_brings_its_deposit_and_voids_with_it(
    cashier: FlaskClient,
    rich: Any,  # noqa: F811
) -> None:
    add(cashier, LAGER, 2)  # lager 2 x 1.29 and its deposit line 2 x 0.25
    sold = settle(cashier, "5.00")
    lager = next(ln for ln in sold["lines"] if ln["deposit_for_line"] is None)
    basket = bring_back(cashier, sold, lager["line_no"]).get_json()
    item, deposit = basket["lines"]
    assert (item["line_total"], deposit["line_total"]) == ("-1.29", "-0.25")
    assert deposit["deposit_for_line"] == item["line_no"]
    deposit_only = bring_back(cashier, sold, deposit["return_of"]["line_no"])
    assert deposit_only.get_json()["error"]["reason"] == "INVALID_QUANTITY"
    after = cashier.delete(f"/api/v1/basket/lines/{item['line_no']}").get_json()
    assert after["lines"] == []  # voiding the item voided its deposit
