"""Retention policies and the purge (FR-P7-1016, FR-P7-1015): floors per data class, a purge
that deletes only what is past retention and not held, all or nothing, recorded and audited;
a tenant-wide hold refuses it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hub.compliance import retention
from hub.compliance.models import PurgeRun
from hub.core.db import platform_tx, tenant_tx
from hub.governance.models import AuditLog
from hub.identity.models import HubSession, User
from hub.reports.models import ReportDoc, ReportException, ShiftSnapshot
from hub.sales.models import (
    BankDeposit,
    BoxRefund,
    CashMovement,
    HubSaleVoid,
    Sale,
    SaleLine,
    ShiftReport,
)
from tests.hub.conftest import create_user
from tests.hub.ops_helpers import new_tenant, owner

pytestmark = [pytest.mark.pg]
PASSWORD = "retention-pass-123"
NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=11 * 365)


def _sale(tenant: str, branch: str, at: datetime) -> str:
    sale_id = uuid.uuid4().hex
    Sale.create(
        id=sale_id, tenant_id=tenant, branch_id=branch, box_id="box-r", event_id=uuid.uuid4().hex,
        receipt_no=1, cashier_id="c", cashier_name="c", currency="EUR", exponent=2,
        subtotal_minor=100, tax_minor=0, total_minor=100, change_minor=0, tenders=[],
        completed_at=at, received_at=at, correlation_id="c",
    )  # fmt: skip
    SaleLine.create(
        sale_id=sale_id, tenant_id=tenant, branch_id=branch, line_no=1, product_id="p",
        sku="p", name="p", barcode="", qty="1", unit_price_minor=100, line_total_minor=100,
        tax_class="STD", tax_rate="0", tax_minor=0,
    )  # fmt: skip
    return sale_id


def _client(app: Flask, tenant: str) -> FlaskClient:
    name = create_user(tenant, "TENANT_OWNER", PASSWORD)
    client = app.test_client()
    body = {"username": name, "password": PASSWORD, "tenant_id": tenant}
    assert client.post("/api/v1/auth/login", json=body).status_code == 200
    return client


def _left(tenant: str) -> set[str]:
    with tenant_tx(tenant):
        return {s.id for s in Sale.select().where(Sale.tenant_id == tenant)}


@pytest.mark.req("FR-P7-1016")
def test_policies_have_floors_per_data_class(app):
    tenant, _b = new_tenant()
    client = _client(app, tenant)
    classes = {
        p["data_class"]: p for p in client.get("/api/v1/retention-policies").get_json()["items"]
    }
    assert classes["audit"]["floor_days"] == 365
    assert classes["audit"]["purged"] is False
    assert classes["sales"]["floor_days"] == 3650  # tax law default: 10 years
    low = client.put("/api/v1/retention-policies/audit", json={"keep_days": 100, "reason": "x y z"})
    assert low.status_code == 400
    assert low.get_json()["error"]["reason"] == "OUT_OF_RANGE"
    ok = client.put("/api/v1/retention-policies/webhook_deliveries",
                    json={"keep_days": 7, "reason": "short log"})  # fmt: skip
    assert ok.status_code == 200
    assert ok.get_json()["keep_days"] == 7
    unknown = client.put(
        "/api/v1/retention-policies/planets", json={"keep_days": 9, "reason": "x y"}
    )
    assert unknown.status_code == 404
    assert client.post("/api/v1/retention/purge", json={"data_class": "audit"}).status_code == 400


@pytest.mark.req("FR-P7-1016", "FR-P7-1015")
def test_purge_deletes_only_unheld_sales_past_retention_in_one_run(app):
    tenant, (b1, b2) = new_tenant(branches=2)
    with tenant_tx(tenant):
        gone = _sale(tenant, b1, OLD)
        in_range = _sale(tenant, b1, OLD - timedelta(days=30))
        at_held_branch = _sale(tenant, b2, OLD)
        recent = _sale(tenant, b1, NOW - timedelta(days=3))
    client = _client(app, tenant)
    ranged = {"scope": "date_range", "reason": "tax audit",
              "starts_at": (OLD - timedelta(days=40)).isoformat(),
              "ends_at": (OLD - timedelta(days=20)).isoformat()}  # fmt: skip
    assert client.post("/api/v1/legal-holds", json=ranged).status_code == 201
    branch = {"scope": "branch", "target": b2, "reason": "litigation"}
    assert client.post("/api/v1/legal-holds", json=branch).status_code == 201
    resp = client.post("/api/v1/retention/purge", json={"data_class": "sales"})
    assert resp.status_code == 200, resp.get_json()
    run = resp.get_json()
    assert run["deleted"] == 1
    assert run["kept_by_holds"] == 2
    assert _left(tenant) == {in_range, at_held_branch, recent}
    with tenant_tx(tenant):
        assert SaleLine.select().where(SaleLine.sale_id == gone).count() == 0
        assert PurgeRun.select().where(PurgeRun.tenant_id == tenant).count() == 1
        actions = [a.action for a in AuditLog.select().where(AuditLog.chain == tenant)]
    assert "retention.purged" in actions


@pytest.mark.req("FR-P7-1016", "FR-P7-1015")
def test_a_tenant_hold_refuses_the_purge_and_nothing_is_deleted(app):
    tenant, (b1,) = new_tenant()
    with tenant_tx(tenant):
        _sale(tenant, b1, OLD)
    client = _client(app, tenant)
    client.post("/api/v1/legal-holds", json={"scope": "tenant", "reason": "regulator"})
    refused = client.post("/api/v1/retention/purge", json={"data_class": "sales"})
    assert refused.status_code == 409
    assert refused.get_json()["error"]["reason"] == "LEGAL_HOLD"
    assert len(_left(tenant)) == 1
    with tenant_tx(tenant):
        assert PurgeRun.select().where(PurgeRun.tenant_id == tenant).count() == 0


@pytest.mark.req("FR-P7-1016", "FR-P7-1020")
def test_a_purge_killed_midway_deletes_nothing(app, monkeypatch):
    tenant, (b1,) = new_tenant()
    with tenant_tx(tenant):
        for _ in range(3):
            _sale(tenant, b1, OLD)

    def crash(**_kwargs: object) -> None:
        raise RuntimeError("killed after the deletes, before the run was recorded")

    monkeypatch.setattr(PurgeRun, "create", crash)
    with pytest.raises(RuntimeError, match="killed"):
        retention.purge(owner(tenant), tenant, "sales")
    assert len(_left(tenant)) == 3  # the deletes rolled back with the run


def _refund(tenant: str, branch: str, at: datetime) -> str:
    refund_id = uuid.uuid4().hex
    BoxRefund.create(
        id=refund_id, tenant_id=tenant, branch_id=branch, box_id="box-r",
        event_id=uuid.uuid4().hex, receipt_no=uuid.uuid4().int % 10**12, with_receipt=False,
        cashier_id="c", approver_id="s", reason_code="DAMAGED", currency="EUR", exponent=2,
        total_minor=-100, tax_minor=0, cash_rounding_minor=0, tenders=[], lines=[],
        completed_at=at, received_at=at,
    )  # fmt: skip
    return refund_id


def _fact(tenant: str, branch: str, kind: str, doc_id: str, at: datetime) -> None:
    ReportDoc.create(
        tenant_id=tenant, branch_id=branch, box_id="box-r", cashier_id="c",
        business_day=at.date().isoformat(), kind=kind, doc_id=doc_id, receipt_no=1,
        local_hour=at.hour, at=at, exponent=2, items_milli=1000, gross=100, discounts=0,
        refunds=0, net=100, tax=0, total=100, cost=0, cash_rounding=0, change=0,
    )  # fmt: skip


def _z(tenant: str, branch: str, at: datetime) -> str:
    shift = uuid.uuid4().hex
    ShiftReport.create(
        shift_id=shift, tenant_id=tenant, branch_id=branch, box_id="box-r",
        event_id=uuid.uuid4().hex, z_no=uuid.uuid4().int % 10**9, till="1", cashier_id="c",
        opened_at=at,
        closed_at=at, net_total_minor=0, body={},
    )  # fmt: skip
    return shift


@pytest.mark.req("FR-P7-1016", "FR-P7-1015")
def test_every_purged_class_takes_its_copies_keeps_what_holds_cover_and_ledgers_stay(app):
    tenant, (b1, b2) = new_tenant(branches=2)
    with tenant_tx(tenant):
        sale = _sale(tenant, b1, OLD)
        HubSaleVoid.create(
            sale_id=sale,
            tenant_id=tenant,
            branch_id=b1,
            box_id="box-r",
            event_id=uuid.uuid4().hex,
            receipt_no=1,
            cashier_id="c",
            approver_id="s",
            reason_code="X",
            total_minor=100,
            voided_at=OLD,
        )
        _fact(tenant, b1, "sale", sale, OLD)
        old_refund, held_refund = _refund(tenant, b1, OLD), _refund(tenant, b2, OLD)
        _fact(tenant, b1, "refund", old_refund, OLD)
        new_refund = _refund(tenant, b1, NOW)
        old_z, held_z = _z(tenant, b1, OLD), _z(tenant, b2, OLD)
    user = create_user(tenant, "TENANT_OWNER", PASSWORD)
    with platform_tx():
        uid = User.get(User.username == user).id
        for ended in (NOW - timedelta(days=200), NOW - timedelta(days=1)):
            HubSession.create(id=uuid.uuid4().hex, user_id=uid, tenant_id=tenant,
                              created_at=ended, last_seen_at=ended, expires_at=ended)  # fmt: skip
    client = _client(app, tenant)
    branch = {"scope": "branch", "target": b2, "reason": "litigation"}
    assert client.post("/api/v1/legal-holds", json=branch).status_code == 201
    runs = {}
    for data_class in ("sales", "refunds", "z_reports", "sessions", "alert_deliveries"):
        resp = client.post("/api/v1/retention/purge", json={"data_class": data_class})
        assert resp.status_code == 200, resp.get_json()
        runs[data_class] = resp.get_json()
    assert (runs["refunds"]["deleted"], runs["refunds"]["kept_by_holds"]) == (1, 1)
    assert (runs["z_reports"]["deleted"], runs["z_reports"]["kept_by_holds"]) == (1, 1)
    assert runs["sessions"]["deleted"] == 1  # ended 200 days ago; the recent one stays
    with tenant_tx(tenant):
        assert not HubSaleVoid.select().where(HubSaleVoid.sale_id == sale).exists()
        assert not ReportDoc.select().where(ReportDoc.doc_id.in_([sale, old_refund])).exists()
        left = {r.id for r in BoxRefund.select().where(BoxRefund.tenant_id == tenant)}
        assert left == {held_refund, new_refund}
        zs = {z.shift_id for z in ShiftReport.select().where(ShiftReport.tenant_id == tenant)}
        assert zs == {held_z}
        assert old_z not in zs
        entries = AuditLog.select().where(
            AuditLog.chain == tenant, AuditLog.action == "retention.purged"
        )
        purged = [a.details["data_class"] for a in entries]
    assert sorted(purged) == sorted(runs)
    items = client.get("/api/v1/retention-policies").get_json()["items"]
    listed = {p["data_class"]: p for p in items}
    for ledger in ("audit", "loyalty_ledger", "stock_movements"):
        assert listed[ledger]["purged"] is False
        refused = client.post("/api/v1/retention/purge", json={"data_class": ledger})
        assert refused.status_code == 400
        assert "never purged" in refused.get_json()["error"]["message"]
    assert listed["refunds"]["floor_days"] == 3650
    low = client.put("/api/v1/retention-policies/sessions", json={"keep_days": 5, "reason": "abc"})
    assert low.get_json()["error"]["details"]["minimum"] == 30


def _till_rows(tenant: str, branch: str, at: datetime) -> None:
    """One bank deposit, X snapshot, till exception and paid-out of `branch` at `at`."""
    day = at.date().isoformat()
    ids = {"tenant_id": tenant, "branch_id": branch, "box_id": "box-r"}
    BankDeposit.create(
        event_id=uuid.uuid4().hex, **ids, deposit_id=uuid.uuid4().hex, business_day=day,
        amount_minor=100, exponent=2, slip_no="S1", cashier_id="c", approver_id="s",
        deposited_at=at,
    )  # fmt: skip
    ShiftSnapshot.create(
        event_id=uuid.uuid4().hex, **ids, shift_id=uuid.uuid4().hex, till="1",
        cashier_id="c", opened_at=at, as_of=at, net_total_minor=0, body={},
    )  # fmt: skip
    ReportException.create(
        event_id=uuid.uuid4().hex, **ids, cashier_id="c", business_day=day, kind="no-sale",
        ref="nosale:x", at=at,
    )  # fmt: skip
    CashMovement.create(
        event_id=uuid.uuid4().hex, **ids, movement_id=uuid.uuid4().hex, kind="paid_out",
        business_day=day, amount_minor=250, exponent=2, reason_code="PETTY_CASH",
        shift_id="sh-r", cashier_id="c", moved_at=at,
    )  # fmt: skip


@pytest.mark.req("FR-P7-1016", "FR-P7-1015", "FR-600")
def test_deposits_x_snapshots_and_till_exceptions_have_retention_classes(app):
    tenant, (b1, b2) = new_tenant(branches=2)
    with tenant_tx(tenant):
        for branch in (b1, b2):
            _till_rows(tenant, branch, OLD)
        _till_rows(tenant, b1, NOW - timedelta(days=1))
    client = _client(app, tenant)
    items = client.get("/api/v1/retention-policies").get_json()["items"]
    listed = {p["data_class"]: p for p in items}
    assert listed["bank_deposits"]["floor_days"] == 3650  # tax years, like Z reports
    assert listed["till_exceptions"]["floor_days"] == 3650  # part of the till's journal
    assert (listed["x_snapshots"]["keep_days"], listed["x_snapshots"]["floor_days"]) == (365, 90)
    assert listed["cash_movements"]["floor_days"] == 3650  # the drawer's journal, tax years
    classes = ("bank_deposits", "till_exceptions", "x_snapshots", "cash_movements")
    assert all(listed[c]["purged"] for c in classes)
    hold = {"scope": "branch", "target": b2, "reason": "litigation"}
    assert client.post("/api/v1/legal-holds", json=hold).status_code == 201
    for data_class in classes:
        resp = client.post("/api/v1/retention/purge", json={"data_class": data_class})
        assert resp.status_code == 200, resp.get_json()
        assert (resp.get_json()["deleted"], resp.get_json()["kept_by_holds"]) == (1, 1)
    with tenant_tx(tenant):
        for model in (BankDeposit, ShiftSnapshot, ReportException, CashMovement):
            left = model.select().where(model.tenant_id == tenant)
            assert sorted(r.branch_id for r in left) == sorted([b1, b2])  # new one + held one
    page = client.get("/compliance", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Bankeinzahlungen" in page
    assert "Kassenausnahmen" in page
