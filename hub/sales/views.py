"""Sales, branches and boxes (read side)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from hub.core.openapi import BranchFilterQuery, Items, Page, PageQuery, api
from hub.sales import queries as sales
from hub.sales.queries import SalesReader
from hub.sales.responses import BoxOut, BranchOut, RefundOut, SaleDetailOut, SaleOut
from hub.web import now, page_arg, target_tenant
from posdomain.permissions import Action, today_only

bp = Blueprint("sales", __name__)


def sales_scope(path_tenant: str | None = None, branch_id: str | None = None) -> SalesReader:
    """Which sales the caller may read, honouring ?branch_id= (SUPERVISOR: today only)."""
    principal, tenant, scope = target_tenant(Action.SALES_READ, path_tenant)
    branch_id = branch_id or request.args.get("branch_id") or None
    branches = sales.allowed_branches(principal, scope, branch_id)
    today_at = now() if today_only(principal, Action.SALES_READ) else None
    return SalesReader(tenant, branches, today_at)


@bp.get("/api/v1/sales")
@api({200: Page[SaleOut]}, query=BranchFilterQuery)
def list_sales() -> ResponseReturnValue:
    """Paged sales of the caller's tenant (branch roles: their branches; SUPERVISOR: today)."""
    return jsonify(sales.list_sales(sales_scope(), page_arg()))


@bp.get("/api/v1/sales/<sale_id>")
@api({200: SaleDetailOut}, query=BranchFilterQuery)
def get_sale(sale_id: str) -> ResponseReturnValue:
    """One sale with its lines, its post-void and its refunds."""
    return jsonify(sales.get_sale(sales_scope(), sale_id))


@bp.get("/api/v1/refunds")
@api({200: Page[RefundOut]}, query=BranchFilterQuery)
def list_refunds() -> ResponseReturnValue:
    """Paged refund documents of the caller's tenant (branch roles: their branches)."""
    return jsonify(sales.list_refunds(sales_scope(), page_arg()))


@bp.get("/api/v1/tenants/<tenant_id>/branches")
@api({200: Items[BranchOut]})
def list_branches(tenant_id: str) -> ResponseReturnValue:
    """Branches of a tenant (path tenant must be the caller's)."""
    _p, tenant, _s = target_tenant(Action.CONFIG_READ, tenant_id)
    return jsonify({"items": sales.list_branches(tenant)})


@bp.get("/api/v1/tenants/<tenant_id>/branches/<branch_id>/sales")
@api({200: Page[SaleOut]}, query=PageQuery)
def branch_sales(tenant_id: str, branch_id: str) -> ResponseReturnValue:
    """Paged sales of one branch (path tenant and branch checked against the caller)."""
    return jsonify(sales.list_sales(sales_scope(tenant_id, branch_id), page_arg()))


@bp.get("/api/v1/boxes")
@api({200: Items[BoxOut]})
def list_boxes() -> ResponseReturnValue:
    """Device health of the caller's boxes."""
    principal, tenant, scope = target_tenant(Action.DEVICE_HEALTH)
    return jsonify(
        {"items": sales.list_boxes(tenant, sales.allowed_branches(principal, scope, None))}
    )
