"""Box enrolment: codes (portal + API), the code-gated enrol call, commissioning reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticValidationError

from hub.boxes import enrolment, registry
from hub.boxes.enrolment import CodeRequest, Endpoints
from hub.boxes.responses import (
    BoxDetailOut,
    EnrolmentOverviewOut,
    EnrolOut,
    NewCodeOut,
    ReportOut,
)
from hub.core.openapi import WRITE_ERRORS, api
from hub.i18n.reasons import reason_text, shown_reason
from hub.i18n.request_locale import current_locale
from hub.settings import mqtt_host_port
from hub.web import integrity, parse_body, render_page, require, target_tenant
from posdomain.contract import field_errors
from posdomain.errors import Conflict, NotFound, Reason, Unauthenticated, ValidationError
from posdomain.permissions import Action

bp = Blueprint("enrolment", __name__, template_folder="templates")
MAX_HARDWARE_BYTES = 8192
# enrol is code-gated: unknown/expired/used codes and the per-address rate limit
ENROL_ERRORS = (400, 401, 403, 404, 409, 410, 413, 423, 429)


class CodeIn(BaseModel):
    """POST /api/v1/enrolment-codes body."""

    model_config = ConfigDict(extra="forbid")

    branch_id: str = Field(min_length=1, max_length=64)
    till_name: str | None = Field(default=None, min_length=1, max_length=80)
    expires_in_minutes: int = Field(default=60, ge=1, le=enrolment.MAX_EXPIRY_MINUTES)
    replaces_box_id: str | None = Field(default=None, min_length=1, max_length=64)


class EnrolIn(BaseModel):
    """POST /api/v1/enrol body."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=4, max_length=40)
    hardware: dict[str, Any] = {}

    @field_validator("hardware")
    @classmethod
    def _small(cls, value: dict[str, Any]) -> dict[str, Any]:
        """The hardware summary is for the audit log: keep it small."""
        if len(json.dumps(value, default=str)) > MAX_HARDWARE_BYTES:
            raise ValueError(f"hardware summary over {MAX_HARDWARE_BYTES} bytes")
        return value


class ReportIn(BaseModel):
    """POST /api/v1/boxes/<id>/commissioning body (provisioning's selftest report)."""

    model_config = ConfigDict(extra="allow")

    box_id: str
    ok: bool
    steps: list[dict[str, Any]] = Field(min_length=1, max_length=50)


def _endpoints() -> Endpoints:
    """Public hub and broker addresses a box should use (config, env, else this request)."""
    hub_url = current_app.config.get("PUBLIC_URL")
    mqtt_url = current_app.config.get("MQTT_PUBLIC_URL") or current_app.config["MQTT_URL"]
    host, port = mqtt_host_port(str(mqtt_url))
    tls = str(mqtt_url).startswith("mqtts://")
    ca_file = current_app.config.get("MQTT_BOX_CA_FILE")
    ca_pem = Path(ca_file).read_text(encoding="utf-8") if tls and ca_file else None
    return Endpoints(str(hub_url or request.host_url).rstrip("/"), host, port, tls, ca_pem)


def _client_ip() -> str:
    return request.remote_addr or "unknown"


def _create(body: CodeIn) -> dict[str, Any]:
    principal, _scope = require(Action.BOX_ENROL)
    integrity().guard_writes()
    return enrolment.create_code(principal, CodeRequest(**body.model_dump()))


@bp.post("/api/v1/enrolment-codes")
@api({201: NewCodeOut}, body=CodeIn, errors=WRITE_ERRORS)
def create_code() -> ResponseReturnValue:
    """Create a one-time enrolment code (the code is in this response only)."""
    require(Action.BOX_ENROL)  # authenticate before reading the body
    return jsonify(_create(parse_body(CodeIn))), 201


@bp.get("/api/v1/enrolment-codes")
@api({200: EnrolmentOverviewOut})
def list_codes() -> ResponseReturnValue:
    """Open (unused, unexpired) codes and the boxes of the caller's branches."""
    principal, tenant, scope = target_tenant(Action.BOX_ENROL)
    return jsonify(registry.enrolment_overview(principal, tenant, scope))


@bp.post("/api/v1/enrol")
@api({201: EnrolOut}, body=EnrolIn, errors=ENROL_ERRORS, public=True)
def enrol() -> ResponseReturnValue:
    """Code-gated, unauthenticated: issue a new box identity, MQTT login and config."""
    body = parse_body(EnrolIn)
    result = enrolment.enrol(body.code, body.hardware, _client_ip(), _endpoints())
    if current_app.config["PUBLISH_DOWN"]:  # retained staff/catalog/config/flags for the box
        host, port = mqtt_host_port(current_app.config["MQTT_URL"])
        result["down_published"] = registry.publish_down_for(result["box_id"], host, port)
    return jsonify(result), 201


def _box_from_basic_auth(box_id: str) -> Any:
    auth = request.authorization
    if auth is None or auth.type != "basic" or not auth.username or auth.password is None:
        raise Unauthenticated(
            "send the box's MQTT username and password as HTTP basic auth", Reason.AUTH_REQUIRED
        )
    return registry.authenticate_box(box_id, auth.username, auth.password, _client_ip())


@bp.post("/api/v1/boxes/<box_id>/commissioning")
@api({201: ReportOut}, body=ReportIn, errors=WRITE_ERRORS, public=True)
def upload_report(box_id: str) -> ResponseReturnValue:
    """Store a box's self-test report (HTTP basic: the box's own MQTT credentials)."""
    box = _box_from_basic_auth(box_id)
    body = parse_body(ReportIn)
    if body.box_id != box_id:
        raise ValidationError("report box_id does not match the path", Reason.BOX_MISMATCH)
    return jsonify(registry.store_report(box, body.model_dump(mode="json"))), 201


@bp.get("/api/v1/boxes/<box_id>/commissioning")
@api({200: BoxDetailOut})
def box_reports(box_id: str) -> ResponseReturnValue:
    """A box's status, replacement links and latest commissioning reports."""
    principal, tenant, scope = target_tenant(Action.DEVICE_HEALTH, box_id=box_id)
    return jsonify(registry.box_detail(principal, tenant, scope, box_id))


@bp.route("/enrolment", methods=["GET", "POST"])
def enrolment_page() -> ResponseReturnValue:
    """Portal: create a code (shown once) and see open codes and boxes."""
    principal, tenant, scope = target_tenant(Action.BOX_ENROL)
    created, error = None, None
    if request.method == "POST":
        try:
            body = CodeIn.model_validate(
                {k: v for k, v in request.form.items() if k != "csrf_token" and v != ""}
            )
            created = _create(body)
        except (ValidationError, NotFound, Conflict) as err:  # Forbidden goes to the handler
            error = shown_reason(err.reason, current_locale(), err.message)
        except PydanticValidationError as err:
            error = "; ".join(f"{e['field']}: {e['problem']}" for e in field_errors(err))
            if current_locale() != "en":  # the field problems are written in English
                error = reason_text(Reason.VALIDATION_FAILED, current_locale(), error)
    data = registry.enrolment_overview(principal, tenant, scope)
    status = 201 if created else (400 if error else 200)
    return render_page("enrol.html", status, data=data, created=created, error=error)


@bp.get("/boxes/<box_id>")
def box_page(box_id: str) -> ResponseReturnValue:
    """Portal: one box and its commissioning reports."""
    principal, tenant, scope = target_tenant(Action.DEVICE_HEALTH, box_id=box_id)
    return render_page("enrol_box.html", box=registry.box_detail(principal, tenant, scope, box_id))
