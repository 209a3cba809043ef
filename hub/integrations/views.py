"""Integrations API (FR-P7-1009..1013): integrations and kill switch, tokens, webhooks.

Every call needs TOKEN_MANAGE ("integration tokens, kill switch": platform owner, tenant
owner); ids in paths are resolved under RLS (another tenant's id answers like a made-up one).
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from hub.core.openapi import READ_ERRORS, WRITE_ERRORS, PageQuery, api
from hub.core.responses import shaped
from hub.identity import users
from hub.identity.responses import NewTokenOut, TokenOut
from hub.integrations import service
from hub.integrations.events import EVENT_TYPES
from hub.integrations.schemas import (
    DeliveryOut,
    DeliveryPage,
    EnabledIn,
    EndpointIn,
    EndpointList,
    EndpointOut,
    EventTypesOut,
    IntegrationIn,
    IntegrationList,
    IntegrationOut,
    IntegrationTokenIn,
    KillSwitchIn,
    TokenList,
)
from hub.web import integrity, now, page_arg, parse_body, target_tenant
from posdomain.permissions import Action

bp = Blueprint("integrations", __name__)


@bp.get("/api/v1/integrations")
@api({200: IntegrationList})
def list_integrations() -> ResponseReturnValue:
    """The tenant's integrations with their kill-switch state."""
    _p, tenant, _s = target_tenant(Action.TOKEN_MANAGE)
    return shaped(IntegrationList, {"items": service.list_all(tenant)})


@bp.post("/api/v1/integrations")
@api({201: IntegrationOut}, body=IntegrationIn, errors=WRITE_ERRORS)
def create_integration() -> ResponseReturnValue:
    """Add an integration (audited)."""
    principal, tenant, _s = target_tenant(Action.TOKEN_MANAGE)
    integrity().guard_writes()
    body = parse_body(IntegrationIn)
    return shaped(IntegrationOut, service.create(principal, tenant, body)), 201


@bp.get("/api/v1/integrations/<integration_id>")
@api({200: IntegrationOut})
def get_integration(integration_id: str) -> ResponseReturnValue:
    """One integration."""
    _p, tenant, _s = target_tenant(Action.TOKEN_MANAGE)
    return shaped(IntegrationOut, service.detail(tenant, integration_id))


@bp.put("/api/v1/integrations/<integration_id>/enabled")
@api({200: IntegrationOut}, body=KillSwitchIn, errors=WRITE_ERRORS)
def kill_switch(integration_id: str) -> ResponseReturnValue:
    """The kill switch: off refuses the integration's tokens and stops its webhooks at once."""
    principal, tenant, _s = target_tenant(Action.TOKEN_MANAGE)
    integrity().guard_writes()
    body = parse_body(KillSwitchIn)
    return shaped(IntegrationOut, service.set_enabled(principal, tenant, integration_id, body))


@bp.get("/api/v1/integrations/<integration_id>/tokens")
@api({200: TokenList})
def list_integration_tokens(integration_id: str) -> ResponseReturnValue:
    """Tokens of an integration (never their secrets)."""
    _p, tenant, _s = target_tenant(Action.TOKEN_MANAGE)
    service.detail(tenant, integration_id)
    return shaped(TokenList, {"items": users.list_tokens(tenant, integration_id)})


@bp.post("/api/v1/integrations/<integration_id>/tokens")
@api({201: NewTokenOut}, body=IntegrationTokenIn, errors=WRITE_ERRORS)
def create_integration_token(integration_id: str) -> ResponseReturnValue:
    """Issue a token of the integration: prefixed, checksummed, scoped, expiring, rate
    limited; the secret is shown this once."""
    principal, tenant, _s = target_tenant(Action.TOKEN_MANAGE)
    integrity().guard_writes()
    body = parse_body(IntegrationTokenIn)
    cfg = current_app.config
    req = users.TokenRequest(
        name=body.name,
        scopes=body.scopes,
        lifetime_days=body.expires_in_days or cfg["API_TOKEN_DEFAULT_DAYS"],
        max_days=cfg["API_TOKEN_MAX_DAYS"],
        integration_id=integration_id,
        rate_limit_per_minute=body.rate_limit_per_minute,
        issued_at=now(),
    )
    return jsonify(users.create_token(principal, tenant, req)), 201


