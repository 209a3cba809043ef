"""Tables of the audit area: the hash-chained audit log.

The schema lives in the numbered migrations (appliance/migrations/); these models must
equal it (tests/appliance/core/test_models_match_migrations.py).
"""

from __future__ import annotations

from peewee import IntegerField, TextField

from appliance.core.models import BaseModel


class AuditLog(BaseModel):
    """One entry of the box's hash-chained audit log (append-only by trigger)."""

    seq = IntegerField(primary_key=True)
    chain = TextField()
    ts = TextField()
    actor = TextField()
    action = TextField()
    target = TextField()
    severity = TextField()
    details = TextField()
    prev_hash = TextField()
    hash = TextField(unique=True)

    class Meta:
        table_name = "audit_log"
