"""Flask application factory (gunicorn: `gunicorn 'hub.app:create_app()'`)."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import yaml
from flask import Flask, current_app, jsonify
from pydantic import BaseModel

from hub import web
from hub.alerting import views as alerting_views
from hub.boxes import views as box_views
from hub.catalog import api as catalog_api
from hub.catalog import pages as catalog_pages
from hub.compliance import pages as compliance_pages
from hub.compliance import views as compliance_views
from hub.core import db as hub_db
from hub.core import openapi
from hub.core.models import utcnow
from hub.core.openapi import api
from hub.customers import pages as customer_pages
from hub.customers import views as customer_views
from hub.forecasts import pages as forecast_pages
from hub.forecasts import views as forecast_views
from hub.governance import audit, rule_views
from hub.governance import views as governance_views
from hub.governance.audit import IntegrityState
from hub.i18n import portal as i18n_portal
from hub.identity import auth_views, staff_views, user_views
from hub.incidents import views as incident_views
from hub.integrations import pages as integration_pages
from hub.integrations import views as integration_views
from hub.inventory import views as inventory_views
from hub.ops import metrics
from hub.ops import views as ops_views
from hub.pricing import views as pricing_views
from hub.releases import views as release_views
from hub.reports import pages as report_pages
from hub.reports import views as report_views
from hub.risk import guard as risk_guard
from hub.risk import views as risk_views
from hub.sales import pages as sales_pages
from hub.sales import views as sales_views
from hub.settings import mqtt_host_port, settings
from hub.sync import downlink
from hub.sync import views as sync_views
from posdomain.obs import configure_logging, log_event

log = logging.getLogger(__name__)
OPENAPI_PATH = Path(__file__).with_name("openapi.yaml")
# one blueprint (or two: API and pages) per area; each area keeps its own templates
BLUEPRINTS = (
    auth_views,
    user_views,
    governance_views,
    rule_views,
    sales_views,
    sales_pages,
    inventory_views,
    catalog_api,
    catalog_pages,
    sync_views,
    box_views,
    pricing_views,
    alerting_views,
    ops_views,
    risk_views,
    incident_views,
    staff_views,
    customer_views,
    customer_pages,
    integration_views,
    integration_pages,
    compliance_views,
    compliance_pages,
    forecast_views,
    forecast_pages,
    report_views,
    report_pages,
    release_views,
)


def _publisher(app: Flask, tenant_id: str) -> None:
    """Push a tenant's down messages after a committed change (never fails the request)."""
    if not app.config["PUBLISH_DOWN"]:
        return
    host, port = mqtt_host_port(app.config["MQTT_URL"])
    downlink.publish_tenant(host, port, tenant_id)


class OpenApiDocument(BaseModel):
    """The OpenAPI 3.1 document itself."""

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
    components: dict[str, Any]


@api({200: OpenApiDocument}, errors=(), public=True)
def openapi_json() -> Any:
    """This API's OpenAPI document, generated from the views' declarations."""
    return jsonify(openapi.document(current_app, yaml.safe_load(OPENAPI_PATH.read_text())))


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
    app.config.update(settings().flask_config())
    app.config.update(config or {})
    app.permanent_session_lifetime = timedelta(seconds=app.config["IDLE_TIMEOUT_SECONDS"])
    hub_db.bind(app.config["DATABASE_URL"], app.config.get("PLATFORM_DATABASE_URL"))
    web.init_app(app)
    i18n_portal.init_app(app)
    metrics.init_app(app)
    risk_guard.init_app(app)
    for area in BLUEPRINTS:
        app.register_blueprint(area.bp)
    app.add_url_rule("/api/openapi.json", "openapi", openapi_json)
    app.add_url_rule("/healthz", "healthz", lambda: jsonify({"ok": True}))
    app.extensions["cfpos_publish"] = partial(_publisher, app)
    app.extensions.setdefault("cfpos_clock", utcnow)  # tests inject a fake clock here
    app.extensions["cfpos_integrity"] = _validate_audit(app)
    return app
