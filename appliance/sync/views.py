"""Liveness and till status (online/offline, backlog, held versions)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from appliance.sync.status import StatusOut, box_status
from appliance.web.openapi import api
from appliance.web.request import box

bp = Blueprint("sync", __name__)
V1 = "/api/v1"


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness for launchers and monitoring (the web process is up and its DB answers)."""
    box_status(box())
    return jsonify({"ok": True})


@bp.get(f"{V1}/status")
@api({200: StatusOut}, public=True, errors=(400,))
def get_status() -> Response:
    """Online/offline, backlog and held versions (polled by the cashier screen)."""
    return jsonify(box_status(box()))
