"""The business-webhook delivery worker (FR-P7-1010, 1011): send due deliveries, log every
attempt, retry with backoff.

Built like the alert worker (hub.alerting.delivery, whose backoff it shares) and sending
through the same signed POST (hub.alerting.senders.post_signed): each delivery is claimed
with `FOR UPDATE SKIP LOCKED`, sent and marked in one short transaction. Deliveries of a
disabled endpoint or of an integration whose kill switch is off are never claimed: they
wait, and nothing of that integration leaves the hub until it is switched on again.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from hub.alerting.delivery import BASE_BACKOFF_S, MAX_ATTEMPTS, DeliveryStats, backoff, deliver_each
from hub.alerting.senders import SendFailed, post_signed
from hub.core.db import is_postgres
from hub.identity.models import Integration
from hub.integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from posdomain.obs import log_event

log = logging.getLogger(__name__)


Stats = DeliveryStats  # what one pass of the worker did (the alert worker's counts)


def _claim(now: datetime, after_id: int) -> WebhookDelivery | None:
    live = (
        WebhookEndpoint.select(WebhookEndpoint.id)
        .join(Integration, on=(Integration.id == WebhookEndpoint.integration_id))
        .where(WebhookEndpoint.enabled == True, Integration.enabled == True)  # noqa: E712
    )
    query = (
        WebhookDelivery.select()
        .where(
            WebhookDelivery.state == "pending",
            WebhookDelivery.next_attempt_at <= now,
            WebhookDelivery.id > after_id,
            WebhookDelivery.endpoint_id.in_(live),
        )
        .order_by(WebhookDelivery.id)
        .limit(1)
    )
    if is_postgres():
        query = query.for_update("FOR UPDATE SKIP LOCKED")  # type: ignore[arg-type]
    row: WebhookDelivery | None = query.first()
    return row


def _send_one(row: WebhookDelivery, allowlist: list[str], now: datetime, base_s: float) -> str:
    """Send one claimed delivery, log the attempt, record the outcome; its new state."""
    ep = WebhookEndpoint.get_by_id(row.endpoint_id)
    row.attempts += 1
    number = WebhookAttempt.select().where(WebhookAttempt.delivery_id == row.id).count() + 1
    started = time.monotonic()
    status: int | None = None
    error: str | None = None
    try:
        status = post_signed(
            ep.url, list(ep.secrets or []), row.message_id, row.body.encode(), allowlist
        )
    except SendFailed as err:
        status, error = err.status, str(err)[:500]
    took = int((time.monotonic() - started) * 1000)
    WebhookAttempt.create(
        tenant_id=row.tenant_id,
        delivery_id=row.id,
        attempt=number,
        at=now,
        status_code=status,
        error=error,
        duration_ms=took,
    )
    row.last_status, row.last_error = status, error
    if error is None:
        row.state, row.sent_at = "sent", now
    else:
        row.state = "dead" if row.attempts >= MAX_ATTEMPTS else "pending"
        row.next_attempt_at = now + backoff(row.attempts, base_s)
        level = logging.ERROR if row.state == "dead" else logging.WARNING
        log_event(log, "webhook delivery failed", level, delivery=row.id, error=error)
    row.save()
    return str(row.state)


def deliver_due(
    allowlist: list[str],
    now: datetime | None = None,
    base_s: float = BASE_BACKOFF_S,
    limit: int = 200,
) -> Stats:
    """Send every due delivery (one transaction each); return the counts."""
    return deliver_each(
        _claim, lambda row, at: _send_one(row, allowlist, at, base_s), now=now, limit=limit
    )
