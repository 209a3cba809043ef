"""Compliance API (FR-P7-1014..1018): legal holds, customer PII export and erasure, the
tenant compliance export and the audit evidence export (streamed, signed, audited)."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, Response, current_app, stream_with_context
from flask.typing import ResponseReturnValue

from hub.compliance import customers, export, holds, retention
from hub.compliance.holds import HoldIn
from hub.compliance.retention import RetentionPolicyIn
from hub.compliance.schemas import (
    ErasureIn,
    ErasureOut,
    HoldList,
    HoldOut,
    HoldQuery,
    PiiExportOut,
    PolicyList,
    PolicyOut,
    PurgeIn,
    PurgeOut,
)
from hub.core.openapi import READ_ERRORS, WRITE_ERRORS, api, parse_query
from hub.core.responses import shaped
from hub.web import integrity, notify_boxes, parse_body, target_tenant
from posdomain.permissions import Action

bp = Blueprint("compliance", __name__)
TAR = "application/x-tar"


@bp.get("/api/v1/legal-holds")
@api({200: HoldList}, query=HoldQuery)
def list_holds() -> ResponseReturnValue:
    """The tenant's legal holds (?live=true: only those in force)."""
    _p, tenant, _s = target_tenant(Action.COMPLIANCE_READ)
    query = parse_query(HoldQuery)
    return shaped(HoldList, {"items": holds.list_holds(tenant, query.live)})


@bp.post("/api/v1/legal-holds")
@api({201: HoldOut}, body=HoldIn, errors=WRITE_ERRORS)
def place_hold() -> ResponseReturnValue:
    """Place a legal hold on the tenant, a branch, a customer or a date range (audited)."""
    principal, tenant, _s = target_tenant(Action.COMPLIANCE_MANAGE)
    integrity().guard_writes()
    body = parse_body(HoldIn)
    return shaped(HoldOut, holds.place(principal, tenant, body)), 201


@bp.post("/api/v1/legal-holds/<hold_id>/release")
@api({200: HoldOut}, errors=WRITE_ERRORS)
def release_hold(hold_id: str) -> ResponseReturnValue:
    """Release a legal hold (audited)."""
    principal, tenant, _s = target_tenant(Action.COMPLIANCE_MANAGE)
    integrity().guard_writes()
    return shaped(HoldOut, holds.release(principal, tenant, hold_id))


@bp.get("/api/v1/customers/<customer_id>/pii-export")
@api({200: PiiExportOut}, errors=READ_ERRORS)
def pii_export(customer_id: str) -> ResponseReturnValue:
    """Everything held about one customer (audited)."""
    principal, tenant, _s = target_tenant(Action.CUSTOMER_PII)
    return shaped(PiiExportOut, customers.pii_export(principal, tenant, customer_id))


@bp.post("/api/v1/customers/<customer_id>/erasure")
@api({200: ErasureOut}, body=ErasureIn, errors=WRITE_ERRORS)
def erase_customer(customer_id: str) -> ResponseReturnValue:
    """Erase a customer's PII; sales, points and audit keep the pseudonymous id (409
    LEGAL_HOLD under a hold, saying which)."""
    principal, tenant, _s = target_tenant(Action.CUSTOMER_PII)
    integrity().guard_writes()
    body = parse_body(ErasureIn)
    record = customers.erase(principal, tenant, customer_id, body.reason)
    notify_boxes(tenant)  # the card directory drops the card and the name
    return shaped(ErasureOut, record)


@bp.get("/api/v1/customers/<customer_id>/erasure")
@api({200: ErasureOut}, errors=READ_ERRORS)
def erasure_record(customer_id: str) -> ResponseReturnValue:
    """The record of a customer's erasure: what was erased, what kept under which rule."""
    _p, tenant, _s = target_tenant(Action.CUSTOMER_PII)
    return shaped(ErasureOut, customers.erasure_record(tenant, customer_id))


def _tar(chunks: Iterator[bytes], name: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(stream_with_context(chunks), mimetype=TAR, headers=headers)


def _key() -> bytes:
    return str(current_app.config["AUDIT_CHECKPOINT_KEY"]).encode()


@bp.get("/api/v1/compliance/export")
@api({200: TAR}, errors=(*READ_ERRORS, 413))
def compliance_export() -> ResponseReturnValue:
    """The tenant's data as JSON lines per table with a signed manifest (streamed, audited;
    413 EXPORT_TOO_LARGE over the row limit)."""
    principal, tenant, _s = target_tenant(Action.COMPLIANCE_READ)
    limit = int(current_app.config["COMPLIANCE_EXPORT_MAX_ROWS"])
    chunks = export.tenant_export(principal, tenant, _key(), limit)
    return _tar(chunks, f"compliance-{tenant}.tar")


@bp.get("/api/v1/compliance/audit-evidence")
@api({200: TAR}, errors=READ_ERRORS)
def audit_evidence() -> ResponseReturnValue:
    """The tenant's audit chain with its verification report, signed (streamed, audited)."""
    principal, tenant, _s = target_tenant(Action.COMPLIANCE_READ)
    return _tar(export.audit_evidence(principal, tenant, _key()), f"audit-{tenant}.tar")


@bp.get("/api/v1/retention-policies")
@api({200: PolicyList})
def list_policies() -> ResponseReturnValue:
    """Retention per data class: days in force, the floor, whether the job purges it."""
    _p, tenant, _s = target_tenant(Action.COMPLIANCE_READ)
    return shaped(PolicyList, {"items": retention.policies(tenant)})


@bp.put("/api/v1/retention-policies/<data_class>")
@api({200: PolicyOut}, body=RetentionPolicyIn, errors=WRITE_ERRORS)
def set_policy(data_class: str) -> ResponseReturnValue:
    """Set a data class's retention (never under its floor; audited)."""
    principal, tenant, _s = target_tenant(Action.COMPLIANCE_MANAGE)
    integrity().guard_writes()
    body = parse_body(RetentionPolicyIn)
    return shaped(PolicyOut, retention.set_policy(principal, tenant, data_class, body))


@bp.post("/api/v1/retention/purge")
@api({200: PurgeOut}, body=PurgeIn, errors=WRITE_ERRORS)
def purge_now() -> ResponseReturnValue:
    """Purge one data class past its retention now, all or nothing, skipping held records
    (409 LEGAL_HOLD under a tenant hold; audited)."""
    principal, tenant, _s = target_tenant(Action.COMPLIANCE_MANAGE)
    integrity().guard_writes()
    body = parse_body(PurgeIn)
    return shaped(PurgeOut, retention.purge(principal, tenant, body.data_class))
