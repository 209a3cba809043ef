"""Portal/API hardening: CSRF, per-IP login rate limit, branch-scoped audit, local "today"."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from hub.core.db import platform_tx, tenant_tx
from hub.governance import audit, config
from hub.identity import auth
from hub.identity.models import Branch, LoginFailure, Tenant
from hub.sales import queries as sales
from hub.sales.models import Sale
from posdomain.errors import TooManyRequests, ValidationError
from tests.hub.conftest import PASSWORDS, login
from tests.hub.rule_helpers import set_rule

pytestmark = [pytest.mark.pg]
A = "t-greenbasket"


def _form_token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "form has no csrf_token field"
    return found[1]


def _ip() -> str:
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


# --- CSRF ---


@pytest.mark.req("FR-001", "NFR-005")
def test_portal_forms_need_the_session_csrf_token(client):
    creds = {"username": "owner", "password": PASSWORDS["owner"]}
    token = _form_token(client.get("/login").get_data(as_text=True))
    for data in (creds, {**creds, "csrf_token": "forged"}):
        resp = client.post("/login", data=data)
        assert resp.status_code == 400
        assert "CSRF_FAILED" in resp.get_data(as_text=True)
    assert client.get("/sales").status_code == 302  # not logged in by the forged posts
    assert client.post("/login", data={**creds, "csrf_token": token}).status_code == 302
    # the login rotated the token; the overview's logout form carries the new one
    page = client.get("/").get_data(as_text=True)
    new_token = _form_token(page)
    assert new_token != token
    assert client.post("/logout", data={"csrf_token": token}).status_code == 400
    assert client.get("/sales").status_code == 200  # still logged in
    assert client.post("/logout", data={"csrf_token": new_token}).status_code == 302
    assert client.get("/sales").status_code == 302


@pytest.mark.req("FR-001", "NFR-005")
def test_cookie_api_calls_need_json_or_the_csrf_header(client):
    body = {"username": "owner", "password": PASSWORDS["owner"]}
    resp = client.post("/api/v1/auth/login", data=body)  # a cross-site form could send this
    assert resp.status_code == 400
    assert resp.get_json()["error"]["reason"] == "CSRF_FAILED"
    token = client.post("/api/v1/auth/login", json=body).get_json()["csrf_token"]
    flag = '{"enabled": false, "reason": "csrf test"}'
    resp = client.put("/api/v1/flags/loyalty_rules", data=flag, content_type="text/plain")
    assert resp.get_json()["error"]["reason"] == "CSRF_FAILED"
    resp = client.put(
        "/api/v1/flags/loyalty_rules",
        data=flag,
        content_type="text/plain",
        headers={"X-CSRF-Token": "wrong"},
    )
    assert resp.get_json()["error"]["reason"] == "CSRF_FAILED"
    resp = client.put(
        "/api/v1/flags/loyalty_rules",
        data=flag,
        content_type="text/plain",
        headers={"X-CSRF-Token": token},
    )
    assert resp.status_code == 200
    assert client.put("/api/v1/flags/loyalty_rules", data=flag, content_type="application/json")
    assert client.post("/api/v1/auth/logout").get_json()["error"]["reason"] == "CSRF_FAILED"
    assert client.post("/api/v1/auth/logout", json={}).status_code == 200


@pytest.mark.req("FR-001")
def test_bearer_token_calls_are_exempt_from_csrf(client):
    login(client, "owner")
    raw = client.post("/api/v1/tokens", json={"name": "csrf", "scopes": ["sales.read"]})
    assert raw.status_code == 201
    bearer = client.application.test_client()
    headers = {"Authorization": f"Bearer {raw.get_json()['token']}"}
    resp = bearer.post("/api/v1/users", data="x", content_type="text/plain", headers=headers)
    assert resp.get_json()["error"]["reason"] != "CSRF_FAILED"


# --- per-IP login rate limit ---


@pytest.mark.req("FR-001")
def test_login_rate_limit_per_ip_is_shared_and_audited(app, monkeypatch):
    assert auth.IP_MAX_FAILURES == 20
    assert timedelta(minutes=5) == auth.IP_WINDOW
    monkeypatch.setattr(auth, "IP_MAX_FAILURES", 3)
    ip, other_ip = _ip(), _ip()
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = ip
    for n in range(3):  # different accounts: the account lockout alone would not stop this
        resp = attacker.post(
            "/api/v1/auth/login", json={"username": f"nobody{n}", "password": "wrong"}
        )
        assert resp.status_code == 401
    good = {"username": "owner", "password": PASSWORDS["owner"]}
    resp = attacker.post("/api/v1/auth/login", json=good)
    assert resp.status_code == 429
    assert resp.get_json()["error"]["reason"] == "LOGIN_RATE_LIMITED"
    # the count lives in the database, so another worker (here: the service) sees it too
    with pytest.raises(TooManyRequests):
        auth.login("owner", PASSWORDS["owner"], ip)
    with platform_tx():
        entries = audit.chain_records(audit.PLATFORM_CHAIN)
    assert [e for e in entries if e.action == "auth.rate_limited" and e.target == f"ip:{ip}"]
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = other_ip
    assert other.post("/api/v1/auth/login", json=good).status_code == 200


@pytest.mark.req("FR-001")
def test_login_rate_limit_window_expires(app, monkeypatch):
    monkeypatch.setattr(auth, "IP_MAX_FAILURES", 3)
    ip = _ip()
    old = datetime.now(UTC) - auth.IP_WINDOW - timedelta(seconds=5)
    with platform_tx():
        for _ in range(3):
            LoginFailure.create(client_ip=ip, failed_at=old)
    assert auth.login("owner", PASSWORDS["owner"], ip).tenant_id == A
    with platform_tx():
        assert LoginFailure.select().where(LoginFailure.client_ip == ip).count() == 0


# --- branch-scoped audit reads ---


def _all_entries(client) -> list[dict]:
    items, page = [], 1
    while True:
        body = client.get(f"/api/v1/audit?page={page}").get_json()
        items += body["items"]
        if page * body["page_size"] >= body["total"]:
            return items
        page += 1


@pytest.mark.smoke
@pytest.mark.req("FR-802", "FR-101")
def test_branch_manager_reads_only_own_branch_audit_entries(client):
    marker = uuid.uuid4().hex
    with tenant_tx(A):
        audit.append(
            A, "user:x", "test.riverside", "x", details={"branch_id": "b-riverside", "m": marker}
        )
        audit.append(A, "user:x", "test.riverside", "branch:b-riverside", details={"m": marker})
        audit.append(
            A, "user:x", "test.downtown", "x", details={"branch_ids": ["b-downtown"], "m": marker}
        )
        audit.append(A, "user:x", "test.tenant", "tenant", details={"m": marker})
    me = login(client, "manager")
    assert me["branch_ids"] == ["b-downtown"]
    seen = _all_entries(client)
    assert seen
    for entry in seen:
        rec = audit.AuditRecord(**entry)
        assert audit.entry_branches(rec) & {"b-downtown"}
    mine = [e["action"] for e in seen if e["details"].get("m") == marker]
    assert mine == ["test.downtown"]
    report = client.get("/api/v1/audit/integrity").get_json()
    assert report["chains"][0]["ok"] is True
    assert set(report["chains"][0]) == set(audit.VERDICT_FIELDS)
    assert client.get("/audit").status_code == 200
    client.post("/api/v1/auth/logout", json={})
    login(client, "auditor")
    marked = [e["action"] for e in _all_entries(client) if e["details"].get("m") == marker]
    assert sorted(marked) == ["test.downtown", "test.riverside", "test.riverside", "test.tenant"]
    full = client.get("/api/v1/audit/integrity").get_json()["chains"][0]
    assert "head_hash" in full
    assert "problems" in full


# --- the overview's "today" is the branch's local day ---


def _sale(tenant: str, branch: str, at: datetime, total: int) -> None:
    Sale.create(
        id=uuid.uuid4().hex,
        tenant_id=tenant,
        branch_id=branch,
        box_id="box-x",
        event_id=uuid.uuid4().hex,
        receipt_no=1,
        cashier_id="c",
        cashier_name="c",
        currency="EUR",
        exponent=2,
        subtotal_minor=total,
        tax_minor=0,
        total_minor=total,
        change_minor=0,
        tenders=[],
        completed_at=at,
        correlation_id="c",
    )


@pytest.mark.req("FR-101")
def test_overview_today_is_the_branch_local_day(app):
    tenant = f"t-tz-{uuid.uuid4().hex[:8]}"
    auck, ny = f"{tenant}-akl", f"{tenant}-nyc"
    with platform_tx():
        Tenant.create(id=tenant, name="TZ")
        Branch.create(id=auck, tenant_id=tenant, name="A Auckland", timezone="Pacific/Auckland")
        Branch.create(id=ny, tenant_id=tenant, name="B New York")  # inherits tenant config
    pricing = {"currency": "EUR", "exponent": 2, "locale": "en", "timezone": "America/New_York"}
    set_rule(tenant, "pricing", pricing, "t")
    with tenant_tx(tenant):
        # 2030-01-15 11:30 UTC = 16 Jan 00:30 in Auckland (UTC+13) = 15 Jan 06:30 in New York
        _sale(tenant, auck, datetime(2030, 1, 15, 11, 15, tzinfo=UTC), 100)  # Auckland 16th
        _sale(tenant, auck, datetime(2030, 1, 15, 10, 45, tzinfo=UTC), 200)  # Auckland 15th
        _sale(tenant, ny, datetime(2030, 1, 15, 4, 30, tzinfo=UTC), 300)  # NY 14th, UTC 15th
        _sale(tenant, ny, datetime(2030, 1, 15, 5, 30, tzinfo=UTC), 400)  # NY 15th
    now = datetime(2030, 1, 15, 11, 30, tzinfo=UTC)
    rows = {b["branch_id"]: b for b in sales.overview(tenant, None, now)["branches"]}
    assert (rows[auck]["sales_today"], rows[auck]["total_today"]) == (1, "1.00")
    assert rows[auck]["timezone"] == "Pacific/Auckland"
    assert (rows[ny]["sales_today"], rows[ny]["total_today"]) == (1, "4.00")
    assert rows[ny]["timezone"] == "America/New_York"


@pytest.mark.req("FR-101")
def test_branch_zone_fallbacks_and_validation():
    assert str(sales.branch_zone(None, None)) == "UTC"
    assert str(sales.branch_zone("Not/AZone", "Europe/Brussels")) == "Europe/Brussels"
    with pytest.raises(ValidationError):
        config.validate_body(
            "pricing", {"currency": "EUR", "exponent": 2, "locale": "en", "timezone": "Mars/Base"}
        )
    body = config.validate_body("pricing", {"currency": "EUR", "exponent": 2, "locale": "en"})
    assert "timezone" not in body
