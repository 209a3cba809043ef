"""Refunds and post-voids (FR-300, FR-304, FR-302): never more than sold, proportional
reversal incl. promotions and cash rounding, own receipt numbers, events, stock back."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from appliance.catalog import down_messages
from appliance.core.context import BoxContext
from tests.appliance.conftest import login
from tests.appliance.factories import down, multibuy_policy
from tests.appliance.till.test_basket import BREAD, GUM, MILK
from tests.appliance.till.test_checkout import outbox_events
from tests.appliance.till_helpers import open_shift, override, refund, scalar, sell

pytestmark = pytest.mark.usefixtures("till")


@pytest.fixture
def promo(till: BoxContext) -> BoxContext:
    """Milk 3 for 5.00 on (signed policy, flag on)."""
    body = {"policies": [multibuy_policy()], "flags": {"advanced_discounts": True}}
    assert down_messages.apply_down(till, down("pricing", 1, body))
    return till


def _refund_lines(client: FlaskClient, receipt: str, lines: list[tuple[int, str]]) -> dict:
    token = override(client, "refund")
    resp = refund(
        client,
        receipt=receipt,
        lines=[{"line_no": n, "qty": q} for n, q in lines],
        override_token=token,
    )
    assert resp.status_code == 201, resp.get_json()
    return dict(resp.get_json())


def _counts(db: SqliteDatabase) -> tuple[int, ...]:
    return (
        scalar(db, "SELECT count(*) FROM refunds"),
        scalar(db, "SELECT count(*) FROM outbox"),
        scalar(db, "SELECT next_receipt_no FROM box_state"),
        scalar(db, "SELECT count(*) FROM stock_movements"),
    )


@pytest.mark.req("FR-300", "FR-302", "FR-304")
def test_partial_refunds_never_exceed_and_sum_to_the_sale_negated(
    cashier: FlaskClient, box_db: SqliteDatabase, promo: BoxContext
) -> None:
    open_shift(cashier)
    sale = sell(cashier, [(MILK, 4), (BREAD, 1)], "20.00")
    assert (sale["total"], sale["cash_rounding"], sale["payable"]) == ("9.49", "0.01", "9.50")
    first = _refund_lines(cashier, f"R{sale['receipt_no']}", [(1, "1")])
    assert first["total"] == str(-(Decimal("6.99") / 4).quantize(Decimal("0.01")))
    second = _refund_lines(cashier, sale["sale_id"], [(1, "2")])
    token = override(cashier, "refund")
    before = _counts(box_db)
    too_much = refund(
        cashier, receipt=str(sale["receipt_no"]), lines=[{"line_no": 1, "qty": "2"}],
        override_token=token,
    )  # fmt: skip
    assert too_much.status_code == 400
    assert too_much.get_json()["error"]["reason"] == "REFUND_EXCEEDS_SALE"
    assert _counts(box_db) == before
    last = _refund_lines(cashier, str(sale["receipt_no"]), [(1, "1"), (2, "1")])
    docs = [first, second, last]
    for field, key in (("total", "total"), ("tax_total", "tax_total"), ("payable", "payable")):
        assert sum(Decimal(d[field]) for d in docs) == -Decimal(sale[key])
    assert sum(Decimal(d["cash_rounding"]) for d in docs) == -Decimal(sale["cash_rounding"])
    numbers = [d["receipt_no"] for d in docs]
    assert numbers == [sale["receipt_no"] + 1, sale["receipt_no"] + 2, sale["receipt_no"] + 3]
    events = outbox_events(box_db, "refund.completed")
    assert [e.payload["refund_id"] for e in events] == [d["refund_id"] for d in docs]
    assert events[0].payload["approver_id"] == "s-sup"
    lookup = cashier.get(f"/api/v1/refunds/lookup?code=R{sale['receipt_no']}").get_json()
    assert [ln["refundable_qty"] for ln in lookup["lines"]] == ["0", "0"]
    moved = box_db.execute_sql(
        "SELECT sum(qty_milli) FROM stock_movements WHERE kind = 'refund' AND product_id = 'p-milk'"
    ).fetchone()[0]
    assert moved == 4000
    assert len(outbox_events(box_db, "stock.movement")) == 4


@pytest.mark.req("FR-300", "FR-302")
def test_single_full_refund_is_the_sale_negated_to_the_cent(
    cashier: FlaskClient, box_db: SqliteDatabase, promo: BoxContext
) -> None:
    open_shift(cashier)
    sale = sell(cashier, [(MILK, 3), (GUM, 3), (BREAD, 1)], "10.00")
    doc = _refund_lines(cashier, str(sale["receipt_no"]), [(1, "3"), (2, "3"), (3, "1")])
    for key in ("total", "tax_total", "payable", "cash_rounding"):
        assert Decimal(doc[key]) == -Decimal(sale[key]), key
    by_class = {r["tax_class"]: r for r in doc["tax_breakdown"]}
    for row in sale["tax_breakdown"]:
        assert Decimal(by_class[row["tax_class"]]["tax"]) == -Decimal(row["tax"])
    assert doc["tenders"] == [{"kind": "cash", "amount": doc["payable"]}]


@pytest.mark.req("FR-300")
def test_refund_without_receipt_needs_a_branch_manager(
    cashier: FlaskClient, box_db: SqliteDatabase
) -> None:
    open_shift(cashier)
    body = {"products": [{"product_id": "p-bread", "qty": "1"}], "reason_code": "DEFECTIVE"}
    denied = refund(cashier, **body)
    assert denied.get_json()["error"]["reason"] == "OVERRIDE_REQUIRED"
    sup = cashier.post(
        "/api/v1/overrides",
        json={"action": "refund_no_receipt", "reason_code": "DEFECTIVE", "pin": "8888"},
    )
    assert sup.status_code == 403
    token = override(cashier, "refund_no_receipt", "DEFECTIVE", pin="9999")
    done = refund(cashier, products=body["products"], override_token=token)
    assert done.status_code == 201, done.get_json()
    doc = done.get_json()
    assert (doc["with_receipt"], doc["total"], doc["approver_id"]) == (False, "-2.50", "s-mgr")
    unknown = refund(cashier, **body, tender="voucher")
    assert unknown.get_json()["error"]["reason"] == "UNKNOWN_TENDER"


@pytest.mark.req("FR-300", "FR-303")
def test_post_void_only_the_last_sale_once(cashier: FlaskClient, box_db: SqliteDatabase) -> None:
    open_shift(cashier)
    first = sell(cashier, [(MILK, 1)], "5.00")
    second = sell(cashier, [(BREAD, 1)], "5.00")
    token = override(cashier, "post_void", "CASHIER_ERROR")
    old = cashier.post(f"/api/v1/sales/{first['sale_id']}/void", json={"override_token": token})
    assert old.get_json()["error"]["reason"] == "SALE_NOT_VOIDABLE"
    done = cashier.post(f"/api/v1/sales/{second['sale_id']}/void", json={"override_token": token})
    assert done.status_code == 200, done.get_json()
    event = outbox_events(box_db, "sale.voided")[0].payload
    assert (event["sale_id"], event["approver_id"], event["reason_code"]) == (
        second["sale_id"], "s-sup", "CASHIER_ERROR",
    )  # fmt: skip
    again = cashier.post(
        f"/api/v1/sales/{second['sale_id']}/void",
        json={"override_token": override(cashier, "post_void", "CASHIER_ERROR")},
    )
    assert again.get_json()["error"]["reason"] == "SALE_NOT_VOIDABLE"
    token = override(cashier, "refund")
    gone = refund(cashier, receipt=second["sale_id"], lines=[{"line_no": 1, "qty": "1"}],
                  override_token=token)  # fmt: skip
    assert gone.get_json()["error"]["reason"] == "REFUND_EXCEEDS_SALE"
    assert scalar(box_db, "SELECT count(*) FROM sale_voids") == 1


@pytest.mark.req("FR-300")
def test_manager_refunds_without_token_but_with_reason(
    client: FlaskClient, box_db: SqliteDatabase
) -> None:
    assert login(client, "manager").status_code == 200
    open_shift(client)
    sale = sell(client, [(GUM, 2)], "1.00")
    missing = refund(client, receipt=str(sale["receipt_no"]), lines=[{"line_no": 1, "qty": "1"}])
    assert missing.get_json()["error"]["reason"] == "REASON_REQUIRED"
    done = refund(client, receipt=str(sale["receipt_no"]), lines=[{"line_no": 1, "qty": "1"}],
                  reason_code="WRONG_ITEM")  # fmt: skip
    assert done.status_code == 201
    assert done.get_json()["approver_id"] == "s-mgr"
