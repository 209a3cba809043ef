"""Hub backup runs and restore-drill reports (platform tables, DDL in 0010_operations.py)."""

from __future__ import annotations

from peewee import BigIntegerField, BooleanField, FloatField, IntegerField, TextField

from hub.core.models import BaseModel, JsonField, UtcField, utcnow


class BackupRun(BaseModel):
    """One pg_dump of the hub database with the manifest counted in the same snapshot."""

    id = TextField(primary_key=True)
    kind = TextField(default="hub")
    path = TextField()
    started_at = UtcField(default=utcnow)
    finished_at = UtcField(null=True)
    snapshot_at = UtcField(null=True)
    size_bytes = BigIntegerField(null=True)
    status = TextField(default="running")
    manifest = JsonField(null=True)
    error = TextField(null=True)
    pruned_at = UtcField(null=True)

    class Meta:
        table_name = "backup_runs"


class RestoreDrill(BaseModel):
    """One restore drill: measured RTO and RPO against their targets, and every check."""

    id = TextField(primary_key=True)
    backup_id = TextField()
    started_at = UtcField()
    finished_at = UtcField()
    rto_seconds = FloatField()
    rpo_seconds = FloatField()
    rto_target_seconds = IntegerField()
    rpo_target_seconds = IntegerField()
    ok = BooleanField()
    report = JsonField()

    class Meta:
        table_name = "restore_drills"
