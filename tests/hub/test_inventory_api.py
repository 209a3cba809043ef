"""Inventory HTTP API and portal page: scope, idempotency, errors, paging, CSRF (FR-201/202/203)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hub.core.db import tenant_tx
from hub.governance.models import AuditLog
from posdomain.permissions import Role
from tests.hub.inventory_helpers import OTHER_TENANT, TENANT, key, login_as, new_branches

pytestmark = [pytest.mark.pg]
API = "/api/v1/inventory"


@pytest.fixture
def branches(app) -> list[str]:
    return new_branches(2)


def _client(app: Flask, role: Role, branches: list[str], tenant: str = TENANT) -> FlaskClient:
    client = app.test_client()
    login_as(client, role, branches, tenant)
    return client


def _receive(client: FlaskClient, branch: str, k: str, qty: str = "5", product: str = "p-001"):
    body = {"idempotency_key": k, "lines": [{"product_id": product, "qty": qty}]}
    return client.post(f"{API}/branches/{branch}/receipts", json=body)


@pytest.mark.req("FR-201")
def test_receive_is_idempotent_over_http(app, branches):
    clerk = _client(app, Role.INVENTORY_CLERK, branches[:1])
    k = key()
    first = _receive(clerk, branches[0], k)
    assert first.status_code == 201
    again = _receive(clerk, branches[0], k)
    assert again.status_code == 200
    assert again.get_json()["movements"] == first.get_json()["movements"]
    other = _receive(clerk, branches[0], k, qty="6")
    assert other.status_code == 409
    assert other.get_json()["error"]["reason"] == "IDEMPOTENCY_KEY_REUSED"
    resp = clerk.get(f"{API}/branches/{branches[0]}/products/p-001/movements")
    assert resp.get_json()["on_hand"] == "5"
    assert resp.get_json()["total"] == 1


@pytest.mark.req("FR-201", "FR-003")
def test_branch_roles_only_write_their_branches_and_denials_are_audited(app, branches):
    clerk = _client(app, Role.INVENTORY_CLERK, branches[:1])
    resp = _receive(clerk, branches[1], key())
    assert resp.status_code == 403
    assert resp.get_json()["error"]["reason"] == "FORBIDDEN_BRANCH"
    path = f"{API}/branches/{branches[1]}/receipts"
    with tenant_tx(TENANT):
        denials = [
            a
            for a in AuditLog.select().where(AuditLog.action == "access.denied")
            if a.details.get("path") == path
        ]
    assert [d.details["reason"] for d in denials] == ["FORBIDDEN_BRANCH"]
    cashier = _client(app, Role.CASHIER, branches[:1])
    assert _receive(cashier, branches[0], key()).get_json()["error"]["reason"] == "FORBIDDEN_ROLE"
    auditor = _client(app, Role.AUDITOR, [])
    assert _receive(auditor, branches[0], key()).status_code == 403
    assert auditor.get(f"{API}/on-hand").status_code == 200


@pytest.mark.req("FR-201", "FR-100")
def test_other_tenant_sees_and_touches_nothing(app, branches):
    owner = _client(app, Role.TENANT_OWNER, [])
    assert _receive(owner, branches[0], key()).status_code == 201
    stranger = _client(app, Role.TENANT_OWNER, [], OTHER_TENANT)
    resp = _receive(stranger, branches[0], key())
    assert resp.status_code == 403  # another tenant's branch: 403 + audit (P0 probe item 2)
    assert resp.get_json()["error"]["reason"] == "FORBIDDEN_BRANCH"
    listed = stranger.get(f"{API}/on-hand").get_json()["items"]
    assert all(row["branch_id"] not in branches for row in listed)
    history = stranger.get(f"{API}/branches/{branches[0]}/products/p-001/movements")
    assert history.status_code == 403
    assert history.get_json()["error"]["reason"] == "FORBIDDEN_BRANCH"


@pytest.mark.req("FR-201")
@pytest.mark.parametrize(
    ("path", "body", "reason"),
    [
        ("adjustments", {"lines": [{"product_id": "p", "qty": "1", "reason_code": "X"}]},
         "VALIDATION_FAILED"),
        ("adjustments", {"lines": [{"product_id": "p", "qty": "1"}]}, "VALIDATION_FAILED"),
        ("receipts", {"lines": [{"product_id": "p-001", "qty": "1e3"}]}, "INVALID_QUANTITY"),
        ("receipts", {"lines": []}, "VALIDATION_FAILED"),
        ("counts", {"lines": [{"product_id": "p", "counted": "-1"}]}, "INVALID_QUANTITY"),
    ],
)  # fmt: skip
def test_bad_bodies_are_400(app, branches, path, body, reason):
    clerk = _client(app, Role.INVENTORY_CLERK, branches[:1])
    resp = clerk.post(
        f"{API}/branches/{branches[0]}/{path}", json={"idempotency_key": key(), **body}
    )
    assert resp.status_code == 400
    assert resp.get_json()["error"]["reason"] == reason


@pytest.mark.req("FR-201")
def test_on_hand_is_paged_and_filtered(app, branches):
    manager = _client(app, Role.BRANCH_MANAGER, branches)
    lines = [{"product_id": f"p-{n:03d}", "qty": "1"} for n in range(1, 31)]
    resp = manager.post(
        f"{API}/branches/{branches[0]}/receipts", json={"idempotency_key": key(), "lines": lines}
    )
    assert resp.status_code == 201
    page1 = manager.get(f"{API}/on-hand?branch_id={branches[0]}").get_json()
    page2 = manager.get(f"{API}/on-hand?branch_id={branches[0]}&page=2").get_json()
    assert (page1["total"], page1["pages"], len(page1["items"]), len(page2["items"])) == (
        30,
        2,
        25,
        5,
    )
    one = manager.get(f"{API}/on-hand?branch_id={branches[0]}&product_id=p-007").get_json()
    assert [(r["product_id"], r["on_hand"]) for r in one["items"]] == [("p-007", "1")]
    mine = manager.get(f"{API}/on-hand").get_json()
    assert {r["branch_id"] for r in mine["items"]} == {branches[0]}


@pytest.mark.req("FR-203")
def test_transfer_flow_over_http(app, branches):
    src, dst = branches
    src_clerk = _client(app, Role.INVENTORY_CLERK, [src])
    dst_clerk = _client(app, Role.INVENTORY_CLERK, [dst])
    _receive(src_clerk, src, key(), qty="8")
    body = {
        "idempotency_key": key(),
        "from_branch_id": src,
        "to_branch_id": dst,
        "lines": [{"product_id": "p-001", "qty": "3"}],
    }
    created = dst_clerk.post(f"{API}/transfers", json=body)
    assert created.status_code == 201
    tid = created.get_json()["transfer_id"]
    early = dst_clerk.post(f"{API}/transfers/{tid}/receive", json={"idempotency_key": key()})
    assert early.status_code == 409
    assert early.get_json()["error"]["reason"] == "INVALID_TRANSITION"
    wrong = dst_clerk.post(f"{API}/transfers/{tid}/dispatch", json={"idempotency_key": key()})
    assert wrong.get_json()["error"]["reason"] == "FORBIDDEN_BRANCH"
    sent = src_clerk.post(f"{API}/transfers/{tid}/dispatch", json={"idempotency_key": key()})
    assert sent.get_json()["state"] == "dispatched"
    got = dst_clerk.post(f"{API}/transfers/{tid}/receive", json={"idempotency_key": key()})
    assert got.get_json()["state"] == "received"
    listed = src_clerk.get(f"{API}/transfers?state=received").get_json()
    assert [t["transfer_id"] for t in listed["items"]] == [tid]
    assert dst_clerk.get(f"{API}/transfers/{tid}").get_json()["lines"][0]["received"] == "3"


@pytest.mark.req("FR-202")
def test_portal_lists_alerts_and_acknowledges_with_csrf(app, branches):
    manager = _client(app, Role.BRANCH_MANAGER, branches[:1])
    put = manager.put(
        f"{API}/branches/{branches[0]}/reorder-points/p-030", json={"reorder_point": "2"}
    )
    assert put.status_code == 200
    page = manager.get(f"/inventory?branch_id={branches[0]}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    [alert_id] = re.findall(r"/inventory/alerts/([0-9a-f-]{36})/ack", html)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token is not None
    forged = manager.post(f"/inventory/alerts/{alert_id}/ack", data={})
    assert forged.status_code == 400
    done = manager.post(f"/inventory/alerts/{alert_id}/ack", data={"csrf_token": token[1]})
    assert done.status_code == 303
    open_alerts = manager.get(f"{API}/alerts?branch_id={branches[0]}").get_json()
    assert open_alerts["total"] == 0


@pytest.mark.req("FR-201", "FR-200")
def test_products_must_exist_in_the_tenant_catalog(app, branches):
    clerk = _client(app, Role.INVENTORY_CLERK, branches[:1])
    resp = _receive(clerk, branches[0], key(), product="p-does-not-exist")
    assert resp.status_code == 404
    assert resp.get_json()["error"]["details"] == {"product_ids": ["p-does-not-exist"]}
    assert resp.get_json()["error"]["reason"] == "UNKNOWN_PRODUCT"
