"""Shifts with X and Z reports (REP-T-03, REP-T-04, FR-300): the Z formula against an
independent drawer computation, gap-free immutable numbering, X without reset."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from posdomain.payloads import ShiftSnapshot
from posdomain.sale_checks import Context
from posdomain.shift_checks import check_snapshot
from tests.appliance.conftest import login
from tests.appliance.till.test_basket import BREAD, GUM, MILK
from tests.appliance.till.test_checkout import outbox_events
from tests.appliance.till_helpers import (
    open_shift,
    override,
    refund,
    sell,
)

pytestmark = pytest.mark.usefixtures("till")


def _busy_shift(client: FlaskClient) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Sales with +/- cash rounding, a cash refund, a post-void, a paid-out, a drop, a no-sale."""
    assert client.post("/api/v1/basket/lines", json={"barcode": GUM}).status_code == 201
    early = {"tendered": "1.00", "idempotency_key": "early-sale-1"}
    refused = client.post("/api/v1/basket/pay", json=early)
    assert refused.get_json()["error"]["reason"] == "SHIFT_NOT_OPEN"  # no cash outside a Z
    parked = client.post("/api/v1/basket/suspend", json={"label": "before the shift"})
    assert parked.status_code == 201
    open_shift(client, "100.00")
    sales = [
        sell(client, [(MILK, 1)], "5.00"),  # 1.99 -> 2.00
        sell(client, [(BREAD, 1), (GUM, 1)], "10.00"),  # 2.60
        sell(client, [(MILK, 3)], "6.00"),  # 5.97 -> 5.95
    ]
    voided = sell(client, [(BREAD, 1)], "2.50")
    token = override(client, "post_void", "CASHIER_ERROR")
    resp = client.post(f"/api/v1/sales/{voided['sale_id']}/void", json={"override_token": token})
    assert resp.status_code == 200
    token = override(client, "refund")
    back = refund(client, receipt=sales[0]["sale_id"], lines=[{"line_no": 1, "qty": "1"}],
                  override_token=token)  # fmt: skip
    assert back.status_code == 201
    paid = {"amount": "5.00", "reason_code": "SUPPLIER_PAYMENT"}
    assert client.post("/api/v1/shifts/current/paid-outs", json=paid).status_code == 201
    assert client.post("/api/v1/shifts/current/drops", json={"amount": "50.00"}).status_code == 201
    token = override(client, "no_sale", "CHANGE_REQUEST")
    assert client.post("/api/v1/drawer/no-sale", json={"override_token": token}).status_code == 200
    return sales, back.get_json()


def _drawer_cash(sales: list[dict[str, Any]], refunds: list[dict[str, Any]]) -> Decimal:
    """Independent: float + what stayed in the drawer from each sale - payouts - out-moves."""
    kept = sum(
        Decimal(t["amount"]) - Decimal(s["change"])
        for s in sales
        for t in s["tenders"]
        if t["kind"] == "cash"
    )
    paid_back = sum(-Decimal(r["payable"]) for r in refunds)
    return Decimal("100.00") + kept - paid_back - Decimal("5.00") - Decimal("50.00")


@pytest.mark.req("FR-300", "FR-302")
def test_z_report_matches_an_independent_drawer_computation(
    cashier: FlaskClient, client: FlaskClient, box_db: SqliteDatabase, app: Any
) -> None:
    sales, back = _busy_shift(cashier)
    expected = _drawer_cash(sales, [back])
    x1 = cashier.get("/api/v1/shifts/current/x").get_json()
    x2 = cashier.get("/api/v1/shifts/current/x").get_json()
    assert x1["cash"] == x2["cash"]  # no reset
    assert Decimal(x1["cash"]["expected"]) == expected == Decimal("53.55")
    cash = {k: Decimal(v) for k, v in x1["cash"].items()}
    assert cash["cash_rounding"] == Decimal("-0.02")
    assert cash["expected"] == (
        cash["opening_float"] + cash["cash_sales"] - cash["cash_refunds"] - cash["change_given"]
        - cash["paid_outs"] - cash["drops"] + cash["cash_rounding"]
    )  # fmt: skip
    assert (x1["sales"]["count"], x1["refunds"]["count"], x1["voids"]["count"]) == (3, 1, 1)
    assert (x1["no_sale_opens"], x1["overrides"], x1["voids"]["total"]) == (1, 3, "2.50")
    net = sum(Decimal(s["total"]) for s in sales) + Decimal(back["total"])
    assert Decimal(x1["net_total"]) == net == sum(Decimal(r["gross"]) for r in x1["tax"])
    # each X taken went up as a shift.snapshot the hub's rules accept (REP-T-03 on the hub)
    snaps = [e.payload for e in outbox_events(box_db, "shift.snapshot")]
    assert [s["as_of"] for s in snaps] == [x1["as_of"], x2["as_of"]]
    assert {k: v for k, v in snaps[0].items() if k != "exponent"} == x1
    window = Context(None, None, datetime(2020, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    assert check_snapshot(ShiftSnapshot.model_validate(snaps[0]), window) == []
    closed = cashier.post("/api/v1/shifts/current/close",
                          json={"counted": {"cash": "53.50", "card": "0"}})  # fmt: skip
    assert closed.status_code == 200
    assert set(closed.get_json()) == {"z_no", "shift_id", "closed_at"}  # blind for cashiers
    assert cashier.get("/api/v1/reports/z/1").status_code == 403
    assert login(client, "manager").status_code == 200
    z = client.get("/api/v1/reports/z/1").get_json()
    assert z["z_no"] == 1
    assert z["cash"] == x1["cash"]
    cash_row = z["tenders"][0]
    assert (cash_row["expected"], cash_row["counted"], cash_row["difference"]) == (
        "53.55", "53.50", "-0.05",
    )  # fmt: skip
    event = outbox_events(box_db, "shift.closed")[0].payload
    assert event["z_no"] == 1
    assert event["tenders"] == z["tenders"]
    page = client.get("/reports/z/1")
    assert page.status_code == 200
    assert b"Z report #1" in page.data


@pytest.mark.req("FR-300")
def test_z_numbers_are_gap_free_immutable_with_a_running_grand_total(
    client: FlaskClient, box_db: SqliteDatabase
) -> None:
    assert login(client, "manager").status_code == 200
    totals = []
    for _ in range(2):
        open_shift(client, "50.00")
        totals.append(Decimal(sell(client, [(BREAD, 1)], "5.00")["total"]))
        body = client.post("/api/v1/shifts/current/close", json={"counted": {"cash": "52.50"}})
        assert body.status_code == 200
    zs = [client.get(f"/api/v1/reports/z/{n}").get_json() for n in (1, 2)]
    assert [z["z_no"] for z in zs] == [1, 2]
    assert Decimal(zs[1]["grand_total"]) == sum(totals)
    assert zs[1]["tenders"][0]["difference"] == "0.00"
    for sql in ("UPDATE z_reports SET body = '{}'", "DELETE FROM z_reports",
                "UPDATE shifts SET opening_float_minor = 0"):  # fmt: skip
        with pytest.raises(Exception, match=r"append-only|final"):
            box_db.execute_sql(sql)
    assert client.get("/api/v1/reports/z/3").status_code == 404
