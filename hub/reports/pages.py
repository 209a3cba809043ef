"""Portal report pages: the catalog, one report with filters, server-side sort and paging,
and its CSV / print / PDF exports (the same service and exports as the API)."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from hub.core.openapi import parse_query
from hub.reports import dashboard, exports, present, service
from hub.reports.schemas import ReportFilterQuery, ReportQuery
from hub.reports.views import (
    csv_response,
    filters_of,
    page_body,
    pdf_response,
    print_response,
    run,
    visible,
)
from hub.sales.queries import branch_choices, list_branches
from hub.web import current_principal, now, page_arg, render_page, target_tenant
from posdomain.errors import HubReason, PosError, ValidationError
from posdomain.permissions import Action, scope_for

bp = Blueprint("report_pages", __name__, template_folder="templates")


@bp.get("/reports")
def reports_page() -> ResponseReturnValue:
    """The reports the caller may run, by family."""
    principal = current_principal()
    assert principal is not None
    return render_page("reports.html", reports=visible(principal))


def _may_export() -> bool:
    principal = current_principal()
    assert principal is not None
    try:
        scope_for(principal, Action.REPORT_EXPORT)
    except PosError:
        return False
    return True


@bp.get("/reports/<report_id>")
def report_page(report_id: str) -> ResponseReturnValue:
    """One report: filters, the page's rows, totals over every row, export links."""
    query = parse_query(ReportQuery)
    result, caller = run(report_id, query)
    body = page_body(result, query)
    rows = service.page_of(result, query.page, query.page_size)
    filters = filters_of(query).as_dict()
    windows = result.ctx.windows
    return render_page(
        "report.html",
        body=body,
        rows=present.text_rows(result, rows),
        totals=present.text_totals(result) if result.totals else None,
        numeric=exports.NUMERIC_KINDS,
        filters=result.report.filters,
        args=filters,
        query=urlencode(filters),
        first=windows[0].first.isoformat() if windows else "",
        last=windows[0].last.isoformat() if windows else "",
        branches=branch_choices(caller.principal, caller.tenant_id),
        can_export=_may_export(),
    )


@bp.get("/overview/branches/<branch_id>")
def branch_drill(branch_id: str) -> ResponseReturnValue:
    """Drill-down: a branch's boxes with today's figures and state."""
    _principal, tenant, _scope = target_tenant(Action.SALES_READ, branch_id=branch_id)
    boxes = dashboard.branch_boxes(tenant, branch_id, now())
    names = {b["id"]: b["name"] for b in list_branches(tenant)}
    return render_page(
        "drill_branch.html",
        branch=names.get(branch_id, branch_id),
        branch_id=branch_id,
        boxes=boxes,
    )


@bp.get("/overview/boxes/<box_id>")
def box_drill(box_id: str) -> ResponseReturnValue:
    """Drill-down: a box's documents today, paged and sorted on the server, each linked."""
    _principal, tenant, _scope = target_tenant(Action.SALES_READ, box_id=box_id)
    sort = request.args.get("sort", "-at")
    if sort.removeprefix("-") not in dashboard.SORTS:
        raise ValidationError(
            "sort by at, total or receipt",
            HubReason.REPORT_BAD_SORT,
            {"field": "sort", "allowed": sorted(dashboard.SORTS)},
        )
    data = dashboard.box_transactions(tenant, box_id, now(), page_arg(), sort)
    return render_page("drill_box.html", box_id=box_id, data=data, sort=sort)


@bp.get("/reports/<report_id>/csv")
def report_csv(report_id: str) -> ResponseReturnValue:
    """The report as CSV (audited)."""
    return csv_response(report_id, parse_query(ReportFilterQuery))


@bp.get("/reports/<report_id>/pdf")
def report_pdf(report_id: str) -> ResponseReturnValue:
    """The report as PDF (audited)."""
    return pdf_response(report_id, parse_query(ReportFilterQuery))


@bp.get("/reports/<report_id>/print")
def report_print(report_id: str) -> ResponseReturnValue:
    """The printable view (audited)."""
    return print_response(report_id, parse_query(ReportFilterQuery))
