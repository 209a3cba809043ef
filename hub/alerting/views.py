"""Alert feed, acknowledge/resolve and alert channels (FR-501): JSON API and portal pages."""

from __future__ import annotations

from flask import Blueprint, redirect, request
from flask.typing import ResponseReturnValue
from pydantic import Field

from hub.alerting import channels, store
from hub.alerting.channels import ChannelIn
from hub.alerting.schemas import AlertOut, AlertPage, ChannelList, ChannelOut, EnabledIn
from hub.core.openapi import READ_ERRORS, WRITE_ERRORS, BranchFilterQuery, api
from hub.core.responses import shaped
from hub.sales.queries import allowed_branches, branch_choices
from hub.settings import settings
from hub.web import page_arg, parse_body, render_page, target_tenant
from posdomain.errors import Reason, ValidationError
from posdomain.permissions import Action

bp = Blueprint("alerting", __name__, template_folder="templates")
STATES = ("live", "OPEN", "ACKED", "RESOLVED")


class AlertQuery(BranchFilterQuery):
    """?state= (OPEN, ACKED, RESOLVED; empty: all), ?branch_id= and ?page= of the alert list."""

    state: str | None = Field(default=None, max_length=16)


def _scope(action: Action) -> tuple[str, list[str] | None]:
    principal, tenant, scope = target_tenant(action)
    return tenant, allowed_branches(principal, scope, request.args.get("branch_id") or None)


def _state() -> str | None:
    state = request.args.get("state") or None
    if state is not None and state not in STATES:
        raise ValidationError(f"state must be one of {list(STATES)}", Reason.VALIDATION_FAILED)
    return state


@bp.get("/api/v1/alerts")
@api({200: AlertPage}, query=AlertQuery, errors=READ_ERRORS)
def list_alerts() -> ResponseReturnValue:
    """Paged alerts, newest first (?state=live|OPEN|ACKED|RESOLVED, ?branch_id=)."""
    tenant, branches = _scope(Action.ALERT_READ)
    return shaped(AlertPage, store.list_alerts(tenant, branches, page_arg(), state=_state()))


@bp.post("/api/v1/alerts/<alert_id>/ack")
@api({200: AlertOut}, errors=WRITE_ERRORS)
def ack(alert_id: str) -> ResponseReturnValue:
    """Acknowledge an open alert (audited; queues the ACKED notification)."""
    principal, _tenant, scope = target_tenant(Action.ALERT_ACK)
    branches = allowed_branches(principal, scope, None)
    return shaped(AlertOut, store.acknowledge(principal, branches, alert_id))


@bp.post("/api/v1/alerts/<alert_id>/resolve")
@api({200: AlertOut}, errors=WRITE_ERRORS)
def resolve(alert_id: str) -> ResponseReturnValue:
    """Resolve a live alert by hand (audited; a rule still firing opens a new one)."""
    principal, _tenant, scope = target_tenant(Action.ALERT_ACK)
    branches = allowed_branches(principal, scope, None)
    return shaped(AlertOut, store.resolve(principal, branches, alert_id))


@bp.get("/api/v1/alert-channels")
@api({200: ChannelList}, errors=READ_ERRORS)
def list_channels() -> ResponseReturnValue:
    """The tenant's alert channels."""
    _p, tenant, _s = target_tenant(Action.ALERT_CONFIGURE)
    return shaped(ChannelList, {"items": channels.list_channels(tenant)})


@bp.post("/api/v1/alert-channels")
@api({201: ChannelOut}, body=ChannelIn, errors=WRITE_ERRORS)
def create_channel() -> ResponseReturnValue:
    """Add a channel (webhook URLs must be in the allow list; the secret is shown once)."""
    body = parse_body(channels.ChannelIn)
    principal, tenant, _s = target_tenant(Action.ALERT_CONFIGURE)
    made = channels.create(principal, tenant, body, settings().alert_webhook_allowlist)
    return shaped(ChannelOut, made), 201


@bp.put("/api/v1/alert-channels/<channel_id>/enabled")
@api({200: ChannelOut}, body=EnabledIn, errors=WRITE_ERRORS)
def enable_channel(channel_id: str) -> ResponseReturnValue:
    """Enable or disable a channel (audited)."""
    body = parse_body(EnabledIn)
    principal, tenant, _s = target_tenant(Action.ALERT_CONFIGURE)
    return shaped(ChannelOut, channels.set_enabled(principal, tenant, channel_id, body.enabled))


@bp.get("/alerts")
def alerts_page() -> ResponseReturnValue:
    """Portal alert feed with acknowledge and resolve buttons."""
    principal, tenant, scope = target_tenant(Action.ALERT_READ)
    branch_id = request.args.get("branch_id") or None
    branches = allowed_branches(principal, scope, branch_id)
    state = _state() or "live"
    data = store.list_alerts(tenant, branches, page_arg(), state=state)
    return render_page(
        "alerts.html",
        data=data,
        state=state,
        states=STATES,
        branches=branch_choices(principal, tenant),
        branch_id=branch_id or "",
    )


@bp.post("/alerts/<alert_id>/<verb>")
def alert_form(alert_id: str, verb: str) -> ResponseReturnValue:
    """Portal form: acknowledge or resolve, then back to the feed."""
    principal, _tenant, scope = target_tenant(Action.ALERT_ACK)
    branches = allowed_branches(principal, scope, None)
    if verb == "ack":
        store.acknowledge(principal, branches, alert_id)
    elif verb == "resolve":
        store.resolve(principal, branches, alert_id)
    else:
        raise ValidationError("unknown alert action", Reason.VALIDATION_FAILED)
    target = request.form.get("next") or ""
    local = target.startswith("/") and not target.startswith("//")  # never an open redirect
    return redirect(target if local else "/alerts")
