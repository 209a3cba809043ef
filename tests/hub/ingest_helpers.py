"""Helpers for the ingest integrity tests: raw batches through the worker's message handler
and what the hub then holds for a box (sales, quarantine, reconciliation items)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from hub.core.db import platform_tx, tenant_tx
from hub.identity.models import Box
from hub.inventory.models import StockMovement
from hub.sales.models import Sale, SaleLine
from hub.sync.handling import handle_message
from hub.sync.models import Quarantine, ReconciliationItem
from posdomain import topics
from posdomain.envelope import BatchAck
from scripts.testkit.crafted import B, T, sale_payload


def envelope(
    box: str, seq: Any, payload: dict[str, Any], kind: str = "sale.completed", **over: Any
) -> dict[str, Any]:
    """One event envelope (dict) of `box` in the demo tenant/branch."""
    now = datetime.now(UTC).isoformat()
    return {
        "event_id": str(uuid.uuid4()),
        "box_id": box,
        "tenant_id": T,
        "branch_id": B,
        "seq": seq,
        "type": kind,
        "occurred_at": now,
        "correlation_id": uuid.uuid4().hex,
        "payload": payload,
        **over,
    }


def sale(box: str, seq: int, **payload_over: Any) -> dict[str, Any]:
    """A valid sale event (a real box's arithmetic) with payload fields overridden."""
    return envelope(box, seq, {**sale_payload(seq), **payload_over})


def raw_batch(box: str, events: list[dict[str, Any]]) -> bytes:
    """The wire bytes of a batch around raw event dicts (no schema check on our side)."""
    body = {
        "v": 1,
        "batch_id": str(uuid.uuid4()),
        "box_id": box,
        "sent_at": datetime.now(UTC).isoformat(),
        "events": events,
    }
    return json.dumps(body).encode()


def send(box: str, events: list[dict[str, Any]]) -> BatchAck | None:
    """Deliver a batch to the ingest handler as the box's topic would; the ack, if any."""
    return send_raw(box, raw_batch(box, events))


def send_raw(box: str, raw: bytes) -> BatchAck | None:
    """Deliver raw bytes on the box's events topic; the decoded ack, if any."""
    ack = handle_message(topics.box_events(box), raw)
    return None if ack is None else BatchAck.model_validate_json(ack)


def rejected(ack: BatchAck | None) -> dict[int, str]:
    """{seq: reason} of the events the ack refused."""
    assert ack is not None
    return {int(r["seq"]): str(r["reason"]) for r in ack.rejected if r.get("seq") is not None}


def acked_ids(ack: BatchAck) -> set[str]:
    """Event ids the ack says the hub holds (accepted or duplicate)."""
    return {str(e) for e in [*ack.accepted, *ack.duplicates]}


def sale_ids(box: str) -> set[str]:
    """Ids of the box's sales on the hub."""
    with tenant_tx(T):
        return {s.id for s in Sale.select(Sale.id).where(Sale.box_id == box)}


def event_ids_of_sales(box: str) -> set[str]:
    """Event ids behind the box's stored sales."""
    with tenant_tx(T):
        return {s.event_id for s in Sale.select(Sale.event_id).where(Sale.box_id == box)}


def lines_and_moves(sale_id: str) -> tuple[int, int]:
    """(sale lines, stock movements) stored for one sale id."""
    with tenant_tx(T):
        lines = SaleLine.select().where(SaleLine.sale_id == sale_id).count()
        moves = StockMovement.select().where(StockMovement.ref == sale_id).count()
    return lines, moves


def quarantined(box: str) -> list[str]:
    """Reasons of the box's quarantined messages/events, sorted."""
    with platform_tx():
        return sorted(q.reason for q in Quarantine.select().where(Quarantine.box_id == box))


def items(box: str) -> list[tuple[str, str]]:
    """(kind, severity) of the box's reconciliation items other than stock warnings, sorted (stock
    below zero is what sales of earlier tests on the same product leave behind)."""
    with tenant_tx(T):
        rows = ReconciliationItem.select().where(
            ReconciliationItem.box_id == box,
            ReconciliationItem.kind != "STOCK_BELOW_ZERO",
        )
        return sorted((r.kind, r.severity) for r in rows)


def box_row(box: str) -> Box:
    """The enrolled box row (sync position)."""
    with platform_tx():
        return Box.get_by_id(box)
