"""The business-rule decision log (FR-901) as a JSON API, a CSV export and a portal page.

Proposals come from the rule writers themselves (PUT /config/{tax,pricing,risk,loyalty},
POST /pricing/policies, POST /pricing/policies/<id>/retire answer 202 with the entry); here a
second person approves or rejects them. Thin: parse, call `hub.governance.rule_changes`.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, redirect, request
from flask.typing import ResponseReturnValue
from pydantic import Field

from hub.core.openapi import WRITE_ERRORS, Page, api, parse_query
from hub.governance import rule_changes, rule_log
from hub.governance.responses import RuleChangeOut
from hub.web import (
    current_principal,
    integrity,
    notify_boxes,
    parse_body,
    render_page,
    target_tenant,
)
from posdomain.permissions import Action

bp = Blueprint("rule_changes", __name__, template_folder="templates")


@bp.get("/api/v1/rule-changes")
@bp.get("/api/v1/tenants/<tenant_id>/rule-changes")
@api({200: Page[RuleChangeOut]}, query=rule_log.ListQuery)
def list_changes(tenant_id: str | None = None) -> ResponseReturnValue:
    """One page of the decision log, newest first (?state=, ?kind=)."""
    _p, tenant, _s = target_tenant(Action.CONFIG_READ, tenant_id)
    q = parse_query(rule_log.ListQuery)
    return jsonify(rule_log.list_changes(tenant, q.page, q.state, q.kind))


@bp.get("/api/v1/rule-changes/export.csv")
@bp.get("/api/v1/tenants/<tenant_id>/rule-changes/export.csv")
@api({200: "text/csv"}, query=rule_log.ListQuery)
def export_changes(tenant_id: str | None = None) -> ResponseReturnValue:
    """The whole decision log as CSV, oldest first (formula-safe); the export is audited."""
    principal, tenant, _s = target_tenant(Action.CONFIG_READ, tenant_id)
    q = parse_query(rule_log.ListQuery)
    text = rule_log.export_csv(principal, tenant, q.state, q.kind)
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="rule-changes.csv"'},
    )


@bp.get("/api/v1/rule-changes/<change_id>")
@bp.get("/api/v1/tenants/<tenant_id>/rule-changes/<change_id>")
@api({200: RuleChangeOut})
def get_change(change_id: str, tenant_id: str | None = None) -> ResponseReturnValue:
    """One entry of the decision log."""
    _p, tenant, _s = target_tenant(Action.CONFIG_READ, tenant_id)
    return jsonify(rule_changes.get_change(tenant, change_id))


@bp.post("/api/v1/rule-changes/<change_id>/approve")
@bp.post("/api/v1/tenants/<tenant_id>/rule-changes/<change_id>/approve")
@api({200: RuleChangeOut}, body=rule_changes.DecideIn, errors=WRITE_ERRORS)
def approve_change(change_id: str, tenant_id: str | None = None) -> ResponseReturnValue:
    """A second person approves: the rule version takes effect now and reaches the boxes
    (409 SAME_PERSON for the proposer, whatever their role)."""
    principal, tenant, _s = target_tenant(Action.RULE_APPROVE, tenant_id)
    integrity().guard_writes()
    body = parse_body(rule_changes.DecideIn)
    result = rule_changes.activate(principal, tenant, change_id, body.note)
    notify_boxes(tenant)
    return jsonify(result)


@bp.post("/api/v1/rule-changes/<change_id>/reject")
@bp.post("/api/v1/tenants/<tenant_id>/rule-changes/<change_id>/reject")
@api({200: RuleChangeOut}, body=rule_changes.DecideIn, errors=WRITE_ERRORS)
def reject_change(change_id: str, tenant_id: str | None = None) -> ResponseReturnValue:
    """A second person rejects the proposal; nothing changes."""
    principal, tenant, _s = target_tenant(Action.RULE_APPROVE, tenant_id)
    integrity().guard_writes()
    body = parse_body(rule_changes.DecideIn)
    return jsonify(rule_changes.reject(principal, tenant, change_id, body.note))


@bp.get("/rules")
def rules_page() -> ResponseReturnValue:
    """Portal page: the decision log with who proposed, who approved, when it took effect
    (a platform owner names the tenant: ?tenant_id=)."""
    _p, tenant, _s = target_tenant(Action.CONFIG_READ, _platform_tenant())
    q = parse_query(PageQuery)
    return render_page(
        "rule_changes.html",
        data=rule_log.list_changes(tenant, q.page, q.state, q.kind),
        state=q.state or "",
        tenant_q=f"tenant_id={tenant}" if _platform_tenant() else "",
        error=request.args.get("error", ""),
    )


class PageQuery(rule_log.ListQuery):
    """The portal page's query: the list's, and a platform owner's tenant."""

    tenant_id: str | None = Field(default=None, max_length=64)


def _platform_tenant() -> str | None:
    """?tenant_id= of a platform caller on the portal pages (None otherwise)."""
    principal = current_principal()
    if principal is None or principal.tenant_id is not None:
        return None
    return request.args.get("tenant_id") or None


@bp.post("/rules/<change_id>/<verdict>")
def decide_form(change_id: str, verdict: str) -> ResponseReturnValue:
    """Portal form: approve or reject, then back to the log."""
    principal, tenant, _s = target_tenant(Action.RULE_APPROVE, _platform_tenant())
    note = request.form.get("note", "")[:1000]
    if verdict == "approve":
        rule_changes.activate(principal, tenant, change_id, note)
        notify_boxes(tenant)
    elif verdict == "reject":
        rule_changes.reject(principal, tenant, change_id, note)
    else:
        return redirect("/rules?error=unknown+verdict")
    back = _platform_tenant()
    return redirect(f"/rules?tenant_id={back}" if back else "/rules")
