"""Server-rendered portal pages (overview, sales list, audit integrity)."""

from __future__ import annotations

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from hub.governance.views import integrity_report
from hub.sales import queries as sales
from hub.sales.views import sales_scope
from hub.web import current_principal, page_arg, render_page, target_tenant
from posdomain.permissions import Action

bp = Blueprint("portal", __name__, template_folder="templates")


@bp.get("/")
def overview() -> ResponseReturnValue:
    """Today's sales per branch and the boxes' last contact."""
    principal, tenant, scope = target_tenant(Action.DEVICE_HEALTH)
    data = sales.overview(tenant, sales.allowed_branches(principal, scope, None))
    return render_page("overview.html", data=data)


@bp.get("/sales")
def sales_page() -> ResponseReturnValue:
    """Server-side paged sales (post-voids marked) and refunds, with a branch filter."""
    reader = sales_scope()
    data = sales.list_sales(reader, page_arg())
    refunds = sales.list_refunds(reader, page_arg("rpage"))
    principal = current_principal()
    assert principal is not None
    choices = sales.branch_choices(principal, reader.tenant_id)
    return render_page(
        "sales.html",
        data=data,
        refunds=refunds,
        branches=choices,
        branch_id=request.args.get("branch_id", ""),
    )


@bp.get("/sales/<sale_id>")
def sale_page(sale_id: str) -> ResponseReturnValue:
    """One sale: lines, post-void and the refunds against it."""
    return render_page("sale.html", sale=sales.get_sale(sales_scope(), sale_id))


@bp.get("/audit")
def audit_page() -> ResponseReturnValue:
    """Audit chain integrity."""
    principal, _tenant, scope = target_tenant(Action.AUDIT_READ)
    return render_page("integrity.html", report=integrity_report(principal, scope))
