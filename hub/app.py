"""Flask application factory (gunicorn: `gunicorn 'hub.app:create_app()'`)."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import yaml
from flask import Flask, jsonify

from hub import db as hub_db
from hub import web
from hub.services import audit, downlink
from hub.services.audit import IntegrityState
from hub.settings import defaults, mqtt_host_port
from hub.views import (
    admin,
    auth,
    catalog,
    catalog_pages,
    governance,
    inventory,
    portal,
    sales,
    sync,
)
from hub.views import enrolment as enrolment_views
from hub.views import pricing as pricing_views
from posdomain.contract import error_schema
from posdomain.obs import configure_logging, log_event

log = logging.getLogger(__name__)
OPENAPI_PATH = Path(__file__).with_name("openapi.yaml")


def _publisher(app: Flask, tenant_id: str) -> None:
    """Push a tenant's down messages after a committed change (never fails the request)."""
    if not app.config["PUBLISH_DOWN"]:
        return
    host, port = mqtt_host_port(app.config["MQTT_URL"])
    downlink.publish_tenant(host, port, tenant_id)


def _openapi() -> Any:
    doc = yaml.safe_load(OPENAPI_PATH.read_text())
    doc["components"]["schemas"].update(error_schema())  # the shared contract's error body
    return jsonify(doc)


def _validate_audit(app: Flask) -> IntegrityState:
    if not app.config["VALIDATE_AUDIT_ON_START"]:
        return IntegrityState()
    key = str(app.config["AUDIT_CHECKPOINT_KEY"]).encode()
    hub_db.db.connect(reuse_if_open=True)
    try:
        state = audit.startup_validation(app.config["AUDIT_CHECKPOINT_DIR"], key)
    finally:
        hub_db.db.close()
    if state.locked:
        log_event(log, "integrity locked: privileged writes refused", logging.CRITICAL)
    return state


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the hub app: bind the database, validate the audit chains, register blueprints."""
    configure_logging("hub")
    app = Flask(__name__)
    app.config.update(defaults())
    app.config.update(config or {})
    app.permanent_session_lifetime = timedelta(seconds=app.config["IDLE_TIMEOUT_SECONDS"])
    hub_db.bind(app.config["DATABASE_URL"])
    web.init_app(app)
    for module in (auth, admin, governance, sales, portal, inventory, catalog, catalog_pages, sync):
        app.register_blueprint(module.bp)
    app.register_blueprint(enrolment_views.bp)
    app.register_blueprint(pricing_views.bp)
    app.add_url_rule("/api/openapi.json", "openapi", _openapi)
    app.add_url_rule("/healthz", "healthz", lambda: jsonify({"ok": True}))
    app.extensions["cfpos_publish"] = partial(_publisher, app)
    app.extensions["cfpos_integrity"] = _validate_audit(app)
    return app
