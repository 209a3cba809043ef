"""Reconciliation queue and sync health (FR-303, REP-O-08): JSON API and portal pages."""

from __future__ import annotations

from flask import Blueprint, redirect, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict, Field

from hub.core.openapi import WRITE_ERRORS, BranchFilterQuery, Items, Page, api
from hub.sales import queries as sales
from hub.sync import health as sync_health
from hub.sync import reconciliation, refusals
from hub.sync.responses import HealthOut, ReconItemOut
from hub.web import (
    current_principal,
    notify_boxes,
    page_arg,
    parse_body,
    render_page,
    target_tenant,
)
from posdomain.permissions import Action

bp = Blueprint("sync", __name__, template_folder="templates")


class ReconQuery(BranchFilterQuery):
    """Filters of the reconciliation queue."""

    kind: str | None = Field(default=None, max_length=40)
    state: str | None = Field(default=None, max_length=20)


class ResolveIn(BaseModel):
    """Body of a resolve request."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=reconciliation.MAX_NOTE)


def _scope(action: Action) -> tuple[str, list[str] | None]:
    """(tenant, branches) for `action`, honouring ?branch_id= (managers: own branches only)."""
    principal, tenant, scope = target_tenant(action)
    branch_id = request.args.get("branch_id") or None
    return tenant, sales.allowed_branches(principal, scope, branch_id)


def _filters() -> dict[str, str | None]:
    return {k: request.args.get(k) or None for k in ("kind", "state", "severity")}


@bp.get("/api/v1/reconciliation")
@api({200: Page[ReconItemOut]}, query=ReconQuery)
def list_items() -> ResponseReturnValue:
    """Paged reconciliation items, filtered by kind, state and branch."""
    tenant, branches = _scope(Action.SALES_READ)
    f = _filters()
    return reconciliation.list_items(
        tenant, branches, page_arg(), kind=f["kind"], state=f["state"], severity=f["severity"]
    )


@bp.post("/api/v1/reconciliation/<item_id>/resolve")
@api({200: ReconItemOut}, body=ResolveIn, errors=WRITE_ERRORS)
def resolve_item(item_id: str) -> ResponseReturnValue:
    """Resolve an open item with a note (audited); a refused event's box is told."""
    body = parse_body(ResolveIn)
    principal, tenant, scope = target_tenant(Action.RECONCILE)
    branches = sales.allowed_branches(principal, scope, None)
    item = reconciliation.resolve(principal, tenant, branches, item_id, body.note)
    if refusals.reaches_box(item["kind"]):
        notify_boxes(tenant)
    return item


@bp.get("/api/v1/sync/health")
@api({200: Items[HealthOut]}, query=BranchFilterQuery)
def health() -> ResponseReturnValue:
    """Per-box sync health (REP-O-08)."""
    tenant, branches = _scope(Action.DEVICE_HEALTH)
    return {"items": sync_health.health(tenant, branches)}


@bp.get("/reconciliation")
def reconciliation_page() -> ResponseReturnValue:
    """Portal list of the queue with filters and resolve forms."""
    tenant, branches = _scope(Action.SALES_READ)
    filters = _filters()
    data = reconciliation.list_items(
        tenant,
        branches,
        page_arg(),
        kind=filters["kind"],
        state=filters["state"],
        severity=filters["severity"],
    )
    principal = current_principal()
    assert principal is not None
    return render_page(
        "reconciliation.html",
        data=data,
        kinds=reconciliation.KINDS,
        branches=sales.branch_choices(principal, tenant),
        branch_id=request.args.get("branch_id", ""),
        severities=reconciliation.SEVERITIES,
        kind=filters["kind"] or "",
        state=filters["state"] or "",
        severity=filters["severity"] or "",
    )


@bp.post("/reconciliation/<item_id>/resolve")
def resolve_page(item_id: str) -> ResponseReturnValue:
    """Portal form: resolve an item with a note, then back to the list."""
    principal, tenant, scope = target_tenant(Action.RECONCILE)
    branches = sales.allowed_branches(principal, scope, None)
    item = reconciliation.resolve(
        principal, tenant, branches, item_id, request.form.get("note", "")
    )
    if refusals.reaches_box(item["kind"]):
        notify_boxes(tenant)
    return redirect("/reconciliation?state=open")


@bp.get("/sync")
def health_page() -> ResponseReturnValue:
    """Portal sync and box health table."""
    tenant, branches = _scope(Action.DEVICE_HEALTH)
    return render_page("sync_health.html", rows=sync_health.health(tenant, branches))
