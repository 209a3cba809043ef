"""Supervisor overrides at the till (FR-300): required, recorded, single-use, short-lived."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from appliance.approvals import override_tokens
from appliance.catalog import down_messages
from appliance.core.context import BoxContext
from tests.appliance.factories import PINS, down
from tests.appliance.till_helpers import open_shift, override, scalar

pytestmark = pytest.mark.usefixtures("till")


@pytest.mark.req("FR-300")
def test_no_sale_needs_an_override_and_records_the_approver(
    cashier: FlaskClient, box_db: SqliteDatabase
) -> None:
    open_shift(cashier)
    denied = cashier.post("/api/v1/drawer/no-sale", json={"reason_code": "CHANGE_REQUEST"})
    assert denied.status_code == 403
    assert denied.get_json()["error"]["reason"] == "OVERRIDE_REQUIRED"
    assert scalar(box_db, "SELECT count(*) FROM no_sales") == 0
    assert scalar(box_db, "SELECT count(*) FROM audit_log WHERE action = 'override.denied'") == 1
    token = override(cashier, "no_sale", "CHANGE_REQUEST")
    done = cashier.post("/api/v1/drawer/no-sale", json={"override_token": token})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["approver_id"] == "s-sup"
    row = box_db.execute_sql("SELECT approver_id, reason_code FROM no_sales").fetchone()
    assert row == ("s-sup", "CHANGE_REQUEST")
    used = box_db.execute_sql("SELECT used_at, used_ref FROM overrides").fetchone()
    assert used[0] is not None
    assert used[1].startswith("nosale:")
    audited = scalar(box_db, "SELECT details FROM audit_log WHERE action = 'override.no_sale'")
    assert '"approver_id": "s-sup"' in audited


@pytest.mark.req("FR-300")
def test_token_is_single_use_bound_to_action_and_short_lived(
    cashier: FlaskClient, box_db: SqliteDatabase
) -> None:
    open_shift(cashier)
    token = override(cashier, "no_sale", "TILL_CHECK")
    assert cashier.post("/api/v1/drawer/no-sale", json={"override_token": token}).status_code == 200
    again = cashier.post("/api/v1/drawer/no-sale", json={"override_token": token})
    assert again.get_json()["error"]["reason"] == "OVERRIDE_INVALID"
    with pytest.raises(Exception, match="used once"):
        box_db.execute_sql("UPDATE overrides SET used_at = NULL")
    wrong = override(cashier, "post_void", "CASHIER_ERROR")
    other = cashier.post("/api/v1/drawer/no-sale", json={"override_token": wrong})
    assert other.get_json()["error"]["reason"] == "OVERRIDE_INVALID"
    stale = override(cashier, "no_sale", "TILL_CHECK")
    box_db.execute_sql(
        "UPDATE overrides SET expires_at = '2000-01-01T00:00:00+00:00' WHERE token = ?", (stale,)
    )
    late = cashier.post("/api/v1/drawer/no-sale", json={"override_token": stale})
    assert late.get_json()["error"]["reason"] == "OVERRIDE_INVALID"
    assert scalar(box_db, "SELECT count(*) FROM no_sales") == 1


@pytest.mark.req("FR-300", "FR-001")
def test_only_a_supervisor_or_manager_can_approve(cashier: FlaskClient) -> None:
    body = {"action": "no_sale", "reason_code": "TILL_CHECK", "pin": PINS["cashier"]}
    own = cashier.post("/api/v1/overrides", json=body)
    assert own.status_code == 403
    clerk = cashier.post("/api/v1/overrides", json={**body, "pin": PINS["clerk"]})
    assert clerk.get_json()["error"]["reason"] == "FORBIDDEN_ROLE"
    bad = cashier.post("/api/v1/overrides", json={**body, "pin": "000000"})
    assert bad.status_code == 401
    reason = cashier.post("/api/v1/overrides", json={**body, "reason_code": "BECAUSE"})
    assert reason.get_json()["error"]["reason"] == "REASON_REQUIRED"


@pytest.mark.req("FR-300", "FR-301")
def test_discount_threshold_comes_from_config(till: BoxContext) -> None:
    assert override_tokens.discount_needs_override(Decimal("1"))  # no threshold: fail closed
    assert down_messages.apply_down(till, down("risk", 1, {"discount_override_percent": "10"}))
    assert not override_tokens.discount_needs_override(Decimal("10"))
    assert override_tokens.discount_needs_override(Decimal("10.5"))


@pytest.mark.req("FR-300", "FR-301")
@pytest.mark.usefixtures("shift_open")
def test_price_override_and_discount_over_threshold_need_approval(
    cashier: FlaskClient, till: BoxContext, box_db: SqliteDatabase
) -> None:
    assert down_messages.apply_down(till, down("risk", 1, {"discount_override_percent": "10"}))
    cashier.post("/api/v1/basket/lines", json={"barcode": "4000000000013", "qty": 2})
    denied = cashier.post("/api/v1/basket/lines/1/price", json={"unit_price": "1.00"})
    assert denied.get_json()["error"]["reason"] == "OVERRIDE_REQUIRED"
    small = cashier.post(
        "/api/v1/basket/lines/1/discount", json={"percent": "10", "reason_code": "STAFF_DISCOUNT"}
    )
    assert small.status_code == 200, small.get_json()
    assert small.get_json()["total"] == "3.58"  # 1.99 -> 1.79 (10 % off, HALF_UP) x 2
    big = cashier.post("/api/v1/basket/lines/1/discount", json={"percent": "50"})
    assert big.get_json()["error"]["reason"] == "OVERRIDE_REQUIRED"
    token = override(cashier, "price_override", "PRICE_MATCH")
    done = cashier.post(
        "/api/v1/basket/lines/1/price", json={"unit_price": "1.00", "override_token": token}
    )
    line = done.get_json()["lines"][0]
    assert (line["line_total"], line["price_override"]["approver_id"]) == ("2.00", "s-sup")
    parked = cashier.post("/api/v1/basket/suspend", json={"label": "X"}).get_json()
    cashier.post(f"/api/v1/basket/suspended/{parked['id']}/resume")
    sale = cashier.post(
        "/api/v1/basket/pay", json={"tendered": "2.00", "idempotency_key": "override-sale-1"}
    ).get_json()
    assert sale["lines"][0]["price_override"] == {
        "unit_price": "1.00", "approver_id": "s-sup", "reason_code": "PRICE_MATCH",
    }  # fmt: skip
    assert scalar(box_db, "SELECT count(*) FROM basket_price_overrides") == 0
