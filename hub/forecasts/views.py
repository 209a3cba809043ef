"""Forecast API (FR-P7-1005..1008): read-only predictive endpoints over synced data.

FORECAST_READ (tenant owner, auditor, branch manager for their branches); an integration
token with the `forecast.read` scope. Nothing here writes (hub.forecasts.queries).
"""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from hub.core.openapi import READ_ERRORS, api, parse_query
from hub.core.responses import shaped
from hub.forecasts import queries
from hub.forecasts.schemas import (
    AnomalyOut,
    AnomalyQuery,
    ReorderOut,
    ReorderQuery,
    SalesForecastOut,
    SalesQuery,
    StockOutOut,
    StockQuery,
)
from hub.sales.queries import allowed_branches
from hub.web import now, target_tenant
from posdomain.permissions import Action

bp = Blueprint("forecasts", __name__)


def _scope(branch_id: str | None) -> tuple[str, list[str] | None]:
    principal, tenant, scope = target_tenant(Action.FORECAST_READ)
    return tenant, allowed_branches(principal, scope, branch_id)


@bp.get("/api/v1/forecasts/sales-by-hour")
@api({200: SalesForecastOut}, query=SalesQuery, errors=READ_ERRORS)
def sales_by_hour() -> ResponseReturnValue:
    """Sales count and revenue forecast per hour for the next days (read-only)."""
    q = parse_query(SalesQuery)
    tenant, branches = _scope(q.branch_id)
    out = queries.sales_by_hour(tenant, branches, now(), q.days_ahead, q.weeks)
    return shaped(SalesForecastOut, out)


@bp.get("/api/v1/forecasts/stock-out")
@api({200: StockOutOut}, query=StockQuery, errors=READ_ERRORS)
def stock_out() -> ResponseReturnValue:
    """Days of cover per product and branch, soonest stock-out first (read-only)."""
    q = parse_query(StockQuery)
    tenant, branches = _scope(q.branch_id)
    return shaped(StockOutOut, queries.stock_out(tenant, branches, now(), q.days))


@bp.get("/api/v1/forecasts/reorder")
@api({200: ReorderOut}, query=ReorderQuery, errors=READ_ERRORS)
def reorder() -> ResponseReturnValue:
    """Reorder suggestions from demand, stock and reorder points (read-only)."""
    q = parse_query(ReorderQuery)
    tenant, branches = _scope(q.branch_id)
    out = queries.reorder(tenant, branches, now(), q.days, q.lead_time_days, q.safety_days)
    return shaped(ReorderOut, out)


@bp.get("/api/v1/forecasts/anomalies")
@api({200: AnomalyOut}, query=AnomalyQuery, errors=READ_ERRORS)
def anomalies() -> ResponseReturnValue:
    """Each cashier's and box's day against its own history (read-only)."""
    q = parse_query(AnomalyQuery)
    tenant, branches = _scope(q.branch_id)
    out = queries.anomalies(tenant, branches, now(), q.day, q.history_days)
    return shaped(AnomalyOut, out)
