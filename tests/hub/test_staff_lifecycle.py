"""Staff lifecycle (FR-102): create, role and branches, deactivate (ends the hub session at
once), role change on the next request, PIN set/reset (argon2, never returned after), badge
unique per tenant, BRANCH_MANAGER limits, the staff down message with badge and active flag,
cross-tenant probes, all audited."""

from __future__ import annotations

import re
import uuid

import pytest
from argon2 import PasswordHasher

from hub.core.db import tenant_tx
from hub.identity.models import Box
from hub.sync.downlink import messages_for_box
from posdomain.customer_fields import badge_digest
from tests.hub.conftest import login

pytestmark = [pytest.mark.pg, pytest.mark.req("FR-102")]
T = "t-greenbasket"


def _new(client, role="CASHIER", branches=("b-downtown",), **extra):
    body = {
        "username": f"s{uuid.uuid4().hex[:10]}",
        "display_name": "Sam Staff",
        "role": role,
        "branch_ids": list(branches),
        **extra,
    }
    return client.post("/api/v1/staff", json=body)


def _staff_body(box_id: str = "box-downtown-1") -> dict:
    with tenant_tx(T):
        box = Box.get(Box.box_id == box_id)
        return next(m.body for _t, m in messages_for_box(box) if m.kind == "staff")


def test_create_pin_badge_reach_the_staff_down_message(client):
    login(client, "owner")
    made = _new(client, pin="4321", password="a-long-password-1")
    assert made.status_code == 201, made.get_json()
    sid = made.get_json()["id"]
    assert made.get_json()["has_pin"] is True
    reset = client.post(f"/api/v1/staff/{sid}/pin/reset", json={}).get_json()
    assert re.fullmatch(r"\d{6}", reset["pin"])
    assert "pin" not in client.get(f"/api/v1/staff/{sid}").get_json()
    badge = client.post(f"/api/v1/staff/{sid}/badge/generate", json={}).get_json()["badge"]
    entry = next(s for s in _staff_body()["staff"] if s["id"] == sid)
    assert entry["badge_digest"] == badge_digest(T, badge)
    assert entry["active"] is True
    assert PasswordHasher().verify(entry["pin_hash"], reset["pin"])
    other = _new(client).get_json()["id"]
    taken = client.put(f"/api/v1/staff/{other}/badge", json={"badge": badge.lower()})
    assert (taken.status_code, taken.get_json()["error"]["reason"]) == (409, "BADGE_TAKEN")
    bad = client.put(f"/api/v1/staff/{other}/badge", json={"badge": "ab cd!!"})
    assert bad.get_json()["error"]["reason"] in ("INVALID_BADGE", "VALIDATION_FAILED")
    bad_pin = client.put(f"/api/v1/staff/{other}/pin", json={"pin": "12a4"})
    assert bad_pin.get_json()["error"]["reason"] == "VALIDATION_FAILED"
    actions = [e["action"] for e in client.get("/api/v1/audit").get_json()["items"]]
    assert {"user.created", "user.pin_reset", "user.badge_set"} <= set(actions)


def test_deactivation_ends_the_session_at_once_and_reaches_the_boxes(app, client):
    login(client, "owner")
    sid = _new(client, role="SUPERVISOR", password="super-secret-pass", pin="5555").get_json()
    theirs = app.test_client()
    ok = theirs.post(
        "/api/v1/auth/login", json={"username": sid["username"], "password": "super-secret-pass"}
    )
    assert ok.status_code == 200
    assert theirs.get("/api/v1/customers").status_code == 200
    off = client.put(f"/api/v1/staff/{sid['id']}/active", json={"active": False})
    assert off.get_json()["active"] is False
    refused = theirs.get("/api/v1/customers")
    assert (refused.status_code, refused.get_json()["error"]["reason"]) == (401, "SESSION_REVOKED")
    entry = next(s for s in _staff_body()["staff"] if s["id"] == sid["id"])
    assert entry["active"] is False
    audit = client.get("/api/v1/audit").get_json()["items"]
    done = next(
        e for e in audit if e["action"] == "user.deactivated" and e["target"] == f"user:{sid['id']}"
    )
    assert done["details"]["sessions_revoked"] == 1  # the server-side session ended at once


