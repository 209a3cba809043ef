"""The till's hot path (issue 15): hand-written SQL reads and writes what peewee would, the
money setup follows every new config message, and the receipt job commits with its sale."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from peewee import IntegrityError, SqliteDatabase

from appliance.catalog import down_messages
from appliance.catalog.brand import current_brand
from appliance.catalog.models import Product
from appliance.core.context import BoxContext
from appliance.core.db import insert_rows, select_models
from appliance.devices import hook
from appliance.devices.receipt_layout import print_settings, receipt_doc
from appliance.devices.receipts import doc_from_json, doc_to_json
from appliance.inventory.models import StockMovement
from appliance.till import line_rows, pricing
from appliance.till.basket import active_lines
from appliance.till.models import Basket, BasketLine, BasketPriceOverride
from posdomain.errors import Reason
from tests.appliance.conftest import count
from tests.appliance.factories import chunk, config_body, down, multibuy_policy, products
from tests.appliance.till.test_basket import BREAD, MILK, add
from tests.appliance.till.test_checkout import pay


@pytest.mark.req("FR-300")
def test_select_models_gives_the_rows_peewee_gives(
    cashier: FlaskClient, box_db: SqliteDatabase
) -> None:
    add(cashier, MILK)
    add(cashier, BREAD, 2)
    with box_db.connection_context():
        fast = select_models(BasketLine, "SELECT * FROM basket_lines ORDER BY id")
        orm = list(BasketLine.select().order_by(BasketLine.id))
        assert [ln.__data__ for ln in fast] == [ln.__data__ for ln in orm]
        assert [ln.basket_id for ln in fast] == [ln.basket_id for ln in orm]
        assert not any(ln.is_dirty() for ln in fast)
        products = select_models(Product, "SELECT * FROM products ORDER BY id")
        assert [p.__data__ for p in products] == [
            p.__data__ for p in Product.select().order_by(Product.id)
        ]
        assert select_models(Product, "SELECT * FROM products WHERE id = ?", ("none",)) == []


@pytest.mark.req("FR-300")
def test_insert_rows_writes_what_peewee_inserts(box_db: SqliteDatabase) -> None:
    row = {
        "product_id": "p-milk",
        "kind": "sale",
        "reason_code": Reason.CONFLICT,  # an enum is stored as peewee stores it
        "qty_milli": -1000,
        "ref": "sale:x",
        "staff_id": None,
        "occurred_at": "2026-12-01T00:00:00+00:00",
    }
    with box_db.connection_context():
        StockMovement.insert(id="by-orm", **row).execute()
        insert_rows(StockMovement, [{"id": "by-sql", **row}, {"id": "by-sql-2", **row}])
        stored = box_db.execute_sql(
            "SELECT id, product_id, kind, qty_milli, reason_code, ref, staff_id, event_id,"
            " occurred_at FROM stock_movements WHERE id LIKE 'by-%' ORDER BY seq"
        ).fetchall()
    assert [r[0] for r in stored] == ["by-orm", "by-sql", "by-sql-2"]
    assert stored[0][1:] == stored[1][1:] == stored[2][1:]
    with box_db.connection_context(), pytest.raises(ValueError, match="same fields"):
        insert_rows(StockMovement, [{"id": "a", **row}, {"id": "b"}])
    # a constraint fails as the ORM's insert fails (checkout catches peewee's IntegrityError
    # of a sale row since the sale is written this way too)
    with box_db.connection_context(), pytest.raises(IntegrityError):
        insert_rows(StockMovement, [{"id": "by-sql", **row}])


@pytest.mark.req("FR-300", "FR-302")
def test_a_new_config_message_reprices_the_next_scan(
    cashier: FlaskClient, till: BoxContext, box_db: SqliteDatabase
) -> None:
    """The setup is built once per stored state: the next scan after a config message
    prices with the new rules, and a scan after going back prices as before."""
    first = add(cashier, MILK)
    body = config_body()
    body["tax"] = {**body["tax"], "level": "line"}
    body["tax"]["classes"] = {**body["tax"]["classes"], "STD": {"rate": "0.10", "inclusive": False}}
    assert down_messages.apply_down(till, down("config", 3, body))
    changed = add(cashier, MILK)
    assert [ln["tax_rate"] for ln in changed["lines"]] == ["0.10", "0.10"]
    assert changed["lines"][0]["line_total"] != first["lines"][0]["line_total"]
    body = config_body()
    body["tax"] = {**body["tax"], "cash_rounding": "0.05", "level": "line"}  # as `till` had it
    assert down_messages.apply_down(till, down("config", 4, body))
    again = add(cashier, BREAD)
    assert again["lines"][0] == first["lines"][0]
    assert again["lines"][1] == first["lines"][0] | {"line_no": 2}


@pytest.mark.req("FR-300", "FR-303")
@pytest.mark.usefixtures("shift_open")
def test_the_receipt_job_commits_with_its_sale(
    cashier: FlaskClient, box_db: SqliteDatabase
) -> None:
    add(cashier, MILK)
    sale = pay(cashier, "10.00").get_json()
    with box_db.connection_context():
        jobs = box_db.execute_sql(
            "SELECT kind, copy_no FROM print_jobs WHERE ref = ?", (sale["sale_id"],)
        ).fetchall()
        kicks = box_db.execute_sql(
            "SELECT reason FROM drawer_log WHERE ref = ?", (sale["sale_id"],)
        ).fetchall()
    assert jobs == [("receipt", 0)]
    assert kicks == [("sale",)]  # kicked after the commit (no device service here: failed)


@pytest.mark.req("FR-300", "FR-303")
@pytest.mark.usefixtures("shift_open")
def test_a_receipt_that_cannot_be_queued_never_costs_the_sale(
    cashier: FlaskClient, box_db: SqliteDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> dict[str, object]:
        raise TypeError("a receipt layout bug")

    monkeypatch.setattr(hook, "enqueue_sale_receipt", broken)
    add(cashier, MILK)
    resp = pay(cashier, "10.00", key=uuid.uuid4().hex)
    assert resp.status_code == 200, resp.get_json()
    assert count(box_db, "sales") == 1
    assert count(box_db, "print_jobs") == 0


@pytest.mark.req("FR-300", "FR-301")
def test_a_catalog_change_mid_basket_reprices_the_kept_lines(
    cashier: FlaskClient, till: BoxContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15: an open basket is repriced from kept per-line results; a product repriced by
    the hub while it is in the basket is priced at its new price on the next scan, and every
    answer is the one a till with nothing kept gives."""
    add(cashier, MILK, 2)
    add(cashier, BREAD)
    before = add(cashier, MILK)
    milk = products()[0] | {"price": "2.49", "version": 2}
    assert down_messages.apply_down(till, chunk(1, 2, [milk]))
    after = add(cashier, BREAD)
    assert [ln["unit_price"] for ln in after["lines"]] == ["2.49", "2.50", "2.49", "2.50"]
    assert after["total"] != before["total"]
    kept = cashier.get("/api/v1/basket").get_json()
    monkeypatch.setattr(pricing, "_KEPT", pricing._Kept())  # a till that keeps nothing
    assert cashier.get("/api/v1/basket").get_json() == kept
    assert kept["lines"] == after["lines"]


