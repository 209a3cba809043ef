"""Sale payload money (FR-302, FR-300): breakdown sums to the total, cash rounding line."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from appliance.catalog import down_messages
from appliance.core.context import BoxContext
from firmware_config.schema import BoxConfig
from tests.appliance.factories import LAGER, chunk, config_body, down, extra_products
from tests.appliance.till.test_basket import BREAD, GUM, MILK, add
from tests.appliance.till.test_checkout import outbox_events, pay


@pytest.fixture
def cash_rounding(box_config: BoxConfig, box_db: SqliteDatabase) -> BoxContext:
    """Config v2 with 0.05 cash rounding and line-level tax, plus the version-2 products."""
    ctx = BoxContext(box_config)
    body = config_body()
    body["tax"] = {**body["tax"], "cash_rounding": "0.05", "level": "line"}
    assert down_messages.apply_down(ctx, down("config", 2, body))
    assert down_messages.apply_down(ctx, chunk(1, 2, extra_products()))
    return ctx


@pytest.mark.req("FR-302", "FR-300")
@pytest.mark.usefixtures("shift_open")
def test_sale_payload_adds_up_with_a_cash_rounding_line(
    cashier: FlaskClient, cash_rounding: BoxContext, box_db: SqliteDatabase
) -> None:
    add(cashier, MILK, 2)
    add(cashier, BREAD)
    add(cashier, GUM, 3)
    add(cashier, LAGER)
    basket = cashier.get("/api/v1/basket").get_json()
    money = (basket["total"], basket["cash_rounding"], basket["payable"])
    assert money == ("8.32", "-0.02", "8.30")
    sale = pay(cashier, "10.00").get_json()
    total = Decimal(sale["total"])
    assert sum(Decimal(r["gross"]) for r in sale["tax_breakdown"]) == total
    assert sum(Decimal(r["net"]) + Decimal(r["tax"]) for r in sale["tax_breakdown"]) == total
    assert sum(Decimal(ln["line_total"]) for ln in sale["lines"]) == total
    assert sum(Decimal(ln["tax"]) for ln in sale["lines"]) == Decimal(sale["tax_total"])
    assert Decimal(sale["payable"]) == total + Decimal(sale["cash_rounding"])
    assert (sale["payable"], sale["change"], sale["price_list"]) == ("8.30", "1.70", "retail")
    assert sale["versions"] == {"catalog": 2, "tax": 2, "policy": 0}
    assert [ln["deposit_for_line"] for ln in sale["lines"]] == [None, None, None, None, 4]
    event = outbox_events(box_db, "sale.completed")[-1]
    assert event.payload == sale
    assert event.versions.catalog == 2


@pytest.mark.req("FR-300", "FR-302")
@pytest.mark.usefixtures("shift_open")
def test_tender_must_cover_the_rounded_amount(
    cashier: FlaskClient, cash_rounding: BoxContext
) -> None:
    add(cashier, MILK, 2)  # 3.98 -> payable 4.00
    short = pay(cashier, "3.99")
    assert short.status_code == 400
    assert short.get_json()["error"]["reason"] == "INSUFFICIENT_TENDER"
    assert pay(cashier, "4.00").get_json()["change"] == "0.00"


@pytest.mark.req("FR-201", "FR-300")
@pytest.mark.usefixtures("shift_open")
def test_a_sale_books_one_sale_movement_per_line_and_sends_none(
    cashier: FlaskClient, cash_rounding: BoxContext, box_db: SqliteDatabase
) -> None:
    add(cashier, MILK, 2)
    weighed = {"barcode": "2800035000000", "weight": "0.455"}
    assert cashier.post("/api/v1/basket/lines", json=weighed).status_code == 201
    sale = pay(cashier, "20.00").get_json()
    rows = box_db.execute_sql(
        "SELECT product_id, kind, qty_milli, ref FROM stock_movements ORDER BY seq"
    ).fetchall()
    ref = f"sale:{sale['sale_id']}"
    assert rows == [("p-milk", "sale", -2000, ref), ("p-cheese", "sale", -455, ref)]
    assert outbox_events(box_db, "stock.movement") == []
    assert [ln["qty"] for ln in sale["lines"]] == ["2", "0.455"]