@bp.delete("/api/v1/integrations/<integration_id>/tokens/<token_id>")
@api({200: TokenOut}, errors=WRITE_ERRORS)
def revoke_integration_token(integration_id: str, token_id: str) -> ResponseReturnValue:
    """Revoke one token of the integration at once (audited)."""
    principal, tenant, _s = target_tenant(Action.TOKEN_MANAGE)
    integrity().guard_writes()
    return jsonify(users.revoke_token(principal, tenant, token_id, integration_id))


@bp.get("/api/v1/webhook-event-types")
@api({200: EventTypesOut})
def event_types() -> ResponseReturnValue:
    """The business events a webhook endpoint can subscribe to."""
    target_tenant(Action.TOKEN_MANAGE)
    return shaped(EventTypesOut, {"items": list(EVENT_TYPES)})


@bp.get("/api/v1/integrations/<integration_id>/webhooks")
@api({200: EndpointList})
def list_webhooks(integration_id: str) -> ResponseReturnValue:
    """Webhook endpoints of an integration."""
    _p, tenant, _s = target_tenant(Action.TOKEN_MANAGE)
    return shaped(EndpointList, {"items": service.list_endpoints(tenant, integration_id)})


@bp.post("/api/v1/integrations/<integration_id>/webhooks")
@api({201: EndpointOut}, body=EndpointIn, errors=WRITE_ERRORS)
def add_webhook(integration_id: str) -> ResponseReturnValue:
    """Register a webhook endpoint (URL in the allow list; the secret is shown this once)."""
    principal, tenant, _s = target_tenant(Action.TOKEN_MANAGE)
    integrity().guard_writes()
    body = parse_body(EndpointIn)
    allow = list(current_app.config["WEBHOOK_ALLOWLIST"])
    made = service.add_endpoint(principal, tenant, integration_id, body, allow)
    return shaped(EndpointOut, made), 201


@bp.put("/api/v1/webhooks/<endpoint_id>/enabled")
@api({200: EndpointOut}, body=EnabledIn, errors=WRITE_ERRORS)
def enable_webhook(endpoint_id: str) -> ResponseReturnValue:
    """Enable or disable one endpoint (audited)."""
    principal, tenant, _s = target_tenant(Action.TOKEN_MANAGE)
    integrity().guard_writes()
    body = parse_body(EnabledIn)
    made = service.set_endpoint_enabled(principal, tenant, endpoint_id, body.enabled)
    return shaped(EndpointOut, made)


@bp.post("/api/v1/webhooks/<endpoint_id>/rotate-secret")
@api({200: EndpointOut}, errors=WRITE_ERRORS)
def rotate_secret(endpoint_id: str) -> ResponseReturnValue:
    """Start a secret rotation: messages carry the old and the new signature."""
    principal, tenant, _s = target_tenant(Action.TOKEN_MANAGE)
    integrity().guard_writes()
    return shaped(EndpointOut, service.rotate_secret(principal, tenant, endpoint_id))


@bp.post("/api/v1/webhooks/<endpoint_id>/retire-old-secrets")
@api({200: EndpointOut}, errors=WRITE_ERRORS)
def retire_secrets(endpoint_id: str) -> ResponseReturnValue:
    """End a rotation: only the newest secret signs."""
    principal, tenant, _s = target_tenant(Action.TOKEN_MANAGE)
    integrity().guard_writes()
    return shaped(EndpointOut, service.retire_old_secrets(principal, tenant, endpoint_id))


@bp.get("/api/v1/webhooks/<endpoint_id>/deliveries")
@api({200: DeliveryPage}, query=PageQuery, errors=READ_ERRORS)
def list_deliveries(endpoint_id: str) -> ResponseReturnValue:
    """The delivery log of an endpoint: each event, its state and every attempt."""
    _p, tenant, _s = target_tenant(Action.TOKEN_MANAGE)
    return shaped(DeliveryPage, service.deliveries(tenant, endpoint_id, page_arg()))


@bp.post("/api/v1/webhook-deliveries/<delivery_id>/replay")
@api({200: DeliveryOut}, errors=WRITE_ERRORS)
def replay_delivery(delivery_id: str) -> ResponseReturnValue:
    """Send a delivery again, same body and webhook-id (audited)."""
    principal, tenant, _s = target_tenant(Action.TOKEN_MANAGE)
    integrity().guard_writes()
    return shaped(DeliveryOut, service.replay(principal, tenant, delivery_id))
