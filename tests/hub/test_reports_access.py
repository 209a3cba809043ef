"""Report roles and scope (permission_matrix.md), bad input with reason codes, runtime
budgets (FR-600, FR-602): never a 500, every denial audited."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from flask.testing import FlaskClient

from hub.core.db import db, tenant_tx
from hub.governance.models import AuditLog
from hub.reports import service
from hub.reports.definitions import Ctx, Row
from scripts.testkit.crafted import B, T
from tests.hub.conftest import create_user, login
from tests.hub.report_helpers import zoned_branch

pytestmark = [pytest.mark.pg]
PASSWORD = "reports-test-pass"


def as_role(app: Any, role: str, branches: list[str]) -> FlaskClient:
    """A client logged in as a fresh user of `role` at `branches`."""
    name = create_user(T, role, PASSWORD, branches)
    client = app.test_client()
    resp = client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
    assert resp.status_code == 200
    return client


def reason(resp: Any) -> str:
    return str(resp.get_json()["error"]["reason"])


def last_denial() -> AuditLog:
    with tenant_tx(T):
        row = (
            AuditLog.select()
            .where(AuditLog.action == "access.denied")
            .order_by(AuditLog.id.desc())
            .first()
        )
    assert row is not None
    return row


@pytest.mark.req("FR-600")
def test_every_catalog_report_runs_for_the_owner(app, client):
    login(client, "owner")
    listed = client.get("/api/v1/reports").get_json()["items"]
    ids = [r["report_id"] for r in listed]
    assert ids == [f"REP-T-{n:02d}" for n in range(1, 17)] + [
        f"REP-O-{n:02d}" for n in range(1, 11)
    ]
    for rid in ids:
        resp = client.get(f"/api/v1/reports/{rid}?date_from=2026-01-01&date_to=2026-12-31")
        assert resp.status_code == 200, (rid, resp.get_json())
        body = resp.get_json()
        assert [c["key"] for c in body["columns"]] == [
            c["key"] for c in listed[ids.index(rid)]["columns"]
        ]
        page = client.get(f"/reports/{rid}?date_from=2026-01-01&date_to=2026-12-31")
        assert page.status_code == 200, rid
        assert f"{rid} " in page.get_data(as_text=True)


@pytest.mark.req("FR-600")
@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("REP-T-01?date_from=2026-05-02&date_to=2026-05-01", 400, "REPORT_RANGE_INVERTED"),
        ("REP-T-01?date_from=2026-05-02", 400, "REPORT_RANGE_UNBOUNDED"),
        ("REP-T-01?date_to=2026-05-02", 400, "REPORT_RANGE_UNBOUNDED"),
        ("REP-T-01?date_from=2020-01-01&date_to=2026-05-02", 400, "REPORT_RANGE_TOO_LONG"),
        ("REP-T-01?date_from=2026-13-01&date_to=2026-05-02", 400, "REPORT_BAD_FILTER"),
        ("REP-T-99", 404, "REPORT_UNKNOWN"),
        ("REP-T-01?sort=nope", 400, "REPORT_BAD_SORT"),
        ("REP-T-01?sort=-", 400, "REPORT_BAD_SORT"),
        ("REP-T-01?page=0", 400, "OUT_OF_RANGE"),
        ("REP-T-01?page=99999", 400, "REPORT_BAD_PAGE"),
        ("REP-T-01?page_size=100000", 400, "OUT_OF_RANGE"),
        ("REP-O-01?box_id=x", 400, "REPORT_BAD_FILTER"),
        ("REP-T-01?branches=b-not-mine", 403, "FORBIDDEN_BRANCH"),
        ("REP-T-01?box_id=box-not-mine", 403, "FORBIDDEN_BRANCH"),
        ("REP-T-01?shift_id=no-such-shift", 404, "NOT_FOUND"),
    ],
)
def test_bad_input_answers_a_reason_never_a_500(app, client, query, status, code):
    login(client, "owner")
    for prefix in ("/api/v1/reports/", "/api/v1/reports/", "/reports/"):
        resp = client.get(prefix + query)
        assert resp.status_code == status, (prefix, query, resp.get_data(as_text=True)[:300])
        if prefix.startswith("/api"):
            assert reason(resp) == code
    for export in ("csv", "pdf", "print"):
        path, _, args = query.partition("?")
        resp = client.get(f"/api/v1/reports/{path}/{export}?{args}")
        if "page" in args:
            continue  # exports take every row: no page arguments
        assert resp.status_code == status, (export, query)


@pytest.mark.req("FR-600")
def test_supervisor_reads_rep_t_of_own_branch_for_today_only(app):
    other = zoned_branch("Europe/Berlin")
    sup = as_role(app, "SUPERVISOR", [B])
    today = sup.get(f"/api/v1/reports/REP-T-01?branches={B}")
    assert today.status_code == 200
    (window,) = today.get_json()["windows"]
    assert window["date_from"] == window["date_to"]
    day = window["date_from"]
    assert sup.get(f"/api/v1/reports/REP-T-10?date_from={day}&date_to={day}").status_code == 200
    resp = sup.get("/api/v1/reports/REP-T-01?date_from=2026-01-01&date_to=2026-01-02")
    assert resp.status_code == 403
    assert reason(resp) == "REPORT_TODAY_ONLY"
    assert last_denial().details["reason"] == "REPORT_TODAY_ONLY"
    resp = sup.get(f"/api/v1/reports/REP-T-01?branches={other}")
    assert resp.status_code == 403
    assert reason(resp) == "FORBIDDEN_BRANCH"
    resp = sup.get("/api/v1/reports/REP-O-01")
    assert resp.status_code == 403
    assert last_denial().target == "/api/v1/reports/REP-O-01"
    assert sup.get(f"/api/v1/reports/REP-T-01/csv?branches={B}").status_code == 403
    assert [r["report_id"][:5] for r in sup.get("/api/v1/reports").get_json()["items"]] == [
        "REP-T"
    ] * 16


@pytest.mark.req("FR-600")
def test_inventory_clerk_runs_only_the_inventory_reports(app):
    clerk = as_role(app, "INVENTORY_CLERK", [B])
    listed = [r["report_id"] for r in clerk.get("/api/v1/reports").get_json()["items"]]
    assert listed == [f"REP-O-0{n}" for n in range(1, 7)]
    assert clerk.get(f"/api/v1/reports/REP-O-01?branches={B}").status_code == 200
    for rid in ("REP-O-07", "REP-O-08", "REP-O-10"):
        resp = clerk.get(f"/api/v1/reports/{rid}")
        assert resp.status_code == 403
        assert reason(resp) == "REPORT_NOT_PERMITTED"
        assert last_denial().details["reason"] == "REPORT_NOT_PERMITTED"
    resp = clerk.get("/api/v1/reports/REP-T-01")
    assert resp.status_code == 403
    assert reason(resp) == "FORBIDDEN_ROLE"


@pytest.mark.req("FR-600")
@pytest.mark.parametrize("role", ["CASHIER", "FIELD_TECH"])
def test_cashier_and_field_tech_see_no_report(app, role):
    who = as_role(app, role, [B])
    assert who.get("/api/v1/reports").get_json()["items"] == []
    for rid in ("REP-T-01", "REP-O-01", "REP-O-08"):
        resp = who.get(f"/api/v1/reports/{rid}")
        assert resp.status_code == 403
        assert reason(resp) == "FORBIDDEN_ROLE"
        assert last_denial().target == f"/api/v1/reports/{rid}"


@pytest.mark.req("FR-602", "NFR-001")
def test_exceeded_budget_answers_503_with_a_hint(app, client, monkeypatch):
    """The database enforces the budget: a report that runs longer is cancelled (not a hang,
    not a 500)."""
    real = service.REGISTRY["REP-T-06"]

    def slow(ctx: Ctx) -> list[Row]:
        db.execute_sql("SELECT pg_sleep(0.3)")  # a slow plan, as real volume would give
        return real.query(ctx)

    monkeypatch.setitem(service.REGISTRY, "REP-T-06", replace(real, budget_ms=50, query=slow))
    login(client, "owner")
    for path in ("/api/v1/reports/REP-T-06", "/api/v1/reports/REP-T-06/csv"):
        resp = client.get(path)
        assert resp.status_code == 503
        body = resp.get_json()["error"]
        assert body["reason"] == "REPORT_BUDGET_EXCEEDED"
        assert "narrow" in body["details"]["hint"]
        assert body["details"]["budget_ms"] == 50
    assert client.get("/reports/REP-T-06").status_code == 503
    monkeypatch.setitem(service.REGISTRY, "REP-T-06", replace(real, query=slow))
    assert client.get("/api/v1/reports/REP-T-06").status_code == 200  # 0.3 s fits the 2 s budget
    assert client.get("/api/v1/reports/REP-T-01").status_code == 200  # the connection is fine
