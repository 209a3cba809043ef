"""Tables of the inventory area: the box stock ledger.

The schema lives in the numbered migrations (appliance/migrations/); these models must
equal it (tests/appliance/core/test_models_match_migrations.py).
"""

from __future__ import annotations

from peewee import AutoField, IntegerField, TextField

from appliance.core.models import BaseModel


class StockMovement(BaseModel):
    """One entry of the box stock ledger (append-only by trigger; qty signed, thousandths)."""

    seq = AutoField()
    id = TextField(unique=True)
    product_id = TextField()
    kind = TextField()
    qty_milli = IntegerField()
    reason_code = TextField(null=True)
    ref = TextField(null=True)
    staff_id = TextField(null=True)
    event_id = TextField(null=True)
    occurred_at = TextField()

    class Meta:
        table_name = "stock_movements"
