"""Staff PIN login on the box (FR-001): offline, lockout, inactive, roles."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from tests.appliance.conftest import login


def _audit_actions(db: SqliteDatabase) -> list[tuple[str, str]]:
    rows = db.execute_sql("SELECT action, details FROM audit_log ORDER BY seq").fetchall()
    return [(a, json.loads(d).get("reason", "")) for a, d in rows]


@pytest.mark.req("FR-001")
def test_pin_login_ok_is_audited(client: FlaskClient, box_db: SqliteDatabase) -> None:
    resp = login(client)
    assert resp.status_code == 200
    assert resp.get_json()["staff"] == {"id": "s-cash", "name": "Carla Cashier", "role": "CASHIER"}
    assert client.get("/api/v1/auth/me").get_json()["staff"]["id"] == "s-cash"
    assert ("auth.login", "") in _audit_actions(box_db)


@pytest.mark.req("FR-001")
def test_wrong_pin_is_401_and_audited(client: FlaskClient, box_db: SqliteDatabase) -> None:
    resp = client.post("/api/v1/auth/pin", json={"pin": "0000"})
    assert resp.status_code == 401
    assert resp.get_json()["error"]["reason"] == "BAD_CREDENTIALS"
    assert ("auth.pin.denied", "BAD_CREDENTIALS") in _audit_actions(box_db)


@pytest.mark.req("FR-001")
def test_lockout_after_max_failures_blocks_even_a_good_pin(
    client: FlaskClient, box_db: SqliteDatabase
) -> None:
    codes = [client.post("/api/v1/auth/pin", json={"pin": "0000"}).status_code for _ in range(3)]
    assert codes == [401, 401, 423]
    resp = login(client)
    assert resp.status_code == 423
    assert resp.get_json()["error"]["reason"] == "ACCOUNT_LOCKED"
    assert "locked_until" in resp.get_json()["error"]["details"]
    assert ("auth.pin.denied", "ACCOUNT_LOCKED") in _audit_actions(box_db)


@pytest.mark.req("FR-001")
def test_lockout_expires(client: FlaskClient, box_db: SqliteDatabase) -> None:
    for _ in range(3):
        client.post("/api/v1/auth/pin", json={"pin": "0000"})
    box_db.execute_sql("UPDATE pin_failures SET locked_until = '2000-01-01T00:00:00+00:00'")
    assert login(client).status_code == 200


@pytest.mark.req("FR-001")
def test_inactive_staff_is_403(client: FlaskClient, box_db: SqliteDatabase) -> None:
    resp = login(client, "inactive")
    assert resp.status_code == 403
    assert resp.get_json()["error"]["reason"] == "ACCOUNT_INACTIVE"
    assert ("auth.pin.denied", "ACCOUNT_INACTIVE") in _audit_actions(box_db)


@pytest.mark.req("FR-001", "FR-002")
def test_staff_of_another_branch_cannot_log_in(client: FlaskClient) -> None:
    resp = login(client, "elsewhere")
    assert resp.status_code == 403
    assert resp.get_json()["error"]["reason"] == "FORBIDDEN_BRANCH"


@pytest.mark.req("FR-003")
def test_role_without_sell_cannot_use_the_basket(client: FlaskClient) -> None:
    assert login(client, "clerk").status_code == 200
    resp = client.get("/api/v1/basket")
    assert resp.status_code == 403
    assert resp.get_json()["error"]["reason"] == "FORBIDDEN_ROLE"


@pytest.mark.req("FR-001")
def test_unauthenticated_basket_is_401(client: FlaskClient) -> None:
    resp = client.get("/api/v1/basket")
    assert resp.status_code == 401
    assert resp.get_json()["error"]["reason"] == "AUTH_REQUIRED"


@pytest.mark.req("FR-001")
def test_logout_ends_the_session(cashier: FlaskClient, box_db: SqliteDatabase) -> None:
    assert cashier.post("/api/v1/auth/logout").status_code == 200
    assert cashier.get("/api/v1/basket").status_code == 401
    assert ("auth.logout", "") in _audit_actions(box_db)


@pytest.mark.req("FR-001")
def test_deactivated_by_sync_mid_session_is_refused(
    cashier: FlaskClient, box_db: SqliteDatabase
) -> None:
    box_db.execute_sql("UPDATE staff SET active = 0 WHERE id = 's-cash'")
    resp = cashier.get("/api/v1/basket")
    assert resp.status_code == 403
    assert resp.get_json()["error"]["reason"] == "ACCOUNT_INACTIVE"


@pytest.mark.req("FR-001")
def test_lockout_per_staff_when_the_staff_member_is_named(client: FlaskClient) -> None:
    def named(pin: str) -> int:
        body = {"pin": pin, "staff_id": "s-mgr"}
        return client.post("/api/v1/auth/pin", json=body).status_code

    assert [named("0000"), named("0001")] == [401, 401]
    assert login(client).status_code == 200  # the cashier's success resets the box count
    assert named("0002") == 423  # ...but not the manager's own count
    assert named("9999") == 423
    assert login(client).status_code == 200  # the till itself is not locked
