"""Incidents (FR-702): JSON API and portal pages (AUDITOR reads; BRANCH_MANAGER opens and
responds; owners classify and resolve)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field
from pydantic import ValidationError as PydanticValidationError

from hub.core.openapi import READ_ERRORS, WRITE_ERRORS, PageQuery, api
from hub.core.responses import shaped
from hub.incidents import containment, service
from hub.incidents.containment import RespondIn
from hub.incidents.schemas import IncidentDetail, IncidentOut, IncidentPage
from hub.incidents.service import ClassifyIn, OpenIn, ResolveIn
from hub.sales.queries import allowed_branches, branch_choices
from hub.web import notify_boxes, page_arg, parse_body, render_page, target_tenant
from posdomain.contract import field_details
from posdomain.errors import Reason, ValidationError
from posdomain.permissions import Action

bp = Blueprint("incidents", __name__, template_folder="templates")


class IncidentQuery(PageQuery):
    """?state= (DETECTED, CLASSIFIED, RESPONDING, RESOLVED; empty: all) and ?page=."""

    state: str | None = Field(default=None, max_length=16)


def _scope(action: Action) -> tuple[Any, str, list[str] | None]:
    principal, tenant, scope = target_tenant(action)
    return principal, tenant, allowed_branches(principal, scope, None)


def _env() -> str:
    return str(current_app.config["CFPOS_ENV"])


@bp.get("/api/v1/incidents")
@api({200: IncidentPage}, query=IncidentQuery, errors=READ_ERRORS)
def list_incidents() -> ResponseReturnValue:
    """Paged incidents with MTTA/MTTR (?state=DETECTED|CLASSIFIED|RESPONDING|RESOLVED)."""
    _p, tenant, branches = _scope(Action.INCIDENT_READ)
    state = request.args.get("state") or None
    return shaped(IncidentPage, service.list_incidents(tenant, branches, page_arg(), state))


@bp.post("/api/v1/incidents")
@api({201: IncidentOut}, body=OpenIn, errors=WRITE_ERRORS)
def open_incident() -> ResponseReturnValue:
    """Open an incident by hand (DETECT)."""
    body = parse_body(service.OpenIn)
    principal, tenant, branches = _scope(Action.INCIDENT_OPEN)
    return shaped(IncidentOut, service.open_incident(principal, tenant, body, branches)), 201


@bp.get("/api/v1/incidents/<incident_id>")
@api({200: IncidentDetail}, errors=READ_ERRORS)
def get_incident(incident_id: str) -> ResponseReturnValue:
    """One incident with every step and its audit evidence."""
    _p, tenant, branches = _scope(Action.INCIDENT_READ)
    return shaped(IncidentDetail, service.detail(tenant, branches, incident_id))


@bp.post("/api/v1/incidents/<incident_id>/classify")
@api({200: IncidentOut}, body=ClassifyIn, errors=WRITE_ERRORS)
def classify(incident_id: str) -> ResponseReturnValue:
    """CLASSIFY: severity, module, scope."""
    body = parse_body(service.ClassifyIn)
    principal, tenant, _b = _scope(Action.INCIDENT_MANAGE)
    return shaped(IncidentOut, service.classify(principal, tenant, incident_id, body))


@bp.post("/api/v1/incidents/<incident_id>/respond")
@api({200: IncidentOut}, body=RespondIn, errors=WRITE_ERRORS)
def respond(incident_id: str) -> ResponseReturnValue:
    """RESPOND: a containment action (flag disable, risk mode, policy lock, box release
    rollback) or a note."""
    body = parse_body(containment.RespondIn)
    principal, tenant, branches = _scope(Action.INCIDENT_RESPOND)
    done = service.respond(principal, tenant, branches, incident_id, body, _env())
    notify_boxes(tenant)  # a flag or risk-mode containment reaches the boxes now
    return shaped(IncidentOut, done)


@bp.post("/api/v1/incidents/<incident_id>/resolve")
@api({200: IncidentOut}, body=ResolveIn, errors=WRITE_ERRORS)
def resolve(incident_id: str) -> ResponseReturnValue:
    """RESOLVE: root cause and verification evidence."""
    body = parse_body(service.ResolveIn)
    principal, tenant, _b = _scope(Action.INCIDENT_MANAGE)
    return shaped(IncidentOut, service.resolve(principal, tenant, incident_id, body))


@bp.get("/incidents")
def incidents_page() -> ResponseReturnValue:
    """Portal list of incidents with MTTA/MTTR and the open form."""
    principal, tenant, branches = _scope(Action.INCIDENT_READ)
    state = request.args.get("state") or None
    data = service.list_incidents(tenant, branches, page_arg(), state)
    return render_page(
        "incidents.html",
        data=data,
        state=state or "",
        states=service.STATES,
        branches=branch_choices(principal, tenant),
    )


@bp.get("/incidents/<incident_id>")
def incident_page(incident_id: str) -> ResponseReturnValue:
    """Portal incident detail: the timeline and the next step's form."""
    _p, tenant, branches = _scope(Action.INCIDENT_READ)
    return render_page("incident.html", incident=service.detail(tenant, branches, incident_id))


def _form(model: type[BaseModel]) -> Any:
    data = {k: v for k, v in request.form.items() if k != "csrf_token" and v != ""}
    try:
        return model.model_validate(data)
    except PydanticValidationError as err:
        raise ValidationError(
            "the form is incomplete", Reason.VALIDATION_FAILED, field_details(err)
        ) from err


@bp.post("/incidents")
def open_form() -> ResponseReturnValue:
    """Portal form: open an incident."""
    principal, tenant, branches = _scope(Action.INCIDENT_OPEN)
    made = service.open_incident(principal, tenant, _form(service.OpenIn), branches)
    return redirect(f"/incidents/{made['id']}")


@bp.post("/incidents/<incident_id>/<step>")
def step_form(incident_id: str, step: str) -> ResponseReturnValue:
    """Portal forms: classify, respond or resolve, then back to the incident."""
    if step == "respond":
        principal, tenant, branches = _scope(Action.INCIDENT_RESPOND)
        body = _form(containment.RespondIn)
        service.respond(principal, tenant, branches, incident_id, body, _env())
        notify_boxes(tenant)
    elif step in ("classify", "resolve"):
        principal, tenant, _b = _scope(Action.INCIDENT_MANAGE)
        if step == "classify":
            service.classify(principal, tenant, incident_id, _form(service.ClassifyIn))
        else:
            service.resolve(principal, tenant, incident_id, _form(service.ResolveIn))
    else:
        raise ValidationError("unknown incident step", Reason.VALIDATION_FAILED)
    return redirect(f"/incidents/{incident_id}")
