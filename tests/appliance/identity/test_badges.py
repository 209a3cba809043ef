"""Badge login and badge approval of overrides at the till; deactivation takes effect as
soon as the staff message arrives (FR-102)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from appliance.catalog import down_messages
from appliance.core.context import BoxContext
from posdomain.customer_fields import badge_digest
from tests.appliance.factories import PINS, TENANT, down
from tests.appliance.till_helpers import open_shift, scalar, staff_with_supervisor

pytestmark = pytest.mark.req("FR-102")
SUP_BADGE, CASH_BADGE, OLD_BADGE = "99SUP-0001", "99CASH-0002", "99OLD-0003"


def staff_with_badges(deactivate: str | None = None) -> dict[str, Any]:
    body = staff_with_supervisor()
    badges = {"s-sup": SUP_BADGE, "s-cash": CASH_BADGE, "s-old": OLD_BADGE}
    for member in body["staff"]:
        if member["id"] in badges:
            member["badge_digest"] = badge_digest(TENANT, badges[member["id"]])
        if member["id"] == deactivate:
            member["active"] = False
    return body


@pytest.fixture
def badged(till: BoxContext) -> BoxContext:
    assert down_messages.apply_down(till, down("staff", 3, staff_with_badges()))
    return till


def badge_login(client: FlaskClient, badge: str):
    return client.post("/api/v1/auth/badge", json={"badge": badge})


@pytest.mark.usefixtures("badged")
def test_badge_login_offline_and_refusals(client: FlaskClient, box_db: SqliteDatabase) -> None:
    resp = badge_login(client, CASH_BADGE.lower())  # scanners may send lower case
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["staff"]["id"] == "s-cash"
    assert client.get("/api/v1/auth/me").get_json()["staff"]["id"] == "s-cash"
    client.post("/api/v1/auth/logout")
    assert badge_login(client, OLD_BADGE).get_json()["error"]["reason"] == "ACCOUNT_INACTIVE"
    assert badge_login(client, "àà&\"è'!").get_json()["error"]["reason"] == "INVALID_BADGE"
    wrong = badge_login(client, "99NOBODY-1")
    assert (wrong.status_code, wrong.get_json()["error"]["reason"]) == (401, "BAD_CREDENTIALS")
    badge_login(client, "99NOBODY-2")
    locked = badge_login(client, "99NOBODY-3")  # three wrong credentials lock the till
    assert locked.get_json()["error"]["reason"] == "ACCOUNT_LOCKED"
    assert badge_login(client, CASH_BADGE).status_code == 423
    logins = "SELECT details FROM audit_log WHERE action = 'auth.login'"
    assert '"method": "badge"' in scalar(box_db, logins)


@pytest.mark.usefixtures("badged")
def test_a_supervisor_badge_approves_an_override(
    cashier: FlaskClient, box_db: SqliteDatabase
) -> None:
    open_shift(cashier)
    body = {"action": "no_sale", "reason_code": "CHANGE_REQUEST", "badge": SUP_BADGE}
    granted = cashier.post("/api/v1/overrides", json=body)
    assert granted.status_code == 201, granted.get_json()
    assert granted.get_json()["approver"]["id"] == "s-sup"
    done = cashier.post("/api/v1/drawer/no-sale", json={"override_token": granted.json["token"]})
    assert done.get_json()["approver_id"] == "s-sup"
    own = cashier.post("/api/v1/overrides", json={**body, "badge": CASH_BADGE})
    assert own.get_json()["error"]["reason"] == "FORBIDDEN_ROLE"  # a cashier cannot approve
    both = cashier.post("/api/v1/overrides", json={**body, "pin": "8888"})
    assert both.get_json()["error"]["reason"] == "VALIDATION_FAILED"


def test_deactivation_refuses_pin_badge_and_session_once_the_staff_message_arrives(
    badged: BoxContext, cashier: FlaskClient, client: FlaskClient
) -> None:
    assert cashier.get("/api/v1/basket").status_code == 200
    assert down_messages.apply_down(badged, down("staff", 4, staff_with_badges("s-cash")))
    refused = cashier.get("/api/v1/basket")  # the open session was revoked with the message
    assert (refused.status_code, refused.get_json()["error"]["reason"]) == (
        401,
        "SESSION_REVOKED",
    )
    pin = client.post("/api/v1/auth/pin", json={"pin": PINS["cashier"]})
    assert pin.get_json()["error"]["reason"] == "ACCOUNT_INACTIVE"
    assert badge_login(client, CASH_BADGE).get_json()["error"]["reason"] == "ACCOUNT_INACTIVE"
    assert down_messages.apply_down(badged, down("staff", 5, staff_with_badges("s-sup")))
    assert badge_login(client, SUP_BADGE).get_json()["error"]["reason"] == "ACCOUNT_INACTIVE"
