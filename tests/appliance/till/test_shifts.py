"""Shifts (FR-300): one open shift per till, own shift only for cashiers, cash movements."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.appliance.till_helpers import CASHIER2_PIN, login_pin, open_shift

pytestmark = pytest.mark.usefixtures("till")


@pytest.mark.req("FR-300")
def test_one_open_shift_per_till_and_own_shift_only_for_cashiers(
    cashier: FlaskClient, app: Any
) -> None:
    assert cashier.get("/api/v1/shifts/current/x").get_json()["error"]["reason"] == (
        "SHIFT_NOT_OPEN"
    )
    open_shift(cashier)
    again = cashier.post("/api/v1/shifts", json={"opening_float": "10.00"})
    assert again.get_json()["error"]["reason"] == "SHIFT_ALREADY_OPEN"
    other = app.test_client()
    login_pin(other, CASHIER2_PIN)
    assert other.get("/api/v1/shifts/current/x").status_code == 403
    paid = cashier.post("/api/v1/shifts/current/paid-outs", json={"amount": "1.00"})
    assert paid.get_json()["error"]["reason"] == "REASON_REQUIRED"
    bad = cashier.post("/api/v1/shifts/current/close", json={"counted": {"voucher": "1.00"}})
    assert bad.get_json()["error"]["reason"] == "UNKNOWN_TENDER"
    assert cashier.post("/api/v1/shifts/current/x/print").status_code == 202
