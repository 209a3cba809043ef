"""Helpers for the reconciliation / late-event tests: crafted sale events and batches."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from posdomain.envelope import EventBatch
from tests.hub.conftest import sale_payload

T, B, B2 = "t-greenbasket", "b-downtown", "b-riverside"


def sale_event(
    box_id: str,
    seq: int,
    *,
    branch_id: str = B,
    occurred_at: datetime | None = None,
    versions: dict[str, int] | None = None,
    product_id: str = "p-001",
    cashier_id: str = "u-cashier",
    discounts: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One sale.completed envelope (dict) with the given knobs."""
    payload = sale_payload(seq)
    payload["cashier_id"] = cashier_id
    payload["lines"][0]["product_id"] = product_id
    if discounts is not None:
        payload["lines"][0]["discounts"] = discounts
    when = occurred_at or datetime.now(UTC)
    payload["completed_at"] = when.isoformat()
    return {
        "event_id": str(uuid.uuid4()),
        "box_id": box_id,
        "tenant_id": T,
        "branch_id": branch_id,
        "seq": seq,
        "type": "sale.completed",
        "occurred_at": when.isoformat(),
        "correlation_id": uuid.uuid4().hex,
        "versions": versions or {},
        "payload": payload,
    }


def batch_of(
    box_id: str, events: list[dict[str, Any]], sent_at: datetime | None = None
) -> EventBatch:
    """An EventBatch around crafted events."""
    return EventBatch.model_validate(
        {
            "batch_id": str(uuid.uuid4()),
            "box_id": box_id,
            "sent_at": (sent_at or datetime.now(UTC)).isoformat(),
            "events": events,
        }
    )