SALE_FACTS = ("lines", "subtotal", "discount_total", "tax_total", "total", "tax_breakdown",
              "return_tax_breakdown", "cash_rounding", "payable", "tenders", "change")  # fmt: skip


@pytest.mark.req("FR-300", "FR-301", "FR-303")
@pytest.mark.usefixtures("shift_open")
def test_a_sale_is_paid_at_what_a_till_keeping_nothing_charges(
    cashier: FlaskClient, till: BoxContext, monkeypatch: pytest.MonkeyPatch, box_db: SqliteDatabase
) -> None:
    """Issue 15: paying prices the basket with what its scans kept (the memo); the sale, as
    answered, stored and queued for the hub, is the one a till keeping nothing would have
    made, also for a product the hub repriced while it lay in the basket."""
    add(cashier, MILK, 2)
    add(cashier, BREAD)
    add(cashier, MILK)
    milk = products()[0] | {"price": "2.49", "version": 2}
    assert down_messages.apply_down(till, chunk(1, 2, [milk]))
    add(cashier, BREAD)
    kept = pay(cashier, "50.00").get_json()
    for code, qty in ((MILK, 2), (BREAD, 1), (MILK, 1), (BREAD, 1)):
        add(cashier, code, qty)
    monkeypatch.setattr(pricing, "_KEPT", pricing._Kept())  # a till that keeps nothing
    fresh = pay(cashier, "50.00").get_json()
    assert [ln["unit_price"] for ln in kept["lines"]] == ["2.49", "2.50", "2.49", "2.50"]
    assert {k: kept[k] for k in SALE_FACTS} == {k: fresh[k] for k in SALE_FACTS}
    with box_db.connection_context():
        stored = box_db.execute_sql(
            "SELECT subtotal_minor, tax_minor, total_minor, change_minor, cash_rounding_minor"
            " FROM sales WHERE id IN (?, ?) ORDER BY receipt_no",
            (kept["sale_id"], fresh["sale_id"]),
        ).fetchall()
    assert stored[0] == stored[1]


