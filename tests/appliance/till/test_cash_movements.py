"""Drops and paid-outs go up to the hub (REP-T-05 data; FR-300 cash handling, FR-303 outbox):
each is written with its `drawer.cash_movement` event in the same transaction, as the hub's
rules accept it; a refused one writes neither."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from posdomain.payloads import CashMovement
from posdomain.sale_checks import Context
from posdomain.shift_checks import check_cash_movement
from tests.appliance.till.test_basket import MILK
from tests.appliance.till.test_checkout import outbox_events
from tests.appliance.till_helpers import open_shift, scalar, sell

pytestmark = pytest.mark.usefixtures("till")


def _ctx() -> Context:
    now = datetime.now(UTC)
    return Context("EUR", 2, now - timedelta(days=30), now + timedelta(minutes=10))


@pytest.mark.req("FR-300", "FR-303", "FR-600")
def test_drops_and_paid_outs_are_sent_as_the_hub_checks_them(
    cashier: FlaskClient, box_db: SqliteDatabase
) -> None:
    open_shift(cashier, "100.00")
    sell(cashier, [(MILK, 1)], "5.00")
    paid = {"amount": "12.40", "reason_code": "SUPPLIER_PAYMENT", "note": "milkman"}
    made = cashier.post("/api/v1/shifts/current/paid-outs", json=paid)
    assert made.status_code == 201, made.get_json()
    dropped = cashier.post("/api/v1/shifts/current/drops", json={"amount": "50.00"})
    assert dropped.status_code == 201
    events = outbox_events(box_db, "drawer.cash_movement")
    bodies = [CashMovement.model_validate(e.payload) for e in events]
    assert [(b.kind, b.amount, b.reason_code) for b in bodies] == [
        ("paid_out", "12.40", "SUPPLIER_PAYMENT"),
        ("drop", "50.00", None),
    ]
    assert [b.movement_id for b in bodies] == [made.get_json()["id"], dropped.get_json()["id"]]
    shift_id = made.get_json()["shift_id"]
    assert {b.shift_id for b in bodies} == {shift_id}
    assert bodies[0].note == "milkman"
    assert (bodies[0].currency, bodies[0].exponent) == ("EUR", 2)
    for body in bodies:
        assert check_cash_movement(body, _ctx()) == []
    # one row per movement beside its event, and the X report still subtracts both
    assert scalar(box_db, "SELECT COUNT(*) FROM cash_movements") == 2
    x = cashier.get("/api/v1/shifts/current/x").get_json()
    assert (x["cash"]["paid_outs"], x["cash"]["drops"]) == ("12.40", "50.00")


@pytest.mark.req("FR-300", "FR-303")
def test_a_refused_paid_out_writes_no_event(cashier: FlaskClient, box_db: SqliteDatabase) -> None:
    open_shift(cashier, "20.00")
    for body, reason in (
        ({"amount": "5.00"}, "REASON_REQUIRED"),
        ({"amount": "5.00", "reason_code": "BRIBE"}, "REASON_REQUIRED"),
        ({"amount": "0.00", "reason_code": "PETTY_CASH"}, "INVALID_MONEY"),
        ({"amount": "abc", "reason_code": "PETTY_CASH"}, "INVALID_MONEY"),
    ):
        resp = cashier.post("/api/v1/shifts/current/paid-outs", json=body)
        assert resp.status_code == 400
        assert resp.get_json()["error"]["reason"] == reason, body
    assert outbox_events(box_db, "drawer.cash_movement") == []
    assert scalar(box_db, "SELECT COUNT(*) FROM cash_movements") == 0
