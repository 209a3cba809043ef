"""Box fixtures: a migrated, seeded box database and its Flask test client."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response, current_app, request
from flask.testing import FlaskClient
from peewee import SqliteDatabase
from pydantic import BaseModel

from appliance.app import create_app
from appliance.catalog import down_messages
from appliance.core.context import BoxContext
from appliance.core.db import open_database
from appliance.migrations import migrate
from appliance.sync.box_state import ensure_box_state
from firmware_config.schema import BoxConfig
from posdomain.openapi import spec_of
from tests.appliance.factories import PINS, make_config, seed_messages
from tests.appliance.till_helpers import till  # noqa: F401 - fixture of the till-operation tests


@pytest.fixture
def box_config(tmp_path: Path) -> BoxConfig:
    """A unique box config writing into tmp_path."""
    return make_config(tmp_path)


@pytest.fixture(scope="session")
def migrated_box_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A box database file with every migration applied, made once per test process and
    closed (WAL checkpointed into the file): each test's box database starts as a copy of it.
    The same bytes a fresh migrate would write, without the ~20 durable commits per test
    (SQLite with synchronous=FULL: an fsync each, the bulk of a box test's setup on a loaded
    disk)."""
    path = tmp_path_factory.mktemp("box-template") / "box.sqlite3"
    db = open_database(path)
    with db.connection_context():
        migrate(db)
    db.close()
    return path


@pytest.fixture
def box_db(box_config: BoxConfig, migrated_box_file: Path) -> Iterator[SqliteDatabase]:
    """Migrated database with the identity row, seeded with config, staff and catalog."""
    target = Path(box_config.database_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(migrated_box_file, target)
    db = open_database(target)
    with db.connection_context():
        migrate(db)
        ensure_box_state(box_config)
        ctx = BoxContext(box_config)
        for msg in seed_messages():
            down_messages.apply_down(ctx, msg)
    yield db
    db.close()


@pytest.fixture
def app(box_config: BoxConfig, box_db: SqliteDatabase) -> Flask:
    """The box app over the seeded database."""
    application = create_app(box_config)
    application.testing = True
    application.after_request(_answer_matches_its_model)
    return application


def _answer_matches_its_model(response: Response) -> Response:
    """Every JSON answer a box test sees must validate against the model its view declares
    for that status (the OpenAPI document's source): a test reading a key the model does not
    name, or an answer missing a declared one, fails here (issue 10 item 7)."""
    view = current_view()
    spec = None if view is None else spec_of(view)
    if spec is None or response.is_streamed or response.mimetype != "application/json":
        return response
    model = spec.responses.get(response.status_code)
    if isinstance(model, type) and issubclass(model, BaseModel):
        model.model_validate_json(response.get_data())
    return response


def current_view() -> Any:
    """The view function serving the current request (None for a 404 on no route)."""
    endpoint = request.endpoint
    return None if endpoint is None else current_app.view_functions.get(endpoint)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser with no session."""
    return app.test_client()


def login(client: FlaskClient, who: str = "cashier") -> Any:
    """Log a test staff member in by PIN; returns the response."""
    return client.post("/api/v1/auth/pin", json={"pin": PINS[who]})


@pytest.fixture
def cashier(client: FlaskClient) -> FlaskClient:
    """A browser logged in as the cashier."""
    assert login(client).status_code == 200
    return client


@pytest.fixture
def shift_open(cashier: FlaskClient) -> dict[str, Any]:
    """The cashier has opened this till's shift (no sale without one where drawers are
    counted: FR-300); returns the shift."""
    resp = cashier.post("/api/v1/shifts", json={"opening_float": "0.00"})
    assert resp.status_code == 201, resp.get_json()
    return dict(resp.get_json())


def count(db: SqliteDatabase, table: str) -> int:
    """Rows in a table (test-side check of what was really written)."""
    return int(db.execute_sql(f"SELECT count(*) FROM {table}").fetchone()[0])
