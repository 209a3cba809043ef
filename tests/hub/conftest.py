"""Hub fixtures: a fresh PostgreSQL database per session (migrated as superuser, used as app)."""

from __future__ import annotations

import os
import queue
import threading
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


# Every migration applied once per test process into a template database; each test database
# is a copy of it (CREATE DATABASE ... TEMPLATE: a file copy of some 1,000 relations, the 85
# monthly partitions of report_lines among them, instead of running every migration again).
# The copy is the migrated schema exactly: tests that need a migration's own behaviour (0022 on
# held rows, 0025 re-applied) run those migrations themselves. Dropped when the session ends.
_template: dict[str, str] = {}


def _template_name(pg_admin_dsn: str) -> str:
    """The process's migrated template database (created and migrated on first use)."""
    if pg_admin_dsn not in _template:
        name = f"cfpos_test_hubtpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        _admin_exec(pg_admin_dsn, f"CREATE DATABASE {name}")
        base = pg_admin_dsn.rsplit("/", 1)[0]
        try:
            migrate(f"{base}/{name}")
        except BaseException:
            _admin_exec(pg_admin_dsn, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            raise
        # nobody may connect to it again: CREATE DATABASE ... TEMPLATE refuses a template in use
        _admin_exec(pg_admin_dsn, f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false")
        _template[pg_admin_dsn] = name
    return _template[pg_admin_dsn]


# DROP DATABASE makes PostgreSQL 15 run an immediate checkpoint (every dirty buffer of the
# whole server written and fsynced: seconds each on a machine other runs keep busy). A test
# only needs its database gone by the end of the session, so drops run one after the other on
# a background thread while the tests go on; drop_template() waits for them.
_drops: queue.Queue[tuple[str, str] | None] = queue.Queue()
_dropper: threading.Thread | None = None
_drop_failures: list[str] = []


def _drop_loop() -> None:
    while (item := _drops.get()) is not None:
        pg_admin_dsn, name = item
        try:
            _admin_exec(pg_admin_dsn, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        except psycopg2.Error as err:  # reported at the end of the session
            _drop_failures.append(f"{name}: {err}")
        finally:
            _drops.task_done()


def _drop_later(pg_admin_dsn: str, name: str) -> None:
    global _dropper
    if _dropper is None or not _dropper.is_alive():
        _dropper = threading.Thread(target=_drop_loop, name="drop-test-databases", daemon=True)
        _dropper.start()
    _drops.put((pg_admin_dsn, name))


def drop_template() -> list[str]:
    """Drop the process's template database and wait for every queued drop (called from
    pytest_sessionfinish in tests/conftest.py); the drops that failed."""
    for pg_admin_dsn, name in list(_template.items()):
        _drop_later(pg_admin_dsn, name)
        del _template[pg_admin_dsn]
    if _dropper is not None and _dropper.is_alive():
        _drops.join()
    return list(_drop_failures)


def make_database(pg_admin_dsn: str) -> tuple[str, str]:
    """Create a fresh fully migrated database; return (admin_url, app_url)."""
    name = f"cfpos_test_hub_{uuid.uuid4().hex[:10]}"
    _admin_exec(pg_admin_dsn, f"CREATE DATABASE {name} TEMPLATE {_template_name(pg_admin_dsn)}")
    # commits here do not wait for the WAL flush (about 5 ms each on this shared disk, 0.3 ms
    # without): what a hub test proves is what a commit makes visible, not that PostgreSQL's
    # own WAL survives a power cut. Only these test databases; the stack tests' databases
    # (scripts/demo.py) keep the server's durable default.
    _admin_exec(pg_admin_dsn, f"ALTER DATABASE {name} SET synchronous_commit = off")
    base = pg_admin_dsn.rsplit("/", 1)[0]
    admin_url = f"{base}/{name}"
    return admin_url, f"postgresql://cfpos_app@127.0.0.1:5432/{name}"


def drop_database(pg_admin_dsn: str, admin_url: str) -> None:
    """Drop a test database: its pooled connections closed now, the DROP queued (WITH FORCE:
    done on the background thread, before the session ends)."""
    name = admin_url.rsplit("/", 1)[1]
    for url, database in list(hub_db._databases.items()):
        if url.endswith(f"/{name}"):
            database.close_all()  # type: ignore[attr-defined]
            del hub_db._databases[url]
    _drop_later(pg_admin_dsn, name)


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
