"""A till request that meets a long write (e.g. a large catalog version being put in force in
one transaction) answers 503 BOX_BUSY with Retry-After once SQLite's busy timeout runs out:
never a 500, nothing half-written, and the same request succeeds once the write is done."""

from __future__ import annotations

import sqlite3
import uuid

import pytest
from flask.testing import FlaskClient

from appliance.i18n.messages import catalog_for
from firmware_config.schema import BoxConfig
from tests.appliance.till.test_basket import BREAD, add

pytestmark = [pytest.mark.usefixtures("shift_open"), pytest.mark.req("NFR-004", "FR-303")]


def test_a_sale_during_a_long_write_is_busy_then_goes_through(
    cashier: FlaskClient, box_config: BoxConfig
) -> None:
    add(cashier, BREAD)
    body = {"tendered": "5.00", "idempotency_key": uuid.uuid4().hex}
    other = sqlite3.connect(box_config.database_path, timeout=1)
    other.execute("BEGIN IMMEDIATE")  # holds the write lock like a big catalog apply
    try:
        busy = cashier.post("/api/v1/basket/pay", json=body)
    finally:
        other.rollback()
        other.close()
    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "2"
    assert busy.get_json()["error"]["reason"] == "BOX_BUSY"
    assert cashier.get("/api/v1/basket").get_json()["lines"]  # the basket is still there
    sale = cashier.post("/api/v1/basket/pay", json=body)  # the same request, sent again
    assert sale.status_code == 200, sale.get_json()
    assert sale.get_json()["total"] == "2.50"
    assert "try again" in catalog_for("en")["BOX_BUSY"]
    assert "erneut" in catalog_for("de")["BOX_BUSY"]
