"""Incidents and their lifecycle steps (DDL in 0010_operations.py; REP-O-09 reads them).

`incidents`: one row per incident, `state` DETECTED → CLASSIFIED → RESPONDING → RESOLVED,
with `detected_at/by`, `classified_at/by`, `first_response_at`, `resolved_at/by`, severity,
module, scope and, when raised from an alert, `alert_id`. MTTA = classified_at - detected_at,
MTTR = resolved_at - detected_at. `incident_steps`: every step with actor, time, details and
the hub audit entry (chain, seq, hash) that evidences it.
"""

from __future__ import annotations

from peewee import AutoField, BigIntegerField, TextField

from hub.core.models import BaseModel, JsonField, UtcField, utcnow


class Incident(BaseModel):
    """One incident of a tenant."""

    id = TextField(primary_key=True)
    tenant_id = TextField()
    title = TextField()
    state = TextField(default="DETECTED")
    severity = TextField(null=True)
    module = TextField(null=True)
    scope_kind = TextField(null=True)
    scope_id = TextField(null=True)
    branch_id = TextField(null=True)
    source = TextField()
    alert_id = TextField(null=True, unique=True)
    detected_at = UtcField(default=utcnow)
    detected_by = TextField()
    classified_at = UtcField(null=True)
    classified_by = TextField(null=True)
    first_response_at = UtcField(null=True)
    resolved_at = UtcField(null=True)
    resolved_by = TextField(null=True)
    root_cause = TextField(null=True)
    verification = TextField(null=True)

    class Meta:
        table_name = "incidents"


class IncidentStep(BaseModel):
    """One lifecycle step with its actor, time, details and audit evidence."""

    id = AutoField()
    tenant_id = TextField()
    incident_id = TextField()
    step = TextField()
    actor = TextField()
    at = UtcField(default=utcnow)
    details = JsonField()
    audit_chain = TextField(null=True)
    audit_seq = BigIntegerField(null=True)
    audit_hash = TextField(null=True)

    class Meta:
        table_name = "incident_steps"
