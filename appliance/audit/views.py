"""Audit API: verify the box audit chain now."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from appliance.audit import log as audit_log
from appliance.audit.schemas import IntegrityOut
from appliance.identity.session import require
from appliance.web.openapi import api
from appliance.web.request import box
from posdomain.permissions import Action

bp = Blueprint("audit", __name__)
V1 = "/api/v1"


@bp.get(f"{V1}/audit/integrity")
@api({200: IntegrityOut})
def integrity() -> Response:
    """Verify the box audit chain now."""
    require(Action.AUDIT_READ)
    return jsonify(audit_log.integrity(box()))
