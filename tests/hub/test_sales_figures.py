"""Finding 5 (P0): every hub figure that claims to be sales uses the report catalog's
definitions: post-voided sales are not sales, refunds are subtracted, the list marks voids
and shows refunds (report_catalog.md: transactions, refunds, net, tax, total)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from hub.sales import queries as sales
from scripts.testkit.crafted import T, sale_payload
from tests.hub.conftest import enrol_box, login
from tests.hub.ingest_helpers import envelope, send
from tests.hub.inventory_helpers import new_branches

pytestmark = [pytest.mark.pg]


def _refund_of(sold: dict[str, Any], receipt_no: int) -> dict[str, Any]:
    """One of the two kilos of bananas back (as posdomain.tax.refund_tax would split it)."""
    return {
        "refund_id": str(uuid.uuid4()),
        "receipt_no": receipt_no,
        "sale_id": sold["sale_id"],
        "original_receipt_no": sold["receipt_no"],
        "with_receipt": True,
        "idempotency_key": uuid.uuid4().hex,
        "cashier_id": "u-cashier",
        "cashier_name": "Carl Cashier",
        "approver_id": "u-manager",
        "reason_code": "DEFECTIVE",
        "currency": "EUR",
        "exponent": 2,
        "lines": [
            {
                "line_no": 1,
                "sale_line_no": 1,
                "product_id": "p-001",
                "sku": "GB-0001",
                "name": "Bananas",
                "qty": "1",
                "line_total": "-1.49",
                "tax_class": "REDUCED",
                "tax_rate": "0.05",
                "tax": "-0.07",
            }
        ],
        "tax_total": "-0.07",
        "total": "-1.49",
        "cash_rounding": "0.00",
        "payable": "-1.49",
        "tax_breakdown": [
            {
                "tax_class": "REDUCED",
                "rate": "0.05",
                "net": "-1.42",
                "tax": "-0.07",
                "gross": "-1.49",
            }
        ],
        "tenders": [{"kind": "cash", "amount": "-1.49"}],
        "completed_at": datetime.now(UTC).isoformat(),
    }


def _void_of(sold: dict[str, Any]) -> dict[str, Any]:
    return {
        "sale_id": sold["sale_id"],
        "receipt_no": sold["receipt_no"],
        "cashier_id": "u-cashier",
        "approver_id": "u-manager",
        "reason_code": "CASHIER_ERROR",
        "exponent": 2,
        "total": sold["total"],
        "voided_at": datetime.now(UTC).isoformat(),
    }


def _day(branch: str) -> tuple[str, list[dict[str, Any]]]:
    """Three sales of 2.98, the last post-voided, one kilo of the first refunded."""
    box = enrol_box(T, branch)
    sold = [sale_payload(n) for n in (1, 2, 3)]
    events = [envelope(box, n, p, branch_id=branch) for n, p in enumerate(sold, start=1)]
    events.append(envelope(box, 4, _void_of(sold[2]), "sale.voided", branch_id=branch))
    refund = _refund_of(sold[0], 4)
    events.append(envelope(box, 5, refund, "refund.completed", branch_id=branch))
    ack = send(box, events)
    assert ack is not None
    assert (ack.acked_through, ack.rejected) == (5, [])
    return refund["refund_id"], sold


@pytest.mark.req("FR-303", "FR-300")
def test_overview_counts_post_voids_out_and_subtracts_refunds(app):
    (branch,) = new_branches(1)
    _day(branch)
    (row,) = sales.overview(T, [branch])["branches"]
    # Z report of the same day: sales 2 / 5.96, refunds 1 / 1.49, net total 4.47
    assert row["sales_today"] == 2
    assert row["total_today"] == "4.47"
    assert row["refunds_today"] == {"count": 1, "value": "1.42"}  # tax-exclusive, catalog
    assert row["net_today"] == "4.26"  # 2 x 2.84 - 1.42
    assert row["tax_today"] == "0.21"  # 2 x 0.14 - 0.07
    assert row["voids_today"] == {"count": 1, "value": "2.98"}


@pytest.mark.req("FR-303", "FR-300")
def test_sales_list_marks_voids_and_lists_refunds_with_links(app, client):
    (branch,) = new_branches(1)
    refund_id, sold = _day(branch)
    listed = {s["sale_id"]: s for s in sales.list_sales(sales.SalesReader(T, [branch]), 1)["items"]}
    assert set(listed) == {p["sale_id"] for p in sold}
    assert [listed[p["sale_id"]]["voided"] for p in sold] == [False, False, True]
    assert listed[sold[0]["sale_id"]]["refunded"] == "1.49"
    refunds = sales.list_refunds(sales.SalesReader(T, [branch]), 1)["items"]
    assert [(r["refund_id"], r["sale_id"], r["total"]) for r in refunds] == [
        (refund_id, sold[0]["sale_id"], "-1.49")
    ]
    login(client, "owner")
    page = client.get(f"/sales?branch_id={branch}").get_data(as_text=True)
    assert "post-voided" in page
    assert f'href="/sales/{sold[0]["sale_id"]}"' in page  # the refund links to its sale
    detail = client.get(f"/sales/{sold[0]['sale_id']}").get_data(as_text=True)
    assert "Refund" in detail
    assert "-1.49" in detail
    api = client.get(f"/api/v1/sales/{sold[2]['sale_id']}").get_json()
    assert api["voided"] is True
    assert api["void"]["reason_code"] == "CASHIER_ERROR"
    body = client.get(f"/api/v1/refunds?branch_id={branch}").get_json()
    assert [r["refund_id"] for r in body["items"]] == [refund_id]
    client.post("/api/v1/auth/logout", json={})
    login(client, "harbor-owner")  # another tenant sees none of it
    assert client.get(f"/api/v1/sales/{sold[0]['sale_id']}").status_code == 404
    assert refund_id not in {
        r["refund_id"] for r in client.get("/api/v1/refunds").get_json()["items"]
    }
