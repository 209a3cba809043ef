"""JSON API of the box under /api/v1 (and its OpenAPI document)."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

import yaml
from flask import Blueprint, Response, jsonify, request, session

from appliance.services import audit, auth, basket, catalog, checkout, inventory, status
from appliance.services.tenders import TenderIn
from appliance.views.common import (
    box,
    correlation_id,
    current_staff,
    json_body,
    principal,
    require,
    start_session,
)
from appliance.views.schemas import (
    AddLine,
    BasketMode,
    PayCash,
    PinLogin,
    StockAdjust,
    StockCount,
    StockReceive,
    StockWaste,
)
from posdomain.contract import error_schema
from posdomain.errors import Reason, ValidationError
from posdomain.permissions import Action

bp = Blueprint("api", __name__)
V1 = "/api/v1"


def _staff_dict(staff: Any) -> dict[str, Any]:
    return {"id": staff.id, "name": staff.name, "role": staff.role}


@bp.post(f"{V1}/auth/pin")
def login() -> Response:
    """PIN login (offline against the synced staff list)."""
    body = json_body(PinLogin)
    staff = auth.login_pin(box(), body.pin, body.staff_id)
    start_session(staff)
    return jsonify({"staff": _staff_dict(staff), "till_name": box().config.till_name})


@bp.post(f"{V1}/auth/logout")
def logout() -> Response:
    """End the session (audited if someone was logged in)."""
    staff_id = session.get("staff_id")
    session.clear()
    if staff_id:
        auth.logout(box(), str(staff_id))
    return jsonify({"ok": True})


@bp.get(f"{V1}/auth/me")
def me() -> Response:
    """Who is logged in on this browser (lets the screen resume after a reload)."""
    staff = current_staff()
    return jsonify({"staff": _staff_dict(staff), "till_name": box().config.till_name})


@bp.get(f"{V1}/basket")
def get_basket() -> Response:
    """The cashier's open basket with running totals."""
    staff = require(Action.SELL)
    return jsonify(basket.view(box(), staff.id))


@bp.post(f"{V1}/basket/lines")
def add_line() -> tuple[Response, int]:
    """Add a product by barcode."""
    staff = require(Action.SELL)
    body = json_body(AddLine)
    added = basket.add_line(box(), staff, body.barcode, body.quantity(), body.age_confirmed)
    return jsonify(added), 201


@bp.post(f"{V1}/basket/mode")
def basket_mode() -> Response:
    """Switch the basket's price list (retail/wholesale); supervisors and managers only."""
    staff = require(Action.SELL)
    body = json_body(BasketMode)
    return jsonify(basket.set_price_list(box(), staff, principal(), body.price_list))


@bp.delete(f"{V1}/basket/lines/<int:line_no>")
def void_line(line_no: int) -> Response:
    """Void a basket line."""
    staff = require(Action.LINE_VOID)
    return jsonify(basket.void_line(box(), staff, line_no))


@bp.post(f"{V1}/basket/pay")
def pay() -> Response:
    """Pay the basket (cash, or split cash/card); the same idempotency key returns the same sale."""
    staff = require(Action.SELL)
    body = json_body(PayCash)
    tenders = (
        [TenderIn(t.kind, t.amount, t.reference) for t in body.tenders]
        if body.tenders
        else [TenderIn("cash", body.tendered or "")]
    )
    sale = checkout.pay(box(), staff, tenders, body.idempotency_key, correlation_id())
    return jsonify(sale)


@bp.get(f"{V1}/sales/<sale_id>")
def get_sale(sale_id: str) -> Response:
    """A completed sale (own sales, or any with SALES_READ)."""
    return jsonify(checkout.get_sale(principal(), box().config.branch_id, sale_id))


@bp.get(f"{V1}/products")
def products() -> Response:
    """Search products by name, SKU or barcode."""
    require(Action.SELL)
    query = request.args.get("q", "")
    if len(query) > 64:
        raise ValidationError("q is longer than 64 characters", Reason.VALIDATION_FAILED)
    return jsonify({"products": catalog.search(query)})


@bp.post(f"{V1}/inventory/receive")
def stock_receive() -> tuple[Response, int]:
    """Book goods received into stock."""
    staff = require(Action.STOCK_MOVE)
    body = json_body(StockReceive)
    moved = inventory.move(
        box(), staff, "receipt", body.product_id, Decimal(body.qty), ref=body.ref
    )
    return jsonify(moved), 201


@bp.post(f"{V1}/inventory/adjust")
def stock_adjust() -> tuple[Response, int]:
    """Book a signed stock correction with a reason code."""
    staff = require(Action.STOCK_MOVE)
    body = json_body(StockAdjust)
    moved = inventory.move(
        box(), staff, "adjustment", body.product_id, Decimal(body.qty), body.reason_code, body.ref
    )
    return jsonify(moved), 201


@bp.post(f"{V1}/inventory/waste")
def stock_waste() -> tuple[Response, int]:
    """Book stock thrown away, with a reason code."""
    staff = require(Action.STOCK_MOVE)
    body = json_body(StockWaste)
    moved = inventory.move(
        box(), staff, "waste", body.product_id, Decimal(body.qty), body.reason_code, body.ref
    )
    return jsonify(moved), 201


@bp.post(f"{V1}/inventory/count")
def stock_count() -> tuple[Response, int]:
    """Book a shelf count: the difference to the ledger becomes a count movement."""
    staff = require(Action.STOCK_MOVE)
    body = json_body(StockCount)
    moved = inventory.move(
        box(), staff, "count", body.product_id, Decimal(body.counted), ref=body.ref
    )
    return jsonify(moved), 201


@bp.get(f"{V1}/inventory/<product_id>")
def stock_of(product_id: str) -> Response:
    """On hand (from the ledger) and the latest movements of a product."""
    require(Action.STOCK_READ)
    return jsonify(inventory.stock_of(product_id))


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness for launchers and monitoring (the web process is up and its DB answers)."""
    status.box_status(box())
    return jsonify({"ok": True})


@bp.get(f"{V1}/status")
def get_status() -> Response:
    """Online/offline, backlog and held versions (polled by the cashier screen)."""
    return jsonify(status.box_status(box()))


@bp.get(f"{V1}/audit/integrity")
def integrity() -> Response:
    """Verify the box audit chain now."""
    require(Action.AUDIT_READ)
    return jsonify(audit.integrity(box()))


@cache
def openapi_document() -> dict[str, Any]:
    """The maintained OpenAPI document (appliance/openapi.yaml)."""
    text = resources.files("appliance").joinpath("openapi.yaml").read_text(encoding="utf-8")
    doc: dict[str, Any] = yaml.safe_load(text)
    doc["components"]["schemas"].update(error_schema())  # the shared contract's error body
    return doc


@bp.get("/api/openapi.json")
def openapi() -> Response:
    """OpenAPI 3 description of this API."""
    return jsonify(openapi_document())
