"""Pricing on the till (FR-301): deposits, price lists, signed promotions behind the flag."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from appliance.catalog import down_messages
from appliance.core.context import BoxContext
from firmware_config.schema import BoxConfig
from tests.appliance.conftest import login
from tests.appliance.factories import (
    LAGER,
    chunk,
    down,
    extra_products,
    multibuy_policy,
    product,
)
from tests.appliance.till.test_basket import MILK, add


@pytest.fixture
def rich(box_config: BoxConfig, box_db: SqliteDatabase) -> BoxContext:
    """Seeded box plus the version-2 products; returns its context."""
    ctx = BoxContext(box_config)
    assert down_messages.apply_down(ctx, chunk(1, 2, extra_products()))
    return ctx


def pricing(ctx: BoxContext, version: int, policies: list[dict], flag: bool) -> None:
    """Apply a pricing down message."""
    body = {"policies": policies, "flags": {"advanced_discounts": flag}}
    assert down_messages.apply_down(ctx, down("pricing", version, body))


@pytest.mark.req("FR-301")
def test_deposit_line_is_added_and_voided_with_its_item(
    cashier: FlaskClient, rich: BoxContext
) -> None:
    basket = add(cashier, LAGER, 2)
    lager, deposit = basket["lines"]
    assert (lager["sku"], lager["line_total"]) == ("LAG1", "2.58")
    assert (deposit["sku"], deposit["qty"], deposit["deposit_for_line"]) == ("DEP1", "2", 1)
    assert (deposit["line_total"], deposit["tax_class"], deposit["tax"]) == ("0.50", "ZERO", "0.00")
    assert basket["total"] == "3.08"
    refused = cashier.delete("/api/v1/basket/lines/2")
    assert refused.status_code == 409
    after = cashier.delete("/api/v1/basket/lines/1").get_json()
    assert after["lines"] == []
    assert after["total"] == "0.00"


@pytest.mark.req("FR-301")
def test_multibuy_discounts_only_with_the_flag_on(cashier: FlaskClient, rich: BoxContext) -> None:
    pricing(rich, 1, [multibuy_policy()], flag=False)
    assert add(cashier, MILK, 3)["total"] == "5.97"
    pricing(rich, 2, [multibuy_policy()], flag=True)
    basket = cashier.get("/api/v1/basket").get_json()
    line = basket["lines"][0]
    assert (line["extended"], line["line_total"], basket["total"]) == ("5.97", "5.00", "5.00")
    assert line["discounts"] == [
        {
            "policy_id": "pol-milk-3for5",
            "name": "3 for 5.00",
            "policy_version": 1,
            "kind": "multibuy",
            "amount": "0.97",
        }
    ]
    assert basket["discount_total"] == "0.97"


@pytest.mark.req("FR-301", "FR-802")
def test_a_tampered_policy_never_discounts_and_is_audited_once(
    cashier: FlaskClient, rich: BoxContext, box_db: SqliteDatabase
) -> None:
    tampered = multibuy_policy()
    tampered["params"] = {"qty": 3, "price": "0.01"}  # changed after signing
    pricing(rich, 1, [tampered], flag=True)
    assert add(cashier, MILK, 3)["total"] == "5.97"
    add(cashier, MILK, 1)
    rows = box_db.execute_sql(
        "SELECT details FROM audit_log WHERE action = 'pricing.policy_rejected'"
    ).fetchall()
    assert len(rows) == 1
    assert '"reason": "POLICY_UNVERIFIABLE"' in rows[0][0]


@pytest.mark.req("FR-301", "FR-101")
def test_wholesale_price_list_needs_a_supervisor_and_uses_tiers(
    client: FlaskClient, rich: BoxContext
) -> None:
    tiered = product("p-milk", "MILK1", "Milk 1L", ["4000000000013"], "1.99", version=3,
                     wholesale_tiers=[{"min_qty": "10", "price": "1.50"}])  # fmt: skip
    assert down_messages.apply_down(rich, chunk(2, 3, [tiered]))
    assert login(client, "cashier").status_code == 200
    refused = client.post("/api/v1/basket/mode", json={"price_list": "wholesale"})
    assert refused.status_code == 403
    assert login(client, "manager").status_code == 200
    add(client, MILK, 10)
    mode = client.post("/api/v1/basket/mode", json={"price_list": "wholesale"}).get_json()
    assert (mode["price_list"], mode["lines"][0]["unit_price"], mode["total"]) == (
        "wholesale", "1.50", "15.00",
    )  # fmt: skip
