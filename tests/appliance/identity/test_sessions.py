"""Box sessions are server-side (FR-001, NFR-005; issue 10 item 1).

Before: the box session was a signed cookie carrying the staff id and a last-seen time.
Logout only cleared the browser's copy (a saved cookie kept working), a session used every
15 minutes never ended, and a PIN change pushed by the hub left a logged-in till logged in.
Now the cookie carries a secret whose `staff_sessions` row logout, PIN change and
deactivation revoke at once (401 SESSION_REVOKED), with an idle timeout and a one-shift
absolute lifetime (SESSION_EXPIRED). Time is moved with the box context's clock, never slept.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from appliance.catalog import down_messages
from appliance.core.context import BoxContext
from appliance.identity.models import Staff
from tests.appliance.conftest import login
from tests.appliance.factories import FAST_HASHER, down

pytestmark = pytest.mark.req("FR-001", "NFR-005")


class Clock:
    """A settable clock for the box context's `clock` seam."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(app: Flask) -> Iterator[Clock]:
    fake = Clock()
    ctx: BoxContext = app.extensions["box"]
    real = ctx.clock
    ctx.clock = fake
    yield fake
    ctx.clock = real


def _reason(resp: Any) -> str:
    return str(resp.get_json()["error"]["reason"])


def _cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _replay(app: Flask, cookie: str) -> FlaskClient:
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief


def _push_staff(app: Flask, db: SqliteDatabase, version: int, **changes: dict[str, Any]) -> None:
    """Apply a `staff` down message: the held list with `changes` per staff id (None drops)."""
    with db.connection_context():
        staff = [
            {
                "id": s.id,
                "name": s.name,
                "role": s.role,
                "pin_hash": s.pin_hash,
                "active": bool(s.active),
                "branch_ids": json.loads(s.branch_ids),
            }
            for s in Staff.select().order_by(Staff.id)
        ]
        body = [
            {**s, **(changes.get(s["id"]) or {})}
            for s in staff
            if not (s["id"] in changes and changes[s["id"]] is None)
        ]
        message = down("staff", version, {"staff": body})
        assert down_messages.apply_down(app.extensions["box"], message)


def test_logout_revokes_the_cookie_server_side(app: Flask, cashier: FlaskClient) -> None:
    saved = _cookie(cashier)
    assert cashier.post("/api/v1/auth/logout").status_code == 200
    resp = _replay(app, saved).get("/api/v1/basket")
    assert resp.status_code == 401
    assert _reason(resp) == "SESSION_REVOKED"


def test_a_session_used_every_few_minutes_still_ends_after_one_shift(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    assert login(client).status_code == 200
    shift = app.extensions["box"].config.session_shift_hours
    for _ in range(shift * 60 // 14):
        clock.advance(minutes=14)
        assert client.get("/api/v1/basket").status_code == 200
    clock.advance(minutes=14)
    resp = client.get("/api/v1/basket")
    assert resp.status_code == 401
    assert _reason(resp) == "SESSION_EXPIRED"


def test_an_idle_session_expires(client: FlaskClient, clock: Clock) -> None:
    assert login(client).status_code == 200
    clock.advance(minutes=14)
    assert client.get("/api/v1/basket").status_code == 200
    clock.advance(minutes=16)
    resp = client.get("/api/v1/basket")
    assert resp.status_code == 401
    assert _reason(resp) == "SESSION_EXPIRED"
    assert _reason(client.get("/api/v1/basket")) == "AUTH_REQUIRED"  # the cookie was cleared


def test_a_pin_change_from_the_hub_ends_that_staff_members_sessions(
    app: Flask, box_db: SqliteDatabase
) -> None:
    cashier, manager = app.test_client(), app.test_client()
    assert login(cashier).status_code == 200
    assert login(manager, "manager").status_code == 200
    _push_staff(app, box_db, 2, **{"s-cash": {"pin_hash": FAST_HASHER.hash("864213")}})
    resp = cashier.get("/api/v1/basket")
    assert resp.status_code == 401
    assert _reason(resp) == "SESSION_REVOKED"
    assert manager.get("/api/v1/basket").status_code == 200  # nobody else's session ends
    details = box_db.execute_sql(
        "SELECT details FROM audit_log WHERE action = 'down.staff.applied' ORDER BY seq DESC"
    ).fetchone()[0]
    assert json.loads(details)["sessions_ended"] == {"s-cash": "pin_changed"}


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"active": False}, "deactivated"),
        ({"branch_ids": ["branch-9"]}, "removed"),
        (None, "removed"),
    ],
)
def test_deactivation_or_removal_by_the_hub_revokes_at_once(
    app: Flask, cashier: FlaskClient, box_db: SqliteDatabase, change: Any, why: str
) -> None:
    saved = _cookie(cashier)
    _push_staff(app, box_db, 2, **{"s-cash": change})
    resp = _replay(app, saved).get("/api/v1/auth/me")
    assert resp.status_code == 401
    assert _reason(resp) == "SESSION_REVOKED"
    row = box_db.execute_sql(
        "SELECT revoked_reason FROM staff_sessions WHERE staff_id = 's-cash'"
    ).fetchone()
    assert row == (why,)


def test_a_session_survives_a_staff_list_that_leaves_it_alone(
    app: Flask, cashier: FlaskClient, box_db: SqliteDatabase
) -> None:
    _push_staff(app, box_db, 2, **{"s-mgr": {"name": "Max M. Manager"}})
    assert cashier.get("/api/v1/basket").status_code == 200


def test_a_forged_or_pre_upgrade_cookie_is_refused(app: Flask, cashier: FlaskClient) -> None:
    with cashier.session_transaction() as sess:
        sess["sid"] = "made-up"
    assert _reason(cashier.get("/api/v1/basket")) == "SESSION_REVOKED"
    with cashier.session_transaction() as sess:
        sess.clear()
        sess["staff_id"] = "s-cash"  # what the signed cookie used to carry
    assert _reason(cashier.get("/api/v1/basket")) == "SESSION_REVOKED"
