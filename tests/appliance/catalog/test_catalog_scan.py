"""Scanning on the box (FR-200, FR-300): GTIN forms, weight and price labels, bad codes."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from appliance.catalog import down_messages
from appliance.core.context import BoxContext
from firmware_config.schema import BoxConfig
from tests.appliance.conftest import count
from tests.appliance.factories import (
    CHEESE_WEIGHT_LABEL,
    HAM_PRICE_LABEL,
    OLIVES_PRICE_LABEL,
    chunk,
    extra_products,
)


@pytest.fixture
def rich(box_config: BoxConfig, box_db: SqliteDatabase) -> None:
    """The seeded catalog plus weighed, label-priced and deposit products (version 2)."""
    assert down_messages.apply_down(BoxContext(box_config), chunk(1, 2, extra_products()))


def scan(client: FlaskClient, barcode: str, qty: object = None, weight: str | None = None):
    """POST /basket/lines (qty and weight omitted when None)."""
    body: dict = {"barcode": barcode}
    if qty is not None:
        body["qty"] = qty
    if weight is not None:
        body["weight"] = weight
    return client.post("/api/v1/basket/lines", json=body)


@pytest.mark.req("FR-200", "FR-300")
@pytest.mark.parametrize("form", ["036000291452", "0036000291452", "00036000291452"])
def test_upc_a_ean_13_and_gtin_14_forms_find_the_same_product(
    cashier: FlaskClient, form: str
) -> None:
    resp = scan(cashier, form)
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["lines"][0]["sku"] == "GUM1"


@pytest.mark.req("FR-200", "NFR-005")
def test_bad_check_digit_is_400_and_writes_nothing(
    cashier: FlaskClient, box_db: SqliteDatabase
) -> None:
    resp = scan(cashier, "4000000000019")
    assert resp.status_code == 400
    assert resp.get_json()["error"]["reason"] == "INVALID_BARCODE"
    assert (count(box_db, "basket"), count(box_db, "basket_lines")) == (0, 0)


@pytest.mark.req("FR-200", "FR-300")
def test_weight_label_adds_kg_at_the_price_per_kg(cashier: FlaskClient, rich: None) -> None:
    resp = scan(cashier, CHEESE_WEIGHT_LABEL)
    assert resp.status_code == 201, resp.get_json()
    line = resp.get_json()["lines"][0]
    assert (line["sku"], line["unit"], line["qty"], line["weight"]) == (
        "CHS1", "weight", "1.234", "1.234",
    )  # fmt: skip
    assert (line["unit_price"], line["extended"], line["line_total"]) == ("14.90", "18.39", "18.39")


@pytest.mark.req("FR-200", "FR-300")
def test_price_labels_charge_the_printed_price(cashier: FlaskClient, rich: None) -> None:
    ham = scan(cashier, HAM_PRICE_LABEL).get_json()["lines"][0]
    assert (ham["sku"], ham["qty"], ham["unit_price"], ham["extended"]) == (
        "HAM1", "1", "34.56", "34.56",
    )  # fmt: skip
    basket = scan(cashier, OLIVES_PRICE_LABEL).get_json()  # matched by SKU = item code
    olives = basket["lines"][1]
    assert (olives["sku"], olives["unit"], olives["qty"], olives["unit_price"]) == (
        "00077", "weight", "1.550", "10.00",
    )  # fmt: skip
    assert olives["extended"] == "15.50"
    assert basket["total"] == "50.06"


@pytest.mark.req("FR-200", "FR-300")
def test_weighed_product_typed_in_needs_a_weight_and_items_need_whole_numbers(
    cashier: FlaskClient, rich: None, box_db: SqliteDatabase
) -> None:
    no_weight = scan(cashier, "2800035000000")  # no scale on this box: nothing to read
    assert no_weight.status_code == 400
    error = no_weight.get_json()["error"]
    assert (error["reason"], error["details"]["scale"]) == ("WEIGHT_REQUIRED", "NO_SCALE")
    half = scan(cashier, "4000000000013", "1.5")
    assert half.get_json()["error"]["reason"] == "INVALID_QUANTITY"
    assert count(box_db, "basket_lines") == 0
    weighed = scan(cashier, "2800035000000", weight="0.455").get_json()["lines"][0]
    assert (weighed["qty"], weighed["extended"]) == ("0.455", "6.78")  # 14.90 x 0.455 = 6.7795


@pytest.mark.req("FR-200")
def test_unknown_label_item_is_404(cashier: FlaskClient, rich: None) -> None:
    from tests.appliance.factories import with_check

    resp = scan(cashier, with_check("280009900500"))
    assert resp.status_code == 404
    assert resp.get_json()["error"]["reason"] == "UNKNOWN_BARCODE"
