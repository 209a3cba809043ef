"""Till API of the basket: lines, price list, payment, sales, parking and the customer."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from appliance.identity.session import principal, require
from appliance.till import basket, checkout, exchange, suspend
from appliance.till.responses import (
    BasketCustomerOut,
    BasketOut,
    ResumedOut,
    SaleOut,
    SuspendedBasketOut,
    SuspendedOut,
)
from appliance.till.schemas import (
    AddLine,
    AttachCustomer,
    BasketMode,
    ExchangeReturn,
    PayCash,
    Suspend,
)
from appliance.till.tenders import TenderIn
from appliance.web.openapi import api
from appliance.web.request import box, correlation_id, json_body
from posdomain.permissions import Action

bp = Blueprint("till", __name__)
V1 = "/api/v1"


@bp.get(f"{V1}/basket")
@api({200: BasketOut})
def get_basket() -> Response:
    """The cashier's open basket with running totals."""
    staff = require(Action.SELL)
    return jsonify(basket.view(box(), staff.id))


@bp.post(f"{V1}/basket/lines")
@api({201: BasketOut}, body=AddLine)
def add_line() -> tuple[Response, int]:
    """Add a product by barcode (a weighed one with its weight, or read from the scale)."""
    staff = require(Action.SELL)
    body = json_body(AddLine)
    if body.returned:
        added = basket.add_returned(box(), staff, body.barcode, body.quantity())
        return jsonify(added), 201
    added = basket.add_line(
        box(), staff, body.barcode, body.quantity(), body.age_confirmed, body.weight_kg()
    )
    return jsonify(added), 201


@bp.post(f"{V1}/basket/returns")
@api({201: BasketOut}, body=ExchangeReturn)
def add_returns() -> tuple[Response, int]:
    """Bring back items of an earlier sale (an exchange; approved like a refund)."""
    staff = require(Action.SELL)
    body = json_body(ExchangeReturn)
    request = {
        "receipt": body.receipt,
        "lines": [(ln.line_no, ln.qty) for ln in body.lines],
        "override_token": body.override_token,
        "reason_code": body.reason_code,
    }
    return jsonify(exchange.add_returns(box(), staff, request, correlation_id())), 201


@bp.post(f"{V1}/basket/mode")
@api({200: BasketOut}, body=BasketMode)
def basket_mode() -> Response:
    """Switch the basket's price list (retail/wholesale); supervisors and managers only."""
    staff = require(Action.SELL)
    body = json_body(BasketMode)
    return jsonify(basket.set_price_list(box(), staff, principal(), body.price_list))


@bp.delete(f"{V1}/basket/lines/<int:line_no>")
@api({200: BasketOut})
def void_line(line_no: int) -> Response:
    """Void a basket line."""
    staff = require(Action.LINE_VOID)
    return jsonify(basket.void_line(box(), staff, line_no))


@bp.post(f"{V1}/basket/pay")
@api({200: SaleOut}, body=PayCash)
def pay() -> Response:
    """Pay the basket (cash, or split cash/card); the same idempotency key returns the same sale."""
    staff = require(Action.SELL)
    body = json_body(PayCash)
    tenders = (
        [TenderIn(t.kind, t.amount, t.reference) for t in body.tenders]
        if body.tenders
        else [TenderIn("cash", body.tendered or "")]
    )
    sale, text = checkout.pay_text(box(), staff, tenders, body.idempotency_key, correlation_id())
    if text is None:
        return jsonify(sale)
    # the sale's canonical JSON as stored: what jsonify writes (sorted keys, compact), in UTF-8
    return Response(f"{text}\n", mimetype="application/json")


@bp.get(f"{V1}/sales/<sale_id>")
@api({200: SaleOut})
def get_sale(sale_id: str) -> Response:
    """A completed sale (own sales, or any with SALES_READ)."""
    return jsonify(checkout.get_sale(principal(), box().config.branch_id, sale_id))


@bp.post(f"{V1}/basket/suspend")
@api({201: SuspendedBasketOut}, body=Suspend)
def suspend_basket() -> tuple[Response, int]:
    """Park the open basket under a label."""
    staff = require(Action.SELL)
    return jsonify(suspend.suspend(box(), staff, json_body(Suspend).label)), 201


@bp.get(f"{V1}/basket/suspended")
@api({200: SuspendedOut})
def suspended() -> Response:
    """Parked baskets this staff member may resume."""
    return jsonify({"suspended": suspend.list_suspended(require(Action.SELL))})


@bp.post(f"{V1}/basket/suspended/<int:parked_id>/resume")
@api({200: ResumedOut})
def resume_basket(parked_id: int) -> Response:
    """Resume a parked basket as the open basket."""
    return jsonify(suspend.resume(box(), require(Action.SELL), parked_id))


@bp.post(f"{V1}/basket/customer")
@api({200: BasketCustomerOut}, body=AttachCustomer)
def attach_customer() -> Response:
    """Attach a customer (id and name) to the open basket."""
    staff = require(Action.SELL)
    body = json_body(AttachCustomer)
    return jsonify(suspend.attach_customer(box(), staff, body.customer_id, body.name))
