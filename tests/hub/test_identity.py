"""Login lockout, idle timeout, deactivation, request hygiene, OpenAPI coverage."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest

from hub.core.db import platform_tx
from hub.core.openapi import undocumented
from hub.identity.auth import hash_secret
from hub.identity.models import User
from posdomain.contract import ErrorBody, error_schema
from tests.hub.conftest import login

pytestmark = [pytest.mark.pg]


def _user(role: str = "TENANT_OWNER") -> str:
    name = f"u{uuid.uuid4().hex[:10]}"
    with platform_tx():
        User.create(
            id=name,
            tenant_id="t-greenbasket",
            username=name,
            display_name=name,
            password_hash=hash_secret("right-password"),
            role=role,
            branch_ids=[],
        )
    return name


@pytest.mark.req("FR-001")
def test_lockout_after_five_failures(client):
    name = _user()
    for _ in range(4):
        resp = client.post("/api/v1/auth/login", json={"username": name, "password": "wrong"})
        assert resp.get_json()["error"]["reason"] == "BAD_CREDENTIALS"
    resp = client.post("/api/v1/auth/login", json={"username": name, "password": "wrong"})
    assert resp.status_code == 423
    assert resp.get_json()["error"]["reason"] == "ACCOUNT_LOCKED"
    resp = client.post("/api/v1/auth/login", json={"username": name, "password": "right-password"})
    assert resp.get_json()["error"]["reason"] == "ACCOUNT_LOCKED"


@pytest.mark.req("FR-001", "NFR-005")
def test_idle_timeout_expires_session(client, app):
    login(client, "owner")
    assert client.get("/api/v1/auth/me").status_code == 200
    real = app.extensions["cfpos_clock"]
    later = real() + timedelta(seconds=app.config["IDLE_TIMEOUT_SECONDS"] + 1)
    app.extensions["cfpos_clock"] = lambda: later
    try:
        resp = client.get("/api/v1/auth/me")
    finally:
        app.extensions["cfpos_clock"] = real
    assert resp.status_code == 401
    assert resp.get_json()["error"]["reason"] == "SESSION_EXPIRED"
    assert client.get("/api/v1/auth/me").get_json()["error"]["reason"] == "AUTH_REQUIRED"


@pytest.mark.req("FR-001")
def test_session_cookie_flags(client):
    resp = client.post(
        "/api/v1/auth/login", json={"username": "owner", "password": "owner-demo-pass"}
    )
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


@pytest.mark.req("FR-102", "FR-001")
def test_deactivated_user_loses_session_at_once(client, app):
    name = _user()
    client.post("/api/v1/auth/login", json={"username": name, "password": "right-password"})
    owner = app.test_client()
    login(owner, "owner")
    assert owner.put(f"/api/v1/users/{name}/active", json={"active": False}).status_code == 200
    resp = client.get("/api/v1/auth/me")
    assert resp.get_json()["error"]["reason"] == "SESSION_REVOKED"  # revoked with deactivation


@pytest.mark.req("NFR-005", "NFR-006")
def test_request_hygiene(client, app):
    login(client, "owner")
    bad = client.put(
        "/api/v1/config/branding",
        data=b"{not json",
        headers={"Content-Type": "application/json", "X-Correlation-ID": "abc123"},
    )
    assert bad.status_code == 400
    assert bad.get_json()["error"]["reason"] == "MALFORMED_JSON"
    assert bad.headers["X-Correlation-ID"] == "abc123"
    schema = client.put("/api/v1/config/branding", json={"body": {}, "reason": "x", "extra": 1})
    assert schema.get_json()["error"]["reason"] == "VALIDATION_FAILED"
    assert schema.get_json()["error"]["details"]["fields"]
    assert ErrorBody.model_validate(schema.get_json()).error.details.fields
    doc = client.get("/api/openapi.json").get_json()
    assert doc["components"]["schemas"]["Error"] == error_schema()["Error"]
    big = client.put(
        "/api/v1/config/branding",
        data=b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1),
        headers={"Content-Type": "application/json"},
    )
    assert big.status_code == 413
    assert big.get_json()["error"]["reason"] == "PAYLOAD_TOO_LARGE"
    no_reason = client.put("/api/v1/config/risk", json={"body": {"mode": "observe"}})
    assert no_reason.get_json()["error"]["reason"] == "REASON_REQUIRED"
    unknown = client.get("/api/v1/config/nope")
    assert unknown.get_json()["error"]["reason"] == "UNKNOWN_CONFIG_KIND"


@pytest.mark.req("FR-801", "FR-803")
def test_config_and_flag_changes_are_versioned_and_audited(client, app):
    login(client, "owner")
    body = {"store_name": "Green Basket", "primary_color": "#1b5e20", "logo_text": "GB"}
    first = client.put("/api/v1/config/branding", json={"body": body, "reason": "rename"})
    assert first.status_code == 200
    assert client.get("/api/v1/brand").get_json()["store_name"] == "Green Basket"
    page = client.get("/").get_data(as_text=True)
    assert "Green Basket" in page
    app.config["CFPOS_ENV"] = "PROD"
    try:
        resp = client.put("/api/v1/flags/advanced_discounts", json={"enabled": True, "reason": "x"})
        assert resp.get_json()["error"]["reason"] == "CHANGE_TICKET_REQUIRED"
        resp = client.put(
            "/api/v1/flags/advanced_discounts",
            json={"enabled": False, "reason": "incident", "emergency": True},
        )
        assert resp.status_code == 200
        assert resp.get_json()["backfill_required"] is True
        resp = client.put(
            "/api/v1/flags/advanced_discounts",
            json={"enabled": True, "reason": "x", "change_ticket": "CHG-1"},
        )
        assert resp.status_code == 200
    finally:
        app.config["CFPOS_ENV"] = "DEV"
    entries = client.get("/api/v1/audit").get_json()["items"]
    flips = [e for e in entries if e["action"] == "flag.flipped"]
    assert flips[0]["details"]["tenant_id"] == "t-greenbasket"
    assert {"before", "after"} <= set(flips[0]["details"])


@pytest.mark.req("FR-800")
def test_openapi_documents_every_api_route(app, client):
    assert undocumented(app) == []
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    missing, bare = [], []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op = doc["paths"].get(path, {}).get(method.lower())
            if op is None:
                missing.append(f"{method} {path}")
                continue
            schema = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            if schema.get("schema") == {"type": "object"}:
                bare.append(f"{method} {path} request")
            for status, answer in op["responses"].items():
                media = answer.get("content", {}).get("application/json", {})
                if status.startswith("2") and media.get("schema", {}).get("type") == "object":
                    bare.append(f"{method} {path} {status}")
    assert missing == []
    assert bare == []  # every body is a real model, never a bare `type: object`
    for name, schema in doc["components"]["schemas"].items():
        assert schema.get("properties") or schema.get("enum") or "anyOf" in schema, name


@pytest.mark.req("FR-001")
def test_portal_login_form(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<label for="username">' in page
    assert client.get("/sales").status_code == 302
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    resp = client.post(
        "/login",
        data={"username": "owner", "password": "owner-demo-pass", "csrf_token": token[1]},
    )
    assert resp.status_code == 302
    assert "sales" in client.get("/sales").get_data(as_text=True).lower()
    assert "intact" in client.get("/audit").get_data(as_text=True)
