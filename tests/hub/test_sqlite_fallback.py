"""Embedded SQLite fallback: migrate, seed, login, list sales (app-level isolation only)."""

from __future__ import annotations

import sqlite3

import pytest

from hub.app import create_app
from hub.core import db as hub_db
from hub.demo.seed import seed_demo
from hub.migrate import available, migrate
from hub.sync.apply import apply_batch
from scripts.testkit.crafted import make_batch
from tests.hub.conftest import PASSWORDS


@pytest.mark.req("FR-800", "FR-100")
def test_sqlite_demo_fallback(tmp_path, caplog):
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    assert migrate(url) == [name for _version, name in available()]
    assert migrate(url) == []
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "k", "PUBLISH_DOWN": False})
    assert "app-level isolation only" in caplog.text
    summary = seed_demo()
    assert seed_demo()["box_id"] == summary["box_id"]
    apply_batch(make_batch("box-downtown-1", "t-greenbasket", "b-downtown", [1]), "box-downtown-1")
    client = app.test_client()
    resp = client.post(
        "/api/v1/auth/login", json={"username": "owner", "password": PASSWORDS["owner"]}
    )
    assert resp.status_code == 200
    assert client.get("/api/v1/sales").get_json()["total"] == 1
    other = app.test_client()
    other.post(
        "/api/v1/auth/login",
        json={"username": "harbor-owner", "password": PASSWORDS["harbor-owner"]},
    )
    assert other.get("/api/v1/sales").get_json()["total"] == 0
    hub_db.db.close()


@pytest.mark.req("FR-800", "NFR-006")
def test_a_locked_database_answers_503_hub_busy_not_500(tmp_path):
    """The embedded hub under a long write elsewhere (another process holds SQLite's write
    lock past the busy timeout): a request that must write answers 503 HUB_BUSY with
    Retry-After, writes nothing, and goes through once the lock is gone."""
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    migrate(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "k", "PUBLISH_DOWN": False})
    seed_demo()
    client = app.test_client()
    login = {"username": "owner", "password": PASSWORDS["owner"]}
    holder = sqlite3.connect(tmp_path / "hub.db", timeout=0)
    try:
        holder.execute("BEGIN IMMEDIATE")  # the write lock, as a long import holds it
        busy = client.post("/api/v1/auth/login", json=login)
        assert busy.status_code == 503, busy.get_data(as_text=True)
        assert busy.get_json()["error"]["reason"] == "HUB_BUSY"
        assert busy.headers["Retry-After"] == "2"
        german = client.post(
            "/api/v1/auth/login", json=login, headers={"Accept-Language": "de"}
        ).get_json()["error"]["message"]
        assert "erneut" in german
    finally:
        holder.rollback()
        holder.close()
    assert client.post("/api/v1/auth/login", json=login).status_code == 200
    assert client.get("/api/v1/sales").status_code == 200
    hub_db.db.close()
