"""Till API of shifts: open with a float, drops, paid-outs, X report, close with the Z report
(JSON, printable page and print)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request

from appliance.catalog.brand import current_brand
from appliance.i18n import formats
from appliance.i18n.messages import catalog_for
from appliance.identity.session import require
from appliance.till import deposits, shifts, xz_reports
from appliance.till.responses import (
    BankDepositOut,
    BankDepositsOut,
    CashMoveOut,
    CloseShiftOut,
    CurrentShiftOut,
    PrintJobOut,
    ShiftOut,
    XReportOut,
    ZReportOut,
)
from appliance.till.schemas import BankDepositIn, CashMove, CloseShift, DepositDay, OpenShift
from appliance.web.openapi import api
from appliance.web.request import box, json_body
from posdomain.permissions import Action

bp = Blueprint("till_shifts", __name__, template_folder="templates")
V1 = "/api/v1"


@bp.post(f"{V1}/shifts")
@api({201: ShiftOut}, body=OpenShift)
def open_shift() -> tuple[Response, int]:
    """Open this till's shift with the opening float."""
    staff = require(Action.SHIFT)
    body = json_body(OpenShift)
    return jsonify(shifts.open_shift(box(), staff, body.opening_float)), 201


@bp.get(f"{V1}/shifts/current")
@api({200: CurrentShiftOut})
def current_shift() -> Response:
    """The open shift of this till (null when none) and whether the store counts drawers."""
    require(Action.SELL)
    shift = shifts.current(box())
    return jsonify(
        {
            "shift": None if shift is None else shifts.shift_dict(shift),
            "drawer_counting": shifts.drawer_counting(),
        }
    )


@bp.post(f"{V1}/shifts/current/drops")
@api({201: CashMoveOut}, body=CashMove)
def cash_drop() -> tuple[Response, int]:
    """Move cash from the drawer to the safe."""
    staff = require(Action.SHIFT)
    body = json_body(CashMove)
    moved = shifts.cash_movement(box(), staff, "drop", body.amount, body.reason_code, body.note)
    return jsonify(moved), 201


@bp.post(f"{V1}/shifts/current/paid-outs")
@api({201: CashMoveOut}, body=CashMove)
def paid_out() -> tuple[Response, int]:
    """Pay cash out of the drawer for a reason (supplier, petty cash, ...)."""
    staff = require(Action.SHIFT)
    body = json_body(CashMove)
    moved = shifts.cash_movement(box(), staff, "paid_out", body.amount, body.reason_code, body.note)
    return jsonify(moved), 201


@bp.post(f"{V1}/drawer/bank-deposits")
@api({201: BankDepositOut}, body=BankDepositIn)
def bank_deposit() -> tuple[Response, int]:
    """Take cash from the drawer (or, with no shift open, the safe) to the bank, with its slip
    number (a supervisor's override for cashiers); goes up as `drawer.bank_deposit`."""
    staff = require(Action.SELL)
    body = json_body(BankDepositIn)
    return jsonify(deposits.record(box(), staff, body.model_dump())), 201


@bp.get(f"{V1}/drawer/bank-deposits")
@api({200: BankDepositsOut}, query=DepositDay)
def bank_deposits() -> Response:
    """The bank deposits of today (or `business_day`: yesterday), with their sum."""
    require(Action.Z_REPORT)
    return jsonify(deposits.listing(box(), request.args.get("business_day") or None))


@bp.get(f"{V1}/shifts/current/x")
@api({200: XReportOut})
def x_report() -> Response:
    """The X report of the open shift (no reset)."""
    return jsonify(shifts.x_report(box(), require(Action.X_REPORT)))


@bp.post(f"{V1}/shifts/current/x/print")
@api({202: PrintJobOut})
def print_x() -> tuple[Response, int]:
    """Print the X report on the receipt printer."""
    return jsonify(shifts.print_x(box(), require(Action.X_REPORT))), 202


@bp.post(f"{V1}/shifts/current/close")
@api({200: CloseShiftOut}, body=CloseShift)
def close_shift() -> Response:
    """Close the shift with counted amounts per tender; writes the numbered Z report."""
    staff = require(Action.SHIFT)
    body = json_body(CloseShift)
    return jsonify(shifts.close_shift(box(), staff, dict(body.counted)))


@bp.get(f"{V1}/reports/z/<int:z_no>")
@api({200: ZReportOut})
def z_json(z_no: int) -> Response:
    """A stored Z report."""
    require(Action.Z_REPORT)
    return jsonify(xz_reports.get_z(z_no))


@bp.post(f"{V1}/reports/z/<int:z_no>/print")
@api({202: PrintJobOut})
def z_print(z_no: int) -> tuple[Response, int]:
    """Reprint a Z report (marked COPY)."""
    require(Action.Z_REPORT)
    return jsonify(shifts.print_z(box(), z_no)), 202


@bp.get("/reports/z/<int:z_no>")
def z_html(z_no: int) -> str:
    """A stored Z report as a printable page."""
    require(Action.Z_REPORT)
    cfg = box().config
    return render_template(
        "xz_report.html",
        report=xz_reports.get_z(z_no),
        brand=current_brand(cfg.till_name).to_dict(),
        t=catalog_for(cfg.locale),
        lang=cfg.locale.split("-")[0],
        money=lambda value: xz_reports.money_text(value, cfg.locale),
        percent=lambda rate: formats.percent(rate, cfg.locale),
        when=lambda stamp: formats.moment(str(stamp), cfg.timezone, cfg.locale),
    )
