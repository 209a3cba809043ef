"""OpenAPI coverage, correlation ids, status, the cashier screen, offline operation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from appliance.app import create_app
from appliance.catalog import down_messages
from appliance.core.context import BoxContext
from appliance.core.db import database, open_database
from appliance.migrations import migrate
from appliance.sync.box_state import ensure_box_state
from posdomain.contract import ErrorBody, error_schema
from tests.appliance.conftest import login
from tests.appliance.factories import config_body, down, make_config, seed_messages
from tests.appliance.till.test_basket import MILK, add
from tests.appliance.till.test_checkout import pay


def test_every_api_route_is_in_the_openapi_document(app: Flask, client: FlaskClient) -> None:
    doc = client.get("/api/openapi.json").get_json()
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, f"{method} {path} missing"


@pytest.mark.req("NFR-006")
def test_correlation_id_in_and_out(client: FlaskClient) -> None:
    resp = client.get("/api/v1/status", headers={"X-Correlation-ID": "abc-123"})
    assert resp.headers["X-Correlation-ID"] == "abc-123"
    fresh = client.get("/api/v1/status", headers={"X-Correlation-ID": "bad id;" + "x" * 70})
    assert re.fullmatch(r"[0-9a-f]{32}", fresh.headers["X-Correlation-ID"])


@pytest.mark.req("FR-303")
def test_status_shows_offline_with_the_real_backlog(cashier: FlaskClient) -> None:
    add(cashier, MILK)
    pay(cashier)
    status = cashier.get("/api/v1/status").get_json()
    assert status["online"] is False
    assert status["queued"] >= 2
    assert status["versions"] == {"catalog": 1, "config": 1, "staff": 1}


def test_unknown_api_route_is_reason_coded(client: FlaskClient) -> None:
    resp = client.get("/api/v1/nope")
    assert resp.status_code == 404
    assert resp.get_json()["error"]["reason"] == "NOT_FOUND"


@pytest.mark.req("FR-801", "NFR-007")
def test_cashier_screen_uses_brand_and_locale(tmp_path: Path) -> None:
    config = make_config(tmp_path, locale="de")
    db = open_database(config.database_path)
    with db.connection_context():
        migrate(db)
        ensure_box_state(config)
        for msg in seed_messages():
            down_messages.apply_down(BoxContext(config), msg)
        body = config_body("de")
        body["branding"]["store_name"] = "Laden <Mitte>"
        down_messages.apply_down(BoxContext(config), down("config", 2, body))
    client = create_app(config).test_client()
    html = client.get("/").get_data(as_text=True)
    assert "Laden &lt;Mitte&gt;" in html
    assert "--brand: #0a6e3c" in html
    assert "Bar bezahlen (F9)" in html
    assert '<html lang="de">' in html
    assert "Unbekannter Barcode" in html  # reason-code catalog for the JS
    assert "http://" not in html
    assert "https://" not in html
    for asset in ("/static/cashier.js", "/static/cashier.css"):
        resp = client.get(asset)
        assert resp.status_code == 200
        resp.close()


@pytest.mark.req("FR-001", "FR-300", "FR-303")
def test_offline_box_logs_in_and_sells(tmp_path: Path) -> None:
    # no sync agent, and the broker address is unreachable: the till still works
    config = make_config(tmp_path, mqtt={"host": "127.0.0.1", "port": 1})
    db: SqliteDatabase = open_database(config.database_path)
    with db.connection_context():
        migrate(db)
        ensure_box_state(config)
        for msg in seed_messages():
            down_messages.apply_down(BoxContext(config), msg)
    client = create_app(config).test_client()
    assert login(client).status_code == 200
    assert client.post("/api/v1/shifts", json={"opening_float": "0.00"}).status_code == 201
    add(client, MILK)
    sale = pay(client, "2.00").get_json()
    assert sale["change"] == "0.01"
    assert client.get("/api/v1/status").get_json()["online"] is False


def test_box_refuses_selling_before_config_arrives(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    db = open_database(config.database_path)
    with db.connection_context():
        migrate(db)
        ensure_box_state(config)
        for msg in seed_messages()[1:]:
            down_messages.apply_down(BoxContext(config), msg)
    client = create_app(config).test_client()
    login(client)
    resp = client.post("/api/v1/basket/lines", json={"barcode": MILK})
    assert resp.status_code == 409
    assert resp.get_json()["error"]["details"] == {"missing": "config"}


def test_database_of_another_box_is_refused(tmp_path: Path, box_db: SqliteDatabase) -> None:
    config = make_config(tmp_path)  # same path as the fixture's box, new box id
    with pytest.raises(Exception, match="another box"):
        create_app(config)


@pytest.mark.req("NFR-005")
def test_schema_rejection_uses_the_shared_error_body(cashier: FlaskClient) -> None:
    """Box and hub answer a schema rejection alike: details.fields (posdomain.contract)."""
    resp = cashier.post("/api/v1/basket/lines", json={"barcode": 12, "extra": True})
    assert resp.status_code == 400
    body = ErrorBody.model_validate(resp.get_json())
    assert body.error.reason == "VALIDATION_FAILED"
    assert {f.field for f in body.error.details.fields} >= {"extra"}
    doc = cashier.get("/api/openapi.json").get_json()
    assert doc["components"]["schemas"]["Error"] == error_schema()["Error"]


@pytest.mark.req("NFR-001")
def test_requests_of_a_thread_reuse_its_connection(cashier: FlaskClient) -> None:
    """Closing the last connection of a WAL database checkpoints it (an fsync) and reopening
    re-runs the pragmas: the web app keeps the thread's connection between requests, and no
    request leaves a transaction open on it (issue 15)."""
    assert cashier.get("/api/v1/status").status_code == 200
    first = database.connection()
    assert cashier.get("/api/v1/status").status_code == 200
    add(cashier, MILK)
    assert database.connection() is first
    assert not database.in_transaction()
