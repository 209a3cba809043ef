"""Tables of the approvals area: supervisor override tokens.

The schema lives in the numbered migrations (appliance/migrations/); these models must
equal it (tests/appliance/core/test_models_match_migrations.py).
"""

from __future__ import annotations

from peewee import TextField

from appliance.core.models import BaseModel


class Override(BaseModel):
    """A supervisor approval token: one action, single use, short-lived."""

    token = TextField(primary_key=True)
    action = TextField()
    reason_code = TextField()
    approver_id = TextField()
    approver_role = TextField()
    requested_by = TextField()
    details = TextField(default="{}")
    created_at = TextField()
    expires_at = TextField()
    used_at = TextField(null=True)
    used_ref = TextField(null=True)

    class Meta:
        table_name = "overrides"
