"""Peewee models of the inventory tables (DDL in hub/migrations/0004_inventory.py).

Quantities are integer thousandths of a unit (`*_milli`), so 1.5 kg is 1500.
"""

from __future__ import annotations

from peewee import BigIntegerField, BooleanField, CompositeKey, TextField

from hub.core.models import BaseModel, JsonField, UtcField, utcnow


class StockMovement(BaseModel):
    """One immutable ledger entry; on hand is the SUM of qty_milli (FR-201)."""

    id = TextField(primary_key=True)
    tenant_id = TextField()
    branch_id = TextField()
    product_id = TextField()
    qty_milli = BigIntegerField()
    kind = TextField()
    reason_code = TextField(null=True)
    ref = TextField(null=True)
    idempotency_key = TextField()
    actor = TextField()
    occurred_at = UtcField(default=utcnow)
    recorded_at = UtcField(default=utcnow)
    source_event_id = TextField(null=True)

    class Meta:
        table_name = "stock_movements"


class StockBalance(BaseModel):
    """Running on hand of one (branch, product): always the SUM of its movements (0009)."""

    tenant_id = TextField()
    branch_id = TextField()
    product_id = TextField()
    on_hand_milli = BigIntegerField()

    class Meta:
        table_name = "stock_balances"
        primary_key = CompositeKey("tenant_id", "branch_id", "product_id")


class InventoryOperation(BaseModel):
    """The stored result of one idempotent inventory request (append-only)."""

    id = TextField(primary_key=True)
    tenant_id = TextField()
    idempotency_key = TextField()
    kind = TextField()
    branch_id = TextField(null=True)
    request_hash = TextField()
    result = JsonField()
    actor = TextField()
    created_at = UtcField(default=utcnow)

    class Meta:
        table_name = "inventory_operations"


class ReorderPoint(BaseModel):
    """Reorder point of one product at one branch (FR-202)."""

    tenant_id = TextField()
    branch_id = TextField()
    product_id = TextField()
    reorder_point_milli = BigIntegerField()
    updated_by = TextField()
    updated_at = UtcField(default=utcnow)

    class Meta:
        table_name = "reorder_points"
        primary_key = CompositeKey("tenant_id", "branch_id", "product_id")


class StockAlertState(BaseModel):
    """Whether a (branch, product) is currently below its reorder point (alert dedup)."""

    tenant_id = TextField()
    branch_id = TextField()
    product_id = TextField()
    below = BooleanField()
    changed_at = UtcField(default=utcnow)

    class Meta:
        table_name = "stock_alert_state"
        primary_key = CompositeKey("tenant_id", "branch_id", "product_id")


class StockAlert(BaseModel):
    """A LOW_STOCK alert raised when on hand crossed below the reorder point."""

    id = TextField(primary_key=True)
    tenant_id = TextField()
    branch_id = TextField()
    product_id = TextField()
    kind = TextField()
    severity = TextField()
    on_hand_milli = BigIntegerField()
    reorder_point_milli = BigIntegerField()
    created_at = UtcField(default=utcnow)
    acknowledged_at = UtcField(null=True)
    acknowledged_by = TextField(null=True)

    class Meta:
        table_name = "stock_alerts"


class Transfer(BaseModel):
    """A branch transfer: requested → dispatched → received, or cancelled (FR-203)."""

    id = TextField(primary_key=True)
    tenant_id = TextField()
    from_branch_id = TextField()
    to_branch_id = TextField()
    state = TextField()
    note = TextField(default="")
    requested_by = TextField()
    requested_at = UtcField(default=utcnow)
    dispatched_by = TextField(null=True)
    dispatched_at = UtcField(null=True)
    received_by = TextField(null=True)
    received_at = UtcField(null=True)
    cancelled_by = TextField(null=True)
    cancelled_at = UtcField(null=True)
    cancel_reason = TextField(null=True)

    class Meta:
        table_name = "transfers"


class TransferLine(BaseModel):
    """Requested, dispatched and received quantity of one product on a transfer."""

    transfer_id = TextField()
    tenant_id = TextField()
    product_id = TextField()
    requested_milli = BigIntegerField()
    dispatched_milli = BigIntegerField(null=True)
    received_milli = BigIntegerField(null=True)
    variance_milli = BigIntegerField(null=True)

    class Meta:
        table_name = "transfer_lines"
        primary_key = CompositeKey("transfer_id", "product_id")
