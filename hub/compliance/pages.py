"""Compliance in the portal (FR-P7-1014..1018): the tenant export and audit evidence, the
retention policy per data class with its purge runs, legal holds (list, place, release) and
one customer's privacy page (holds, PII export, erasure and its record).

Thin: forms are parsed with the API's own models and handed to the same services, so a
page and its API call cannot drift; a refusal (a hold, a floor) is shown on the page with
its reason code.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from flask import Blueprint, Response, current_app, redirect, request, stream_with_context
from flask.typing import ResponseReturnValue
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from hub.compliance import customers, export, holds, present, retention
from hub.compliance.holds import HoldIn
from hub.compliance.retention import RetentionPolicyIn
from hub.compliance.schemas import ErasureIn, PurgeIn
from hub.core.db import tenant_tx
from hub.customers.service import find
from hub.sales.queries import list_branches
from hub.web import integrity, notify_boxes, page_arg, render_page, target_tenant
from posdomain.contract import field_details
from posdomain.errors import PosError, Reason, ValidationError
from posdomain.permissions import Action

bp = Blueprint("compliance_pages", __name__, template_folder="templates")
TAR = "application/x-tar"


def _form(model: type[BaseModel], data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data)
    except PydanticValidationError as err:
        raise ValidationError(
            "the form is incomplete", Reason.VALIDATION_FAILED, field_details(err)
        ) from err


def _error(err: PosError) -> dict[str, Any]:
    return {"reason": str(err.reason), "message": err.message, "details": err.details}


def _key() -> bytes:
    return str(current_app.config["AUDIT_CHECKPOINT_KEY"]).encode()


def _compliance(tenant: str, status: int = 200, error: Any = None) -> ResponseReturnValue:
    return render_page(
        "compliance.html",
        status,
        policies=retention.policies(tenant),
        runs=present.recent_runs(tenant),
        live=len(holds.list_holds(tenant, live_only=True)),
        error=error,
    )


@bp.get("/compliance")
def compliance_page() -> ResponseReturnValue:
    """Exports, retention per data class with the purge runs, the count of live holds."""
    _p, tenant, _s = target_tenant(Action.COMPLIANCE_READ)
    return _compliance(tenant)


@bp.get("/compliance/export")
def export_download() -> ResponseReturnValue:
    """The tenant compliance export as a download (streamed, signed, audited)."""
    principal, tenant, _s = target_tenant(Action.COMPLIANCE_READ)
    limit = int(current_app.config["COMPLIANCE_EXPORT_MAX_ROWS"])
    chunks = export.tenant_export(principal, tenant, _key(), limit)
    headers = {"Content-Disposition": f'attachment; filename="compliance-{tenant}.tar"'}
    return Response(stream_with_context(chunks), mimetype=TAR, headers=headers)


@bp.post("/compliance/retention/<data_class>")
def policy_form(data_class: str) -> ResponseReturnValue:
    """Portal form: a data class's retention (never under its floor)."""
    principal, tenant, _s = target_tenant(Action.COMPLIANCE_MANAGE)
    integrity().guard_writes()
    try:
        days = request.form.get("keep_days", "").strip() or 0
        body = _form(
            RetentionPolicyIn, {"keep_days": days, "reason": request.form.get("reason", "")}
        )
        retention.set_policy(principal, tenant, data_class, body)
    except ValidationError as err:
        return _compliance(tenant, err.status, _error(err))
    return redirect("/compliance")


@bp.post("/compliance/purge")
def purge_form() -> ResponseReturnValue:
    """Portal form: purge one data class now (all or nothing, held records kept)."""
    principal, tenant, _s = target_tenant(Action.COMPLIANCE_MANAGE)
    integrity().guard_writes()
    body = _form(PurgeIn, {"data_class": request.form.get("data_class", "")})
    try:
        retention.purge(principal, tenant, body.data_class)
    except PosError as err:
        return _compliance(tenant, err.status, _error(err))
    return redirect("/compliance")


def _holds(tenant: str, status: int = 200, error: Any = None) -> ResponseReturnValue:
    sort = present.check_sort(request.args.get("sort", "-created_at") or "-created_at")
    live = request.args.get("live", "") == "true"
    customer_id = request.args.get("customer_id") or request.form.get("target_customer") or ""
    customer = None
    if customer_id:
        with tenant_tx(tenant):
            customer = find(tenant, customer_id[:64])  # 404 for an unknown one
    return render_page(
        "legal_holds_page.html",
        status,
        data=present.holds_page(tenant, live, sort, page_arg()),
        sort=sort,
        live=live,
        branches=list_branches(tenant),
        customer=customer,
        error=error,
        args={k: v for k, v in request.args.items() if k in ("live", "sort")},
    )


