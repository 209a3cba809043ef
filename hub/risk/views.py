"""Risk modes and scores (FR-701): JSON API and the portal page."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, redirect, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field
from pydantic import ValidationError as PydanticValidationError

from hub.core.db import tenant_tx
from hub.core.openapi import READ_ERRORS, WRITE_ERRORS, api
from hub.core.responses import shaped
from hub.identity.models import Box
from hub.risk import modes, scoring
from hub.risk.modes import ModeIn
from hub.risk.schemas import BoxModeOut, RecomputeOut, RiskModeOut, RiskOverview, ScoreList
from hub.sales.queries import allowed_branches, branch_choices
from hub.web import notify_boxes, parse_body, render_page, target_tenant
from posdomain.contract import field_details
from posdomain.errors import NotFound, Reason, ValidationError
from posdomain.permissions import Action

bp = Blueprint("risk", __name__, template_folder="templates")
KINDS = ("cashier", "box", "branch")


class ScoreQuery(BaseModel):
    """?kind= of the score list (cashier, box, branch; empty: all)."""

    kind: str | None = Field(default=None, max_length=16)


def _read_scope(tenant_id: str | None = None) -> tuple[str, list[str] | None]:
    principal, tenant, scope = target_tenant(Action.RISK_READ, tenant_id)
    return tenant, allowed_branches(principal, scope, None)


def _kind() -> str | None:
    kind = request.args.get("kind") or None
    if kind is not None and kind not in KINDS:
        raise ValidationError(f"kind must be one of {list(KINDS)}", Reason.VALIDATION_FAILED)
    return kind


@bp.get("/api/v1/risk/modes")
@api({200: RiskOverview}, errors=READ_ERRORS)
def get_modes() -> ResponseReturnValue:
    """Modes in force and the recent changes."""
    tenant, branches = _read_scope()
    return shaped(RiskOverview, modes.overview(tenant, branches))


@bp.post("/api/v1/risk/modes")
@bp.post("/api/v1/tenants/<tenant_id>/risk/modes")
@api({201: RiskModeOut}, body=ModeIn, errors=WRITE_ERRORS)
def set_mode(tenant_id: str | None = None) -> ResponseReturnValue:
    """Change the risk mode of the tenant, a branch or a box (owners only; audited)."""
    principal, tenant, _s = target_tenant(Action.RISK_MODE, tenant_id)
    body = parse_body(modes.ModeIn)
    changed = modes.set_mode(principal, tenant, body)
    notify_boxes(tenant)
    return shaped(RiskModeOut, changed), 201


@bp.get("/api/v1/risk/scores")
@api({200: ScoreList}, query=ScoreQuery, errors=READ_ERRORS)
def get_scores() -> ResponseReturnValue:
    """Stored risk scores, highest first (?kind=cashier|box|branch)."""
    tenant, branches = _read_scope()
    return shaped(ScoreList, {"items": scoring.list_scores(tenant, branches, _kind())})


@bp.post("/api/v1/risk/scores/recompute")
@api({200: RecomputeOut}, errors=WRITE_ERRORS)
def recompute() -> ResponseReturnValue:
    """Score every subject now (owners; the scheduler does this periodically)."""
    _p, tenant, _s = target_tenant(Action.RISK_MODE)
    return shaped(RecomputeOut, scoring.score_tenant(tenant))


@bp.get("/api/v1/risk/boxes/<box_id>/mode")
@api({200: BoxModeOut}, errors=READ_ERRORS)
def box_mode(box_id: str) -> ResponseReturnValue:
    """The mode in force for one box, exactly as its `risk` down message carries it."""
    principal, tenant, scope = target_tenant(Action.RISK_READ, box_id=box_id)
    branches = allowed_branches(principal, scope, None)
    with tenant_tx(tenant):
        box = Box.get_or_none(Box.box_id == box_id, Box.tenant_id == tenant)
        if box is None or (branches is not None and box.branch_id not in branches):
            raise NotFound("no such box", Reason.UNKNOWN_BOX)
        state = modes.state_for(tenant, [box.branch_id], box.box_id)
    return shaped(BoxModeOut, {"box_id": box_id, "mode_state": state.model_dump()})


@bp.get("/risk")
def risk_page() -> ResponseReturnValue:
    """Portal: modes in force, the change form (owners) and the scores."""
    principal, tenant, scope = target_tenant(Action.RISK_READ)
    branches = allowed_branches(principal, scope, None)
    return render_page(
        "risk.html",
        overview=modes.overview(tenant, branches),
        scores=scoring.list_scores(tenant, branches, _kind())[:50],
        branches=branch_choices(principal, tenant),
        error=request.args.get("error", ""),
    )


def _form_mode() -> modes.ModeIn:
    form = request.form
    expires = form.get("expires_at") or None
    try:
        return modes.ModeIn(
            scope=form.get("scope", ""),  # type: ignore[arg-type]
            scope_id=form.get("scope_id") or None,
            mode=form.get("mode", ""),  # type: ignore[arg-type]
            reason=form.get("reason", ""),
            expires_at=datetime.fromisoformat(expires) if expires else None,
        )
    except (PydanticValidationError, ValueError) as err:
        details = field_details(err) if isinstance(err, PydanticValidationError) else {}
        raise ValidationError(
            "the mode form is incomplete", Reason.VALIDATION_FAILED, details
        ) from err


@bp.post("/risk/modes")
def set_mode_form() -> ResponseReturnValue:
    """Portal form: change a mode, then back to the risk page."""
    principal, tenant, _s = target_tenant(Action.RISK_MODE)
    modes.set_mode(principal, tenant, _form_mode())
    notify_boxes(tenant)
    return redirect("/risk")
