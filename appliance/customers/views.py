"""Till API of customers and points: attach by card or search hit, enrol, search through the
hub, the basket's loyalty panel and its redemption."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from appliance.customers import attach, enrol, points, search
from appliance.customers.schemas import (
    CardIn,
    CustomerIdIn,
    CustomerSearchOut,
    EnrolIn,
    EnrolOut,
    LoyaltyPanelOut,
    RedeemIn,
    SearchIn,
)
from appliance.identity.session import require
from appliance.web.openapi import BOX_ERRORS, api
from appliance.web.request import box, correlation_id, json_body
from posdomain.permissions import Action

bp = Blueprint("customers", __name__)
V1 = "/api/v1"


@bp.get(f"{V1}/basket/loyalty")
@api({200: LoyaltyPanelOut})
def loyalty_panel() -> Response:
    """The attached customer, points to earn, points chosen to redeem and the limits."""
    staff = require(Action.SELL)
    return jsonify(points.panel(box(), staff.id))


@bp.post(f"{V1}/basket/customer/card")
@api({200: LoyaltyPanelOut}, body=CardIn)
def attach_card() -> Response:
    """Attach the customer holding a scanned or typed loyalty card (offline too)."""
    staff = require(Action.SELL)
    attach.by_card(box(), staff, json_body(CardIn).card)
    return jsonify(points.panel(box(), staff.id))


@bp.post(f"{V1}/basket/customer/attach")
@api({200: LoyaltyPanelOut}, body=CustomerIdIn)
def attach_found() -> Response:
    """Attach a customer the search found."""
    staff = require(Action.SELL)
    attach.by_id(box(), staff, json_body(CustomerIdIn).customer_id)
    return jsonify(points.panel(box(), staff.id))


@bp.delete(f"{V1}/basket/customer")
@api({200: LoyaltyPanelOut})
def detach_customer() -> Response:
    """Take the customer off the open basket."""
    staff = require(Action.SELL)
    attach.detach(box(), staff)
    return jsonify(points.panel(box(), staff.id))


@bp.post(f"{V1}/customers/search")
@api({200: CustomerSearchOut}, body=SearchIn, errors=(*BOX_ERRORS, 503))
def search_customers() -> Response:
    """Search by name or phone: asks the hub (503 HUB_REQUIRED offline, HUB_TIMEOUT)."""
    require(Action.SELL)
    return jsonify(search.ask(json_body(SearchIn).query))


@bp.post(f"{V1}/customers")
@api({201: EnrolOut}, body=EnrolIn)
def enrol_customer() -> tuple[Response, int]:
    """Enrol a customer with the card handed out (offline too) and attach them to the basket
    (opened empty when no item is scanned yet)."""
    staff = require(Action.SELL)
    body = json_body(EnrolIn)
    made = enrol.enrol(box(), staff, body.card, body.display_name, correlation_id())
    attach.by_id(box(), staff, made["customer_id"])
    return jsonify({"customer": made, "panel": points.panel(box(), staff.id)}), 201


@bp.post(f"{V1}/basket/redeem")
@api({200: LoyaltyPanelOut}, body=RedeemIn)
def redeem() -> Response:
    """Choose the points the basket redeems (checked against the rules; 0 takes it off)."""
    staff = require(Action.SELL)
    return jsonify(points.set_redemption(box(), staff, json_body(RedeemIn).points))
