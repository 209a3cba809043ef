"""Catalog API: product search for the till."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from appliance.catalog.products import search
from appliance.catalog.schemas import ProductQuery, ProductsOut
from appliance.identity.session import require
from appliance.web.openapi import api
from posdomain.errors import Reason, ValidationError
from posdomain.permissions import Action

bp = Blueprint("catalog", __name__)
V1 = "/api/v1"


@bp.get(f"{V1}/products")
@api({200: ProductsOut}, query=ProductQuery)
def products() -> Response:
    """Search products by name, SKU or barcode."""
    require(Action.SELL)
    query = request.args.get("q", "")
    if len(query) > 64:
        raise ValidationError("q is longer than 64 characters", Reason.VALIDATION_FAILED)
    return jsonify({"products": search(query)})
