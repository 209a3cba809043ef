"""The delivery worker: send queued alert deliveries, retry failures with backoff (FR-501).

Each delivery is claimed, sent and marked in one short transaction holding its row lock
(`FOR UPDATE SKIP LOCKED`), so two workers never send the same row. A crash after the send
and before the commit can repeat a send: the webhook-id / Message-ID are stable per
delivery, so receivers deduplicate it (documented in docs/operations.md).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hub.alerting.models import AlertChannel, AlertDelivery
from hub.alerting.senders import Senders, SendFailed
from hub.core.db import is_postgres, platform_tx
from hub.core.models import utcnow
from posdomain.obs import log_event

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
BASE_BACKOFF_S = 5.0
MAX_BACKOFF_S = 15 * 60.0


@dataclass
class DeliveryStats:
    """What one pass of the worker did."""

    sent: int = 0
    failed: int = 0
    dead: int = 0


def backoff(attempts: int, base_s: float = BASE_BACKOFF_S) -> timedelta:
    """Exponential backoff with ±20 % jitter, capped at 15 minutes."""
    delay = min(base_s * 2 ** max(attempts - 1, 0), MAX_BACKOFF_S)
    return timedelta(seconds=delay * random.uniform(0.8, 1.2))


def _claim(now: datetime, after_id: int) -> AlertDelivery | None:
    query = (
        AlertDelivery.select()
        .where(
            AlertDelivery.state == "pending",
            AlertDelivery.next_attempt_at <= now,
            AlertDelivery.id > after_id,
        )
        .order_by(AlertDelivery.id)
        .limit(1)
    )
    if is_postgres():
        query = query.for_update("FOR UPDATE SKIP LOCKED")  # type: ignore[arg-type]
    row: AlertDelivery | None = query.first()
    return row


def _send_one(row: AlertDelivery, senders: Senders, now: datetime, base_s: float) -> str:
    """Send one claimed row and record the outcome (caller's transaction); its new state."""
    ch = AlertChannel.get_or_none(AlertChannel.id == row.channel_id)
    row.attempts += 1
    try:
        if ch is None or not ch.enabled:
            raise SendFailed("channel removed or disabled")
        senders.send(ch.kind, ch.target, ch.secret, row.message_id, row.payload)
    except SendFailed as err:
        row.last_error = str(err)[:500]
        row.state = "dead" if row.attempts >= MAX_ATTEMPTS else "pending"
        row.next_attempt_at = now + backoff(row.attempts, base_s)
        level = logging.ERROR if row.state == "dead" else logging.WARNING
        log_event(log, "alert delivery failed", level, delivery=row.id, error=row.last_error)
    else:
        row.state, row.sent_at, row.last_error = "sent", now, None
    row.save()
    return str(row.state)


def deliver_each(
    claim: Callable[[datetime, int], Any],
    send: Callable[[Any, datetime], str],
    now: datetime | None = None,
    limit: int = 200,
) -> DeliveryStats:
    """The outbound delivery loop of alerts and webhooks: claim the next due row after the
    last one (`claim(at, after_id)`, None when none is due), `send` it in the same transaction
    (one per delivery) and count the new states."""
    stats = DeliveryStats()
    after_id = 0
    for _ in range(limit):
        at = now or utcnow()
        with platform_tx():
            row = claim(at, after_id)
            if row is None:
                break
            after_id = row.id
            state = send(row, at)
        if state == "sent":
            stats.sent += 1
        elif state == "dead":
            stats.dead += 1
        else:
            stats.failed += 1
    return stats


def deliver_due(
    senders: Senders, now: datetime | None = None, base_s: float = BASE_BACKOFF_S, limit: int = 200
) -> DeliveryStats:
    """Send every delivery that is due (one transaction per delivery); return the counts."""
    return deliver_each(
        _claim, lambda row, at: _send_one(row, senders, at, base_s), now=now, limit=limit
    )
