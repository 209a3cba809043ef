"""Portal report pages: the catalog, one report with filters, server-side sort and paging,
and its CSV / print / PDF exports (the same service and exports as the API)."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint
from flask.typing import ResponseReturnValue

from hub.core.openapi import parse_query
from hub.reports import exports, present, service
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
from hub.sales.queries import branch_choices
from hub.web import current_principal, render_page
from posdomain.errors import PosError
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
