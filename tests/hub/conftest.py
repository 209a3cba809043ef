"""Hub fixtures: a fresh PostgreSQL database per session (migrated as superuser, used as app)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest
from flask import Flask
from flask.testing import FlaskClient

from hub.app import create_app
from hub.core import db as hub_db
from hub.core.db import platform_tx
from hub.demo.seed import seed_demo
from hub.identity.auth import hash_secret
from hub.identity.models import Box, User
from hub.migrate import migrate


def _admin_exec(admin_dsn: str, sql: str) -> None:
    conn = psycopg2.connect(admin_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


def make_database(pg_admin_dsn: str) -> tuple[str, str]:
    """Create and migrate a fresh database; return (admin_url, app_url)."""
    name = f"cfpos_test_hub_{uuid.uuid4().hex[:10]}"
    _admin_exec(pg_admin_dsn, f"CREATE DATABASE {name}")
    base = pg_admin_dsn.rsplit("/", 1)[0]
    admin_url = f"{base}/{name}"
    migrate(admin_url)
    return admin_url, f"postgresql://cfpos_app@127.0.0.1:5432/{name}"


def drop_database(pg_admin_dsn: str, admin_url: str) -> None:
    """Drop a test database (closing pooled connections first)."""
    name = admin_url.rsplit("/", 1)[1]
    for url, database in list(hub_db._databases.items()):
        if url.endswith(f"/{name}"):
            database.close_all()  # type: ignore[attr-defined]
            del hub_db._databases[url]
    _admin_exec(pg_admin_dsn, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def hub_urls(pg_admin_dsn: str) -> Iterator[tuple[str, str]]:
    """(admin_url, app_url) of the session's seeded hub database."""
    admin_url, app_url = make_database(pg_admin_dsn)
    hub_db.bind(app_url)
    seed_demo()
    yield admin_url, app_url
    drop_database(pg_admin_dsn, admin_url)


@pytest.fixture(scope="session")
def _session_app(hub_urls: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return create_app(
        {
            "DATABASE_URL": hub_urls[1],
            "SECRET_KEY": "test-secret",
            "PUBLISH_DOWN": False,
            "TESTING": True,
            "AUDIT_CHECKPOINT_DIR": str(tmp_path_factory.mktemp("checkpoints")),
        }
    )


@pytest.fixture
def app(_session_app: Flask, hub_urls: tuple[str, str]) -> Flask:
    """The session's app, with the shared database proxy bound to its database."""
    hub_db.bind(hub_urls[1])
    return _session_app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A fresh test client (own cookie jar)."""
    return app.test_client()


PASSWORDS = {
    "admin": "admin-demo-pass",
    "owner": "owner-demo-pass",
    "auditor": "auditor-demo-pass",
    "manager": "manager-demo-pass",
    "cashier": "cashier-demo-pass",
    "harbor-owner": "harbor-demo-pass",
}


def login(client: FlaskClient, username: str) -> dict[str, Any]:
    """Log a demo user in; return the principal JSON."""
    resp = client.post(
        "/api/v1/auth/login", json={"username": username, "password": PASSWORDS[username]}
    )
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["principal"]  # type: ignore[no-any-return]


def enrol_box(tenant_id: str, branch_id: str) -> str:
    """Enrol a new box with a unique id; return its id."""
    box_id = f"box-{uuid.uuid4().hex[:12]}"
    with platform_tx():
        Box.create(box_id=box_id, tenant_id=tenant_id, branch_id=branch_id, name=box_id)
    return box_id


def create_user(
    tenant_id: str, role: str, password: str, branch_ids: list[str] | None = None
) -> str:
    """A new hub user with a unique username; return the username."""
    name = f"u{uuid.uuid4().hex[:10]}"
    with platform_tx():
        User.create(
            id=uuid.uuid4().hex,
            tenant_id=tenant_id,
            username=name,
            display_name=name,
            password_hash=hash_secret(password),
            role=role,
            branch_ids=branch_ids or [],
        )
    return name
