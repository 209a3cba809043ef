"""Hardware page and device API: status, test print, drawer, reprint, scan stream (SSE)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from appliance.catalog.brand import current_brand
from appliance.devices import actions
from appliance.devices.health import devices_report
from appliance.devices.schemas import DevicesOut, KickOut, QueuedJobOut, SaleDevicesOut
from appliance.i18n import formats
from appliance.i18n.messages import catalog_for
from appliance.identity.session import current_staff, principal, require
from appliance.till import checkout
from appliance.web.openapi import api
from appliance.web.request import box
from posdomain.permissions import Action

bp = Blueprint("hardware", __name__, template_folder="templates")
V1 = "/api/v1"


@bp.get("/hardware")
def hardware_page() -> str:
    """The hardware page: every device's status, test print and drawer buttons."""
    cfg = box().config
    messages = catalog_for(cfg.locale)
    return render_template(
        "hardware.html",
        brand=current_brand(cfg.till_name).to_dict(),
        till_name=cfg.till_name,
        lang=cfg.locale.split("-")[0],
        t=messages,
        messages=messages,
        report=devices_report(),
        zone=cfg.timezone,
        when=lambda stamp: formats.moment(str(stamp), cfg.timezone, cfg.locale) if stamp else "",
    )


@bp.get(f"{V1}/devices")
@api({200: DevicesOut})
def devices() -> Response:
    """Each device's kind, path, state, last error and last seen (any logged-in staff)."""
    current_staff()
    return jsonify(devices_report())


@bp.post(f"{V1}/devices/printer/test")
@api({202: QueuedJobOut})
def test_print() -> tuple[Response, int]:
    """Queue a printer test page (supervisor, manager, field tech)."""
    staff = require(Action.DEVICE_HEALTH)
    return jsonify(actions.test_print(box(), staff)), 202


@bp.post(f"{V1}/devices/drawer/kick")
@api({200: KickOut})
def kick() -> Response:
    """Open the drawer now without a sale (supervisor/manager); never queued."""
    require(Action.DEVICE_HEALTH)  # keeps cashiers (NO_SALE by override) off the hardware page
    staff = require(Action.NO_SALE)
    return jsonify(actions.no_sale_kick(box(), staff))


@bp.get(f"{V1}/sales/<sale_id>/devices")
@api({200: SaleDevicesOut})
def sale_devices(sale_id: str) -> Response:
    """Receipt print jobs and drawer outcome of a sale."""
    checkout.get_sale(principal(), box().config.branch_id, sale_id)
    return jsonify(actions.sale_devices(sale_id))


@bp.post(f"{V1}/sales/<sale_id>/reprint")
@api({202: QueuedJobOut})
def reprint(sale_id: str) -> tuple[Response, int]:
    """Queue a COPY of the receipt (own sales, or any with SALES_READ)."""
    staff = require(Action.SELL)
    sale = checkout.get_sale(principal(), box().config.branch_id, sale_id)
    return jsonify(actions.reprint(box(), staff, sale)), 202


@bp.get(f"{V1}/scans/stream")
@api({200: "text/event-stream"})
def scan_stream() -> Response:
    """Server-Sent Events: codes read by the box's attached scanner, as they arrive."""
    require(Action.SELL)
    header = request.headers.get("Last-Event-ID", "")
    last_id = int(header) if header.isdigit() else None
    seconds = float(current_app.config.get("SCAN_STREAM_SECONDS", 300))
    stream = actions.scan_stream(box().config.database_path, last_id, max_seconds=seconds)
    return Response(
        stream,
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
