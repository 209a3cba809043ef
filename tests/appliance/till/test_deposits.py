"""Bank deposits at the till (REP-T-05 data; FR-300 cash handling, FR-303 outbox): a
supervisor's approval, validation with reason codes, the X/Z report's expected cash after
deposits, the `drawer.bank_deposit` event the hub checks, the printed voucher, the day's list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from appliance.i18n.messages import catalog_for
from posdomain.payloads import BankDeposit, ShiftSnapshot
from posdomain.sale_checks import Context
from posdomain.shift_checks import check_bank_deposit, check_snapshot
from tests.appliance.conftest import count, login
from tests.appliance.till.test_basket import MILK
from tests.appliance.till.test_checkout import outbox_events
from tests.appliance.till_helpers import open_shift, override, scalar, sell

pytestmark = pytest.mark.usefixtures("till")


def _deposit(client: FlaskClient, **body: Any) -> Any:
    return client.post("/api/v1/drawer/bank-deposits", json=body)


def _ctx() -> Context:
    now = datetime.now(UTC)
    return Context("EUR", 2, now - timedelta(days=30), now + timedelta(minutes=10))


@pytest.mark.req("FR-300", "FR-303", "FR-600")
def test_a_cashier_needs_a_supervisor_and_the_deposit_lowers_expected_cash(
    cashier: FlaskClient, box_db: SqliteDatabase
) -> None:
    open_shift(cashier, "100.00")
    sell(cashier, [(MILK, 1)], "5.00")  # 1.99 -> 2.00 in the drawer
    before = cashier.get("/api/v1/shifts/current/x").get_json()["cash"]["expected"]
    denied = _deposit(cashier, amount="50.00", slip_no="BAG-0001")
    assert denied.status_code == 403
    assert denied.get_json()["error"]["reason"] == "OVERRIDE_REQUIRED"
    token = override(cashier, "bank_deposit", "BANK_DEPOSIT")
    done = _deposit(cashier, amount="50.00", slip_no="BAG-0001", note="Sparkasse",
                    override_token=token)  # fmt: skip
    assert done.status_code == 201, done.get_json()
    body = done.get_json()
    assert (body["amount"], body["slip_no"], body["approver_id"]) == ("50.00", "BAG-0001", "s-sup")
    assert body["shift_id"]
    assert body["drawer"] is not None
    assert body["printed"] is True
    x = cashier.get("/api/v1/shifts/current/x").get_json()
    assert x["cash"]["deposits"] == "50.00"
    assert x["cash"]["expected"] == f"{float(before) - 50:.2f}"
    cash_row = next(t for t in x["tenders"] if t["kind"] == "cash")
    assert cash_row["expected"] == x["cash"]["expected"]
    # the X snapshot the hub gets still adds up by its own formula, deposits included
    (snap, *_) = reversed(outbox_events(box_db, "shift.snapshot"))
    assert check_snapshot(ShiftSnapshot.model_validate(snap.payload), _ctx()) == []
    (event,) = outbox_events(box_db, "drawer.bank_deposit")
    payload = BankDeposit.model_validate(event.payload)
    assert (payload.amount, payload.currency, payload.exponent) == ("50.00", "EUR", 2)
    assert check_bank_deposit(payload, _ctx()) == []
    assert count(box_db, "bank_deposits") == 1
    actions = [r[0] for r in box_db.execute_sql("SELECT action FROM audit_log").fetchall()]
    assert "drawer.bank_deposit" in actions
    assert "override.bank_deposit" in actions
    voucher = scalar(box_db, "SELECT payload FROM print_jobs WHERE ref LIKE 'deposit:%'")
    assert "BAG-0001" in voucher
    assert "50.00" in voucher


@pytest.mark.req("FR-300", "FR-600")
def test_deposits_are_refused_with_reason_codes(cashier: FlaskClient) -> None:
    open_shift(cashier, "20.00")
    login(cashier, "manager")  # a manager approves their own deposit
    cases = [
        ({"amount": "0.00", "slip_no": "S1"}, 400, "INVALID_MONEY"),
        ({"amount": "-5.00", "slip_no": "S1"}, 400, "INVALID_MONEY"),
        ({"amount": "abc", "slip_no": "S1"}, 400, "INVALID_MONEY"),
        ({"amount": "1.001", "slip_no": "S1"}, 400, "INVALID_MONEY"),
        ({"amount": "5.00"}, 400, "DEPOSIT_SLIP_REQUIRED"),
        ({"amount": "5.00", "slip_no": "   "}, 400, "DEPOSIT_SLIP_REQUIRED"),
        ({"amount": "5.00", "slip_no": "<script>"}, 400, "DEPOSIT_SLIP_REQUIRED"),
        ({"amount": "20.01", "slip_no": "S1"}, 400, "DEPOSIT_EXCEEDS_CASH"),
        ({"amount": "5.00", "slip_no": "S1", "business_day": "2001-01-01"}, 400,
         "DEPOSIT_DAY_OUT_OF_RANGE"),
        ({"amount": "5.00", "slip_no": "S1", "business_day": "2026-13-45"}, 400,
         "DEPOSIT_DAY_OUT_OF_RANGE"),
    ]  # fmt: skip
    for body, status, reason in cases:
        resp = _deposit(cashier, **body)
        assert (resp.status_code, resp.get_json()["error"]["reason"]) == (status, reason), body
    assert _deposit(cashier, amount="19.99", slip_no="S1").status_code == 201
    again = _deposit(cashier, amount="0.01", slip_no="S1")
    assert (again.status_code, again.get_json()["error"]["reason"]) == (409, "DUPLICATE")
    over = _deposit(cashier, amount="0.02", slip_no="S2")  # 0.01 is left in the drawer
    assert over.get_json()["error"]["reason"] == "DEPOSIT_EXCEEDS_CASH"
    assert _deposit(cashier, amount="0.01", slip_no="S2").status_code == 201
    for reason in ("DEPOSIT_SLIP_REQUIRED", "DEPOSIT_EXCEEDS_CASH", "DEPOSIT_DAY_OUT_OF_RANGE"):
        assert catalog_for("en")[reason] != catalog_for("de")[reason]  # the till's texts


@pytest.mark.req("FR-300", "FR-303")
def test_a_deposit_from_the_safe_after_the_z_and_the_day_list(
    cashier: FlaskClient, box_db: SqliteDatabase
) -> None:
    open_shift(cashier, "10.00")
    sell(cashier, [(MILK, 1)], "5.00")
    login(cashier, "manager")
    z = cashier.post("/api/v1/shifts/current/close", json={"counted": {"cash": "12.00"}})
    assert z.status_code == 200, z.get_json()
    assert z.get_json()["cash"]["deposits"] == "0.00"
    # no shift open: from the safe, no drawer kick, no limit the box could know
    done = _deposit(cashier, amount="1234.56", slip_no="SAFE-7")
    assert done.status_code == 201, done.get_json()
    assert (done.get_json()["shift_id"], done.get_json()["drawer"]) == (None, None)
    listed = cashier.get("/api/v1/drawer/bank-deposits").get_json()
    assert listed["total"] == "1234.56"
    assert [d["slip_no"] for d in listed["deposits"]] == ["SAFE-7"]
    login(cashier, "cashier")
    assert cashier.get("/api/v1/drawer/bank-deposits").status_code == 403
    with pytest.raises(Exception, match="append-only"):
        box_db.execute_sql("DELETE FROM bank_deposits")
