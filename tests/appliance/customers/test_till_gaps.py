"""Known till gaps of customers and points (issue 11): a card scanned before the first item
attaches its holder to a basket opened empty; a redemption chosen on a parked basket comes
back on resume and is checked against the usable balance then (directory - own since)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from appliance.catalog import down_messages
from appliance.core.context import BoxContext
from posdomain.customer_fields import new_card
from posdomain.payloads import RefundCompleted
from posdomain.refund_checks import check_refund
from posdomain.sale_checks import Context
from tests.appliance.customers.conftest import ANNA, RULES, go_online
from tests.appliance.customers.test_points import HOUR, attach, redeem, refund_line
from tests.appliance.factories import config_body, down
from tests.appliance.till.test_basket import BREAD, MILK, add
from tests.appliance.till.test_checkout import pay

pytestmark = [pytest.mark.usefixtures("loyal", "shift_open")]


def park(client: FlaskClient, label: str = "Anna") -> int:
    resp = client.post("/api/v1/basket/suspend", json={"label": label})
    assert resp.status_code == 201, resp.get_json()
    return int(resp.get_json()["id"])


def resume(client: FlaskClient, parked: int) -> None:
    resp = client.post(f"/api/v1/basket/suspended/{parked}/resume")
    assert resp.status_code == 200, resp.get_json()


@pytest.mark.req("FR-400")
def test_a_card_scanned_before_the_first_item_attaches_its_holder(cashier: FlaskClient) -> None:
    panel = attach(cashier)  # nothing scanned yet
    assert panel["customer"]["customer_id"] == ANNA
    assert cashier.get("/api/v1/basket").get_json()["lines"] == []
    add(cashier, BREAD, 2)
    sale = pay(cashier, "5.00").get_json()
    assert sale["customer"]["customer_id"] == ANNA
    assert sale["loyalty"]["earned"] > 0
    # enrolling before the first item attaches the new customer too
    card = new_card()
    made = cashier.post("/api/v1/customers", json={"card": card, "display_name": "Cleo M."})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["panel"]["customer"]["name"] == "Cleo M."


@pytest.mark.req("FR-401", "FR-300")
def test_a_parked_redemption_survives_resume_and_is_checked_again(
    cashier: FlaskClient, box_db: SqliteDatabase
) -> None:
    go_online(box_db)  # no offline cap: the balance is what limits
    for _ in range(4):
        add(cashier, BREAD)  # 10.00: half may be paid with up to 500 points
    attach(cashier)
    assert redeem(cashier, 300).status_code == 200
    parked = park(cashier)
    resume(cashier, parked)
    panel = cashier.get("/api/v1/basket/loyalty").get_json()
    assert (panel["redeem_points"], panel["redeem_value"]) == (300, "3.00")
    parked = park(cashier)
    # meanwhile Anna redeems 300 of her 500 on another sale at this till
    for _ in range(4):
        add(cashier, BREAD)
    attach(cashier)
    assert redeem(cashier, 300).status_code == 200
    assert pay(cashier, "7.00").status_code == 200
    resume(cashier, parked)
    panel = cashier.get("/api/v1/basket/loyalty").get_json()
    assert panel["customer"]["balance"] == 200
    assert panel["redeem_points"] == 300
    assert panel["redeem_problem"] == "REDEMPTION_EXCEEDS_BALANCE"
    refused = pay(cashier, "10.00")
    assert refused.get_json()["error"]["reason"] == "REDEMPTION_EXCEEDS_BALANCE"
    assert redeem(cashier, 200).status_code == 200
    sale = pay(cashier, "8.00").get_json()
    assert sale["loyalty"]["redeemed"] == 200
    assert sale["tenders"][0] == {"kind": "points", "amount": "2.00", "points": 200}


@pytest.mark.req("FR-300")
def test_an_empty_basket_with_a_card_gives_way_to_the_resumed_sale(
    cashier: FlaskClient,
) -> None:
    add(cashier, BREAD)
    parked = park(cashier, "no card")
    attach(cashier)  # next customer's card before any item, then the parked sale comes back
    resume(cashier, parked)
    assert cashier.get("/api/v1/basket/loyalty").get_json()["customer"] is None


@pytest.fixture
def rounding_005(loyal: BoxContext) -> BoxContext:
    """The loyalty config again with 0.05 cash rounding and line-level tax."""
    body = config_body()
    body["tax"] = {**body["tax"], "cash_rounding": "0.05", "level": "line"}
    body["loyalty"] = {"version": 3, "rules": RULES}
    assert down_messages.apply_down(loyal, down("config", 5, body))
    return loyal


def money_of(doc: dict, kind: str) -> Decimal:
    return sum((Decimal(t["amount"]) for t in doc["tenders"] if t["kind"] == kind), Decimal(0))


@pytest.mark.req("FR-401", "FR-302", "FR-303")
@pytest.mark.usefixtures("rounding_005")
def test_refunds_of_a_points_sale_round_only_the_cash_part(cashier: FlaskClient) -> None:
    add(cashier, MILK, 3)  # 5.97
    add(cashier, BREAD)  # 2.50: 8.47, 2.13 of it in points, cash 6.34 -> 6.35
    attach(cashier)
    assert redeem(cashier, 213).status_code == 200
    sale = pay(cashier, "10.00").get_json()
    assert (sale["total"], sale["cash_rounding"], sale["payable"]) == ("8.47", "0.01", "8.48")
    cash_taken = money_of(sale, "cash") - Decimal(sale["change"])
    assert cash_taken == Decimal("6.35")
    window = Context("EUR", 2, datetime.now(UTC) - timedelta(days=1), datetime.now(UTC) + HOUR)
    refunds = [refund_line(cashier, sale, no) for no in (1, 1, 2, 1)]
    for doc in refunds:
        cash, points = money_of(doc, "cash"), money_of(doc, "points")
        assert cash % Decimal("0.05") == 0, doc["tenders"]  # rounded like the sale's cash
        assert Decimal(doc["payable"]) == Decimal(doc["total"]) + Decimal(doc["cash_rounding"])
        assert cash + points == Decimal(doc["payable"])
        assert -points * 100 == doc["loyalty"]["points_returned"]  # 100 points per 1.00
        assert check_refund(RefundCompleted.model_validate(doc), window) == []  # hub's rules
    assert [d["tenders"][0]["amount"] for d in refunds] == ["-1.50", "-1.50", "-1.85", "-1.50"]
    assert -sum(money_of(d, "cash") for d in refunds) == cash_taken
    assert sum(d["loyalty"]["points_returned"] for d in refunds) == 213
    assert -sum(Decimal(d["payable"]) for d in refunds) == Decimal(sale["payable"])
    assert -sum(Decimal(d["total"]) for d in refunds) == Decimal(sale["total"])
    cash = cashier.get("/api/v1/shifts/current/x").get_json()["cash"]
    assert (cash["cash_refunds"], cash["cash_rounding"]) == ("6.34", "0.00")  # before rounding
    assert cash["expected"] == cash["opening_float"]  # 10.00 in, 3.65 change, 6.35 paid back
