"""Releases (FR-703, FR-804, FR-901): artifacts, smoke runs, promotion, the decision log and
staged rollouts as a JSON API, and the portal page. Thin: parse, call a service, shape."""

from __future__ import annotations

from flask import Blueprint, current_app
from flask.typing import ResponseReturnValue

from hub.core.openapi import READ_ERRORS, WRITE_ERRORS, api
from hub.core.responses import shaped
from hub.governance import flags
from hub.releases import artifacts, decisions, rollouts
from hub.releases.schemas import (
    ArtifactDetail,
    ArtifactList,
    ArtifactOut,
    DecisionList,
    DecisionOut,
    RolloutList,
    RolloutOut,
    SmokeOut,
)
from hub.web import notify_boxes, parse_body, render_page, require, target_tenant
from posdomain.permissions import Action

bp = Blueprint("releases", __name__, template_folder="templates")


def _env() -> str:
    return str(current_app.config["CFPOS_ENV"])


@bp.get("/api/v1/releases")
@api({200: ArtifactList}, errors=READ_ERRORS)
def list_artifacts() -> ResponseReturnValue:
    """Every published artifact, newest build first."""
    require(Action.RELEASE_READ)
    return shaped(ArtifactList, {"items": artifacts.list_artifacts()})


@bp.get("/api/v1/releases/<artifact>")
@api({200: ArtifactDetail}, errors=READ_ERRORS)
def get_artifact(artifact: str) -> ResponseReturnValue:
    """One artifact with its smoke runs, promotions and decisions."""
    require(Action.RELEASE_READ)
    return shaped(ArtifactDetail, artifacts.detail(artifact))


@bp.post("/api/v1/releases/<artifact>/smoke")
@api({201: SmokeOut}, body=artifacts.SmokeIn, errors=WRITE_ERRORS)
def record_smoke(artifact: str) -> ResponseReturnValue:
    """Store a smoke-tier result with the artifact."""
    principal, _scope = require(Action.RELEASE_MANAGE)
    body = parse_body(artifacts.SmokeIn)
    return shaped(SmokeOut, artifacts.record_smoke(principal, artifact, body, principal.actor)), 201


@bp.post("/api/v1/releases/<artifact>/promote")
@api({200: ArtifactOut}, body=artifacts.PromoteIn, errors=WRITE_ERRORS)
def promote(artifact: str) -> ResponseReturnValue:
    """Promote one step (DEV → STAGING → PROD): smoke run needed, PROD also an approved GO."""
    principal, _scope = require(Action.RELEASE_MANAGE)
    body = parse_body(artifacts.PromoteIn)
    return shaped(ArtifactOut, artifacts.promote(principal, artifact, body))


@bp.post("/api/v1/releases/<artifact>/decisions")
@api({201: DecisionOut}, body=decisions.ProposeIn, errors=WRITE_ERRORS)
def propose(artifact: str) -> ResponseReturnValue:
    """Propose the gate's GO/NO-GO as a decision (takes effect on a second person's approval)."""
    principal, _scope = require(Action.RELEASE_MANAGE)
    body = parse_body(decisions.ProposeIn)
    return shaped(DecisionOut, decisions.propose(principal, artifact, body)), 201


@bp.get("/api/v1/release-decisions")
@api({200: DecisionList}, errors=READ_ERRORS)
def list_decisions() -> ResponseReturnValue:
    """The decision log: who proposed, who approved, when."""
    require(Action.RELEASE_READ)
    return shaped(DecisionList, {"items": decisions.list_decisions()})


@bp.post("/api/v1/release-decisions/<decision_id>")
@api({200: DecisionOut}, body=decisions.ApproveIn, errors=WRITE_ERRORS)
def approve(decision_id: str) -> ResponseReturnValue:
    """The second person approves or rejects (never the proposer: 409 SAME_PERSON)."""
    principal, _scope = require(Action.RELEASE_MANAGE)
    body = parse_body(decisions.ApproveIn)
    return shaped(DecisionOut, decisions.approve(principal, decision_id, body))


@bp.get("/api/v1/tenants/<tenant_id>/rollouts")
@api({200: RolloutList}, errors=READ_ERRORS)
def list_rollouts(tenant_id: str) -> ResponseReturnValue:
    """The tenant's rollouts with every box's state."""
    _p, tenant, _s = target_tenant(Action.RELEASE_READ, tenant_id)
    return shaped(RolloutList, {"items": rollouts.list_rollouts(tenant)})


@bp.post("/api/v1/tenants/<tenant_id>/rollouts")
@api({201: RolloutOut}, body=rollouts.RolloutIn, errors=WRITE_ERRORS)
def create_rollout(tenant_id: str) -> ResponseReturnValue:
    """Start a staged rollout: canary cohort by branch or percentage, then the rest."""
    principal, tenant, _s = target_tenant(Action.ROLLOUT_MANAGE, tenant_id)
    body = parse_body(rollouts.RolloutIn)
    made = rollouts.create(principal, tenant, body, _env())
    notify_boxes(tenant)  # the `release` down message offers it to the canary boxes
    return shaped(RolloutOut, made), 201


@bp.get("/api/v1/tenants/<tenant_id>/rollouts/<rollout_id>")
@api({200: RolloutOut}, errors=READ_ERRORS)
def get_rollout(tenant_id: str, rollout_id: str) -> ResponseReturnValue:
    """One rollout with every box."""
    _p, tenant, _s = target_tenant(Action.RELEASE_READ, tenant_id)
    return shaped(RolloutOut, rollouts.get(tenant, rollout_id))


@bp.post("/api/v1/tenants/<tenant_id>/rollouts/<rollout_id>/advance")
@api({200: RolloutOut}, errors=WRITE_ERRORS)
def advance(tenant_id: str, rollout_id: str) -> ResponseReturnValue:
    """After a good canary: offer the release to the rest."""
    principal, tenant, _s = target_tenant(Action.ROLLOUT_MANAGE, tenant_id)
    done = rollouts.advance(principal, tenant, rollout_id)
    notify_boxes(tenant)
    return shaped(RolloutOut, done)


@bp.post("/api/v1/tenants/<tenant_id>/rollouts/<rollout_id>/cancel")
@api({200: RolloutOut}, errors=WRITE_ERRORS)
def cancel(tenant_id: str, rollout_id: str) -> ResponseReturnValue:
    """Stop a running or halted rollout."""
    principal, tenant, _s = target_tenant(Action.ROLLOUT_MANAGE, tenant_id)
    done = rollouts.cancel(principal, tenant, rollout_id)
    notify_boxes(tenant)
    return shaped(RolloutOut, done)


@bp.get("/releases")
def releases_page() -> ResponseReturnValue:
    """Portal: artifacts and their environments, the decision log, this tenant's rollouts."""
    principal, _scope = require(Action.RELEASE_READ)
    tenant = principal.tenant_id
    return render_page(
        "releases.html",
        artifacts=artifacts.list_artifacts(),
        decisions=decisions.list_decisions(),
        smokes=artifacts.recent_smokes(),
        rollouts=rollouts.list_rollouts(tenant) if tenant else [],
        backfill=flags.awaiting_backfill(tenant) if tenant else [],
    )