def test_role_change_applies_on_the_next_request(app, client):
    login(client, "owner")
    sid = _new(client, role="SUPERVISOR", password="super-secret-pass").get_json()
    theirs = app.test_client()
    theirs.post(
        "/api/v1/auth/login", json={"username": sid["username"], "password": "super-secret-pass"}
    )
    assert theirs.get("/api/v1/sales").status_code == 200
    client.patch(f"/api/v1/staff/{sid['id']}", json={"role": "CASHIER"})
    assert theirs.get("/api/v1/sales").status_code == 403
    assert theirs.get("/api/v1/auth/me").get_json()["principal"]["role"] == "CASHIER"


def test_branch_manager_manages_only_up_to_supervisor_in_their_branches(client):
    login(client, "owner")
    peer = _new(client, role="BRANCH_MANAGER").get_json()["id"]
    riverside = _new(client, branches=("b-riverside",)).get_json()["id"]
    client.post("/api/v1/auth/logout")
    login(client, "manager")
    mine = _new(client)
    assert mine.status_code == 201
    mine_id = mine.get_json()["id"]
    cases = [
        _new(client, role="BRANCH_MANAGER"),
        _new(client, branches=("b-riverside",)),
        client.patch(f"/api/v1/staff/{mine_id}", json={"role": "TENANT_OWNER"}),
        client.patch(
            f"/api/v1/staff/{mine_id}", json={"branch_ids": ["b-downtown", "b-riverside"]}
        ),
        client.put(f"/api/v1/staff/{peer}/active", json={"active": False}),
        client.post(f"/api/v1/staff/{riverside}/pin/reset", json={}),
    ]
    assert [c.status_code for c in cases] == [403] * 6
    assert client.patch(f"/api/v1/staff/{mine_id}", json={"role": "SUPERVISOR"}).status_code == 200
    assert client.put(f"/api/v1/staff/{mine_id}/active", json={"active": False}).status_code == 200
    me = client.get("/api/v1/auth/me").get_json()["principal"]["id"]
    assert client.put(f"/api/v1/users/{me}/active", json={"active": False}).status_code == 403
    listed = {u["id"] for u in client.get("/api/v1/staff").get_json()["items"]}
    assert riverside not in listed
    assert mine_id in listed


def test_cross_tenant_staff_probes_get_404(client):
    login(client, "harbor-owner")
    theirs = _new(client, branches=("b-harbor-main",)).get_json()["id"]
    client.post("/api/v1/auth/logout")
    login(client, "owner")
    probes = [
        client.get(f"/api/v1/staff/{theirs}"),
        client.patch(f"/api/v1/staff/{theirs}", json={"display_name": "x"}),
        client.put(f"/api/v1/staff/{theirs}/active", json={"active": False}),
        client.put(f"/api/v1/staff/{theirs}/pin", json={"pin": "1234"}),
        client.post(f"/api/v1/staff/{theirs}/pin/reset", json={}),
        client.put(f"/api/v1/staff/{theirs}/badge", json={"badge": "ABC-12345"}),
        client.post(f"/api/v1/staff/{theirs}/badge/generate", json={}),
        client.delete(f"/api/v1/staff/{theirs}/badge"),
        client.get(f"/staff/{theirs}"),
    ]
    assert [p.status_code for p in probes] == [404] * 9
    assert (
        _new(client, branches=("b-harbor-main",)).get_json()["error"]["reason"] == "UNKNOWN_BRANCH"
    )


def test_staff_pages_are_plain_forms(client):
    login(client, "owner")
    page = client.get("/staff").get_data(as_text=True)
    assert '<label for="q">' in page
    form = client.get("/staff/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)[1]
    name = f"p{uuid.uuid4().hex[:8]}"
    resp = client.post(
        "/staff/new",
        data={
            "csrf_token": token,
            "username": name,
            "display_name": "Page Staff",
            "role": "CASHIER",
            "branch_ids": "b-downtown",
        },
    )
    assert resp.status_code == 302
    sid = resp.headers["Location"].rsplit("/", 1)[1]
    shown = client.post(f"/staff/{sid}", data={"csrf_token": token, "op": "pin"}).get_data(
        as_text=True
    )
    assert re.search(r'id="new-pin">\d{6}<', shown)
