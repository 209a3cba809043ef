"""Response models of the inventory API (OpenAPI, hub.core.openapi)."""

from __future__ import annotations

from pydantic import BaseModel

from hub.core.openapi import Page


class OnHandOut(BaseModel):
    """On hand of one product at one branch (decimal strings)."""

    branch_id: str
    product_id: str
    on_hand: str
    in_transit: str
    reorder_point: str | None
    below_reorder_point: bool


class MovementOut(BaseModel):
    """One stock movement."""

    id: str
    branch_id: str
    product_id: str
    qty: str
    kind: str
    reason_code: str | None
    ref: str | None
    actor: str
    occurred_at: str
    recorded_at: str
    source_event_id: str | None


class HistoryOut(Page[MovementOut]):
    """A product's movements at a branch, with its on hand."""

    branch_id: str
    product_id: str
    on_hand: str


class StockWriteOut(BaseModel):
    """The movements a receipt, adjustment, waste or count booked (or replayed)."""

    branch_id: str
    kind: str
    movements: list[MovementOut]
    replayed: bool = False


class ReorderPointOut(BaseModel):
    """A product's reorder point at a branch."""

    branch_id: str
    product_id: str
    reorder_point: str | None


class AlertOut(BaseModel):
    """A stock alert."""

    id: str
    kind: str
    severity: str
    tenant_id: str
    branch_id: str
    product_id: str
    on_hand: str
    reorder_point: str
    created_at: str
    acknowledged_at: str | None
    acknowledged_by: str | None


class TransferLineOut(BaseModel):
    """One product of a transfer (decimal strings)."""

    product_id: str
    requested: str
    dispatched: str | None
    received: str | None
    variance: str | None


class TransferOut(BaseModel):
    """A branch transfer with its lines."""

    transfer_id: str
    state: str
    from_branch_id: str
    to_branch_id: str
    note: str
    cancel_reason: str | None
    requested_by: str | None
    requested_at: str | None
    dispatched_by: str | None
    dispatched_at: str | None
    received_by: str | None
    received_at: str | None
    cancelled_by: str | None
    cancelled_at: str | None
    lines: list[TransferLineOut]
    replayed: bool = False
