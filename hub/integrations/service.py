"""Integrations, their kill switch and their webhook endpoints (FR-P7-1009..1011, 1013).

Tokens of an integration are ordinary INTEGRATION API tokens (hub.identity.users) carrying
its id: the kill switch (`enabled = false`) makes `hub.identity.auth` refuse them at the next
request and keeps the delivery worker from sending anything of the integration's endpoints.
Every change is audited in the tenant's chain.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from peewee import fn

from hub.alerting.channels import url_allowed
from hub.core.db import tenant_tx
from hub.core.models import utcnow
from hub.core.paging import PAGE_SIZE, paged
from hub.governance import audit, config
from hub.identity.models import ApiToken, Integration
from hub.integrations.events import EVENT_TYPES
from hub.integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from hub.integrations.schemas import EndpointIn, IntegrationIn, KillSwitchIn
from posdomain.audit_chain import Severity
from posdomain.errors import Conflict, HubReason, NotFound, Reason, ValidationError
from posdomain.permissions import Principal
from posdomain.webhooks import new_secret

MAX_SECRETS = 2  # the new one and the one it replaces, while receivers switch over


def _iso(v: datetime | None) -> str | None:
    return v.isoformat() if v else None


def integration_dict(i: Integration, tokens: int = 0, endpoints: int = 0) -> dict[str, Any]:
    """JSON form of an integration."""
    return {
        "id": i.id,
        "name": i.name,
        "enabled": bool(i.enabled),
        "disabled_at": _iso(i.disabled_at),
        "disabled_by": i.disabled_by,
        "disabled_reason": i.disabled_reason,
        "created_by": i.created_by,
        "created_at": i.created_at.isoformat(),
        "tokens": tokens,
        "endpoints": endpoints,
    }


def _counts(model: Any, tenant_id: str) -> dict[str, int]:
    query = (
        model.select(model.integration_id, fn.COUNT(model.id).alias("n"))
        .where(model.tenant_id == tenant_id, model.integration_id.is_null(False))
        .group_by(model.integration_id)
    )
    return {row.integration_id: int(row.n) for row in query}


def get(tenant_id: str, integration_id: str) -> Integration:
    """The tenant's integration (caller's transaction) or 404."""
    row: Integration | None = Integration.get_or_none(
        Integration.id == integration_id, Integration.tenant_id == tenant_id
    )
    if row is None:
        raise NotFound("no such integration")
    return row


def create(principal: Principal, tenant_id: str, body: IntegrationIn) -> dict[str, Any]:
    """Add an integration (audited); its name is unique in the tenant."""
    with tenant_tx(tenant_id):
        if Integration.get_or_none(
            Integration.tenant_id == tenant_id, Integration.name == body.name
        ):
            raise Conflict(f"an integration named {body.name!r} exists", Reason.DUPLICATE)
        row = Integration.create(
            id=uuid.uuid4().hex, tenant_id=tenant_id, name=body.name, created_by=principal.actor
        )
        audit.record(
            principal, "integration.created", f"integration:{row.id}", details={"name": row.name}
        )
        return integration_dict(row)


def list_all(tenant_id: str) -> list[dict[str, Any]]:
    """Every integration of the tenant with its token and endpoint counts."""
    with tenant_tx(tenant_id):
        tokens = _counts(ApiToken, tenant_id)
        endpoints = _counts(WebhookEndpoint, tenant_id)
        rows = Integration.select().where(Integration.tenant_id == tenant_id)
        return [
            integration_dict(i, tokens.get(i.id, 0), endpoints.get(i.id, 0))
            for i in rows.order_by(Integration.name)
        ]


def detail(tenant_id: str, integration_id: str) -> dict[str, Any]:
    """One integration with its counts."""
    with tenant_tx(tenant_id):
        row = get(tenant_id, integration_id)
        tokens = ApiToken.select().where(ApiToken.integration_id == row.id).count()
        endpoints = WebhookEndpoint.select().where(WebhookEndpoint.integration_id == row.id).count()
        return integration_dict(row, int(tokens), int(endpoints))


def set_enabled(
    principal: Principal, tenant_id: str, integration_id: str, body: KillSwitchIn
) -> dict[str, Any]:
    """Flip the kill switch (audited, WARN when switched off): off refuses the integration's
    tokens and holds its deliveries from the next request / worker pass on."""
    if not body.enabled and not body.reason.strip():
        raise ValidationError("say why the integration is switched off", Reason.REASON_REQUIRED)
    with tenant_tx(tenant_id):
        row = get(tenant_id, integration_id)
        if bool(row.enabled) != body.enabled:
            row.enabled = body.enabled
            if body.enabled:
                row.disabled_at = row.disabled_by = row.disabled_reason = None
            else:
                row.disabled_at, row.disabled_by = utcnow(), principal.actor
                row.disabled_reason = body.reason.strip()
            row.save()
            action = "integration.enabled" if body.enabled else "integration.killed"
            severity = Severity.INFO if body.enabled else Severity.WARN
            details = {"name": row.name, "reason": body.reason.strip()}
            audit.record(principal, action, f"integration:{row.id}", severity, details)
        return integration_dict(row)


def endpoint_dict(ep: WebhookEndpoint, secret: str | None = None) -> dict[str, Any]:
    """JSON form of an endpoint (the secret only when just made)."""
    out = {
        "id": ep.id,
        "integration_id": ep.integration_id,
        "url": ep.url,
        "event_types": ep.event_types,
        "enabled": bool(ep.enabled),
        "secrets_in_use": len(ep.secrets or []),
        "created_by": ep.created_by,
        "created_at": ep.created_at.isoformat(),
        "rotated_at": _iso(ep.rotated_at),
    }
    if secret is not None:
        out["secret"] = secret
    return out


def validate_endpoint(
    body: EndpointIn, allowlist: list[str], tenant_allowlist: list[str] | None = None
) -> None:
    """Refuse a malformed URL, one outside the hub's allow list or outside the tenant's own
    (alerting config `webhook_allowlist`, which can only narrow the hub's), and unknown event
    types (nothing written)."""
    tenant_ok = tenant_allowlist is None or url_allowed(body.url, tenant_allowlist)
    if not url_allowed(body.url, allowlist) or not tenant_ok:
        raise ValidationError(
            "webhook URL is malformed or not in the allowed list",
            HubReason.WEBHOOK_URL_NOT_ALLOWED,
            {"url": body.url[:200]},
        )
    unknown = sorted(set(body.event_types) - set(EVENT_TYPES))
    if unknown:
        raise ValidationError(
            f"unknown event types {unknown}; use some of {list(EVENT_TYPES)}",
            HubReason.UNKNOWN_WEBHOOK_EVENT,
            {"event_types": unknown},
        )


def add_endpoint(
    principal: Principal,
    tenant_id: str,
    integration_id: str,
    body: EndpointIn,
    allowlist: list[str],
) -> dict[str, Any]:
    """Register a webhook endpoint (audited); its signing secret is returned this once."""
    with tenant_tx(tenant_id):
        tenant_list = config.effective_body(tenant_id, "alerting", None).get("webhook_allowlist")
    validate_endpoint(body, allowlist, tenant_list)
    secret = new_secret()
    with tenant_tx(tenant_id):
        integration = get(tenant_id, integration_id)
        ep = WebhookEndpoint.create(
            id=uuid.uuid4().hex,
            tenant_id=tenant_id,
            integration_id=integration.id,
            url=body.url,
            event_types=sorted(set(body.event_types), key=EVENT_TYPES.index),
            secrets=[secret],
            created_by=principal.actor,
        )
        details = {"integration_id": integration.id, "url": ep.url, "event_types": ep.event_types}
        audit.record(principal, "webhook.endpoint_created", f"webhook:{ep.id}", details=details)
        return endpoint_dict(ep, secret)


def list_endpoints(tenant_id: str, integration_id: str) -> list[dict[str, Any]]:
    """The webhook endpoints of an integration."""
    with tenant_tx(tenant_id):
        get(tenant_id, integration_id)
        rows = WebhookEndpoint.select().where(WebhookEndpoint.integration_id == integration_id)
        return [endpoint_dict(e) for e in rows.order_by(WebhookEndpoint.created_at)]


def _endpoint(tenant_id: str, endpoint_id: str) -> WebhookEndpoint:
    row: WebhookEndpoint | None = WebhookEndpoint.get_or_none(
        WebhookEndpoint.id == endpoint_id, WebhookEndpoint.tenant_id == tenant_id
    )
    if row is None:
        raise NotFound("no such webhook endpoint")
    return row


def rotate_secret(principal: Principal, tenant_id: str, endpoint_id: str) -> dict[str, Any]:
    """Start a secret rotation: a new secret signs from now on beside the previous one (each
    message carries both signatures) until `retire_old_secrets`; the new one is shown once."""
    secret = new_secret()
    with tenant_tx(tenant_id):
        ep = _endpoint(tenant_id, endpoint_id)
        ep.secrets = [secret, *(ep.secrets or [])][:MAX_SECRETS]
        ep.rotated_at = utcnow()
        ep.save()
        audit.record(principal, "webhook.secret_rotated", f"webhook:{ep.id}", Severity.WARN)
        return endpoint_dict(ep, secret)


def retire_old_secrets(principal: Principal, tenant_id: str, endpoint_id: str) -> dict[str, Any]:
    """End a rotation: only the newest secret signs."""
    with tenant_tx(tenant_id):
        ep = _endpoint(tenant_id, endpoint_id)
        ep.secrets = (ep.secrets or [])[:1]
        ep.save()
        audit.record(principal, "webhook.secrets_retired", f"webhook:{ep.id}")
        return endpoint_dict(ep)


def set_endpoint_enabled(
    principal: Principal, tenant_id: str, endpoint_id: str, enabled: bool
) -> dict[str, Any]:
    """Enable or disable one endpoint (audited)."""
    with tenant_tx(tenant_id):
        ep = _endpoint(tenant_id, endpoint_id)
        ep.enabled = enabled
        ep.save()
        details = {"enabled": enabled, "url": ep.url}
        audit.record(principal, "webhook.endpoint_changed", f"webhook:{ep.id}", details=details)
        return endpoint_dict(ep)


def delivery_dict(d: WebhookDelivery, attempts: list[WebhookAttempt]) -> dict[str, Any]:
    """JSON form of a delivery with its log."""
    return {
        "id": d.id,
        "endpoint_id": d.endpoint_id,
        "event_type": d.event_type,
        "message_id": d.message_id,
        "state": d.state,
        "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_at.isoformat(),
        "last_status": d.last_status,
        "last_error": d.last_error,
        "replays": d.replays,
        "created_at": d.created_at.isoformat(),
        "sent_at": _iso(d.sent_at),
        "body": json.loads(d.body),
        "log": [
            {
                "attempt": a.attempt,
                "at": a.at.isoformat(),
                "status_code": a.status_code,
                "error": a.error,
                "duration_ms": a.duration_ms,
            }
            for a in attempts
        ],
    }


def deliveries(tenant_id: str, endpoint_id: str, page: int) -> dict[str, Any]:
    """The delivery log of an endpoint, newest first."""
    with tenant_tx(tenant_id):
        _endpoint(tenant_id, endpoint_id)
        query = WebhookDelivery.select().where(
            WebhookDelivery.tenant_id == tenant_id, WebhookDelivery.endpoint_id == endpoint_id
        )
        total = query.count()
        rows = list(query.order_by(WebhookDelivery.id.desc()).paginate(page, PAGE_SIZE))
        log: dict[int, list[WebhookAttempt]] = {r.id: [] for r in rows}
        if rows:
            found = WebhookAttempt.select().where(WebhookAttempt.delivery_id.in_(list(log)))
            for a in found.order_by(WebhookAttempt.attempt):
                log[a.delivery_id].append(a)
        return paged([delivery_dict(r, log[r.id]) for r in rows], page, int(total))


def replay(principal: Principal, tenant_id: str, delivery_id: str) -> dict[str, Any]:
    """Send a delivery again (audited): the same body and webhook-id, so a receiver that got
    it already can tell; a dead delivery gets a fresh round of attempts."""
    if not delivery_id.isdigit() or len(delivery_id) > 18:
        raise NotFound("no such delivery")
    with tenant_tx(tenant_id):
        row = WebhookDelivery.get_or_none(
            WebhookDelivery.id == int(delivery_id), WebhookDelivery.tenant_id == tenant_id
        )
        if row is None:
            raise NotFound("no such delivery")
        row.state, row.next_attempt_at = "pending", utcnow()
        row.attempts = 0
        row.replays += 1
        row.save()
        details = {"message_id": row.message_id, "event_type": row.event_type}
        audit.record(principal, "webhook.replayed", f"webhook_delivery:{row.id}", details=details)
        found = WebhookAttempt.select().where(WebhookAttempt.delivery_id == row.id)
        return delivery_dict(row, list(found.order_by(WebhookAttempt.attempt)))
