"""Forecasts in the portal (FR-P7-1005..1008): days of cover, hourly sales, anomalies and
reorder suggestions, from the same read-only queries as the API.

Thin: the query models of the API parse the filters, `hub.forecasts.queries` computes, and
`hub.forecasts.present` sorts, pages and names (branches, products, cashiers and boxes by
name, times in the branch's zone) on the server.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from hub.core.openapi import parse_query
from hub.forecasts import present, queries
from hub.forecasts.schemas import AnomalyQuery, ReorderQuery, SalesQuery, StockQuery
from hub.sales.queries import allowed_branches, branch_choices
from hub.web import now, page_arg, render_page, target_tenant
from posdomain.permissions import Action

bp = Blueprint("forecast_pages", __name__, template_folder="templates")


def _scope(branch_id: str | None) -> tuple[Any, str, list[str] | None]:
    principal, tenant, scope = target_tenant(Action.FORECAST_READ)
    return principal, tenant, allowed_branches(principal, scope, branch_id or None)


def _page(template: str, view: str, body: dict[str, Any], **context: Any) -> ResponseReturnValue:
    principal, tenant, _b = context.pop("who")
    return render_page(
        template,
        view=view,
        body=body,
        branches=branch_choices(principal, tenant),
        args=request.args.to_dict(flat=True),
        **context,
    )


@bp.get("/forecasts")
@bp.get("/forecasts/stock-out")
def stock_out_page() -> ResponseReturnValue:
    """Days of cover per product and branch, sorted and paged on the server."""
    q = parse_query(StockQuery)
    who = _scope(q.branch_id)
    body = queries.stock_out(who[1], who[2], now(), q.days)
    sort = present.sort_arg("days_of_cover", present.COVER_SORTS)
    table = present.table(present.named_cover(who[1], body["items"]), sort, page_arg())
    return _page("forecast_cover.html", "stock-out", body, who=who, table=table, sort=sort)


@bp.get("/forecasts/reorder")
def reorder_page() -> ResponseReturnValue:
    """Reorder suggestions, sorted and paged on the server."""
    q = parse_query(ReorderQuery)
    who = _scope(q.branch_id)
    body = queries.reorder(who[1], who[2], now(), q.days, q.lead_time_days, q.safety_days)
    sort = present.sort_arg("-order_qty", present.REORDER_SORTS)
    table = present.table(present.named_reorder(who[1], body["items"]), sort, page_arg())
    return _page("forecast_reorder.html", "reorder", body, who=who, table=table, sort=sort)


@bp.get("/forecasts/anomalies")
def anomalies_page() -> ResponseReturnValue:
    """Cashiers' and boxes' day against their own history, most unusual first."""
    q = parse_query(AnomalyQuery)
    who = _scope(q.branch_id)
    body = queries.anomalies(who[1], who[2], now(), q.day, q.history_days)
    sort = present.sort_arg("-score", present.ANOMALY_SORTS)
    table = present.table(present.named_anomalies(who[1], body["items"]), sort, page_arg())
    return _page("forecast_anomalies.html", "anomalies", body, who=who, table=table, sort=sort)


@bp.get("/forecasts/sales-by-hour")
def sales_page() -> ResponseReturnValue:
    """Hourly sales forecast, one local day per page, with a bar chart of that day."""
    q = parse_query(SalesQuery)
    who = _scope(q.branch_id)
    body = queries.sales_by_hour(who[1], who[2], now(), q.days_ahead, q.weeks)
    day = present.day_page(body["items"], page_arg())
    return _page("forecast_sales.html", "sales-by-hour", body, who=who, day=day)
