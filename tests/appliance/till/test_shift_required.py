"""No sale outside a Z (FR-300, REP-T-04): checkout needs the till's open shift where drawers
are counted; where the tenant's config says they are not, the box opens a day shift at the
first sale of the business day and the day's Z closes it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from appliance.catalog import down_messages
from appliance.core.context import BoxContext
from posdomain.errors import PosError
from tests.appliance.conftest import count, login
from tests.appliance.factories import config_body, down
from tests.appliance.till.test_basket import BREAD, MILK, add
from tests.appliance.till_helpers import override, refund, scalar, sell

WRITTEN = ("sales", "sale_lines", "tenders", "outbox", "audit_log", "stock_movements", "shifts")
CASH = {"tendered": "20.00"}
CARD = {"tenders": [{"kind": "card", "amount": "1.99", "reference": "AUTH-1"}]}
SPLIT = {
    "tenders": [
        {"kind": "card", "amount": "1.00", "reference": "AUTH-2"},
        {"kind": "cash", "amount": "5.00"},
    ]
}


def _written(db: SqliteDatabase) -> dict[str, int]:
    return {table: count(db, table) for table in WRITTEN}


def _pay(client: FlaskClient, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/basket/pay", json={**body, "idempotency_key": uuid.uuid4().hex})


def _no_drawer_counting(ctx: BoxContext, version: int = 3, **till: Any) -> None:
    body = config_body()
    body["till"] = {"drawer_counting": False, **till}
    assert down_messages.apply_down(ctx, down("config", version, body))


@pytest.mark.req("FR-300")
@pytest.mark.parametrize("tender", [CASH, CARD, SPLIT], ids=["cash", "card", "split"])
def test_no_shift_no_sale_and_nothing_is_written(
    cashier: FlaskClient, box_db: SqliteDatabase, tender: dict[str, Any]
) -> None:
    add(cashier, MILK)
    before = _written(box_db)
    resp = _pay(cashier, tender)
    assert resp.status_code == 409
    error = resp.get_json()["error"]
    assert error["reason"] == "SHIFT_NOT_OPEN"
    assert error["details"] == {"till": "Till 7", "drawer_counting": True}
    assert _written(box_db) == before, "a refused sale must write nothing"
    assert cashier.get("/api/v1/basket").get_json()["item_count"] == 1, "the basket is kept"
    shift = cashier.get("/api/v1/shifts/current").get_json()
    assert shift == {"shift": None, "drawer_counting": True}
    opened = cashier.post("/api/v1/shifts", json={"opening_float": "10.00"}).get_json()
    sale = _pay(cashier, tender).get_json()
    assert sale["shift_id"] == opened["id"]
    x = cashier.get("/api/v1/shifts/current/x").get_json()
    assert x["sales"] == {"count": 1, "total": "1.99"}


@pytest.mark.req("FR-300")
def test_refund_and_no_sale_also_need_the_shift(till: BoxContext, cashier: FlaskClient) -> None:
    cashier.post("/api/v1/shifts", json={"opening_float": "0.00"})
    sale = sell(cashier, [(MILK, 1)], "5.00")
    assert cashier.post("/api/v1/shifts/current/close", json={"counted": {}}).status_code == 200
    token = override(cashier, "refund")
    back = refund(cashier, receipt=sale["sale_id"], lines=[{"line_no": 1, "qty": "1"}],
                  override_token=token)  # fmt: skip
    assert back.get_json()["error"]["reason"] == "SHIFT_NOT_OPEN"
    token = override(cashier, "no_sale", "CHANGE_REQUEST")
    opened = cashier.post("/api/v1/drawer/no-sale", json={"override_token": token})
    assert opened.get_json()["error"]["reason"] == "SHIFT_NOT_OPEN"


@pytest.mark.req("FR-300")
def test_without_drawer_counting_the_day_shift_takes_the_sales_and_the_days_z_closes_it(
    till: BoxContext, cashier: FlaskClient, client: FlaskClient, app: Any, box_db: SqliteDatabase
) -> None:
    _no_drawer_counting(till)
    assert cashier.get("/api/v1/shifts/current").get_json() == {
        "shift": None,
        "drawer_counting": False,
    }
    first = sell(cashier, [(MILK, 1)], "5.00")
    second = sell(cashier, [(BREAD, 1)], "5.00")
    day = cashier.get("/api/v1/shifts/current").get_json()["shift"]
    assert (day["kind"], day["opening_float"], day["staff_id"]) == ("day", "0.00", "s-cash")
    assert day["business_day"] is not None
    assert first["shift_id"] == second["shift_id"] == day["id"]
    manager = app.test_client()
    assert login(manager, "manager").status_code == 200
    z = manager.post("/api/v1/shifts/current/close", json={"counted": {}}).get_json()
    assert (z["shift_kind"], z["sales"]["count"], z["sales"]["total"]) == ("day", 2, "4.49")
    assert [t["counted"] for t in z["tenders"]] == [None, None], "nobody counted the drawer"
    third = sell(cashier, [(MILK, 1)], "5.00")
    assert third["shift_id"] not in (day["id"], None), "the next sale opens a new day shift"
    assert scalar(box_db, "SELECT count(*) FROM shifts WHERE kind = 'day'") == 2


@pytest.mark.req("FR-300")
def test_a_day_shift_left_open_is_closed_with_its_z_at_the_next_days_first_sale(
    till: BoxContext, cashier: FlaskClient, box_db: SqliteDatabase
) -> None:
    _no_drawer_counting(till)
    yesterday = sell(cashier, [(MILK, 1)], "5.00")
    box_db.execute_sql("UPDATE shifts SET business_day = '2000-01-01' WHERE state = 'open'")
    today = sell(cashier, [(BREAD, 1)], "5.00")
    assert today["shift_id"] != yesterday["shift_id"]
    closed_by, z_body = box_db.execute_sql(
        "SELECT s.closed_by, z.body FROM shifts s JOIN z_reports z ON z.shift_id = s.id"
        " WHERE s.id = ?",
        (yesterday["shift_id"],),
    ).fetchone()
    assert closed_by == "system:day-close"
    assert '"count": 1' in z_body
    assert '"business_day": "2000-01-01"' in z_body
    actors = [r[0] for r in box_db.execute_sql("SELECT actor FROM audit_log").fetchall()]
    assert "system:day-close" in actors
    # a counted shift opened over a stale day shift closes the stale one first too
    box_db.execute_sql("UPDATE shifts SET business_day = '2000-01-02' WHERE state = 'open'")
    opened = cashier.post("/api/v1/shifts", json={"opening_float": "20.00"})
    assert opened.status_code == 201
    assert opened.get_json()["kind"] == "counted"
    assert scalar(box_db, "SELECT count(*) FROM z_reports") == 2


@pytest.mark.req("FR-300", "NFR-005")
@pytest.mark.parametrize("till_rules", ["no", {"drawer_counting": "no"}, [True]])
def test_a_malformed_till_rule_in_the_config_is_refused(
    till: BoxContext, box_db: SqliteDatabase, till_rules: Any
) -> None:
    body = config_body()
    body["till"] = till_rules
    with pytest.raises(PosError) as err:
        down_messages.apply_down(till, down("config", 5, body))
    assert err.value.reason == "MALFORMED_MESSAGE"
    assert scalar(box_db, "SELECT version FROM config_doc WHERE kind = 'config'") == 2
