"""Flask application factory of the box: cashier JSON API, cashier screen, OpenAPI."""

from __future__ import annotations

import contextvars
import os
import re
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, request
from peewee import SqliteDatabase

from appliance.approvals import views as approvals_views
from appliance.audit import log as audit_log
from appliance.audit import views as audit_views
from appliance.catalog import views as catalog_views
from appliance.core.context import BoxContext
from appliance.core.db import open_database
from appliance.customers import views as customers_views
from appliance.devices import views as devices_views
from appliance.identity import views as identity_views
from appliance.inventory import views as inventory_views
from appliance.migrations import pending
from appliance.ops import metrics
from appliance.risk import guard as risk_guard
from appliance.sync import views as sync_views
from appliance.sync.box_state import ensure_box_state
from appliance.till import receipt_views, refund_views, shift_views
from appliance.till import views as till_views
from appliance.web import openapi, screen
from appliance.web.edge import check_request
from appliance.web.errors import register_error_handlers
from appliance.web.session_cookie import KeptCookieSessions
from firmware_config.schema import BoxConfig
from posdomain.obs import bind_correlation, configure_logging

_CID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
# one blueprint per area; URLs are the blueprints' own (the cashier screen serves /static)
BLUEPRINTS = (
    identity_views.bp,
    till_views.bp,
    catalog_views.bp,
    inventory_views.bp,
    sync_views.bp,
    audit_views.bp,
    openapi.bp,
    screen.bp,
    devices_views.bp,
    shift_views.bp,
    refund_views.bp,
    approvals_views.bp,
    customers_views.bp,
    receipt_views.bp,
)


def load_secret_key(config: BoxConfig) -> bytes:
    """The cookie-signing key: from secret_key_file, else one kept beside the database."""
    path = Path(config.secret_key_file or Path(config.database_path).parent / "secret_key")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text(encoding="utf-8").strip().encode()


def start_box(config: BoxConfig) -> tuple[SqliteDatabase, BoxContext]:
    """Open the database, check identity and verify the audit chain (FR-802 start-up check)."""
    db = open_database(config.database_path)
    with db.connection_context():
        todo = pending(db)
        if todo:
            raise RuntimeError(
                f"database needs migrations {todo}: run `python -m appliance "
                "migrate --config <file>` first"
            )
        ensure_box_state(config)
        ctx = BoxContext(config)
        audit_log.verify_at_startup(ctx)
    return db, ctx


def isolate_context(
    wsgi_app: Callable[[dict[str, Any], Any], Iterable[bytes]],
) -> Callable[[dict[str, Any], Any], Iterable[bytes]]:
    """Run each request in a fresh copy of the context, so a bound correlation id never leaks."""

    def run(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        return contextvars.copy_context().run(wsgi_app, environ, start_response)

    return run


def create_app(config: BoxConfig) -> Flask:
    """Build the box web app for one box configuration."""
    configure_logging("box")
    db, ctx = start_box(config)
    app = Flask(__name__, static_folder=None)  # assets: the cashier screen's blueprint
    app.config.update(
        SECRET_KEY=load_secret_key(config),
        MAX_CONTENT_LENGTH=config.max_request_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
    )
    app.extensions["box"] = ctx
    app.session_interface = KeptCookieSessions()  # Flask's signed cookie, verified once per text

    @app.before_request
    def _open() -> None:
        header = request.headers.get("X-Correlation-ID", "")
        g.correlation_id = bind_correlation(header if _CID.match(header) else None)
        check_request(request)  # control characters and path integers, before any view
        db.connect(reuse_if_open=True)

    @app.after_request
    def _tag(response: Response) -> Response:
        response.headers["X-Correlation-ID"] = g.get("correlation_id", "")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        # The thread keeps its connection for the next request: closing the last connection
        # of a WAL database checkpoints it (an fsync) and reopening re-runs the pragmas, which
        # cost add-line more than its own durable commit (issue 15). A transaction a request
        # left open (never by design: write_txn/atomic end theirs) is rolled back here.
        if not db.is_closed() and db.in_transaction():
            db.rollback()

    app.wsgi_app = isolate_context(app.wsgi_app)  # type: ignore[method-assign,assignment]
    register_error_handlers(app)
    metrics.init_app(app, ctx)
    risk_guard.init_app(app, ctx)  # after _open: it reads the stored mode
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    return app
