"""Manual percent discounts on the till (FR-301, issue 14 item 2): on the line amount, at the
price the line is actually charged."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from appliance.catalog import down_messages
from appliance.core.context import BoxContext
from tests.appliance.conftest import login
from tests.appliance.factories import chunk, down, product
from tests.appliance.till.test_basket import MILK, add
from tests.appliance.till.test_pricing_till import rich  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("shift_open")


def _discount(client: FlaskClient, percent: str) -> dict:
    body = {"percent": percent, "reason_code": "STAFF_DISCOUNT"}
    resp = client.post("/api/v1/basket/lines/1/discount", json=body)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


@pytest.mark.req("FR-301")
def test_percent_discount_applies_to_the_line_amount(
    cashier: FlaskClient,
    rich: BoxContext,  # noqa: F811
) -> None:
    priced = product("p-milk", "MILK1", "Milk 1L", ["4000000000013"], "5.75", version=3)
    assert down_messages.apply_down(rich, chunk(2, 3, [priced]))
    assert down_messages.apply_down(rich, down("risk", 1, {"discount_override_percent": "20"}))
    add(cashier, MILK, 5)
    line = _discount(cashier, "18")["lines"][0]
    # 5 x 5.75 = 28.75; 82 % of it is 23.575 -> 23.58 (a rounded 4.72 x 5 would be 23.60)
    assert (line["extended"], line["line_total"]) == ("28.75", "23.58")
    assert [(d["kind"], d["amount"]) for d in line["discounts"]] == [("manual", "5.17")]


@pytest.mark.req("FR-301")
def test_percent_discount_uses_the_wholesale_tier_price(
    client: FlaskClient,
    rich: BoxContext,  # noqa: F811
) -> None:
    tiered = product("p-milk", "MILK1", "Milk 1L", ["4000000000013"], "1.99", version=3,
                     wholesale_tiers=[{"min_qty": "10", "price": "1.50"}])  # fmt: skip
    assert down_messages.apply_down(rich, chunk(2, 3, [tiered]))
    assert down_messages.apply_down(rich, down("risk", 1, {"discount_override_percent": "20"}))
    assert login(client, "manager").status_code == 200
    add(client, MILK, 10)
    client.post("/api/v1/basket/mode", json={"price_list": "wholesale"})
    line = _discount(client, "10")["lines"][0]
    assert (line["unit_price"], line["extended"], line["line_total"]) == ("1.50", "15.00", "13.50")
