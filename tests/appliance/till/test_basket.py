"""Basket on the box: scans, quantities, voids, totals, input hygiene (FR-300, NFR-005)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from tests.appliance.conftest import count, login

MILK, BREAD, GUM = "4000000000013", "4000000000020", "4000000000037"


def add(client: FlaskClient, barcode: str, qty: int = 1) -> dict:
    """Add a line and return the basket."""
    resp = client.post("/api/v1/basket/lines", json={"barcode": barcode, "qty": qty})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


@pytest.mark.req("FR-300", "FR-302")
def test_scan_lines_with_running_totals(cashier: FlaskClient) -> None:
    add(cashier, MILK)
    basket = add(cashier, BREAD, 2)
    assert [ln["sku"] for ln in basket["lines"]] == ["MILK1", "BRD1"]
    assert basket["item_count"] == 3
    assert basket["total"] == "6.99"
    assert basket["tax_total"] == "0.66"  # STD 1.99 -> 0.33, RED 5.00 -> 0.33
    assert basket["currency"] == "EUR"


@pytest.mark.req("FR-300")
def test_unknown_barcode_is_404_and_writes_nothing(
    cashier: FlaskClient, box_db: SqliteDatabase
) -> None:
    before = (count(box_db, "basket"), count(box_db, "basket_lines"), count(box_db, "outbox"))
    resp = cashier.post("/api/v1/basket/lines", json={"barcode": "0000000000017", "qty": 1})
    assert resp.status_code == 404
    assert resp.get_json()["error"]["reason"] == "UNKNOWN_BARCODE"
    after = (count(box_db, "basket"), count(box_db, "basket_lines"), count(box_db, "outbox"))
    assert before == after


@pytest.mark.req("FR-300", "FR-802")
def test_line_void_is_audited_and_leaves_totals_right(
    cashier: FlaskClient, box_db: SqliteDatabase
) -> None:
    add(cashier, MILK)
    add(cashier, GUM, 3)
    resp = cashier.delete("/api/v1/basket/lines/1")
    assert resp.status_code == 200
    basket = resp.get_json()
    assert [ln["line_no"] for ln in basket["lines"]] == [2]
    assert basket["total"] == "0.30"
    actions = [r[0] for r in box_db.execute_sql("SELECT action FROM audit_log").fetchall()]
    assert "sale.line_void" in actions
    again = cashier.delete("/api/v1/basket/lines/1")
    assert again.status_code == 404
    assert again.get_json()["error"]["reason"] == "LINE_NOT_FOUND"


@pytest.mark.req("FR-300")
def test_basket_survives_a_reload_and_a_relogin(cashier: FlaskClient, app) -> None:
    add(cashier, MILK, 2)
    other_browser = app.test_client()
    assert login(other_browser).status_code == 200
    assert other_browser.get("/api/v1/basket").get_json()["item_count"] == 2


@pytest.mark.req("NFR-005")
@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"barcode": "4000000000013", "qty": ', "MALFORMED_JSON"),
        (b"\xff\xfe", "MALFORMED_JSON"),
        (b'{"barcode": "4000000000013", "qty": -1}', "VALIDATION_FAILED"),
        (b'{"barcode": "4000000000013", "qty": 0}', "VALIDATION_FAILED"),
        (b'{"barcode": "4000000000013", "qty": 1.5}', "VALIDATION_FAILED"),
        (b'{"barcode": "4000000000013", "qty": "2kg"}', "VALIDATION_FAILED"),
        (b'{"barcode": "4000000000013", "qty": "1.5"}', "INVALID_QUANTITY"),
        (b'{"barcode": "4000000000014"}', "INVALID_BARCODE"),
        (b'{"barcode": 4000000000013}', "VALIDATION_FAILED"),
        (b'{"barcode": "4000000000013", "price": "0.01"}', "VALIDATION_FAILED"),
        (b'["4000000000013"]', "VALIDATION_FAILED"),
        (b'{"barcode": "<script>"}', "VALIDATION_FAILED"),
    ],
)
def test_bad_line_input_is_refused_with_a_reason_and_no_rows(
    cashier: FlaskClient, box_db: SqliteDatabase, body: bytes, reason: str
) -> None:
    resp = cashier.post("/api/v1/basket/lines", data=body, content_type="application/json")
    assert resp.status_code == 400
    assert resp.get_json()["error"]["reason"] == reason
    assert count(box_db, "basket_lines") == 0


@pytest.mark.req("NFR-005")
def test_oversized_body_is_413(cashier: FlaskClient, box_db: SqliteDatabase) -> None:
    body = b'{"barcode": "' + b"1" * 4096 + b'"}'
    resp = cashier.post("/api/v1/basket/lines", data=body, content_type="application/json")
    assert resp.status_code == 413
    assert resp.get_json()["error"]["reason"] == "PAYLOAD_TOO_LARGE"
    assert count(box_db, "basket_lines") == 0


@pytest.mark.req("FR-300")
def test_product_search_by_name_sku_and_barcode(cashier: FlaskClient) -> None:
    def names(q: str) -> list[str]:
        resp = cashier.get("/api/v1/products", query_string={"q": q})
        return [p["name"] for p in resp.get_json()["products"]]

    assert names("bread") == ["Rye Bread"]
    assert names("MILK1") == ["Milk 1L"]
    assert names("036000291452") == ["Chewing Gum"]  # UPC-A
    assert names("0036000291452") == ["Chewing Gum"]  # the same GTIN as EAN-13
    assert names("%") == []
    assert names("") == ["Chewing Gum", "Milk 1L", "Rye Bread"]
    assert cashier.get("/api/v1/products", query_string={"q": "x" * 65}).status_code == 400
