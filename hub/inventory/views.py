"""Inventory API (FR-201/202/203) and the portal stock page. Views parse, call, render."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, redirect, request
from flask.typing import ResponseReturnValue

from hub.core.openapi import WRITE_ERRORS, BranchFilterQuery, Page, PageQuery, api
from hub.inventory import alerts, schemas, transfers
from hub.inventory import service as inventory
from hub.inventory.responses import (
    AlertOut,
    HistoryOut,
    OnHandOut,
    ReorderPointOut,
    StockWriteOut,
    TransferOut,
)
from hub.sales import queries as sales
from hub.web import integrity, page_arg, parse_body, render_page, require
from posdomain.errors import Forbidden, Reason
from posdomain.permissions import Action, Principal

bp = Blueprint("inventory", __name__, template_folder="templates")
API = "/api/v1/inventory"


def _written(result: dict[str, Any]) -> ResponseReturnValue:
    """201 for a new effect, 200 for a replay of the same idempotency key."""
    return jsonify(result), 200 if result.get("replayed") else 201


def _writer(action: Action, branch_id: str | None = None) -> Principal:
    """Authorise a stock write (branch roles: their branches only) and the integrity lock."""
    principal, _scope = require(action, branch_id=branch_id)
    if principal.tenant_id is None:
        raise Forbidden("inventory needs a tenant principal", Reason.FORBIDDEN_TENANT)
    integrity().guard_writes()
    return principal


def _reader(action: Action = Action.STOCK_READ) -> tuple[Principal, str, list[str] | None]:
    """(principal, tenant, branches) for a read, honouring ?branch_id=."""
    principal, scope = require(action)
    if principal.tenant_id is None:
        raise Forbidden("inventory needs a tenant principal", Reason.FORBIDDEN_TENANT)
    branch_id = request.args.get("branch_id") or None
    return principal, principal.tenant_id, sales.allowed_branches(principal, scope, branch_id)


@bp.post(f"{API}/branches/<branch_id>/receipts")
@api({200: StockWriteOut, 201: StockWriteOut}, body=schemas.ReceiveIn, errors=WRITE_ERRORS)
def receive(branch_id: str) -> ResponseReturnValue:
    """Receive stock from a supplier."""
    principal = _writer(Action.STOCK_MOVE, branch_id)
    body = parse_body(schemas.ReceiveIn)
    lines = schemas.lines_of(body)
    key, ref = body.idempotency_key, body.supplier_ref
    return _written(inventory.receive(principal, branch_id, key, lines, ref))


@bp.post(f"{API}/branches/<branch_id>/adjustments")
@api({200: StockWriteOut, 201: StockWriteOut}, body=schemas.ReasonLinesIn, errors=WRITE_ERRORS)
def adjust(branch_id: str) -> ResponseReturnValue:
    """Signed stock corrections with reason codes."""
    principal = _writer(Action.STOCK_MOVE, branch_id)
    body = parse_body(schemas.ReasonLinesIn)
    return _written(
        inventory.adjust(principal, branch_id, body.idempotency_key, schemas.lines_of(body))
    )


@bp.post(f"{API}/branches/<branch_id>/waste")
@api({200: StockWriteOut, 201: StockWriteOut}, body=schemas.ReasonLinesIn, errors=WRITE_ERRORS)
def waste(branch_id: str) -> ResponseReturnValue:
    """Write off stock (positive quantities, reason codes)."""
    principal = _writer(Action.STOCK_MOVE, branch_id)
    body = parse_body(schemas.ReasonLinesIn)
    return _written(
        inventory.waste(principal, branch_id, body.idempotency_key, schemas.lines_of(body))
    )


@bp.post(f"{API}/branches/<branch_id>/counts")
@api({200: StockWriteOut, 201: StockWriteOut}, body=schemas.CountIn, errors=WRITE_ERRORS)
def count(branch_id: str) -> ResponseReturnValue:
    """Submit counted quantities; the differences are booked as count movements."""
    principal = _writer(Action.STOCK_MOVE, branch_id)
    body = parse_body(schemas.CountIn)
    return _written(
        inventory.count(principal, branch_id, body.idempotency_key, schemas.lines_of(body))
    )


@bp.put(f"{API}/branches/<branch_id>/reorder-points/<product_id>")
@api({200: ReorderPointOut}, body=schemas.ReorderPointIn, errors=WRITE_ERRORS)
def put_reorder_point(branch_id: str, product_id: str) -> ResponseReturnValue:
    """Set a product's reorder point at a branch."""
    principal = _writer(Action.STOCK_MOVE, branch_id)
    body = parse_body(schemas.ReorderPointIn)
    return jsonify(alerts.set_reorder_point(principal, branch_id, product_id, body.reorder_point))


@bp.get(f"{API}/on-hand")
@api({200: Page[OnHandOut]}, query=schemas.OnHandQuery)
def on_hand() -> ResponseReturnValue:
    """Paged on hand per branch and product (?branch_id=, ?product_id=, ?page=)."""
    _p, tenant, branches = _reader()
    product_id = request.args.get("product_id") or None
    return jsonify(inventory.list_on_hand(tenant, branches, product_id, page_arg()))


