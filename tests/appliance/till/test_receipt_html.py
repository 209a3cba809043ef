"""HTML receipts (FR-304): branding from config, every line, tax rows summing to the total,
tenders and change, the QR of the sale id, COPY only on request, staff only."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal
from html import unescape
from pathlib import Path
from zoneinfo import ZoneInfo

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
    config_body,
    down,
    extra_products,
    multibuy_policy,
)
from tests.appliance.till.test_basket import BREAD, MILK, add
from tests.appliance.till_helpers import open_shift, override, refund, sell

ZONE = "Europe/Vienna"
pytestmark = pytest.mark.usefixtures("till")


@pytest.fixture
def box_config(tmp_path: Path) -> BoxConfig:
    """The factory box in Vienna (receipt times are local)."""
    from tests.appliance.factories import make_config

    return make_config(tmp_path, timezone=ZONE)


@pytest.fixture
def shop(till: BoxContext) -> BoxContext:
    """Deposit products and 'milk 3 for 5.00' on."""
    assert down_messages.apply_down(till, chunk(1, 2, extra_products()))
    body = {"policies": [multibuy_policy()], "flags": {"advanced_discounts": True}}
    assert down_messages.apply_down(till, down("pricing", 1, body))
    return till


def _text(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def _pay_split(client: FlaskClient) -> dict:
    resp = client.post(
        "/api/v1/basket/pay",
        json={
            "tenders": [
                {"kind": "card", "amount": "5.00", "reference": "TID9-AUTH123"},
                {"kind": "cash", "amount": "10.00"},
            ],
            "idempotency_key": uuid.uuid4().hex,
        },
    )
    assert resp.status_code == 200, resp.get_json()
    return dict(resp.get_json())


@pytest.mark.req("FR-304")
def test_receipt_page_shows_brand_lines_tax_tenders_change_and_qr(
    cashier: FlaskClient, shop: BoxContext
) -> None:
    open_shift(cashier)
    add(cashier, MILK, 4)
    add(cashier, BREAD)
    add(cashier, LAGER, 2)
    sale = _pay_split(cashier)
    resp = cashier.get(f"/receipts/{sale['sale_id']}")
    assert resp.status_code == 200
    assert resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    text = _text(html)
    brand = config_body()["branding"]
    for key in ("store_name", "receipt_header", "receipt_footer", "logo_text"):
        assert brand[key] in text, key
    assert brand["primary_color"] in html
    assert f"R{sale['receipt_no']}" in text
    assert sale["cashier_name"] in text
    when = datetime.fromisoformat(sale["completed_at"]).astimezone(ZoneInfo(ZONE))
    hour = when.hour % 12 or 12  # the English medium pattern: "Dec 1, 2026, 2:31:26 PM"
    assert f"{when:%b} {when.day}, {when.year}, {hour}:{when:%M:%S %p}" in text
    # every line, with its quantity and total; the deposit line says so
    rows = re.findall(r'<tr class="line( deposit)?" data-line-no="(\d+)">(.*?)</tr>', html, re.S)
    assert [int(no) for _, no, _ in rows] == [ln["line_no"] for ln in sale["lines"]]
    for (deposit, _, cells), line in zip(rows, sale["lines"], strict=True):
        cell_text = _text(cells)
        assert line["name"] in cell_text
        assert line["line_total"] in cell_text
        assert line["unit_price"] in cell_text
        assert bool(deposit) == (line["deposit_for_line"] is not None)
    assert any(ln["deposit_for_line"] for ln in sale["lines"])
    # the promotion with its policy id
    milk = sale["lines"][0]
    assert milk["discounts"][0]["policy_id"] == "pol-milk-3for5"
    assert 'data-policy-id="pol-milk-3for5"' in html
    assert f"-{milk['discounts'][0]['amount']}" in text
    # tax breakdown rows sum to the total
    grosses = re.findall(r'data-gross="(-?[\d.]+)"', html)
    assert len(grosses) == len(sale["tax_breakdown"]) >= 2
    assert sum(Decimal(g) for g in grosses) == Decimal(sale["total"])
    for row in sale["tax_breakdown"]:
        assert f'data-tax-class="{row["tax_class"]}"' in html
        assert row["net"] in text
        assert row["tax"] in text
    # tenders (card reference, never more), rounding, payable and change
    assert 'data-kind="card"' in html
    assert 'data-kind="cash"' in html
    assert "TID9-AUTH123" in text
    assert re.search(r'id="change">\s*' + re.escape(sale["change"]), html)
    if Decimal(sale["cash_rounding"]):
        assert re.search(r'id="payable">\s*' + re.escape(sale["payable"]), html)
    # the QR of the sale id, as an inline SVG generated on the box, and no COPY mark
    assert re.search(r'<div class="qr" id="qr"[^>]*>\s*<svg', html)
    assert 'class="segno"' in html
    assert "COPY" not in text


@pytest.mark.req("FR-304")
def test_qr_encodes_the_sale_id_and_copy_only_on_request(
    cashier: FlaskClient, till: BoxContext
) -> None:
    import segno

    open_shift(cashier)
    sale = sell(cashier, [(MILK, 1)], "5.00")
    html = cashier.get(f"/receipts/{sale['sale_id']}").get_data(as_text=True)
    expected = segno.make(sale["sale_id"], error="m").svg_inline(
        scale=3, border=4, title=f"R{sale['receipt_no']}"
    )
    assert expected in html
    copy = cashier.get(f"/receipts/{sale['sale_id']}?copy=1").get_data(as_text=True)
    assert 'id="copy-mark"' in copy
    assert "COPY" in _text(copy)
    assert 'id="copy-mark"' not in html


@pytest.mark.req("FR-304")
def test_receipt_needs_a_logged_in_staff_member_and_a_known_sale(
    client: FlaskClient, till: BoxContext
) -> None:
    assert login(client).status_code == 200
    open_shift(client)
    sale = sell(client, [(BREAD, 1)], "5.00")
    assert client.get("/receipts/no-such-sale").status_code == 404
    client.post("/api/v1/auth/logout")
    resp = client.get(f"/receipts/{sale['sale_id']}")
    assert resp.status_code == 401
    assert "Forge Fresh Market" not in resp.get_data(as_text=True)


@pytest.mark.req("FR-304")
def test_another_cashier_needs_sales_read(cashier: FlaskClient, till: BoxContext) -> None:
    from tests.appliance.till_helpers import CASHIER2_PIN, login_pin

    open_shift(cashier)
    sale = sell(cashier, [(BREAD, 1)], "5.00")
    cashier.post("/api/v1/auth/logout")
    login_pin(cashier, CASHIER2_PIN)
    assert cashier.get(f"/receipts/{sale['sale_id']}").status_code == 403


@pytest.mark.req("FR-304")
def test_refund_document_as_html(
    cashier: FlaskClient, box_db: SqliteDatabase, till: BoxContext
) -> None:
    open_shift(cashier)
    sale = sell(cashier, [(MILK, 2), (BREAD, 1)], "10.00")
    resp = refund(
        cashier,
        receipt=str(sale["receipt_no"]),
        lines=[{"line_no": 1, "qty": "1"}],
        override_token=override(cashier, "refund"),
    )
    assert resp.status_code == 201, resp.get_json()
    doc = resp.get_json()
    page = cashier.get(f"/refunds/{doc['refund_id']}/receipt")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    text = _text(html)
    assert "Refund" in text
    assert f"R{sale['receipt_no']}" in text  # the returns code: the original sale's, resolvable
    assert str(sale["receipt_no"]) in text
    assert doc["total"] in text
    grosses = re.findall(r'data-gross="(-?[\d.]+)"', html)
    assert sum(Decimal(g) for g in grosses) == Decimal(doc["total"])
    assert "<svg" in html
    assert "COPY" not in text
    assert cashier.get(f"/refunds/{uuid.uuid4()}/receipt").status_code == 404
