"""Report API: the catalog, one report (paged, sorted, totalled) and its CSV / print / PDF
exports. Thin: parse, check, call the service, render."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, render_template, stream_with_context
from flask.typing import ResponseReturnValue

from hub.core.openapi import api, parse_query
from hub.core.paging import paged
from hub.governance.views import integrity_report
from hub.reports import deposits, exports, present, service
from hub.reports.definitions import Ctx, ReportDef
from hub.reports.schemas import (
    DepositPageOut,
    DepositQuery,
    ReportCatalogOut,
    ReportFilterQuery,
    ReportOut,
    ReportQuery,
)
from hub.reports.service import Caller, Filters, Result
from hub.web import current_principal, now, target_tenant
from posdomain.errors import PosError
from posdomain.money import format_minor
from posdomain.permissions import Action, Principal, scope_for

bp = Blueprint("reports", __name__, template_folder="templates")
REPORT_ERRORS = (400, 401, 403, 404, 409, 503)


def filters_of(query: ReportFilterQuery) -> Filters:
    """The service's filters from the query model."""
    return Filters(
        date_from=query.date_from,
        date_to=query.date_to,
        branches=query.branches,
        box_id=query.box_id,
        cashier_id=query.cashier_id,
        shift_id=query.shift_id,
        days=query.days,
        product_id=query.product_id,
    )


def columns(report: ReportDef) -> list[dict[str, Any]]:
    """The column declarations."""
    return [
        {"key": c.key, "label": c.label, "kind": c.kind, "total": c.total} for c in report.columns
    ]


def visible(principal: Principal) -> list[ReportDef]:
    """The reports the caller's role may run."""
    out = []
    for report in service.REGISTRY.values():
        try:
            scope_for(principal, service.action_for(report))
        except PosError:
            continue
        if service.may_run(principal, report):
            out.append(report)
    return out


def caller_for(report_id: str, *, export: bool = False) -> tuple[ReportDef, Caller]:
    """Authenticate, find the report, check the matrix row (and the export row)."""
    current_principal()
    report = service.definition(report_id)
    if export:
        target_tenant(Action.REPORT_EXPORT)
    principal, tenant, scope = target_tenant(service.action_for(report))
    return report, Caller(principal, tenant, scope)


def run(report_id: str, query: ReportFilterQuery, *, export: bool = False) -> tuple[Result, Caller]:
    """Build the context and run the report for the current caller."""
    report, caller = caller_for(report_id, export=export)
    ctx = service.build_ctx(caller, report, filters_of(query), now())
    if report.report_id == "REP-O-10":
        ctx = service.with_extras(ctx, integrity=integrity_report(caller.principal, caller.scope))
    return service.run(report, ctx, query.sort), caller


def windows(ctx: Ctx) -> list[dict[str, str]]:
    """Each branch's inclusive business-day range, as answered."""
    return [
        {"branch_id": w.branch_id, "date_from": w.first.isoformat(), "date_to": w.last.isoformat()}
        for w in ctx.windows
    ]


def page_body(result: Result, query: ReportQuery) -> dict[str, Any]:
    """The JSON body of one page."""
    rows = service.page_of(result, query.page, query.page_size)
    total = len(result.rows)
    return {
        "report_id": result.report.report_id,
        "title": result.report.title,
        "columns": columns(result.report),
        "windows": windows(result.ctx),
        "filters": filters_of(query).as_dict(),
        "sort": result.sort,
        **paged(present.json_rows(result, rows), query.page, total, query.page_size),
        "totals": present.json_totals(result),
        "note": result.report.note,
    }


@bp.get("/api/v1/reports")
@api({200: ReportCatalogOut})
def list_reports() -> ResponseReturnValue:
    """The report catalog entries the caller may run (REP-T and REP-O)."""
    principal = current_principal()
    assert principal is not None
    items = [
        {
            "report_id": r.report_id,
            "title": r.title,
            "family": r.family,
            "columns": columns(r),
            "filters": sorted(r.filters),
            "dated": r.dated,
            "budget_ms": r.budget_ms,
            "default_sort": r.default_sort,
            "note": r.note,
        }
        for r in visible(principal)
    ]
    return jsonify({"items": items})


