"""Sessions end (P0 probe item 1), tokens expire (item 6), usernames per tenant (item 3).

Before: the session was a signed cookie with `last_seen`: logout only cleared the
browser's copy (a saved cookie kept working), a session used every 15 minutes never ended,
API tokens never expired, and usernames were unique across tenants (a 409 revealed another
tenant's user). Time is moved with the app's clock seam, never slept.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hub.core.db import platform_tx
from hub.identity.models import ApiToken, User
from tests.hub.conftest import PASSWORDS, create_user, login

pytestmark = [pytest.mark.pg]
T, OTHER = "t-greenbasket", "t-harborfoods"


class Clock:
    """A settable clock for the app's `cfpos_clock` seam."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(app: Flask) -> Iterator[Clock]:
    fake = Clock()
    real = app.extensions["cfpos_clock"]
    app.extensions["cfpos_clock"] = fake
    yield fake
    app.extensions["cfpos_clock"] = real


def _reason(resp) -> str:
    return str(resp.get_json()["error"]["reason"])


def _cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _replay(app: Flask, cookie: str) -> FlaskClient:
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief


def _user(tenant: str = T) -> str:
    return create_user(tenant, "TENANT_OWNER", "right-password")


def _login(client: FlaskClient, username: str, password: str = "right-password", **extra):  # noqa: S107
    body = {"username": username, "password": password, **extra}
    return client.post("/api/v1/auth/login", json=body)


@pytest.mark.req("FR-001", "NFR-005")
def test_logout_revokes_the_session_a_saved_cookie_is_dead(app, client):
    login(client, "owner")
    saved = _cookie(client)
    assert _replay(app, saved).get("/api/v1/auth/me").status_code == 200
    assert client.post("/api/v1/auth/logout", json={}).status_code == 200
    resp = _replay(app, saved).get("/api/v1/auth/me")
    assert resp.status_code == 401
    assert _reason(resp) == "SESSION_REVOKED"


@pytest.mark.req("FR-001", "NFR-005")
def test_portal_logout_revokes_too(app, client):
    client.post("/login", data={"username": "owner", "password": PASSWORDS["owner"]})
    # the login form needs its CSRF token: log in through the API instead, then log out
    login(client, "owner")
    saved = _cookie(client)
    token = client.get("/api/v1/auth/me").get_json()["csrf_token"]
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert _reason(_replay(app, saved).get("/api/v1/auth/me")) == "SESSION_REVOKED"


@pytest.mark.req("FR-001", "NFR-005")
def test_idle_timeout_ends_a_session(app, client, clock):
    idle = app.config["IDLE_TIMEOUT_SECONDS"]
    login(client, "owner")
    clock.advance(seconds=idle - 5)
    assert client.get("/api/v1/auth/me").status_code == 200  # use moves the idle window
    clock.advance(seconds=idle - 5)
    assert client.get("/api/v1/auth/me").status_code == 200
    saved = _cookie(client)
    clock.advance(seconds=idle + 1)
    resp = _replay(app, saved).get("/api/v1/auth/me")
    assert resp.status_code == 401
    assert _reason(resp) == "SESSION_EXPIRED"


@pytest.mark.req("FR-001", "NFR-005")
def test_a_busy_session_still_ends_at_its_absolute_lifetime(app, client, clock):
    lifetime = app.config["SESSION_LIFETIME_SECONDS"]
    step = app.config["IDLE_TIMEOUT_SECONDS"] // 2
    login(client, "owner")
    used = 0
    while used + step < lifetime:
        clock.advance(seconds=step)
        used += step
        assert client.get("/api/v1/auth/me").status_code == 200, used
    clock.advance(seconds=lifetime - used)
    resp = client.get("/api/v1/auth/me")
    assert resp.status_code == 401
    assert _reason(resp) == "SESSION_EXPIRED"


@pytest.mark.req("FR-102", "FR-001")
def test_deactivation_revokes_every_session_of_the_user(app):
    name = _user()
    first, second = app.test_client(), app.test_client()
    for c in (first, second):
        assert _login(c, name).status_code == 200
    owner = app.test_client()
    login(owner, "owner")
    with platform_tx():
        user_id = User.get(User.username == name, User.tenant_id == T).id
    assert owner.put(f"/api/v1/users/{user_id}/active", json={"active": False}).status_code == 200
    for c in (first, second):
        resp = c.get("/api/v1/auth/me")
        assert resp.status_code == 401
        assert _reason(resp) == "SESSION_REVOKED"


