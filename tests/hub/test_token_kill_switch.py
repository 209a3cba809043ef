"""Issue 17 item 5 (FR-P7-1011, FR-P7-1013): no API token escapes the kill switch.

Tokens from `POST /api/v1/tokens` are filed under an integration (the one named, or the
tenant's "API tokens (pre-integration)" one), so switching it off refuses them at once;
migration 0025 files the tokens issued before integrations existed (legacy `cfp_` ones too)
under that integration and makes `integration_id` NOT NULL."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg2
import pytest
from flask import Flask

from hub.app import create_app
from hub.core import db as hub_db
from hub.demo.seed import seed_demo
from hub.identity.auth import token_digest
from hub.migrate import migrate
from tests.hub.conftest import drop_database, login, make_database

pytestmark = [pytest.mark.pg]


def _flip(client: Any, integration_id: str, enabled: bool) -> Any:
    return client.put(
        f"/api/v1/integrations/{integration_id}/enabled",
        json={"enabled": enabled, "reason": "" if enabled else "leaked token"},
    )


@pytest.mark.req("FR-P7-1011", "FR-P7-1013")
def test_a_token_from_the_old_endpoint_is_stopped_by_its_integrations_kill_switch(app):
    owner = app.test_client()
    login(owner, "owner")
    made = owner.post(
        "/api/v1/tokens", json={"name": f"old-{uuid.uuid4().hex[:6]}", "scopes": ["sales.read"]}
    )
    assert made.status_code == 201, made.get_json()
    token = made.get_json()
    listed = {i["name"]: i for i in owner.get("/api/v1/integrations").get_json()["items"]}
    pre = listed["API tokens (pre-integration)"]
    assert token["integration_id"] == pre["id"]
    bearer = {"Authorization": f"Bearer {token['token']}"}
    assert app.test_client().get("/api/v1/sales", headers=bearer).status_code == 200
    assert _flip(owner, pre["id"], False).status_code == 200
    refused = app.test_client().get("/api/v1/sales", headers=bearer)
    assert refused.status_code == 401
    assert refused.get_json()["error"]["reason"] == "INTEGRATION_DISABLED"
    assert _flip(owner, pre["id"], True).status_code == 200
    assert app.test_client().get("/api/v1/sales", headers=bearer).status_code == 200
    again = owner.post("/api/v1/tokens", json={"name": "second", "scopes": ["sales.read"]})
    assert again.get_json()["integration_id"] == pre["id"]  # one such integration per tenant
    named = owner.post(
        "/api/v1/tokens",
        json={"name": "x", "scopes": ["sales.read"], "integration_id": "zz-nowhere"},
    )
    assert named.status_code == 404


@pytest.fixture
def legacy_db(pg_admin_dsn: str, tmp_path: Any) -> Iterator[tuple[str, Flask]]:
    admin_url, app_url = make_database(pg_admin_dsn)
    hub_db.bind(app_url)
    seed_demo()
    app = create_app(
        {
            "DATABASE_URL": app_url,
            "PUBLISH_DOWN": False,
            "TESTING": True,
            "AUDIT_CHECKPOINT_DIR": str(tmp_path),
        }
    )
    yield admin_url, app
    drop_database(pg_admin_dsn, admin_url)


def _admin(admin_url: str, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql, args)
        rows = cur.fetchall() if cur.description else []
    conn.close()
    return rows


@pytest.mark.req("FR-P7-1011", "FR-P7-1013")
def test_migration_0025_files_pre_integration_tokens_under_a_kill_switch(legacy_db):
    admin_url, app = legacy_db
    # the schema and rows as they were before 0025: a legacy cfp_ token with no integration
    _admin(admin_url, "ALTER TABLE api_tokens ALTER COLUMN integration_id DROP NOT NULL")
    raw = "cfp_" + secrets.token_urlsafe(24)
    now = datetime.now(UTC)
    _admin(
        admin_url,
        """INSERT INTO api_tokens (id, tenant_id, name, token_hash, scopes,
           created_by, created_at, expires_at) VALUES (%s, 't-greenbasket', 'erp 2024', %s,
           '["sales.read"]', 'user:u-owner', %s, %s)""",
        (uuid.uuid4().hex, token_digest(raw), now, now + timedelta(days=30)),
    )
    _admin(admin_url, "DELETE FROM schema_migrations WHERE version = 25")
    assert migrate(admin_url) == ["0025_tokens_under_integrations"]
    ((orphans,),) = _admin(
        admin_url, "SELECT count(*) FROM api_tokens WHERE integration_id IS NULL"
    )
    assert orphans == 0
    ((nullable,),) = _admin(
        admin_url,
        """SELECT is_nullable FROM information_schema.columns
                            WHERE table_name = 'api_tokens' AND column_name = 'integration_id'""",
    )
    assert nullable == "NO"
    ((pre, by),) = _admin(
        admin_url,
        "SELECT i.id, i.created_by FROM integrations i JOIN "
        "api_tokens t ON t.integration_id = i.id WHERE t.name = 'erp 2024'",
    )
    assert by == "migration:0025"
    bearer = {"Authorization": f"Bearer {raw}"}
    assert app.test_client().get("/api/v1/sales", headers=bearer).status_code == 200
    owner = app.test_client()
    login(owner, "owner")
    assert _flip(owner, pre, False).status_code == 200
    refused = app.test_client().get("/api/v1/sales", headers=bearer)
    assert refused.get_json()["error"]["reason"] == "INTEGRATION_DISABLED"
    with pytest.raises(psycopg2.errors.NotNullViolation):
        _admin(
            admin_url,
            """INSERT INTO api_tokens (id, tenant_id, name, token_hash, scopes,
               created_by, created_at, expires_at) VALUES ('x', 't-greenbasket', 'n', 'h',
               '[]', 'u', now(), now())""",
        )
