"""Business events for outbound webhooks (FR-P7-1010), queued in the caller's transaction.

The leaf every area calls when something an integration may want happens: `emit` writes one
`webhook_deliveries` row per enabled endpoint of an enabled integration subscribed to the
event type, in the same transaction as the change itself (an outbox: no event for a change
that rolled back, none lost for one that committed). The body is serialised once, here, and
stored as sent: retries and replays are the same bytes, so signatures and receivers'
deduplication on `webhook-id` hold.

Body (Standard Webhooks): ``{"type": ..., "timestamp": ..., "data": {...}}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hub.core.models import utcnow
from hub.identity.models import Integration
from hub.integrations.models import WebhookDelivery, WebhookEndpoint

SALE_COMPLETED = "sale.completed"
REFUND_COMPLETED = "refund.completed"
STOCK_BELOW_REORDER = "stock.below_reorder_point"
ALERT_OPENED = "alert.opened"
ALERT_ACKED = "alert.acked"
ALERT_RESOLVED = "alert.resolved"
INCIDENT_OPENED = "incident.opened"
INCIDENT_RESOLVED = "incident.resolved"
EVENT_TYPES = (
    SALE_COMPLETED,
    REFUND_COMPLETED,
    STOCK_BELOW_REORDER,
    ALERT_OPENED,
    ALERT_ACKED,
    ALERT_RESOLVED,
    INCIDENT_OPENED,
    INCIDENT_RESOLVED,
)


@dataclass(frozen=True)
class BusinessEvent:
    """One thing that happened: its type, a stable id (the same event never twice) and data."""

    type: str
    event_id: str
    data: dict[str, Any]


def body_of(event: BusinessEvent, at: str) -> str:
    """The raw JSON body sent for an event (compact, keys sorted)."""
    doc = {"type": event.type, "timestamp": at, "id": event.event_id, "data": event.data}
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str)


def subscribed_endpoints(tenant_id: str) -> list[WebhookEndpoint]:
    """The tenant's enabled endpoints of enabled integrations (caller's tenant transaction)."""
    query = (
        WebhookEndpoint.select(WebhookEndpoint)
        .join(Integration, on=(Integration.id == WebhookEndpoint.integration_id))
        .where(
            WebhookEndpoint.tenant_id == tenant_id,
            WebhookEndpoint.enabled == True,  # noqa: E712
            Integration.enabled == True,  # noqa: E712
        )
    )
    return list(query)


def emit_many(
    tenant_id: str, events: list[BusinessEvent], subscribed: list[WebhookEndpoint] | None = None
) -> int:
    """Queue every event for every subscribed endpoint (caller's tenant transaction); how many.
    `subscribed`: the tenant's `subscribed_endpoints`, when the caller read them already."""
    if not events:
        return 0
    endpoints = subscribed_endpoints(tenant_id) if subscribed is None else subscribed
    if not endpoints:
        return 0
    now = utcnow()
    rows = []
    for event in events:
        body = body_of(event, now.isoformat())
        for ep in endpoints:
            if event.type not in (ep.event_types or []):
                continue
            rows.append(
                {
                    "tenant_id": tenant_id,
                    "endpoint_id": ep.id,
                    "event_type": event.type,
                    "message_id": f"msg_{event.event_id}_{ep.id}"[:200],
                    "body": body,
                    "state": "pending",
                    "next_attempt_at": now,
                    "created_at": now,
                }
            )
    if rows:
        WebhookDelivery.insert_many(rows).on_conflict(
            conflict_target=[WebhookDelivery.message_id], action="IGNORE"
        ).execute()
    return len(rows)


def emit(tenant_id: str, event_type: str, event_id: str, data: dict[str, Any]) -> int:
    """Queue one event (caller's tenant transaction)."""
    return emit_many(tenant_id, [BusinessEvent(event_type, event_id, data)])
