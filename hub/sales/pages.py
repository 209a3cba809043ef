"""Server-rendered portal pages (overview, sales list, audit integrity)."""

from __future__ import annotations

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from hub.compliance import holds
from hub.governance.views import integrity_report
from hub.i18n.request_locale import current_locale, tr
from hub.reports import dashboard, svg
from hub.sales import queries as sales
from hub.sales.views import sales_scope
from hub.web import current_principal, now, page_arg, render_page, target_tenant
from posdomain import locale_format
from posdomain.errors import PosError
from posdomain.permissions import Action, Principal, scope_for, today_only

bp = Blueprint("portal", __name__, template_folder="templates")


def _holds(principal: Principal, action: Action) -> bool:
    try:
        scope_for(principal, action)
    except PosError:
        return False
    return True


def chart_words() -> dict[str, str]:
    """The hourly chart's words in the reader's language."""
    return {
        "today": tr("today"),
        "last_week": tr("last week"),
        "max": tr("max %(amount)s per hour"),
        "net_today": tr("Net today %(amount)s"),
        "last_week_net": tr(", same weekday last week %(amount)s"),
    }


def amount(text: str) -> str:
    """An amount ('12.50') as the reader's locale writes it."""
    return locale_format.amount(
        text, current_locale(), len(text.split(".")[1]) if "." in text else 0
    )


@bp.get("/")
def overview() -> ResponseReturnValue:
    """The dashboard (FR-601): today's sales per branch, the hourly trend against last week,
    top products, open alerts, boxes online/offline with sync lag; sales parts only for
    roles that read sales, last week only for roles not limited to today."""
    principal, tenant, scope = target_tenant(Action.DEVICE_HEALTH)
    can_sales = _holds(principal, Action.SALES_READ)
    data = sales.overview(tenant, sales.allowed_branches(principal, scope, None))
    dash = dashboard.overview(
        principal,
        tenant,
        scope,
        now(),
        sales=can_sales,
        last_week=not today_only(principal, Action.SALES_READ),
        alerts=_holds(principal, Action.ALERT_READ),
    )
    exponent = int(dash["exponent"])
    title = tr("Net sales per hour, today")
    chart = (
        svg.hourly_bars(dash["trend"], exponent, title, chart_words(), amount) if can_sales else ""
    )
    return render_page(
        "overview.html",
        data=data,
        dash=dash,
        chart=chart,
        can_sales=can_sales,
        can_export=_holds(principal, Action.REPORT_EXPORT),
        exponent=exponent,
    )


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
        held=holds.held_docs(reader.tenant_id, data["items"], "sale_id", "sale")
        | holds.held_docs(reader.tenant_id, refunds["items"], "refund_id", "refund"),
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
