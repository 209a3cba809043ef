"""Read-only forecasts over synced data (FR-P7-1005..1008, FR-P7-1019): hourly sales, days of
cover, reorder suggestions and anomaly scores through the API, labelled, branch- and
tenant-scoped, and unable to write (READ ONLY transactions, proven by a refused INSERT)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from peewee import InternalError

from hub.core.db import platform_tx, read_only_tx, tenant_tx
from hub.forecasts.present import named_anomalies
from hub.governance.models import AuditLog
from hub.identity.models import Branch
from hub.inventory.models import ReorderPoint, StockBalance
from hub.sales.models import BoxRefund, HubSaleVoid, Sale, SaleLine
from tests.hub.conftest import create_user
from tests.hub.ops_helpers import new_tenant

pytestmark = [pytest.mark.pg]
NOW = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)  # a Monday, 09:30 UTC
PASSWORD = "forecast-pass-123"


def _sale(tenant: str, branch: str, at: datetime, *, cashier: str = "c1", total: int = 1000,
          box: str = "box-f", lines: list[tuple[str, str]] | None = None) -> None:  # fmt: skip
    sale_id = uuid.uuid4().hex
    Sale.create(
        id=sale_id, tenant_id=tenant, branch_id=branch, box_id=box, event_id=uuid.uuid4().hex,
        receipt_no=1, cashier_id=cashier, cashier_name=cashier, currency="EUR", exponent=2,
        subtotal_minor=total, tax_minor=0, total_minor=total, change_minor=0, tenders=[],
        completed_at=at, received_at=at, correlation_id="c",
    )  # fmt: skip
    for n, (product, qty) in enumerate(lines or []):
        SaleLine.create(
            sale_id=sale_id, tenant_id=tenant, branch_id=branch, line_no=n + 1,
            product_id=product, sku=product, name=product, barcode="", qty=qty,
            unit_price_minor=100, line_total_minor=100, tax_class="STD", tax_rate="0",
            tax_minor=0,
        )  # fmt: skip


def _shop() -> tuple[str, str, str]:
    """A tenant with two branches and four weeks of Monday-10:00 sales; (tenant, b1, b2)."""
    tenant, (b1, b2) = new_tenant(branches=2)
    with tenant_tx(tenant):
        for week in range(1, 5):
            monday_ten = NOW.replace(hour=10, minute=15) - timedelta(weeks=week)
            for _ in range(week):  # 1, 2, 3, 4 sales: the mean is 2.5
                _sale(tenant, b1, monday_ten, lines=[("apples", "2")])
        for day in range(1, 29):  # 28 days of takings for cashier c1 at b1
            _sale(tenant, b1, NOW - timedelta(days=day, hours=2), cashier="c1", total=10_000 + day)
        _sale(tenant, b1, NOW.replace(hour=8), cashier="c1", total=90_000)  # today: unusual
        StockBalance.create(
            tenant_id=tenant, branch_id=b1, product_id="apples", on_hand_milli=3_000
        )
        ReorderPoint.create(tenant_id=tenant, branch_id=b1, product_id="apples",
                            reorder_point_milli=2_000, updated_by="t")  # fmt: skip
        _sale(tenant, b2, NOW - timedelta(days=1), lines=[("pears", "1")])
    return tenant, b1, b2


def _client(app: Flask, tenant: str, role: str, branches: list[str] | None = None) -> FlaskClient:
    name = create_user(tenant, role, PASSWORD, branches)
    client = app.test_client()
    resp = client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD,
                                                   "tenant_id": tenant})  # fmt: skip
    assert resp.status_code == 200, resp.get_json()
    return client


@pytest.fixture
def clock(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.extensions, "cfpos_clock", lambda: NOW)


def _get(client: FlaskClient, path: str) -> dict[str, Any]:
    resp = client.get(path)
    assert resp.status_code == 200, resp.get_json()
    body: dict[str, Any] = resp.get_json()
    assert body["read_only"] is True
    assert body["label"].startswith("forecast")
    return body


@pytest.mark.req("FR-P7-1006")
def test_sales_by_hour_forecasts_the_mean_of_the_same_hour_of_past_weeks(app, clock):
    tenant, b1, _b2 = _shop()
    owner = _client(app, tenant, "TENANT_OWNER")
    body = _get(owner, f"/api/v1/forecasts/sales-by-hour?branch_id={b1}&days_ahead=1")
    by_hour = {i["hour"]: i for i in body["items"]}
    assert len(body["items"]) == 24
    ten = by_hour[NOW.replace(hour=10, minute=0).isoformat()]
    assert ten["sales"] == 2.5
    assert ten["revenue"] == "25.00"
    assert by_hour[NOW.replace(hour=11, minute=0).isoformat()]["sales"] == 0


@pytest.mark.req("FR-P7-1005", "FR-P7-1008")
def test_stock_out_and_reorder_from_demand_stock_and_reorder_point(app, clock):
    tenant, b1, _b2 = _shop()
    owner = _client(app, tenant, "TENANT_OWNER")
    cover = _get(owner, f"/api/v1/forecasts/stock-out?branch_id={b1}&days=28")["items"]
    assert [(i["product_id"], i["on_hand"]) for i in cover] == [("apples", "3")]
    assert cover[0]["daily_demand"] == round(20 / 28, 3)  # 10 sales x 2 units in 28 days
    assert cover[0]["days_of_cover"] == round(3 / (20 / 28), 2)
    reorder = _get(owner, f"/api/v1/forecasts/reorder?branch_id={b1}&lead_time_days=2")
    (item,) = reorder["items"]
    assert item["product_id"] == "apples"
    assert item["reorder_point"] == "2"
    assert float(item["order_qty"]) >= 1


@pytest.mark.req("FR-P7-1007")
def test_anomalies_score_a_cashier_and_a_box_against_their_own_days(app, clock):
    tenant, b1, _b2 = _shop()
    owner = _client(app, tenant, "TENANT_OWNER")
    body = _get(owner, f"/api/v1/forecasts/anomalies?branch_id={b1}")
    cashier = next(i for i in body["items"] if i["kind"] == "cashier" and i["subject_id"] == "c1")
    assert cashier["unusual"] is True
    assert cashier["takings_minor"] == 90_000
    assert cashier["history_days"] >= 28
    assert any(i["kind"] == "box" for i in body["items"])


@pytest.mark.req("FR-P7-1005", "FR-P7-1019", "FR-003")
def test_forecasts_are_scoped_to_branch_and_tenant(app, clock):
    tenant, b1, b2 = _shop()
    manager = _client(app, tenant, "BRANCH_MANAGER", [b2])
    mine = _get(manager, "/api/v1/forecasts/stock-out")["items"]
    assert {i["branch_id"] for i in mine} <= {b2}
    assert manager.get(f"/api/v1/forecasts/stock-out?branch_id={b1}").status_code == 403
    other, _ = new_tenant()
    stranger = _client(app, other, "TENANT_OWNER")
    assert _get(stranger, "/api/v1/forecasts/stock-out")["items"] == []
    assert stranger.get(f"/api/v1/forecasts/anomalies?branch_id={b1}").status_code == 403
    cashier = _client(app, tenant, "CASHIER", [b1])
    assert cashier.get("/api/v1/forecasts/sales-by-hour").status_code == 403
    bad = _client(app, tenant, "TENANT_OWNER").get("/api/v1/forecasts/sales-by-hour?days_ahead=99")
    assert bad.status_code == 400
    assert bad.get_json()["error"]["reason"] == "OUT_OF_RANGE"


@pytest.mark.req("FR-P7-1005", "FR-P7-1006", "FR-P7-1007", "FR-P7-1008")
def test_forecast_transactions_cannot_write(app, clock):
    tenant, _b1, _b2 = _shop()
    with pytest.raises(InternalError, match="read-only transaction"), read_only_tx(tenant):
        Branch.create(id=f"b-{uuid.uuid4().hex[:8]}", tenant_id=tenant, name="nope")
    owner = _client(app, tenant, "TENANT_OWNER")

    def written() -> tuple[int, int, int]:
        with platform_tx():
            return (
                AuditLog.select().where(AuditLog.chain == tenant).count(),
                Sale.select().where(Sale.tenant_id == tenant).count(),
                StockBalance.select().where(StockBalance.tenant_id == tenant).count(),
            )

    before = written()
    for path in ("sales-by-hour", "stock-out", "reorder", "anomalies"):
        _get(owner, f"/api/v1/forecasts/{path}")
    assert written() == before


def _refund(tenant: str, branch: str, at: datetime, total: int, *, cashier: str = "c1",
            box: str = "box-f", lines: list[dict[str, Any]] | None = None) -> None:  # fmt: skip
    BoxRefund.create(
        id=uuid.uuid4().hex, tenant_id=tenant, branch_id=branch, box_id=box,
        event_id=uuid.uuid4().hex, receipt_no=uuid.uuid4().int % 10**12,
        with_receipt=False, cashier_id=cashier,
        approver_id="sup", reason_code="DAMAGED", currency="EUR", exponent=2,
        total_minor=-total, tax_minor=0, cash_rounding_minor=0, tenders=[], lines=lines or [],
        completed_at=at, received_at=at,
    )  # fmt: skip


@pytest.mark.req("FR-P7-1006", "NFR-007")
def test_sales_by_hour_uses_the_branch_local_hour_across_dst_and_nets_refunds(app, clock):
    """Brussels: six Tuesdays at 10:15 local, one before the October clock change (08:15 UTC
    then, 09:15 UTC after); tomorrow's 10:00 local hour gets them all, a refund nets out and
    a post-voided sale is left out."""
    tenant, (b1,) = new_tenant()
    zone = ZoneInfo("Europe/Brussels")
    with platform_tx():
        Branch.update(timezone="Europe/Brussels").where(Branch.id == b1).execute()
    with tenant_tx(tenant):
        for week in range(1, 7):
            local = datetime(2026, 12, 1, 10, 15, tzinfo=zone) - timedelta(weeks=week)
            _sale(tenant, b1, local.astimezone(UTC))
        october = datetime(2026, 10, 20, 10, 40, tzinfo=zone)  # CEST, UTC+2
        _refund(tenant, b1, october.astimezone(UTC), 300)
        post_voided = datetime(2026, 11, 24, 10, 20, tzinfo=zone).astimezone(UTC)
        _sale(tenant, b1, post_voided, total=5000)
        voided = Sale.select().where(Sale.tenant_id == tenant, Sale.total_minor == 5000).get()
        HubSaleVoid.create(sale_id=voided.id, tenant_id=tenant, branch_id=b1, box_id="box-f",
                           event_id=uuid.uuid4().hex, receipt_no=2, cashier_id="c1",
                           approver_id="s", reason_code="X", total_minor=5000,
                           voided_at=post_voided)  # fmt: skip
    owner = _client(app, tenant, "TENANT_OWNER")
    body = _get(owner, f"/api/v1/forecasts/sales-by-hour?branch_id={b1}&days_ahead=1&weeks=6")
    assert body["timezone"] == "Europe/Brussels"
    by_hour = {i["hour"]: i for i in body["items"]}
    ten = by_hour["2026-12-01T10:00:00+01:00"]  # NOW is 10:30 local: tomorrow's 10:00
    assert ten["sales"] == 1.0
    assert ten["revenue"] == "9.50"  # (6 x 10.00 - 3.00) / 6
    assert by_hour["2026-12-01T09:00:00+01:00"]["sales"] == 0  # where UTC hours put October's


@pytest.mark.req("FR-P7-1005", "FR-P7-1007")
def test_demand_and_anomalies_net_out_refunds(app, clock):
    tenant, b1, _b2 = _shop()
    with tenant_tx(tenant):
        _refund(tenant, b1, NOW - timedelta(days=3), 200,
                lines=[{"product_id": "apples", "qty": "4", "line_total": "-2.00"}])  # fmt: skip
        _refund(tenant, b1, NOW.replace(hour=9), 80_000)  # today's takings: 90000 - 80000
    owner = _client(app, tenant, "TENANT_OWNER")
    cover = _get(owner, f"/api/v1/forecasts/stock-out?branch_id={b1}&days=28")["items"]
    assert cover[0]["daily_demand"] == round(16 / 28, 3)  # 20 sold, 4 refunded
    body = _get(owner, f"/api/v1/forecasts/anomalies?branch_id={b1}")
    cashier = next(i for i in body["items"] if i["kind"] == "cashier" and i["subject_id"] == "c1")
    assert cashier["takings_minor"] == 10_000
    assert cashier["unusual"] is False


@pytest.mark.req("FR-P7-1007", "FR-800")
def test_anomaly_amounts_of_a_zero_decimal_currency_are_not_divided_by_a_hundred(app, clock):
    tenant, (b1,) = new_tenant(branches=1)
    with tenant_tx(tenant):
        _sale(tenant, b1, NOW - timedelta(days=1), total=90_000)
        Sale.update(currency="JPY", exponent=0).where(Sale.tenant_id == tenant).execute()
    items = [
        {"kind": "cashier", "subject_id": "c1", "takings_minor": 90_000, "median_minor": 12_345}
    ]
    (row,) = named_anomalies(tenant, items)
    assert (row["takings"], row["median"]) == ("90000", "12345")  # yen have no sen