@pytest.mark.req("FR-001", "NFR-005")
def test_password_change_ends_other_sessions_keeps_the_changer_signed_in(app):
    name = _user()
    laptop, phone = app.test_client(), app.test_client()
    for c in (laptop, phone):
        assert _login(c, name).status_code == 200
    old_laptop_cookie = _cookie(laptop)
    wrong = laptop.post(
        "/api/v1/auth/password",
        json={"current_password": "nope", "new_password": "a-new-password"},
    )
    assert wrong.status_code == 401
    assert phone.get("/api/v1/auth/me").status_code == 200  # nothing ended by a wrong try
    resp = laptop.post(
        "/api/v1/auth/password",
        json={"current_password": "right-password", "new_password": "a-new-password"},
    )
    assert resp.status_code == 200, resp.get_json()
    assert laptop.get("/api/v1/auth/me").status_code == 200
    assert _reason(phone.get("/api/v1/auth/me")) == "SESSION_REVOKED"
    assert _reason(_replay(app, old_laptop_cookie).get("/api/v1/auth/me")) == "SESSION_REVOKED"
    assert _login(app.test_client(), name).status_code == 401
    assert _login(app.test_client(), name, "a-new-password").status_code == 200


@pytest.mark.req("FR-001", "FR-101")
def test_api_tokens_expire_and_record_their_last_use(app, client, clock):
    login(client, "owner")
    created = client.post(
        "/api/v1/tokens", json={"name": "erp", "scopes": ["sales.read"], "expires_in_days": 1}
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["expires_at"]
    assert body["last_used_at"] is None
    auth = {"Authorization": f"Bearer {body['token']}"}
    api = app.test_client()
    assert api.get("/api/v1/sales", headers=auth).status_code == 200
    with platform_tx():
        assert ApiToken.get_by_id(body["id"]).last_used_at is not None
    listed = {t["id"]: t for t in client.get("/api/v1/tokens").get_json()["items"]}
    assert listed[body["id"]]["last_used_at"] is not None
    too_long = {"name": "x", "scopes": ["sales.read"], "expires_in_days": 3650}
    resp = client.post("/api/v1/tokens", json=too_long)
    assert resp.status_code == 400
    assert _reason(resp) == "OUT_OF_RANGE"
    default = client.post("/api/v1/tokens", json={"name": "d", "scopes": ["sales.read"]})
    expires = datetime.fromisoformat(default.get_json()["expires_at"])
    created_at = datetime.fromisoformat(default.get_json()["created_at"])
    assert expires - created_at == timedelta(days=app.config["API_TOKEN_DEFAULT_DAYS"])
    clock.advance(days=1, seconds=1)
    resp = api.get("/api/v1/sales", headers=auth)
    assert resp.status_code == 401
    assert _reason(resp) == "TOKEN_EXPIRED"


@pytest.mark.req("FR-002", "NFR-005")
def test_usernames_are_unique_per_tenant_and_reveal_nothing_across(app):
    harbor, green = app.test_client(), app.test_client()
    login(harbor, "harbor-owner")
    login(green, "owner")
    name = f"shared{uuid.uuid4().hex[:6]}"
    body = {
        "username": name,
        "display_name": "Shared",
        "password": "shared-password-1",
        "role": "AUDITOR",
    }
    assert green.post("/api/v1/users", json=body).status_code == 201
    # another tenant's user of that name is invisible: harbor may create its own
    assert (
        harbor.post("/api/v1/users", json={**body, "password": "harbor-pass-22"}).status_code == 201
    )
    again = green.post("/api/v1/users", json=body)
    assert again.status_code == 409  # only a name taken in one's own tenant conflicts
    # both log in: by whose password matches, or naming the tenant
    me = _login(app.test_client(), name, "shared-password-1").get_json()["principal"]
    assert me["tenant_id"] == T
    me = _login(app.test_client(), name, "harbor-pass-22").get_json()["principal"]
    assert me["tenant_id"] == OTHER
    named = _login(app.test_client(), name, "harbor-pass-22", tenant_id=OTHER)
    assert named.get_json()["principal"]["tenant_id"] == OTHER
    assert _login(app.test_client(), name, "harbor-pass-22", tenant_id=T).status_code == 401
