"""Integrations in the portal (FR-P7-1009..1013): list and create integrations, issue and
revoke tokens, register webhooks, see the delivery log and replay, flip the kill switch.

Thin: each form is parsed with the API's own model and handed to the same services; a new
token or webhook secret is shown once, on the page the form redirects to.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, request
from flask import session as flask_session
from flask.typing import ResponseReturnValue
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from hub.identity import users
from hub.integrations import service
from hub.integrations.events import EVENT_TYPES
from hub.integrations.schemas import EndpointIn, IntegrationIn, IntegrationTokenIn, KillSwitchIn
from hub.web import integrity, now, render_page, target_tenant
from posdomain.contract import field_details
from posdomain.errors import Reason, ValidationError
from posdomain.permissions import Action

bp = Blueprint("integration_pages", __name__, template_folder="templates")
SHOW_ONCE = "integration_show_once"
TOKEN_SCOPES = ("sales.read", "stock.read", "forecast.read", "alert.read", "customer.manage")


def _form(model: type[BaseModel], data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data)
    except PydanticValidationError as err:
        raise ValidationError(
            "the form is incomplete", Reason.VALIDATION_FAILED, field_details(err)
        ) from err


def _owner() -> tuple[Any, str]:
    principal, tenant, _s = target_tenant(Action.TOKEN_MANAGE)
    return principal, tenant


@bp.get("/integrations")
def integrations_page() -> ResponseReturnValue:
    """The tenant's integrations and the form for a new one."""
    _p, tenant = _owner()
    return render_page("integrations.html", items=service.list_all(tenant))


@bp.post("/integrations")
def create_form() -> ResponseReturnValue:
    """Portal form: add an integration, then open it."""
    principal, tenant = _owner()
    integrity().guard_writes()
    made = service.create(
        principal, tenant, _form(IntegrationIn, {"name": request.form.get("name", "")})
    )
    return redirect(f"/integrations/{made['id']}")


def _detail(tenant: str, integration_id: str, **shown: Any) -> ResponseReturnValue:
    integration = service.detail(tenant, integration_id)
    endpoints = service.list_endpoints(tenant, integration_id)
    logs = {e["id"]: service.deliveries(tenant, e["id"], 1)["items"][:10] for e in endpoints}
    return render_page(
        "integration.html",
        integration=integration,
        tokens=users.list_tokens(tenant, integration_id),
        endpoints=endpoints,
        logs=logs,
        event_types=EVENT_TYPES,
        scopes=TOKEN_SCOPES,
        **shown,
    )


@bp.get("/integrations/<integration_id>")
def integration_page(integration_id: str) -> ResponseReturnValue:
    """One integration: kill switch, tokens, webhooks and their recent deliveries (a token or
    secret just made is shown here once: taken out of the session as it is shown)."""
    _p, tenant = _owner()
    shown = flask_session.pop(SHOW_ONCE, None)
    extra = shown if isinstance(shown, dict) and shown.get("integration") == integration_id else {}
    return _detail(tenant, integration_id, **{k: v for k, v in extra.items() if k != "integration"})


def _show_once(integration_id: str, **secret: str) -> ResponseReturnValue:
    """Post/redirect/get: a reload never issues a second token or webhook."""
    flask_session[SHOW_ONCE] = {"integration": integration_id, **secret}
    return redirect(f"/integrations/{integration_id}")


@bp.post("/integrations/<integration_id>/enabled")
def kill_switch_form(integration_id: str) -> ResponseReturnValue:
    """Portal form: switch the integration off (with a reason) or on again."""
    principal, tenant = _owner()
    integrity().guard_writes()
    body = _form(
        KillSwitchIn,
        {
            "enabled": request.form.get("enabled") == "true",
            "reason": request.form.get("reason", ""),
        },
    )
    service.set_enabled(principal, tenant, integration_id, body)
    return redirect(f"/integrations/{integration_id}")


@bp.post("/integrations/<integration_id>/tokens")
def token_form(integration_id: str) -> ResponseReturnValue:
    """Portal form: issue a token; the page shows it once."""
    principal, tenant = _owner()
    integrity().guard_writes()
    body = _form(
        IntegrationTokenIn,
        {"name": request.form.get("name", ""), "scopes": request.form.getlist("scopes")},
    )
    cfg = current_app.config
    req = users.TokenRequest(
        name=body.name,
        scopes=body.scopes,
        lifetime_days=cfg["API_TOKEN_DEFAULT_DAYS"],
        max_days=cfg["API_TOKEN_MAX_DAYS"],
        integration_id=integration_id,
        rate_limit_per_minute=body.rate_limit_per_minute,
        issued_at=now(),
    )
    service.detail(tenant, integration_id)  # 404 before anything is issued
    made = users.create_token(principal, tenant, req)
    return _show_once(integration_id, new_token=made["token"])


@bp.post("/integrations/<integration_id>/tokens/<token_id>/revoke")
def revoke_form(integration_id: str, token_id: str) -> ResponseReturnValue:
    """Portal form: revoke a token at once."""
    principal, tenant = _owner()
    integrity().guard_writes()
    users.revoke_token(principal, tenant, token_id, integration_id)
    return redirect(f"/integrations/{integration_id}")


@bp.post("/integrations/<integration_id>/webhooks")
def webhook_form(integration_id: str) -> ResponseReturnValue:
    """Portal form: register a webhook endpoint; the page shows its secret once."""
    principal, tenant = _owner()
    integrity().guard_writes()
    body = _form(
        EndpointIn,
        {"url": request.form.get("url", ""), "event_types": request.form.getlist("event_types")},
    )
    allow = list(current_app.config["WEBHOOK_ALLOWLIST"])
    made = service.add_endpoint(principal, tenant, integration_id, body, allow)
    return _show_once(integration_id, new_secret=made["secret"])


@bp.post("/integrations/<integration_id>/deliveries/<delivery_id>/replay")
def replay_form(integration_id: str, delivery_id: str) -> ResponseReturnValue:
    """Portal form: send a delivery again."""
    principal, tenant = _owner()
    integrity().guard_writes()
    service.detail(tenant, integration_id)
    service.replay(principal, tenant, delivery_id)
    return redirect(f"/integrations/{integration_id}")
