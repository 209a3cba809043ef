"""Operations (FR-500, FR-501, FR-700, FR-701, FR-702): alerts, risk, incidents, backups.

Tenant tables (ENABLE + FORCE RLS on the tenant setting, like 0006):

* `alerts`: one row per alert *episode*; `key` deduplicates (one live row per tenant and key,
  enforced by a partial unique index), state OPEN → ACKED → RESOLVED; a new episode after
  RESOLVED is a new row (re-armed).
* `alert_channels`: where a tenant's alerts go (webhook, email, log) and for which severities.
* `alert_deliveries`: the delivery outbox, written in the transaction of the state change it
  announces (nothing is sent for a rolled-back change); unique per (alert, transition,
  channel), so a state change is queued exactly once per channel.
* `risk_modes`: every risk-mode change per scope (history; the newest unexpired row wins).
* `box_resend_requests`: after a hub restore, per box the restored high-water mark the box
  is asked to resend after (the `resend` down message).
* `risk_scores`: the latest score per (subject kind, subject) with the rules that fired.
* `incidents` + `incident_steps`: the DETECT → CLASSIFY → RESPOND → RESOLVE lifecycle, each
  step with actor, time and the audit entry that evidences it (REP-O-09 reads these).

Platform tables (RLS: platform transactions only): `backup_runs`, `restore_drills`.
`box_heartbeats` gains the FR-500 fields a box may report (version, print queue, disk,
devices).
"""

from __future__ import annotations

from typing import Any

APP_ROLE = "cfpos_app"

