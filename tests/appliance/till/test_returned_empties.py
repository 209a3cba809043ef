"""Returned empties beside a sale in one basket (FR-302, FR-300; issue 14 item 3)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from appliance.core.context import BoxContext
from tests.appliance.factories import LAGER
from tests.appliance.till.test_basket import MILK, add
from tests.appliance.till.test_pricing_till import rich  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("shift_open")


def _returned(client: FlaskClient, barcode: str, qty: int) -> tuple[int, dict]:
    resp = client.post(
        "/api/v1/basket/lines", json={"barcode": barcode, "qty": qty, "returned": True}
    )
    return resp.status_code, resp.get_json()


@pytest.mark.req("FR-302", "FR-300")
def test_returned_empties_net_against_the_sale_and_are_stored_negative(
    cashier: FlaskClient,
    rich: BoxContext,  # noqa: F811
    box_db: SqliteDatabase,
) -> None:
    add(cashier, MILK, 2)
    status, basket = _returned(cashier, LAGER, 3)
    assert status == 201, basket
    empties = basket["lines"][-1]
    assert (empties["sku"], empties["qty"], empties["line_total"]) == ("DEP1", "-3", "-0.75")
    assert basket["total"] == "3.23"  # 2 x 1.99 - 3 x 0.25
    assert basket["item_count"] == 2
    assert basket["returned_total"] == "-0.75"
    sale = cashier.post(
        "/api/v1/basket/pay", json={"tendered": "5.00", "idempotency_key": "empties-1"}
    ).get_json()
    assert (sale["total"], sale["change"]) == ("3.23", "1.77")
    stored = box_db.execute_sql(
        "SELECT qty_milli, line_total_minor FROM sale_lines WHERE sku = 'DEP1'"
    ).fetchone()
    assert stored == (-3000, -75)
    wire = next(ln for ln in sale["lines"] if ln["sku"] == "DEP1")
    assert (wire["qty"], wire["line_total"], wire["tax"]) == ("-3", "-0.75", "0.00")


@pytest.mark.req("FR-302", "FR-300")
def test_returned_empties_alone_or_items_without_a_deposit_are_refused(
    cashier: FlaskClient,
    rich: BoxContext,  # noqa: F811
    box_db: SqliteDatabase,
) -> None:
    status, body = _returned(cashier, MILK, 1)
    assert (status, body["error"]["reason"]) == (400, "UNMATCHED_RETURN")
    status, body = _returned(cashier, LAGER, 2)
    assert status == 201
    paid = cashier.post(
        "/api/v1/basket/pay", json={"tendered": "1.00", "idempotency_key": "empties-2"}
    )
    assert paid.get_json()["error"]["reason"] == "UNMATCHED_RETURN", paid.get_json()
    assert box_db.execute_sql("SELECT count(*) FROM sales").fetchone()[0] == 0
