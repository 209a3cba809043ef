"""Approvals API: a supervisor grants an override token; line price edits and discounts."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from appliance.approvals import line_price_edits, override_tokens
from appliance.approvals.schemas import (
    LineDiscount,
    LinePrice,
    OverrideGrantOut,
    OverrideRequest,
)
from appliance.identity.session import require
from appliance.till.responses import BasketOut
from appliance.web.openapi import api
from appliance.web.request import box, json_body
from posdomain.permissions import Action

bp = Blueprint("approvals", __name__)
V1 = "/api/v1"


@bp.post(f"{V1}/overrides")
@api({201: OverrideGrantOut}, body=OverrideRequest)
def grant_override() -> tuple[Response, int]:
    """A supervisor/manager approves one action for the logged-in cashier (PIN or badge)."""
    staff = require(Action.SELL)
    body = json_body(OverrideRequest)
    granted = override_tokens.grant(
        box(),
        staff,
        body.action,
        body.reason_code,
        body.pin or "",
        body.approver_id,
        badge=body.badge,
    )
    return jsonify(granted), 201


@bp.post(f"{V1}/basket/lines/<int:line_no>/price")
@api({200: BasketOut}, body=LinePrice)
def line_price(line_no: int) -> Response:
    """Override a line's unit price (supervisor override for cashiers)."""
    staff = require(Action.SELL)
    body = json_body(LinePrice)
    return jsonify(
        line_price_edits.override_price(
            box(), staff, line_no, body.unit_price, body.override_token, body.reason_code
        )
    )


@bp.post(f"{V1}/basket/lines/<int:line_no>/discount")
@api({200: BasketOut}, body=LineDiscount)
def line_discount(line_no: int) -> Response:
    """Discount a line by percent (override above the configured threshold)."""
    staff = require(Action.SELL)
    body = json_body(LineDiscount)
    return jsonify(
        line_price_edits.discount_line(
            box(), staff, line_no, body.percent, body.override_token, body.reason_code
        )
    )
