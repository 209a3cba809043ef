"""Stock API: receive, adjust, waste, count and on-hand of the box ledger."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, Response, jsonify

from appliance.identity.session import require
from appliance.inventory import stock_ledger
from appliance.inventory.schemas import (
    MovedOut,
    StockAdjust,
    StockCount,
    StockOut,
    StockReceive,
    StockWaste,
)
from appliance.web.openapi import api
from appliance.web.request import box, json_body
from posdomain.permissions import Action

bp = Blueprint("inventory", __name__)
V1 = "/api/v1"


@bp.post(f"{V1}/inventory/receive")
@api({201: MovedOut}, body=StockReceive)
def stock_receive() -> tuple[Response, int]:
    """Book goods received into stock."""
    staff = require(Action.STOCK_MOVE)
    body = json_body(StockReceive)
    moved = stock_ledger.move(
        box(), staff, "receipt", body.product_id, Decimal(body.qty), ref=body.ref
    )
    return jsonify(moved), 201


@bp.post(f"{V1}/inventory/adjust")
@api({201: MovedOut}, body=StockAdjust)
def stock_adjust() -> tuple[Response, int]:
    """Book a signed stock correction with a reason code."""
    staff = require(Action.STOCK_MOVE)
    body = json_body(StockAdjust)
    moved = stock_ledger.move(
        box(), staff, "adjustment", body.product_id, Decimal(body.qty), body.reason_code, body.ref
    )
    return jsonify(moved), 201


@bp.post(f"{V1}/inventory/waste")
@api({201: MovedOut}, body=StockWaste)
def stock_waste() -> tuple[Response, int]:
    """Book stock thrown away, with a reason code."""
    staff = require(Action.STOCK_MOVE)
    body = json_body(StockWaste)
    moved = stock_ledger.move(
        box(), staff, "waste", body.product_id, Decimal(body.qty), body.reason_code, body.ref
    )
    return jsonify(moved), 201


@bp.post(f"{V1}/inventory/count")
@api({201: MovedOut}, body=StockCount)
def stock_count() -> tuple[Response, int]:
    """Book a shelf count: the difference to the ledger becomes a count movement."""
    staff = require(Action.STOCK_MOVE)
    body = json_body(StockCount)
    moved = stock_ledger.move(
        box(), staff, "count", body.product_id, Decimal(body.counted), ref=body.ref
    )
    return jsonify(moved), 201


@bp.get(f"{V1}/inventory/<product_id>")
@api({200: StockOut})
def stock_of(product_id: str) -> Response:
    """On hand (from the ledger) and the latest movements of a product."""
    require(Action.STOCK_READ)
    return jsonify(stock_ledger.stock_of(product_id))