TABLES = [
    """CREATE TABLE alerts (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        rule TEXT NOT NULL, key TEXT NOT NULL,
        severity TEXT NOT NULL CHECK (severity IN ('INFO', 'WARN', 'CRITICAL')),
        state TEXT NOT NULL CHECK (state IN ('OPEN', 'ACKED', 'RESOLVED')),
        branch_id TEXT, box_id TEXT, summary TEXT NOT NULL, details {JSON} NOT NULL,
        suppressed {BOOL} NOT NULL DEFAULT FALSE,
        opened_at {TS} NOT NULL, acked_at {TS}, acked_by TEXT,
        resolved_at {TS}, resolved_by TEXT, updated_at {TS} NOT NULL)""",
    "CREATE UNIQUE INDEX alerts_live_key ON alerts (tenant_id, key) WHERE state <> 'RESOLVED'",
    "CREATE INDEX alerts_feed ON alerts (tenant_id, state, opened_at)",
    """CREATE TABLE alert_channels (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        name TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('webhook', 'email', 'log')),
        target TEXT NOT NULL, secret TEXT, severities {JSON} NOT NULL,
        enabled {BOOL} NOT NULL DEFAULT TRUE, created_by TEXT NOT NULL, created_at {TS} NOT NULL,
        UNIQUE (tenant_id, name))""",
    """CREATE TABLE alert_deliveries (
        id {SERIAL}, tenant_id TEXT NOT NULL, alert_id TEXT NOT NULL REFERENCES alerts(id),
        transition TEXT NOT NULL, channel_id TEXT NOT NULL REFERENCES alert_channels(id),
        message_id TEXT NOT NULL UNIQUE, payload {JSON} NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'dead')),
        attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at {TS} NOT NULL,
        last_error TEXT, created_at {TS} NOT NULL, sent_at {TS},
        UNIQUE (alert_id, transition, channel_id))""",
    "CREATE INDEX alert_deliveries_due ON alert_deliveries (state, next_attempt_at)",
    """CREATE TABLE risk_modes (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        scope_kind TEXT NOT NULL CHECK (scope_kind IN ('tenant', 'branch', 'box')),
        scope_id TEXT NOT NULL,
        mode TEXT NOT NULL CHECK (mode IN ('NORMAL', 'WARN', 'READ_ONLY', 'BLOCK')),
        reason TEXT NOT NULL, expires_at {TS}, set_by TEXT NOT NULL, set_at {TS} NOT NULL)""",
    "CREATE INDEX risk_modes_scope ON risk_modes (tenant_id, scope_kind, scope_id, set_at)",
    """CREATE TABLE risk_scores (
        tenant_id TEXT NOT NULL REFERENCES tenants(id), subject_kind TEXT NOT NULL
        CHECK (subject_kind IN ('cashier', 'box', 'branch')), subject_id TEXT NOT NULL,
        branch_id TEXT, score INTEGER NOT NULL, fired {JSON} NOT NULL, figures {JSON} NOT NULL,
        rules_version INTEGER NOT NULL, window_start {TS} NOT NULL, window_end {TS} NOT NULL,
        computed_at {TS} NOT NULL, PRIMARY KEY (tenant_id, subject_kind, subject_id))""",
    """CREATE TABLE incidents (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        title TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('DETECTED', 'CLASSIFIED', 'RESPONDING', 'RESOLVED')),
        severity TEXT CHECK (severity IN ('INFO', 'WARN', 'CRITICAL')), module TEXT,
        scope_kind TEXT CHECK (scope_kind IN ('tenant', 'branch', 'box')), scope_id TEXT,
        branch_id TEXT, source TEXT NOT NULL CHECK (source IN ('alert', 'manual')),
        alert_id TEXT UNIQUE REFERENCES alerts(id),
        detected_at {TS} NOT NULL, detected_by TEXT NOT NULL,
        classified_at {TS}, classified_by TEXT, first_response_at {TS},
        resolved_at {TS}, resolved_by TEXT, root_cause TEXT, verification TEXT)""",
    "CREATE INDEX incidents_state ON incidents (tenant_id, state, severity)",
    """CREATE TABLE incident_steps (
        id {SERIAL}, tenant_id TEXT NOT NULL, incident_id TEXT NOT NULL REFERENCES incidents(id),
        step TEXT NOT NULL CHECK (step IN ('DETECT', 'CLASSIFY', 'RESPOND', 'RESOLVE')),
        actor TEXT NOT NULL, at {TS} NOT NULL, details {JSON} NOT NULL,
        audit_chain TEXT, audit_seq BIGINT, audit_hash TEXT)""",
    "CREATE INDEX incident_steps_incident ON incident_steps (incident_id, id)",
    """CREATE TABLE backup_runs (
        id TEXT PRIMARY KEY, kind TEXT NOT NULL, path TEXT NOT NULL,
        started_at {TS} NOT NULL, finished_at {TS}, snapshot_at {TS},
        size_bytes BIGINT, status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'failed')),
        manifest {JSON}, error TEXT, pruned_at {TS})""",
    """CREATE TABLE restore_drills (
        id TEXT PRIMARY KEY, backup_id TEXT NOT NULL REFERENCES backup_runs(id),
        started_at {TS} NOT NULL, finished_at {TS} NOT NULL,
        rto_seconds DOUBLE PRECISION NOT NULL, rpo_seconds DOUBLE PRECISION NOT NULL,
        rto_target_seconds INTEGER NOT NULL, rpo_target_seconds INTEGER NOT NULL,
        ok {BOOL} NOT NULL, report {JSON} NOT NULL)""",
    """CREATE TABLE box_resend_requests (
        restore_id TEXT NOT NULL, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        box_id TEXT NOT NULL, after_seq BIGINT NOT NULL, restored_at {TS} NOT NULL,
        PRIMARY KEY (restore_id, box_id))""",
    "ALTER TABLE box_heartbeats ADD COLUMN version TEXT",
    "ALTER TABLE box_heartbeats ADD COLUMN print_queue BIGINT",
    "ALTER TABLE box_heartbeats ADD COLUMN print_failed BIGINT",
    "ALTER TABLE box_heartbeats ADD COLUMN print_oldest_at {TS}",
    "ALTER TABLE box_heartbeats ADD COLUMN disk_free_bytes BIGINT",
    "ALTER TABLE box_heartbeats ADD COLUMN disk_total_bytes BIGINT",
    "ALTER TABLE box_heartbeats ADD COLUMN devices {JSON}",
]
TENANT_TABLES = (
    "alerts",
    "alert_channels",
    "alert_deliveries",
    "risk_modes",
    "risk_scores",
    "incidents",
    "incident_steps",
    "box_resend_requests",
)
PLATFORM_TABLES = ("backup_runs", "restore_drills")
SERIALS = ("alert_deliveries_id_seq", "incident_steps_id_seq")


def _policies(table: str, cond: str) -> list[str]:
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY {table}_scope ON {table} USING ({cond}) WITH CHECK ({cond})",
    ]


def _pg_security() -> list[str]:
    platform = "(select current_setting('app.platform', true)) = 'on'"
    tenant = (
        f"tenant_id = (select nullif(current_setting('app.tenant_id', true), '')) OR {platform}"
    )
    stmts: list[str] = []
    for table in TENANT_TABLES:
        stmts += _policies(table, tenant)
    for table in PLATFORM_TABLES:
        stmts += _policies(table, platform)
    tables = ", ".join((*TENANT_TABLES, *PLATFORM_TABLES))
    stmts.append(f"GRANT SELECT, INSERT, UPDATE ON {tables} TO {APP_ROLE}")
    stmts.append(f"GRANT DELETE ON risk_scores TO {APP_ROLE}")  # replaced per scoring pass
    stmts.append(f"GRANT USAGE, SELECT ON SEQUENCE {', '.join(SERIALS)} TO {APP_ROLE}")
    return stmts


def up(ctx: Any) -> None:
    """Create the operations tables; on PostgreSQL also RLS policies and grants."""
    for stmt in TABLES:
        ctx.execute(stmt)
    if ctx.dialect == "postgres":
        for stmt in _pg_security():
            ctx.execute(stmt)