@pytest.mark.req("FR-303", "FR-304")
@pytest.mark.usefixtures("shift_open")
def test_a_sales_receipt_laid_out_when_it_prints_is_the_one_of_the_sale(
    cashier: FlaskClient, till: BoxContext, box_db: SqliteDatabase
) -> None:
    """Issue 15: the receipt queued with a sale is laid out when the printer takes it, from
    the sale's stored payload and the brand and print settings of the sale: the document the
    sale queued before, even after the hub renamed the store."""
    add(cashier, MILK)
    add(cashier, BREAD, 2)
    sale = pay(cashier, "20.00").get_json()
    settings = print_settings(till.config)
    with box_db.connection_context():
        brand = current_brand(till.config.till_name, settings.locale)
        before = doc_to_json(receipt_doc(sale, brand, 0, settings))  # what was queued before
        body = config_body()
        body["branding"] = {**body.get("branding", {}), "store_name": "Renamed Store"}
        assert down_messages.apply_down(till, down("config", 9, body))
        (job,) = box_db.execute_sql(
            "SELECT payload FROM print_jobs WHERE ref = ?", (sale["sale_id"],)
        ).fetchone()
    printed = doc_from_json(job)
    assert doc_to_json(printed) == before
    assert "Renamed Store" not in printed.plain_text()
    assert (printed.barcode, printed.qr) == (f"R{sale['receipt_no']}", sale["sale_id"])


