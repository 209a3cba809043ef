"""Till API for shifts, X/Z reports (JSON, HTML, print), suspend/resume and customer attach."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template

from appliance.services import reports_xz, shifts, suspend
from appliance.services.brand import current_brand
from appliance.views.common import box, json_body, require
from appliance.views.till_schemas import AttachCustomer, CashMove, CloseShift, OpenShift, Suspend
from posdomain.permissions import Action

bp = Blueprint("till_shifts", __name__, template_folder="../templates")
V1 = "/api/v1"


@bp.post(f"{V1}/shifts")
def open_shift() -> tuple[Response, int]:
    """Open this till's shift with the opening float."""
    staff = require(Action.SHIFT)
    body = json_body(OpenShift)
    return jsonify(shifts.open_shift(box(), staff, body.opening_float)), 201


@bp.get(f"{V1}/shifts/current")
def current_shift() -> Response:
    """The open shift of this till (null when none)."""
    require(Action.SELL)
    shift = shifts.current(box())
    return jsonify({"shift": None if shift is None else shifts.shift_dict(shift)})


@bp.post(f"{V1}/shifts/current/drops")
def cash_drop() -> tuple[Response, int]:
    """Move cash from the drawer to the safe."""
    staff = require(Action.SHIFT)
    body = json_body(CashMove)
    moved = shifts.cash_movement(box(), staff, "drop", body.amount, body.reason_code, body.note)
    return jsonify(moved), 201


@bp.post(f"{V1}/shifts/current/paid-outs")
def paid_out() -> tuple[Response, int]:
    """Pay cash out of the drawer for a reason (supplier, petty cash, ...)."""
    staff = require(Action.SHIFT)
    body = json_body(CashMove)
    moved = shifts.cash_movement(box(), staff, "paid_out", body.amount, body.reason_code, body.note)
    return jsonify(moved), 201


@bp.get(f"{V1}/shifts/current/x")
def x_report() -> Response:
    """The X report of the open shift (no reset)."""
    return jsonify(shifts.x_report(box(), require(Action.X_REPORT)))


@bp.post(f"{V1}/shifts/current/x/print")
def print_x() -> tuple[Response, int]:
    """Print the X report on the receipt printer."""
    return jsonify(shifts.print_x(box(), require(Action.X_REPORT))), 202


@bp.post(f"{V1}/shifts/current/close")
def close_shift() -> Response:
    """Close the shift with counted amounts per tender; writes the numbered Z report."""
    staff = require(Action.SHIFT)
    body = json_body(CloseShift)
    return jsonify(shifts.close_shift(box(), staff, dict(body.counted)))


@bp.get(f"{V1}/reports/z/<int:z_no>")
def z_json(z_no: int) -> Response:
    """A stored Z report."""
    require(Action.Z_REPORT)
    return jsonify(reports_xz.get_z(z_no))


@bp.post(f"{V1}/reports/z/<int:z_no>/print")
def z_print(z_no: int) -> tuple[Response, int]:
    """Reprint a Z report (marked COPY)."""
    require(Action.Z_REPORT)
    return jsonify(shifts.print_z(z_no)), 202


@bp.get("/reports/z/<int:z_no>")
def z_html(z_no: int) -> str:
    """A stored Z report as a printable page."""
    require(Action.Z_REPORT)
    cfg = box().config
    return render_template(
        "xz_report.html",
        report=reports_xz.get_z(z_no),
        brand=current_brand(cfg.till_name).to_dict(),
    )


@bp.post(f"{V1}/basket/suspend")
def suspend_basket() -> tuple[Response, int]:
    """Park the open basket under a label."""
    staff = require(Action.SELL)
    return jsonify(suspend.suspend(box(), staff, json_body(Suspend).label)), 201


@bp.get(f"{V1}/basket/suspended")
def suspended() -> Response:
    """Parked baskets this staff member may resume."""
    return jsonify({"suspended": suspend.list_suspended(require(Action.SELL))})


@bp.post(f"{V1}/basket/suspended/<int:parked_id>/resume")
def resume_basket(parked_id: int) -> Response:
    """Resume a parked basket as the open basket."""
    return jsonify(suspend.resume(box(), require(Action.SELL), parked_id))


@bp.post(f"{V1}/basket/customer")
def attach_customer() -> Response:
    """Attach a customer (id and name) to the open basket."""
    staff = require(Action.SELL)
    body = json_body(AttachCustomer)
    return jsonify(suspend.attach_customer(box(), staff, body.customer_id, body.name))
