"""Identity and authorisation over HTTP: 401 vs 403 matrix, denials audited, cross-tenant."""

from __future__ import annotations

import pytest

from hub.core.db import tenant_tx
from hub.governance.models import AuditLog
from posdomain.permissions import MATRIX, Action, Role
from tests.hub.conftest import login

pytestmark = [pytest.mark.pg]
A = "t-greenbasket"

# (method, path, action guarding it, json body)
ENDPOINTS = [
    ("GET", "/api/v1/users", Action.USER_MANAGE, None),
    ("GET", "/api/v1/tokens", Action.TOKEN_MANAGE, None),
    ("GET", "/api/v1/config/branding", Action.CONFIG_READ, None),
    (
        "PUT",
        "/api/v1/config/risk",
        Action.CONFIG_EDIT,
        {"body": {"mode": "observe"}, "reason": "t", "impact": "none", "change_ref": "T-1"},
    ),
    ("GET", "/api/v1/flags", Action.CONFIG_READ, None),
    ("PUT", "/api/v1/flags/loyalty_rules", Action.FLAG_FLIP, {"enabled": False, "reason": "t"}),
    ("GET", "/api/v1/sales", Action.SALES_READ, None),
    ("GET", "/api/v1/refunds", Action.SALES_READ, None),
    ("GET", "/api/v1/audit", Action.AUDIT_READ, None),
    ("GET", "/api/v1/audit/integrity", Action.AUDIT_READ, None),
    ("GET", "/api/v1/boxes", Action.DEVICE_HEALTH, None),
]
USERS = {
    "owner": Role.TENANT_OWNER,
    "auditor": Role.AUDITOR,
    "manager": Role.BRANCH_MANAGER,
    "cashier": Role.CASHIER,
}


def _denials() -> int:
    with tenant_tx(A):
        return AuditLog.select().where(AuditLog.action == "access.denied").count()


@pytest.mark.smoke
@pytest.mark.req("FR-003")
@pytest.mark.parametrize(("method", "path", "action", "body"), ENDPOINTS)
def test_unauthenticated_is_401(client, method, path, action, body):
    resp = client.open(path, method=method, json=body)
    assert resp.status_code == 401
    assert resp.get_json()["error"]["reason"] == "AUTH_REQUIRED"
    assert resp.headers["X-Correlation-ID"]


@pytest.mark.req("FR-003", "FR-101")
@pytest.mark.parametrize("username", sorted(USERS))
@pytest.mark.parametrize(("method", "path", "action", "body"), ENDPOINTS)
def test_role_matrix(client, username, method, path, action, body):
    login(client, username)
    allowed = USERS[username] in MATRIX[action]
    before = _denials()
    resp = client.open(path, method=method, json=body)
    if allowed:
        assert resp.status_code in (200, 201, 202), resp.get_json()  # 202: a rule proposal
        assert _denials() == before
    else:
        assert resp.status_code == 403
        assert resp.get_json()["error"]["reason"] == "FORBIDDEN_ROLE"
        assert _denials() == before + 1


HARBOR_PROBES = [
    ("GET", f"/api/v1/tenants/{A}/users", None),
    (
        "POST",
        f"/api/v1/tenants/{A}/users",
        {"username": "evil1", "display_name": "x", "password": "0123456789ab", "role": "CASHIER"},
    ),
    ("GET", f"/api/v1/tenants/{A}/config/branding", None),
    (
        "PUT",
        f"/api/v1/tenants/{A}/config/branding",
        {"body": {"store_name": "x", "primary_color": "#000000", "logo_text": "x"}, "reason": "x"},
    ),
    ("GET", f"/api/v1/tenants/{A}/flags", None),
    ("PUT", f"/api/v1/tenants/{A}/flags/loyalty_rules", {"enabled": True, "reason": "x"}),
    ("GET", f"/api/v1/tenants/{A}/branches", None),
    ("GET", f"/api/v1/tenants/{A}/branches/b-downtown/sales", None),
    ("GET", f"/api/v1/audit?tenant_id={A}", None),
]


@pytest.mark.smoke
@pytest.mark.req("FR-100", "FR-002")
@pytest.mark.parametrize(("method", "path", "body"), HARBOR_PROBES)
def test_other_tenant_ids_in_path_are_403(client, method, path, body):
    login(client, "harbor-owner")
    resp = client.open(path, method=method, json=body)
    assert resp.status_code == 403
    assert resp.get_json()["error"]["reason"] == "FORBIDDEN_TENANT"
    assert "items" not in resp.get_json()


@pytest.mark.req("FR-100")
def test_other_tenant_resources_by_id_are_404_or_403(client, app):
    login(client, "owner")
    sales = client.get("/api/v1/sales").get_json()["items"]
    assert client.post("/api/v1/auth/logout", json={}).status_code == 200
    login(client, "harbor-owner")
    for sale in sales[:3]:
        assert client.get(f"/api/v1/sales/{sale['sale_id']}").status_code == 404
    # another tenant's branch as a filter: 403 + audit, like a made-up one (P0 probe item 2)
    foreign = client.get("/api/v1/sales?branch_id=b-downtown")
    assert foreign.status_code == 403
    assert foreign.get_json() == client.get("/api/v1/sales?branch_id=b-made-up").get_json()
    assert client.delete("/api/v1/tokens/u-owner").status_code == 404
    assert client.put("/api/v1/users/u-cashier/active", json={"active": False}).status_code == 404
    brand = client.get("/api/v1/brand").get_json()
    assert brand["store_name"] == "Harbor Foods"
    # only Harbor's own boxes (other tests may enrol some), never Green Basket's
    boxes = client.get("/api/v1/boxes").get_json()["items"]
    assert {b["branch_id"] for b in boxes} <= {"b-harbor-main"}


@pytest.mark.req("FR-101")
def test_branch_manager_only_sees_own_branch(client):
    login(client, "manager")
    for path in ("/api/v1/sales", "/api/v1/refunds"):
        resp = client.get(f"{path}?branch_id=b-riverside")
        assert resp.status_code == 403
        assert resp.get_json()["error"]["reason"] == "FORBIDDEN_BRANCH"
    refunds = client.get("/api/v1/refunds").get_json()["items"]
    assert all(r["branch_id"] == "b-downtown" for r in refunds)
    items = client.get("/api/v1/sales").get_json()["items"]
    assert all(s["branch_id"] == "b-downtown" for s in items)
    resp = client.post(
        "/api/v1/users",
        json={
            "username": "mgr-made-owner",
            "display_name": "x",
            "password": "0123456789ab",
            "role": "TENANT_OWNER",
            "branch_ids": ["b-downtown"],
        },
    )
    assert resp.status_code == 403


@pytest.mark.req("FR-003")
def test_integration_token_scopes_and_revoke(client, app):
    login(client, "owner")
    created = client.post("/api/v1/tokens", json={"name": "erp", "scopes": ["sales.read"]})
    assert created.status_code == 201
    token = created.get_json()["token"]
    api = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/sales", headers=auth).status_code == 200
    denied = api.get("/api/v1/users", headers=auth)
    assert denied.status_code == 403
    assert denied.get_json()["error"]["reason"] == "FORBIDDEN_SCOPE"
    assert client.delete(f"/api/v1/tokens/{created.get_json()['id']}").status_code == 200
    revoked = api.get("/api/v1/sales", headers=auth)
    assert revoked.status_code == 401
    assert revoked.get_json()["error"]["reason"] == "TOKEN_REVOKED"
    bad = api.get("/api/v1/sales", headers={"Authorization": "Bearer nope"})
    assert bad.get_json()["error"]["reason"] == "BAD_CREDENTIALS"
