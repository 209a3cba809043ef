"""Pricing policies API (FR-301): create/change, list, retire, cacheable preview, basket preview."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify, make_response, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict, Field

from hub.core.openapi import WRITE_ERRORS, Page, PageQuery, api
from hub.governance import flags, rule_changes
from hub.governance.responses import RuleChangeOut
from hub.pricing import policies as pricing_policies
from hub.pricing import preview as pricing_preview
from hub.pricing.responses import BasketPreviewOut, PolicyPreviewOut, PolicyRowOut
from hub.web import (
    integrity,
    page_arg,
    parse_body,
    render_page,
    require,
    target_tenant,
)
from posdomain.permissions import Action
from posdomain.policy import policy_etag

bp = Blueprint("pricing", __name__, template_folder="templates")
PREVIEW_CACHE = "private, max-age=60"


class PolicyListQuery(PageQuery):
    """?versions=all lists every version, not only the newest of each policy."""

    versions: str | None = Field(default=None, max_length=3)


class PreviewQuery(BaseModel):
    """?at=: the instant to preview (ISO 8601 with a zone; default now)."""

    at: str | None = Field(default=None, max_length=40)


class RetireIn(BaseModel):
    """POST retire body: why the policy ends now, its impact and the change reference."""

    model_config = ConfigDict(extra="forbid")

    reason: str = ""
    impact: str | None = Field(default=None, max_length=1000)
    change_ref: str | None = Field(default=None, max_length=100)


class PolicyChangeIn(pricing_policies.PolicyIn):
    """POST policy body: the policy, plus the impact and change reference of the proposal."""

    impact: str | None = Field(default=None, max_length=1000)
    change_ref: str | None = Field(default=None, max_length=100)

    def policy(self) -> pricing_policies.PolicyIn:
        """The policy part."""
        return pricing_policies.PolicyIn.model_validate(
            self.model_dump(exclude={"impact", "change_ref"})
        )


@bp.post("/api/v1/pricing/policies")
@bp.post("/api/v1/tenants/<tenant_id>/pricing/policies")
@api({202: RuleChangeOut}, body=PolicyChangeIn, errors=WRITE_ERRORS)
def create_policy(tenant_id: str | None = None) -> ResponseReturnValue:
    """Propose a new policy, or the next version of one (same policy_id): a promotion is a
    business rule (FR-901), signed and pushed once a second person approves the change."""
    principal, tenant, _s = target_tenant(Action.CONFIG_EDIT, tenant_id)
    integrity().guard_writes()
    body = parse_body(PolicyChangeIn)
    evidence = rule_changes.evidence_of(body.impact, body.change_ref)
    return jsonify(rule_changes.propose_policy(principal, tenant, body.policy(), evidence)), 202


@bp.get("/api/v1/pricing/policies")
@bp.get("/api/v1/tenants/<tenant_id>/pricing/policies")
@api({200: Page[PolicyRowOut]}, query=PolicyListQuery)
def list_policies(tenant_id: str | None = None) -> ResponseReturnValue:
    """One page of policies (newest version each; ?versions=all for the whole history)."""
    _p, tenant, _s = target_tenant(Action.CONFIG_READ, tenant_id)
    all_versions = request.args.get("versions") == "all"
    return jsonify(pricing_policies.list_policies(tenant, page_arg(), all_versions))


@bp.post("/api/v1/pricing/policies/<policy_id>/retire")
@bp.post("/api/v1/tenants/<tenant_id>/pricing/policies/<policy_id>/retire")
@api({202: RuleChangeOut}, body=RetireIn, errors=WRITE_ERRORS)
def retire_policy(policy_id: str, tenant_id: str | None = None) -> ResponseReturnValue:
    """Propose to end a policy now (a new version with effectiveTo = now, once approved)."""
    principal, tenant, _s = target_tenant(Action.CONFIG_EDIT, tenant_id)
    integrity().guard_writes()
    body = parse_body(RetireIn)
    evidence = rule_changes.evidence_of(body.impact, body.change_ref)
    proposed = rule_changes.propose_retire(principal, tenant, policy_id, body.reason, evidence)
    return jsonify(proposed), 202


@bp.get("/api/v1/pricing/policies/preview")
@bp.get("/api/v1/tenants/<tenant_id>/pricing/policies/preview")
@api({200: PolicyPreviewOut, 304: None}, query=PreviewQuery)
def preview_policies(tenant_id: str | None = None) -> ResponseReturnValue:
    """Policies that execute at ?at= (default now): read-only, ETag + max-age, 304 on match."""
    _p, tenant, _s = target_tenant(Action.CONFIG_READ, tenant_id)
    raw_at = request.args.get("at")
    at = datetime.now(UTC) if not raw_at else pricing_policies.parse_time(raw_at, "at")
    policies = pricing_policies.effective_at(tenant, at)
    body = {"at": pricing_policies.wire_time(at) if raw_at else None, "policies": policies}
    etag = policy_etag(body)
    if request.if_none_match.contains_weak(etag.strip('"')):
        response = Response(status=304)
    else:
        response = make_response(jsonify(body))
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = PREVIEW_CACHE
    return response


@bp.post("/api/v1/pricing/preview")
@bp.post("/api/v1/tenants/<tenant_id>/pricing/preview")
@api({200: BasketPreviewOut}, body=pricing_preview.BasketPreviewIn, errors=WRITE_ERRORS)
def preview_basket(tenant_id: str | None = None) -> ResponseReturnValue:
    """Price and tax a posted basket with the catalog, tax config and policies (no writes)."""
    _p, tenant, _s = target_tenant(Action.CONFIG_READ, tenant_id)
    body = parse_body(pricing_preview.BasketPreviewIn)
    if body.branch_id is not None:
        require(Action.CONFIG_READ, tenant_id=tenant, branch_id=body.branch_id)
    return jsonify(pricing_preview.preview_basket(tenant, body))


@bp.get("/pricing")
def pricing_page() -> ResponseReturnValue:
    """Portal page: the tenant's promotions and whether advanced discounts are on (read-only)."""
    _principal, tenant, _s = target_tenant(Action.CONFIG_READ)
    data = pricing_policies.list_policies(tenant, page_arg())
    enabled = {f["name"]: f["enabled"] for f in flags.list_flags(tenant)}
    return render_page(
        "pricing.html",
        data=data,
        advanced_discounts=enabled["advanced_discounts"],
    )
