"""Box stock ledger (FR-201): append-only movements, derived on hand, events for the hub."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from peewee import IntegrityError, SqliteDatabase

from tests.appliance.conftest import login
from tests.appliance.till.test_basket import MILK, add
from tests.appliance.till.test_checkout import outbox_events, pay


def post(client: FlaskClient, what: str, **body: object):
    """POST /inventory/<what>."""
    return client.post(f"/api/v1/inventory/{what}", json=body)


@pytest.fixture
def clerk(client: FlaskClient) -> FlaskClient:
    """A browser logged in as the inventory clerk."""
    assert login(client, "clerk").status_code == 200
    return client


@pytest.mark.req("FR-201")
def test_receive_waste_and_count_book_movements_and_events(
    clerk: FlaskClient, box_db: SqliteDatabase
) -> None:
    assert post(clerk, "receive", product_id="p-milk", qty="10", ref="PO-1").status_code == 201
    waste = post(clerk, "waste", product_id="p-milk", qty="2", reason_code="SPOILED")
    assert waste.get_json()["on_hand"] == "8"
    counted = post(clerk, "count", product_id="p-milk", counted="5").get_json()
    assert (counted["movement"]["kind"], counted["movement"]["qty"]) == ("count", "-3")
    assert counted["on_hand"] == "5"
    events = outbox_events(box_db, "stock.movement")
    assert [(e.payload["kind"], e.payload["qty"]) for e in events] == [
        ("receipt", "10"), ("waste", "-2"), ("count", "-3"),
    ]  # fmt: skip
    assert events[1].payload["reason_code"] == "SPOILED"
    assert set(events[0].payload) == {
        "movement_id", "product_id", "qty", "kind", "reason_code", "ref", "occurred_at",
    }  # fmt: skip
    stock = clerk.get("/api/v1/inventory/p-milk").get_json()
    assert [m["kind"] for m in stock["movements"]] == ["count", "waste", "receipt"]


@pytest.mark.req("FR-201")
@pytest.mark.usefixtures("shift_open")
def test_sales_reduce_on_hand_from_the_ledger(client: FlaskClient, box_db: SqliteDatabase) -> None:
    assert login(client, "manager").status_code == 200
    post(client, "receive", product_id="p-milk", qty="4")
    add(client, MILK, 3)
    assert pay(client, "10.00").status_code == 200
    assert client.get("/api/v1/inventory/p-milk").get_json()["on_hand"] == "1"


@pytest.mark.req("FR-201", "NFR-005")
def test_bad_movements_are_refused_and_write_nothing(
    clerk: FlaskClient, box_db: SqliteDatabase
) -> None:
    no_reason = post(clerk, "adjust", product_id="p-milk", qty="-1", reason_code="OOPS")
    assert no_reason.get_json()["error"]["reason"] == "REASON_REQUIRED"
    fractional = post(clerk, "receive", product_id="p-milk", qty="1.5")
    assert fractional.get_json()["error"]["reason"] == "INVALID_QUANTITY"
    unknown = post(clerk, "receive", product_id="p-nope", qty="1")
    assert unknown.status_code == 404
    assert box_db.execute_sql("SELECT count(*) FROM stock_movements").fetchone() == (0,)
    assert outbox_events(box_db, "stock.movement") == []


@pytest.mark.req("FR-201", "FR-101")
def test_cashiers_cannot_move_stock(cashier: FlaskClient) -> None:
    resp = post(cashier, "receive", product_id="p-milk", qty="1")
    assert resp.status_code == 403


@pytest.mark.req("FR-201")
def test_the_ledger_is_append_only(clerk: FlaskClient, box_db: SqliteDatabase) -> None:
    post(clerk, "adjust", product_id="p-milk", qty="2", reason_code="FOUND")
    with pytest.raises(IntegrityError, match="append-only"):
        box_db.execute_sql("UPDATE stock_movements SET qty_milli = 99000")
    with pytest.raises(IntegrityError, match="append-only"):
        box_db.execute_sql("DELETE FROM stock_movements")
    assert box_db.execute_sql("SELECT qty_milli FROM stock_movements").fetchall() == [(2000,)]
