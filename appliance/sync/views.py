"""Liveness and till status (online/offline, backlog, held versions); acknowledging a
refused event at the till."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from appliance.identity.session import current_staff
from appliance.sync import refusals
from appliance.sync.schemas import AcknowledgedOut, AcknowledgeRefusal
from appliance.sync.status import StatusOut, box_status
from appliance.web.openapi import api
from appliance.web.request import box, json_body

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


@bp.post(f"{V1}/sync/refused/<int:seq>/acknowledge")
@api({200: AcknowledgedOut}, body=AcknowledgeRefusal)
def acknowledge_refused(seq: int) -> Response:
    """A supervisor/manager lets go of a refused event at the till (audited; kept, never
    delivered; the hub's reconciliation item stays for head office)."""
    staff = current_staff()
    body = json_body(AcknowledgeRefusal)
    return jsonify(refusals.acknowledge(box(), staff, seq, body.note))
