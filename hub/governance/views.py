"""Config, brand, feature flags and the audit log/integrity endpoints."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict, Field

from hub.core.openapi import WRITE_ERRORS, Items, PageQuery, api
from hub.governance import audit, config, flags, rule_changes
from hub.governance.brand import brand_for
from hub.governance.responses import (
    AuditPageOut,
    BrandOut,
    ConfigVersionOut,
    FlagOut,
    IntegrityOut,
    RuleChangeOut,
)
from hub.web import (
    current_principal,
    integrity,
    notify_boxes,
    page_arg,
    parse_body,
    require,
    target_tenant,
)
from posdomain.permissions import Action, Principal, Scope, authorize

bp = Blueprint("governance", __name__, template_folder="templates")


class ConfigQuery(BaseModel):
    """?branch_id=: the version in force for that branch."""

    branch_id: str | None = Field(default=None, max_length=64)


class AuditQuery(PageQuery):
    """?page= and (platform callers) ?tenant_id= of the audit chain."""

    tenant_id: str | None = Field(default=None, max_length=64)


class ConfigIn(BaseModel):
    """PUT config body: the document and a reason."""

    model_config = ConfigDict(extra="forbid")

    body: dict[str, Any]
    reason: str = ""
    # tax only: the branch whose own version this is (FR-302 "per tenant/branch")
    branch_id: str | None = Field(default=None, min_length=1, max_length=64)
    # business rules (tax, pricing, risk, loyalty) only: what it changes and the ticket
    impact: str | None = Field(default=None, max_length=1000)
    change_ref: str | None = Field(default=None, max_length=100)


class FlagIn(BaseModel):
    """PUT flag body."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool
    reason: str = ""
    change_ticket: str | None = Field(default=None, max_length=64)
    emergency: bool = False


class BackfillIn(BaseModel):
    """PUT flag ticket body: the change ticket of an emergency flip, after the fact."""

    model_config = ConfigDict(extra="forbid")

    change_ticket: str = Field(min_length=1, max_length=64)
    reason: str = Field(default="", max_length=500)


@bp.get("/api/v1/config/<kind>")
@bp.get("/api/v1/tenants/<tenant_id>/config/<kind>")
@api({200: ConfigVersionOut}, query=ConfigQuery)
def get_config(kind: str, tenant_id: str | None = None) -> ResponseReturnValue:
    """Current version of a config kind (?branch_id=: the version in force for that branch)."""
    _p, tenant, _s = target_tenant(Action.CONFIG_READ, tenant_id)
    branch_id = request.args.get("branch_id") or None
    if branch_id is not None:
        require(Action.CONFIG_READ, tenant_id=tenant, branch_id=branch_id)
    return jsonify(config.get_config(tenant, kind, branch_id))


@bp.put("/api/v1/config/<kind>")
@bp.put("/api/v1/tenants/<tenant_id>/config/<kind>")
@api({200: ConfigVersionOut, 202: RuleChangeOut}, body=ConfigIn, errors=WRITE_ERRORS)
def put_config(kind: str, tenant_id: str | None = None) -> ResponseReturnValue:
    """New version of a config kind (reason required); pushed to the boxes. A business rule
    (tax, pricing, risk, loyalty; impact and change_ref required) is proposed instead: 202
    with the decision-log entry, in force once a second person approves it (FR-901)."""
    principal, tenant, _s = target_tenant(Action.CONFIG_EDIT, tenant_id)
    integrity().guard_writes()
    body = parse_body(ConfigIn)
    if kind in config.RULE_KINDS:
        config.check_change(kind, body.reason, body.branch_id)  # 400 REASON_REQUIRED first
        evidence = rule_changes.evidence_of(body.impact, body.change_ref)
        proposed = rule_changes.propose_config(
            principal, tenant, kind, body.body, body.reason, evidence, body.branch_id
        )
        return jsonify(proposed), 202
    result = config.put_config(principal, tenant, kind, body.body, body.reason, body.branch_id)
    notify_boxes(tenant)
    return jsonify(result)


@bp.get("/api/v1/brand")
@api({200: BrandOut}, errors=(400, 401))
def get_brand() -> ResponseReturnValue:
    """The caller's tenant brand (BrandService)."""
    principal = current_principal()
    assert principal is not None
    return jsonify(brand_for(principal.tenant_id).to_dict())


@bp.get("/api/v1/flags")
@bp.get("/api/v1/tenants/<tenant_id>/flags")
@api({200: Items[FlagOut]})
def list_flags(tenant_id: str | None = None) -> ResponseReturnValue:
    """The tenant's feature flags."""
    _p, tenant, _s = target_tenant(Action.CONFIG_READ, tenant_id)
    return jsonify({"items": flags.list_flags(tenant)})


@bp.put("/api/v1/flags/<name>")
@bp.put("/api/v1/tenants/<tenant_id>/flags/<name>")
@api({200: FlagOut}, body=FlagIn, errors=WRITE_ERRORS)
def put_flag(name: str, tenant_id: str | None = None) -> ResponseReturnValue:
    """Flip a feature flag (change ticket in PROD)."""
    principal, tenant, _s = target_tenant(Action.FLAG_FLIP, tenant_id)
    integrity().guard_writes()
    body = parse_body(FlagIn)
    env = current_app.config["CFPOS_ENV"]
    result = flags.set_flag(principal, tenant, name, body.model_dump(), env)
    notify_boxes(tenant)
    return jsonify(result)


@bp.put("/api/v1/flags/<name>/ticket")
@bp.put("/api/v1/tenants/<tenant_id>/flags/<name>/ticket")
@api({200: FlagOut}, body=BackfillIn, errors=WRITE_ERRORS)
def backfill_flag(name: str, tenant_id: str | None = None) -> ResponseReturnValue:
    """Back-fill the change ticket of an emergency flip (FR-803)."""
    principal, tenant, _s = target_tenant(Action.FLAG_FLIP, tenant_id)
    integrity().guard_writes()
    body = parse_body(BackfillIn)
    return jsonify(flags.backfill(principal, tenant, name, body.model_dump()))


@bp.get("/api/v1/audit")
@api({200: AuditPageOut}, query=AuditQuery)
def list_audit() -> ResponseReturnValue:
    """One page of the caller's tenant audit chain (branch managers: their branches' entries)."""
    principal, tenant, scope = target_tenant(Action.AUDIT_READ, request.args.get("tenant_id"))
    return jsonify(audit.read_entries(tenant, page_arg(), audit_branches(principal, scope)))


@bp.get("/api/v1/audit/integrity")
@api({200: IntegrityOut})
def audit_integrity() -> ResponseReturnValue:
    """ChainReport of every chain visible to the caller, plus the lock state."""
    principal = current_principal()
    assert principal is not None
    scope = authorize(principal, Action.AUDIT_READ)
    return jsonify(integrity_report(principal, scope))


def audit_branches(principal: Principal, scope: Scope) -> frozenset[str] | None:
    """Branches whose audit entries a reader may see (None = the whole chain)."""
    return principal.branch_ids if scope is Scope.BRANCH else None


def integrity_report(principal: Principal, scope: Scope) -> dict[str, Any]:
    """The caller's integrity report (verdict fields only for branch-scoped readers)."""
    cfg = current_app.config
    return audit.integrity_report(
        principal.tenant_id,
        integrity(),
        cfg["AUDIT_CHECKPOINT_DIR"],
        str(cfg["AUDIT_CHECKPOINT_KEY"]).encode(),
        verdict_only=scope is Scope.BRANCH,
    )