@bp.get(f"{API}/branches/<branch_id>/products/<product_id>/movements")
@api({200: HistoryOut}, query=PageQuery)
def movements(branch_id: str, product_id: str) -> ResponseReturnValue:
    """Paged movement history of one product at one branch."""
    principal, _scope = require(Action.STOCK_READ, branch_id=branch_id)
    tenant = principal.tenant_id or ""
    return jsonify(inventory.history(tenant, branch_id, product_id, page_arg()))


@bp.get(f"{API}/alerts")
@api({200: Page[AlertOut]}, query=schemas.AlertQuery)
def list_alerts() -> ResponseReturnValue:
    """Paged stock alerts (?all=1 includes acknowledged ones)."""
    _p, tenant, branches = _reader()
    open_only = request.args.get("all") != "1"
    return jsonify(alerts.list_alerts(tenant, branches, page_arg(), open_only))


@bp.post(f"{API}/alerts/<alert_id>/ack")
@api({200: AlertOut}, errors=WRITE_ERRORS)
def ack_alert(alert_id: str) -> ResponseReturnValue:
    """Acknowledge a stock alert."""
    principal, _tenant, branches = _reader(Action.STOCK_MOVE)
    integrity().guard_writes()
    return jsonify(alerts.acknowledge(principal, branches, alert_id))


@bp.post(f"{API}/transfers")
@api({200: TransferOut, 201: TransferOut}, body=schemas.TransferIn, errors=WRITE_ERRORS)
def request_transfer() -> ResponseReturnValue:
    """Request a transfer between two branches of the tenant."""
    principal = _writer(Action.TRANSFER)
    body = parse_body(schemas.TransferIn)
    result = transfers.request(
        principal,
        body.idempotency_key,
        body.from_branch_id,
        body.to_branch_id,
        schemas.lines_of(body),
        body.note,
    )
    return _written(result)


@bp.get(f"{API}/transfers")
@api({200: Page[TransferOut]}, query=schemas.TransferQuery)
def list_transfers() -> ResponseReturnValue:
    """Paged transfers touching the caller's branches (?state=, ?branch_id=)."""
    _p, tenant, branches = _reader(Action.TRANSFER)
    state = request.args.get("state") or None
    return jsonify(transfers.list_transfers(tenant, branches, state, page_arg()))


@bp.get(f"{API}/transfers/<transfer_id>")
@api({200: TransferOut}, query=BranchFilterQuery)
def get_transfer(transfer_id: str) -> ResponseReturnValue:
    """One transfer with its lines."""
    _p, tenant, branches = _reader(Action.TRANSFER)
    return jsonify(transfers.get_transfer(tenant, branches, transfer_id))


@bp.post(f"{API}/transfers/<transfer_id>/dispatch")
@api({200: TransferOut, 201: TransferOut}, body=schemas.StepIn, errors=WRITE_ERRORS)
def dispatch(transfer_id: str) -> ResponseReturnValue:
    """Dispatch a requested transfer (source-branch roles)."""
    principal = _writer(Action.TRANSFER)
    body = parse_body(schemas.StepIn)
    lines = schemas.lines_of(body)
    return _written(transfers.dispatch(principal, transfer_id, body.idempotency_key, lines))


@bp.post(f"{API}/transfers/<transfer_id>/receive")
@api({200: TransferOut, 201: TransferOut}, body=schemas.StepIn, errors=WRITE_ERRORS)
def receive_transfer(transfer_id: str) -> ResponseReturnValue:
    """Receive a dispatched transfer (destination-branch roles)."""
    principal = _writer(Action.TRANSFER)
    body = parse_body(schemas.StepIn)
    lines = schemas.lines_of(body)
    return _written(transfers.receive(principal, transfer_id, body.idempotency_key, lines))


@bp.post(f"{API}/transfers/<transfer_id>/cancel")
@api({200: TransferOut, 201: TransferOut}, body=schemas.CancelIn, errors=WRITE_ERRORS)
def cancel_transfer(transfer_id: str) -> ResponseReturnValue:
    """Cancel a requested (or dispatched: goods back at source) transfer."""
    principal = _writer(Action.TRANSFER)
    body = parse_body(schemas.CancelIn)
    return _written(transfers.cancel(principal, transfer_id, body.idempotency_key, body.reason))


@bp.get("/inventory")
def inventory_page() -> ResponseReturnValue:
    """Portal: open stock alerts (with acknowledge) and on hand per branch, paged."""
    principal, tenant, branches = _reader()
    alert_page = page_arg("alerts_page")
    return render_page(
        "inventory.html",
        alerts=alerts.list_alerts(tenant, branches, alert_page),
        stock=inventory.list_on_hand(tenant, branches, None, page_arg()),
        branches=sales.branch_choices(principal, tenant),
        branch_id=request.args.get("branch_id", ""),
    )


@bp.post("/inventory/alerts/<alert_id>/ack")
def inventory_ack(alert_id: str) -> ResponseReturnValue:
    """Portal form: acknowledge an alert (CSRF-checked like every form), back to the page."""
    principal, _tenant, branches = _reader(Action.STOCK_MOVE)
    integrity().guard_writes()
    alerts.acknowledge(principal, branches, alert_id)
    return redirect("/inventory", code=303)
