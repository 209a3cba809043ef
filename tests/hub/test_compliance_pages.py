"""The compliance and forecast portal pages (FR-P7-1005..1008, FR-P7-1014..1018) on the real
database through the app: rendered for the roles that may see them, refused to the others,
forms handled by the same services as the API, refusals shown with their reason code, lists
sorted and paged on the server with names instead of ids. (In Chromium by keyboard:
tests/e2e/test_compliance_portal.py.)"""

from __future__ import annotations

import re
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hub.compliance.models import LegalHold
from hub.core.db import tenant_tx
from tests.hub.conftest import enrol_box, login
from tests.hub.loyalty_helpers import customer_sale, enable_loyalty, new_customer, send

pytestmark = [pytest.mark.pg]
T = "t-greenbasket"


def _portal(app: Flask, user: str = "owner") -> tuple[FlaskClient, str]:
    client = app.test_client()
    login(client, user)
    return client, client.get("/api/v1/auth/me").get_json()["csrf_token"]


def _release_all() -> None:
    with tenant_tx(T):
        LegalHold.update(released_at=LegalHold.created_at, released_by="test").where(
            LegalHold.tenant_id == T, LegalHold.released_at.is_null()
        ).execute()


@pytest.mark.req("FR-P7-1005", "FR-P7-1006", "FR-P7-1007", "FR-P7-1008")
def test_forecast_pages_render_for_owner_and_manager_and_refuse_a_cashier(app):
    owner, _csrf = _portal(app)
    for path in (
        "/forecasts",
        "/forecasts/sales-by-hour",
        "/forecasts/anomalies",
        "/forecasts/reorder?lead_time_days=3",
        "/forecasts/stock-out?sort=name&page=1",
    ):
        resp = owner.get(path)
        assert resp.status_code == 200, (path, resp.get_data(as_text=True)[:300])
        html = resp.get_data(as_text=True)
        assert "Estimate:" in html
        assert "Downtown" in html  # the branch filter names branches
    bad = owner.get("/forecasts/stock-out?sort=secret")
    assert bad.status_code == 400
    assert "REPORT_BAD_SORT" in bad.get_data(as_text=True)
    manager, _ = _portal(app, "manager")
    assert manager.get("/forecasts/sales-by-hour").status_code == 200
    cashier, _ = _portal(app, "cashier")
    assert cashier.get("/forecasts/stock-out").status_code == 403


@pytest.mark.req("FR-P7-1015", "FR-P7-1017", "FR-P7-1018")
def test_privacy_page_holds_block_erasure_then_erase_shows_the_record(app):
    _release_all()
    enable_loyalty()
    cid = new_customer(
        display_name="Page Person",
        phone="+4915100000001",
        email="page@example.test",
        card=f"27{uuid.uuid4().int % 10**11:011d}",
    )
    box = enrol_box(T, "b-downtown")
    assert send(box, [customer_sale(box, 1, cid)]).accepted
    owner, csrf = _portal(app)
    page = owner.get(f"/customers/{cid}/privacy")
    assert page.status_code == 200
    assert "Erase personal data" in page.get_data(as_text=True)
    held = owner.post(
        "/legal-holds",
        data={
            "csrf_token": csrf,
            "scope": "customer",
            "target_customer": cid,
            "reason": "court order 12",
        },
    )
    assert held.status_code == 302
    listing = owner.get("/legal-holds?live=true").get_data(as_text=True)
    assert "customer Page Person" in listing  # the name, not the id
    refused = owner.post(
        f"/customers/{cid}/privacy/erase",
        data={"csrf_token": csrf, "reason": "asked", "confirm": "yes"},
    )
    assert refused.status_code == 409
    text = refused.get_data(as_text=True)
    assert "LEGAL_HOLD" in text
    assert "court order 12" in text
    hold_id = re.search(r"/legal-holds/([0-9a-f]+)/release", listing).group(1)  # type: ignore[union-attr]
    assert (
        owner.post(f"/legal-holds/{hold_id}/release", data={"csrf_token": csrf}).status_code == 302
    )
    export = owner.get(f"/customers/{cid}/privacy/export")
    assert export.status_code == 200
    assert export.get_json()["customer"]["email"] == "page@example.test"
    erased = owner.post(
        f"/customers/{cid}/privacy/erase",
        data={"csrf_token": csrf, "reason": "asked", "confirm": "yes"},
    )
    assert erased.status_code == 302
    record = owner.get(f"/customers/{cid}/privacy").get_data(as_text=True)
    assert "Personal data erased" in record
    assert "loyalty ledger" in record
    assert "page@example.test" not in record


@pytest.mark.req("FR-P7-1014", "FR-P7-1015", "FR-P7-1016")
def test_compliance_page_sets_retention_refuses_under_the_floor_and_places_date_holds(app):
    _release_all()
    owner, csrf = _portal(app)
    page = owner.get("/compliance")
    assert page.status_code == 200
    assert "Download the tenant compliance export" in page.get_data(as_text=True)
    low = owner.post(
        "/compliance/retention/audit",
        data={"csrf_token": csrf, "keep_days": "30", "reason": "too short"},
    )
    assert low.status_code == 400
    assert "OUT_OF_RANGE" in low.get_data(as_text=True)
    ok = owner.post(
        "/compliance/retention/webhook_deliveries",
        data={"csrf_token": csrf, "keep_days": "120", "reason": "contract"},
    )
    assert ok.status_code == 302
    ranged = owner.post(
        "/legal-holds",
        data={
            "csrf_token": csrf,
            "scope": "date_range",
            "first_day": "2026-01-01",
            "last_day": "2026-03-31",
            "reason": "tax audit 2026 Q1",
        },
    )
    assert ranged.status_code == 302
    listing = owner.get("/legal-holds?sort=scope").get_data(as_text=True)
    assert "records from Jan 1, 2026 to before Apr 1, 2026" in listing  # the reader's locale
    purge = owner.post(
        "/compliance/purge", data={"csrf_token": csrf, "data_class": "webhook_deliveries"}
    )
    assert purge.status_code == 302
    assert "webhook_deliveries" in owner.get("/compliance").get_data(as_text=True)
    auditor, _ = _portal(app, "auditor")
    assert auditor.get("/legal-holds").status_code == 200
    assert auditor.post(
        "/legal-holds", data={"csrf_token": csrf, "scope": "tenant", "reason": "no"}
    ).status_code in (400, 403)
    _release_all()


@pytest.mark.req("FR-P7-1015")
def test_the_sales_list_marks_sales_under_a_branch_hold(app):
    _release_all()
    box = enrol_box(T, "b-downtown")
    assert send(box, [customer_sale(box, 1, new_customer())]).accepted
    owner, csrf = _portal(app)
    assert "under legal hold" not in owner.get("/sales").get_data(as_text=True)
    placed = owner.post(
        "/legal-holds",
        data={
            "csrf_token": csrf,
            "scope": "branch",
            "target_branch": "b-downtown",
            "reason": "x-1",
        },
    )
    assert placed.status_code == 302
    assert "under legal hold" in owner.get("/sales").get_data(as_text=True)
    _release_all()