@bp.get("/legal-holds")
def holds_page() -> ResponseReturnValue:
    """Legal holds, sorted and paged on the server, and the form for a new one."""
    _p, tenant, _s = target_tenant(Action.COMPLIANCE_READ)
    return _holds(tenant)


def _hold_body(tenant: str) -> dict[str, Any]:
    form = request.form
    scope = form.get("scope", "")
    data: dict[str, Any] = {"scope": scope, "reason": form.get("reason", "")}
    if scope == "branch":
        data["target"] = form.get("target_branch") or None
    elif scope == "customer":
        data["target"] = form.get("target_customer") or None
    elif scope == "date_range":
        try:
            first, last = (
                date.fromisoformat(form["first_day"]),
                date.fromisoformat(form["last_day"]),
            )
        except (KeyError, ValueError) as err:
            raise ValidationError(
                "a date-range hold needs its first and last day",
                Reason.VALIDATION_FAILED,
                {"fields": ["first_day", "last_day"]},
            ) from err
        data["starts_at"], data["ends_at"] = present.day_bounds(tenant, first, last)
    return data


@bp.post("/legal-holds")
def place_form() -> ResponseReturnValue:
    """Portal form: place a hold (tenant, branch, customer or a range of local days)."""
    principal, tenant, _s = target_tenant(Action.COMPLIANCE_MANAGE)
    integrity().guard_writes()
    try:
        holds.place(principal, tenant, _form(HoldIn, _hold_body(tenant)))
    except ValidationError as err:
        return _holds(tenant, err.status, _error(err))
    return redirect("/legal-holds?live=true")


@bp.post("/legal-holds/<hold_id>/release")
def release_form(hold_id: str) -> ResponseReturnValue:
    """Portal form: release a hold."""
    principal, tenant, _s = target_tenant(Action.COMPLIANCE_MANAGE)
    integrity().guard_writes()
    holds.release(principal, tenant, hold_id)
    return redirect("/legal-holds")


def _privacy(
    tenant: str, customer_id: str, status: int = 200, error: Any = None
) -> ResponseReturnValue:
    with tenant_tx(tenant):
        customer = find(tenant, customer_id)
        held = holds.holds_for_customer(tenant, customer)
    record = None
    if customer.erased_at is not None:
        record = customers.erasure_record(tenant, customer_id)
        with tenant_tx(tenant):
            record["erased_local"] = present.local_time(
                record["erased_at"], present.tenant_zone(tenant)
            )
    return render_page(
        "customer_privacy.html", status, customer=customer, holds=held, record=record, error=error
    )


@bp.get("/customers/<customer_id>/privacy")
def privacy_page(customer_id: str) -> ResponseReturnValue:
    """One customer's privacy: holds on them, PII export, erasure or its record."""
    _p, tenant, _s = target_tenant(Action.CUSTOMER_PII)
    return _privacy(tenant, customer_id)


@bp.get("/customers/<customer_id>/privacy/export")
def privacy_export(customer_id: str) -> ResponseReturnValue:
    """Everything held about the customer as a JSON download (audited)."""
    principal, tenant, _s = target_tenant(Action.CUSTOMER_PII)
    doc = customers.pii_export(principal, tenant, customer_id)
    headers = {"Content-Disposition": f'attachment; filename="customer-{customer_id}.json"'}
    body = json.dumps(doc, indent=2, sort_keys=True, default=str)
    return Response(body, mimetype="application/json", headers=headers)


@bp.post("/customers/<customer_id>/privacy/erase")
def erase_form(customer_id: str) -> ResponseReturnValue:
    """Portal form: erase the customer's PII (refused under a hold, saying which)."""
    principal, tenant, _s = target_tenant(Action.CUSTOMER_PII)
    integrity().guard_writes()
    if request.form.get("confirm") != "yes":
        err = ValidationError("tick the box to confirm the erasure", Reason.VALIDATION_FAILED)
        return _privacy(tenant, customer_id, 400, _error(err))
    try:
        body = _form(ErasureIn, {"reason": request.form.get("reason", "")})
        customers.erase(principal, tenant, customer_id, body.reason)
    except PosError as err:
        if err.status == 404:
            raise
        return _privacy(tenant, customer_id, err.status, _error(err))
    notify_boxes(tenant)
    return redirect(f"/customers/{customer_id}/privacy")