@pytest.mark.req("FR-300", "FR-301")
def test_kept_line_answers_follow_a_promotion_reached_by_a_later_scan(
    cashier: FlaskClient, till: BoxContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15 item 6: a line's answer is kept while it is made of the same objects; the
    third milk of a 3-for-5 changes the discount of the two lines scanned before it (same
    stored lines, same quantity and unit price), and every answer is the one a till keeping
    nothing gives. Fails when the kept answer is not checked against the priced line."""
    body = {"policies": [multibuy_policy()], "flags": {"advanced_discounts": True}}
    assert down_messages.apply_down(till, down("pricing", 1, body))
    answers, fresh = [], []
    for _ in range(4):
        answers.append(add(cashier, MILK))
        kept = pricing._KEPT
        monkeypatch.setattr(pricing, "_KEPT", pricing._Kept())  # a till that keeps nothing
        fresh.append(cashier.get("/api/v1/basket").get_json())
        monkeypatch.setattr(pricing, "_KEPT", kept)  # the scans' till again
    assert [bool(ln["discounts"]) for ln in answers[1]["lines"]] == [False, False]
    assert [bool(ln["discounts"]) for ln in answers[2]["lines"]] == [True, True, True]
    assert answers == fresh


@pytest.mark.req("FR-300")
def test_one_read_of_lines_products_and_manual_prices_is_the_three_reads(
    cashier: FlaskClient, box_db: SqliteDatabase
) -> None:
    """Issue 15 item 6: `line_rows.active_stored_lines` gives what reading the active lines,
    their products and their manual prices apart gives (a voided line left out), and a
    second read of unchanged rows gives the very objects kept from the first."""
    add(cashier, MILK)
    add(cashier, BREAD, 2)
    add(cashier, MILK, 3)
    with box_db.connection_context():
        basket_id = BasketLine.get(BasketLine.line_no == 1).basket_id
        BasketLine.update(voided=1).where(BasketLine.line_no == 1).execute()
        BasketPriceOverride.insert(
            basket_id=basket_id, line_no=3, kind="price", unit_price_minor=150, percent=None,
            approver_id="s-sup", reason_code="DAMAGED", created_at="2026-12-02T00:00:00+00:00",
        ).execute()  # fmt: skip
        kept: dict[tuple[object, ...], line_rows.StoredLine] = {}
        one = line_rows.active_stored_lines(basket_id, 2, kept)
        apart = pricing.stored_lines(active_lines(Basket.get_by_id(basket_id)), 2)
        assert [s.line.__data__ for s in one] == [s.line.__data__ for s in apart]
        assert [s.line.line_no for s in one] == [2, 3]
        assert [s.product and s.product.__data__ for s in one] == [
            s.product and s.product.__data__ for s in apart
        ]
        assert [(s.override, s.entry) for s in one] == [(s.override, s.entry) for s in apart]
        assert one[1].override is not None
        assert one[1].override.unit_price == Decimal("1.50")
        again = line_rows.active_stored_lines(basket_id, 2, kept)
        assert all(a is b for a, b in zip(again, one, strict=True))
        assert line_rows.active_stored_lines(basket_id, 3, kept)[0] is not one[0]


@pytest.mark.req("FR-300", "FR-303")
@pytest.mark.usefixtures("shift_open")
def test_the_pay_answer_is_the_sale_as_stored_and_as_flask_writes_it(
    cashier: FlaskClient, till: BoxContext, box_db: SqliteDatabase, app: Flask
) -> None:
    """Issue 15 item 6: the pay answer is the sale's stored canonical JSON text (not encoded
    a fourth time): the same JSON as the sale row, `GET /sales/<id>`, a repeated key's answer
    and Flask's `jsonify` of it, sorted and compact, non-ASCII text included."""
    names = products()[0] | {"name": "Milch 1 L frisch, süß", "version": 2}
    assert down_messages.apply_down(till, chunk(1, 2, [names]))
    add(cashier, MILK, 2)
    add(cashier, BREAD)
    key = uuid.uuid4().hex
    first = pay(cashier, "20.00", key)
    assert first.status_code == 200
    assert first.mimetype == "application/json"
    sale = first.get_json()
    assert sale["lines"][0]["name"] == "Milch 1 L frisch, süß"
    with box_db.connection_context():
        stored = box_db.execute_sql(
            "SELECT payload FROM sales WHERE id = ?", (sale["sale_id"],)
        ).fetchone()[0]
    assert first.get_data(as_text=True) == stored + "\n"
    with app.app_context():
        flask_text = app.json.dumps(sale, separators=(",", ":"))
    assert json.loads(flask_text) == sale
    assert (
        first.get_data(as_text=True)
        == json.dumps(sale, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    )
    assert pay(cashier, "20.00", key).get_json() == sale  # the key's sale, read back
    assert cashier.get(f"/api/v1/sales/{sale['sale_id']}").get_json() == sale
