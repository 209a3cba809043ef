"""Release tables (DDL in 0018_releases.py): artifacts, smoke runs, decisions and
promotions on the platform; rollouts and their boxes per tenant (RLS)."""

from __future__ import annotations

from peewee import AutoField, BooleanField, CompositeKey, IntegerField, TextField

from hub.core.models import BaseModel, JsonField, UtcField, utcnow


class Artifact(BaseModel):
    """One published `cfgp-pos-{YYYY.MM.DD}.{build}` and the environment it has reached."""

    name = TextField(primary_key=True)
    version = TextField()
    git_sha = TextField()
    git_dirty = BooleanField()
    rv_tag = TextField()
    dv_tag = TextField()
    built_for = TextField()
    environment = TextField()
    built_at = UtcField()
    checksum = TextField()
    manifest = JsonField()
    published_by = TextField()
    published_at = UtcField(default=utcnow)
    prod_at = UtcField(null=True)
    pruned_at = UtcField(null=True)

    class Meta:
        table_name = "release_artifacts"


class SmokeRun(BaseModel):
    """The smoke tier's result against a deployed pair, stored with the artifact."""

    id = TextField(primary_key=True)
    artifact = TextField()
    environment = TextField()
    trigger = TextField()
    passed = BooleanField()
    summary = JsonField()
    actor = TextField()
    ran_at = UtcField(default=utcnow)

    class Meta:
        table_name = "release_smoke_runs"


class Decision(BaseModel):
    """A GO/NO-GO decision on an artifact: proposed by one person, approved by another."""

    id = TextField(primary_key=True)
    artifact = TextField()
    target = TextField()
    decision = TextField()
    report = JsonField()
    reason = TextField()
    change_ref = TextField()
    state = TextField()
    proposed_by = TextField()
    proposed_at = UtcField(default=utcnow)
    approved_by = TextField(null=True)
    approved_at = UtcField(null=True)

    class Meta:
        table_name = "release_decisions"


class Promotion(BaseModel):
    """One promotion step of an artifact with its evidence."""

    id = AutoField()
    artifact = TextField()
    from_env = TextField()
    to_env = TextField()
    smoke_run_id = TextField(null=True)
    decision_id = TextField(null=True)
    actor = TextField()
    reason = TextField()
    at = UtcField(default=utcnow)

    class Meta:
        table_name = "release_promotions"


class Rollout(BaseModel):
    """A tenant's staged rollout of one artifact to its boxes."""

    id = TextField(primary_key=True)
    tenant_id = TextField()
    artifact = TextField()
    strategy = TextField()
    canary_branches = JsonField()
    canary_percent = IntegerField(null=True)
    max_failures = IntegerField()
    state = TextField()
    halted_reason = TextField(null=True)
    reason = TextField()
    created_by = TextField()
    created_at = UtcField(default=utcnow)
    updated_at = UtcField(default=utcnow)

    class Meta:
        table_name = "release_rollouts"


class RolloutBox(BaseModel):
    """One box of a rollout: its cohort and where its update stands."""

    rollout_id = TextField()
    tenant_id = TextField()
    box_id = TextField()
    branch_id = TextField()
    cohort = TextField()
    state = TextField()
    reason = TextField(null=True)
    detail = JsonField(null=True)
    updated_at = UtcField(default=utcnow)

    class Meta:
        table_name = "rollout_boxes"
        primary_key = CompositeKey("rollout_id", "box_id")
