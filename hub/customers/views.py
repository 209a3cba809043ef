"""Customer API (FR-400) and the points endpoints that hang off a customer (FR-401).

Thin: parse, authorise (permission matrix "customer create/search", "loyalty manual
adjustment"), call the service, answer. Another tenant's customer id is 404 UNKNOWN_CUSTOMER.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import Field

from hub.core.openapi import READ_ERRORS, WRITE_ERRORS, PageQuery, api
from hub.core.paging import MAX_PAGE_SIZE, PAGE_SIZE
from hub.customers import service
from hub.customers.schemas import (
    AdjustmentIn,
    AdjustmentOut,
    CustomerFields,
    CustomerIn,
    CustomerOut,
    CustomerPage,
    HistoryPage,
    PointsPage,
    TierRunOut,
)
from hub.loyalty import adjustments, jobs
from hub.web import integrity, notify_boxes, page_arg, parse_body, target_tenant
from posdomain.permissions import Action

bp = Blueprint("customers", __name__, template_folder="templates")


class PageSizeQuery(PageQuery):
    """?page= and ?page_size= of a paged list."""

    page_size: int = Field(default=PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


class CustomerQuery(PageSizeQuery):
    """?q= (name, phone, e-mail or card), ?page= and ?page_size= of the customer search."""

    q: str = Field(default="", max_length=120)


def page_size_arg() -> int:
    """?page_size= within 1..MAX_PAGE_SIZE (default PAGE_SIZE)."""
    try:
        return min(MAX_PAGE_SIZE, max(1, int(request.args.get("page_size", PAGE_SIZE))))
    except ValueError:
        return PAGE_SIZE


@bp.get("/api/v1/customers")
@api({200: CustomerPage}, query=CustomerQuery, errors=READ_ERRORS)
def search_customers() -> ResponseReturnValue:
    """Customers matching ?q= (name, phone, e-mail or card), server-side paged."""
    _p, tenant, _s = target_tenant(Action.CUSTOMER_MANAGE)
    q = request.args.get("q", "")
    return jsonify(service.search(tenant, q, page_arg(), page_size_arg()))


@bp.post("/api/v1/customers")
@api({201: CustomerOut}, body=CustomerIn, errors=WRITE_ERRORS)
def create_customer() -> ResponseReturnValue:
    """Create a customer (optionally issuing a new card number)."""
    principal, tenant, scope = target_tenant(Action.CUSTOMER_MANAGE)
    integrity().guard_writes()
    created = service.create_customer(principal, tenant, scope, parse_body(CustomerIn))
    notify_boxes(tenant)
    return jsonify(created), 201


@bp.get("/api/v1/customers/by-card/<card>")
@api({200: CustomerOut}, errors=READ_ERRORS)
def customer_by_card(card: str) -> ResponseReturnValue:
    """The customer holding a loyalty card (404 UNKNOWN_CARD)."""
    _p, tenant, _s = target_tenant(Action.CUSTOMER_MANAGE)
    return jsonify(service.by_card(tenant, card))


@bp.get("/api/v1/customers/<customer_id>")
@api({200: CustomerOut}, errors=READ_ERRORS)
def get_customer(customer_id: str) -> ResponseReturnValue:
    """One customer with their points balance and tier."""
    _p, tenant, _s = target_tenant(Action.CUSTOMER_MANAGE)
    return jsonify(service.get_customer(tenant, customer_id))


@bp.patch("/api/v1/customers/<customer_id>")
@api({200: CustomerOut}, body=CustomerFields, errors=WRITE_ERRORS)
def update_customer(customer_id: str) -> ResponseReturnValue:
    """Change some fields (consents, contact, card, active)."""
    principal, tenant, scope = target_tenant(Action.CUSTOMER_MANAGE)
    integrity().guard_writes()
    body = parse_body(CustomerFields)
    updated = service.update_customer(principal, tenant, scope, customer_id, body)
    notify_boxes(tenant)
    return jsonify(updated)


@bp.get("/api/v1/customers/<customer_id>/history")
@api({200: HistoryPage}, query=PageSizeQuery, errors=READ_ERRORS)
def customer_history(customer_id: str) -> ResponseReturnValue:
    """Sales, refunds and post-voids of the customer (branch roles: their branches)."""
    principal, tenant, scope = target_tenant(Action.CUSTOMER_MANAGE)
    body = service.history(principal, tenant, scope, customer_id, page_arg(), page_size_arg())
    return jsonify(body)


@bp.get("/api/v1/customers/<customer_id>/points")
@api({200: PointsPage}, query=PageSizeQuery, errors=READ_ERRORS)
def customer_points(customer_id: str) -> ResponseReturnValue:
    """Balance (= ledger sum) and the ledger, newest first."""
    _p, tenant, _s = target_tenant(Action.CUSTOMER_MANAGE)
    return jsonify(adjustments.points_page(tenant, customer_id, page_arg(), page_size_arg()))


@bp.post("/api/v1/customers/<customer_id>/points/adjustments")
@api({201: AdjustmentOut}, body=AdjustmentIn, errors=WRITE_ERRORS)
def adjust_points(customer_id: str) -> ResponseReturnValue:
    """Manual adjustment with a reason code (TENANT_OWNER, BRANCH_MANAGER), audited."""
    principal, tenant, scope = target_tenant(Action.LOYALTY_ADJUST)
    integrity().guard_writes()
    body = parse_body(AdjustmentIn)
    result = adjustments.adjust(principal, tenant, scope, customer_id, body.model_dump())
    notify_boxes(tenant)
    return jsonify(result), 200 if result["replayed"] else 201


@bp.post("/api/v1/loyalty/tiers/recalculate")
@api({200: TierRunOut}, errors=WRITE_ERRORS)
def recalculate_tiers() -> ResponseReturnValue:
    """Recalculate every customer's tier now (the scheduled job, on demand)."""
    principal, tenant, _s = target_tenant(Action.CONFIG_EDIT)
    integrity().guard_writes()
    result = jobs.run_tiers_now(principal, tenant)
    notify_boxes(tenant)
    return jsonify(result)