@bp.get("/api/v1/reports/bank-deposits")
@api({200: DepositPageOut}, query=DepositQuery, errors=REPORT_ERRORS)
def list_bank_deposits() -> ResponseReturnValue:
    """One page of the single bank deposits the tills recorded (REP-T-05's detail: its
    permission row), filtered by branch, business days, box and cashier, sorted on the server."""
    query = parse_query(DepositQuery)
    current_principal()
    principal, tenant, scope = target_tenant(service.action_for(deposits.DEFINITION))
    named = ",".join(b for b in (query.branch_id, query.branches) if b)
    filters = Filters(
        date_from=query.date_from,
        date_to=query.date_to,
        branches=named or None,
        box_id=query.box_id,
        cashier_id=query.cashier_id,
    )
    ctx = service.build_ctx(Caller(principal, tenant, scope), deposits.DEFINITION, filters, now())
    found = deposits.listing(ctx, query.sort, query.page, query.page_size)
    items = [deposits.item(r) for r in found.items]
    return jsonify(
        {
            **paged(items, query.page, found.total, query.page_size),
            "totals": {
                "count": found.total,
                "amount": format_minor(found.amount_minor, found.exponent),
                "amount_minor": found.amount_minor,
            },
            "windows": windows(ctx),
            "sort": found.sort,
        }
    )


@bp.get("/api/v1/reports/<report_id>")
@api({200: ReportOut}, query=ReportQuery, errors=REPORT_ERRORS)
def get_report(report_id: str) -> ResponseReturnValue:
    """One page of a report, sorted on the server, with totals over every row."""
    query = parse_query(ReportQuery)
    return jsonify(page_body(run(report_id, query)[0], query))


def csv_response(report_id: str, query: ReportFilterQuery) -> Response:
    """The streamed, audited CSV export."""
    result, caller = run(report_id, query, export=True)
    sha = exports.digest(exports.csv_lines(result))
    exports.record(caller, result, "csv", filters_of(query), sha)
    name = f"{result.report.report_id}.csv"
    return Response(
        stream_with_context(exports.csv_lines(result)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def pdf_response(report_id: str, query: ReportFilterQuery) -> Response:
    """The audited PDF export."""
    result, caller = run(report_id, query, export=True)
    body = exports.pdf_bytes(result, subtitle(result))
    exports.record(caller, result, "pdf", filters_of(query), exports.digest([body]))
    return Response(
        body,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{result.report.report_id}.pdf"'},
    )


def print_response(report_id: str, query: ReportFilterQuery) -> Response:
    """The audited printable HTML view."""
    result, caller = run(report_id, query, export=True)
    html = render_template(
        "report_print.html",
        result=result,
        rows=present.text_rows(result, result.rows),
        totals=present.text_totals(result) if result.totals else None,
        subtitle=subtitle(result),
        numeric=exports.NUMERIC_KINDS,
    )
    exports.record(caller, result, "html", filters_of(query), exports.digest([html.encode()]))
    return Response(html, mimetype="text/html")


def subtitle(result: Result) -> str:
    """Which days and branches a printout covers."""
    spans = sorted({(w.first.isoformat(), w.last.isoformat()) for w in result.ctx.windows})
    days = "; ".join(a if a == b else f"{a} to {b}" for a, b in spans) or "no branch"
    return f"{days}; {len(result.ctx.windows)} branch(es); sorted by {result.sort}"


@bp.get("/api/v1/reports/<report_id>/csv")
@api({200: "text/csv"}, query=ReportFilterQuery, errors=REPORT_ERRORS)
def export_csv(report_id: str) -> ResponseReturnValue:
    """Every row of a report as CSV (formula-safe), totals last; audited with its hash."""
    return csv_response(report_id, parse_query(ReportFilterQuery))


@bp.get("/api/v1/reports/<report_id>/pdf")
@api({200: "application/pdf"}, query=ReportFilterQuery, errors=REPORT_ERRORS)
def export_pdf(report_id: str) -> ResponseReturnValue:
    """Every row of a report as PDF, totals last; audited with its hash."""
    return pdf_response(report_id, parse_query(ReportFilterQuery))


@bp.get("/api/v1/reports/<report_id>/print")
@api({200: "text/html"}, query=ReportFilterQuery, errors=REPORT_ERRORS)
def export_print(report_id: str) -> ResponseReturnValue:
    """Every row of a report as a printable HTML page; audited with its hash."""
    return print_response(report_id, parse_query(ReportFilterQuery))
