"""Till API of refunds, post-voids and no-sale opens (thin: parse, call, render)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from appliance.identity.session import require
from appliance.till import refunds, voids
from appliance.till.responses import NoSaleOut, RefundLookupOut, RefundOut, VoidOut
from appliance.till.schemas import ApprovedAction, RefundLookup, RefundRequest
from appliance.web.openapi import api
from appliance.web.request import box, correlation_id, json_body
from posdomain.errors import Reason, ValidationError
from posdomain.permissions import Action

bp = Blueprint("till_refunds", __name__)
V1 = "/api/v1"


@bp.get(f"{V1}/refunds/lookup")
@api({200: RefundLookupOut}, query=RefundLookup)
def lookup() -> Response:
    """The sale behind a receipt number, receipt barcode or QR sale id, with refundable qty."""
    require(Action.SELL)
    code = request.args.get("code", "")
    if not 0 < len(code) <= 64:
        raise ValidationError("code is required (at most 64 characters)", Reason.VALIDATION_FAILED)
    return jsonify(refunds.lookup(code))


@bp.post(f"{V1}/refunds")
@api({201: RefundOut}, body=RefundRequest)
def create_refund() -> tuple[Response, int]:
    """Record a refund (override required for cashiers); prints the slip, opens the drawer."""
    staff = require(Action.SELL)
    body = json_body(RefundRequest)
    if bool(body.receipt) == bool(body.products) or (body.receipt and not body.lines):
        raise ValidationError("give a receipt with lines, or products without a receipt")
    wanted = (
        [(str(ln.line_no), ln.qty) for ln in body.lines]
        if body.receipt
        else [(p.product_id, p.qty) for p in body.products]
    )
    payload = refunds.refund(
        box(),
        staff,
        {
            "sale_code": body.receipt,
            "lines": wanted,
            **body.model_dump(
                include={
                    "tender",
                    "card_reference",
                    "reason_code",
                    "override_token",
                    "idempotency_key",
                }
            ),
        },
        correlation_id(),
    )
    return jsonify(payload), 201


@bp.post(f"{V1}/sales/<sale_id>/void")
@api({200: VoidOut}, body=ApprovedAction)
def post_void(sale_id: str) -> Response:
    """Post-void the last sale of the shift (override required for cashiers)."""
    staff = require(Action.SELL)
    body = json_body(ApprovedAction)
    return jsonify(
        voids.post_void(
            box(), staff, sale_id, body.override_token, body.reason_code, correlation_id()
        )
    )


@bp.post(f"{V1}/drawer/no-sale")
@api({200: NoSaleOut}, body=ApprovedAction)
def no_sale() -> Response:
    """Open the drawer without a sale (override required for cashiers; counted on the Z)."""
    staff = require(Action.SELL)
    body = json_body(ApprovedAction)
    return jsonify(voids.no_sale(box(), staff, body.override_token, body.reason_code))
