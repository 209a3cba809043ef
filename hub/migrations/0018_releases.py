"""Release governance (FR-703, FR-804, FR-900, FR-901): artifacts, promotions, smoke runs,
GO/NO-GO decisions (platform tables) and staged box rollouts (tenant tables).

* `release_artifacts`: one row per published `cfgp-pos-{YYYY.MM.DD}.{build}` with its
  manifest, checksum and the environment it has reached (DEV → STAGING → PROD, one way);
  `pruned_at` when retention removed its files (the row stays as history).
* `release_promotions`: every promotion step with actor, smoke run and decision evidence.
* `release_smoke_runs`: the smoke tier's result against a deployed pair, stored with the
  artifact (before promotion, after every rollback).
* `release_decisions`: the gate's GO/NO-GO report, proposed by one person and approved by a
  second (`approved_by <> proposed_by` is also a CHECK), audited on the platform chain.
* `release_rollouts` / `rollout_boxes`: a tenant's staged rollout (canary cohort by branch
  or percentage, then the rest; halts after `max_failures` rolled-back boxes) and the state
  of each box in it.
"""

from __future__ import annotations

from typing import Any

APP_ROLE = "cfpos_app"
ENVS = "'DEV', 'STAGING', 'PROD'"
ROLLOUT_STATES = "'CANARY', 'CANARY_OK', 'ROLLING', 'DONE', 'HALTED', 'CANCELLED'"
BOX_STATES = "'WAITING', 'PENDING', 'OFFERED', 'DEFERRED', 'GOOD', 'ROLLED_BACK'"

TABLES = [
    f"""CREATE TABLE release_artifacts (
        name TEXT PRIMARY KEY, version TEXT NOT NULL, git_sha TEXT NOT NULL,
        git_dirty {{BOOL}} NOT NULL, rv_tag TEXT NOT NULL, dv_tag TEXT NOT NULL,
        built_for TEXT NOT NULL CHECK (built_for IN ({ENVS})),
        environment TEXT NOT NULL CHECK (environment IN ({ENVS})),
        built_at {{TS}} NOT NULL, checksum TEXT NOT NULL, manifest {{JSON}} NOT NULL,
        published_by TEXT NOT NULL, published_at {{TS}} NOT NULL, prod_at {{TS}},
        pruned_at {{TS}})""",
    f"""CREATE TABLE release_smoke_runs (
        id TEXT PRIMARY KEY, artifact TEXT NOT NULL REFERENCES release_artifacts(name),
        environment TEXT NOT NULL CHECK (environment IN ({ENVS})),
        trigger TEXT NOT NULL CHECK (trigger IN ('promotion', 'rollback', 'manual')),
        passed {{BOOL}} NOT NULL, summary {{JSON}} NOT NULL, actor TEXT NOT NULL,
        ran_at {{TS}} NOT NULL)""",
    "CREATE INDEX release_smoke_runs_artifact ON release_smoke_runs (artifact, ran_at)",
    """CREATE TABLE release_decisions (
        id TEXT PRIMARY KEY, artifact TEXT NOT NULL REFERENCES release_artifacts(name),
        target TEXT NOT NULL, decision TEXT NOT NULL CHECK (decision IN ('GO', 'NO-GO')),
        report {JSON} NOT NULL, reason TEXT NOT NULL, change_ref TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('PROPOSED', 'APPROVED', 'REJECTED')),
        proposed_by TEXT NOT NULL, proposed_at {TS} NOT NULL,
        approved_by TEXT, approved_at {TS},
        CHECK (approved_by IS NULL OR approved_by <> proposed_by))""",
    "CREATE INDEX release_decisions_artifact ON release_decisions (artifact, proposed_at)",
    f"""CREATE TABLE release_promotions (
        id {{SERIAL}}, artifact TEXT NOT NULL REFERENCES release_artifacts(name),
        from_env TEXT NOT NULL CHECK (from_env IN ({ENVS})),
        to_env TEXT NOT NULL CHECK (to_env IN ({ENVS})),
        smoke_run_id TEXT REFERENCES release_smoke_runs(id),
        decision_id TEXT REFERENCES release_decisions(id),
        actor TEXT NOT NULL, reason TEXT NOT NULL, at {{TS}} NOT NULL)""",
    f"""CREATE TABLE release_rollouts (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        artifact TEXT NOT NULL REFERENCES release_artifacts(name),
        strategy TEXT NOT NULL CHECK (strategy IN ('branch', 'percent')),
        canary_branches {{JSON}} NOT NULL, canary_percent INTEGER,
        max_failures INTEGER NOT NULL CHECK (max_failures >= 1),
        state TEXT NOT NULL CHECK (state IN ({ROLLOUT_STATES})),
        halted_reason TEXT, reason TEXT NOT NULL, created_by TEXT NOT NULL,
        created_at {{TS}} NOT NULL, updated_at {{TS}} NOT NULL)""",
    "CREATE INDEX release_rollouts_tenant ON release_rollouts (tenant_id, created_at)",
    f"""CREATE TABLE rollout_boxes (
        rollout_id TEXT NOT NULL REFERENCES release_rollouts(id),
        tenant_id TEXT NOT NULL REFERENCES tenants(id), box_id TEXT NOT NULL,
        branch_id TEXT NOT NULL, cohort TEXT NOT NULL CHECK (cohort IN ('canary', 'rest')),
        state TEXT NOT NULL CHECK (state IN ({BOX_STATES})), reason TEXT,
        detail {{JSON}}, updated_at {{TS}} NOT NULL, PRIMARY KEY (rollout_id, box_id))""",
    "CREATE INDEX rollout_boxes_box ON rollout_boxes (tenant_id, box_id)",
]
PLATFORM_TABLES = (
    "release_artifacts",
    "release_smoke_runs",
    "release_decisions",
    "release_promotions",
)
TENANT_TABLES = ("release_rollouts", "rollout_boxes")


def _policies(table: str, cond: str) -> list[str]:
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY {table}_scope ON {table} USING ({cond}) WITH CHECK ({cond})",
    ]


def _pg_security() -> list[str]:
    platform = "CURRENT_USER = 'cfpos_platform'"
    tenant = (
        f"tenant_id = (select nullif(current_setting('app.tenant_id', true), '')) OR {platform}"
    )
    stmts: list[str] = []
    for table in TENANT_TABLES:
        stmts += _policies(table, tenant)
    # artifacts are read by every tenant's rollouts and reads; written on the platform only
    stmts += [
        "ALTER TABLE release_artifacts ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE release_artifacts FORCE ROW LEVEL SECURITY",
        "CREATE POLICY release_artifacts_read ON release_artifacts FOR SELECT USING (true)",
        f"CREATE POLICY release_artifacts_write ON release_artifacts FOR ALL USING ({platform}) "
        f"WITH CHECK ({platform})",
    ]
    for table in PLATFORM_TABLES[1:]:
        stmts += _policies(table, platform)
    tables = ", ".join((*PLATFORM_TABLES, *TENANT_TABLES))
    stmts.append(f"GRANT SELECT, INSERT, UPDATE ON {tables} TO {APP_ROLE}")
    stmts.append(f"GRANT USAGE, SELECT ON SEQUENCE release_promotions_id_seq TO {APP_ROLE}")
    return stmts


def up(ctx: Any) -> None:
    """Create the release tables; on PostgreSQL also RLS policies and grants."""
    for stmt in TABLES:
        ctx.execute(stmt)
    if ctx.dialect == "postgres":
        for stmt in _pg_security():
            ctx.execute(stmt)
