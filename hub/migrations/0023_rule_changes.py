"""The business-rule decision log (FR-901): `rule_changes`, and every rule version linked to
the change that activated it.

* `rule_changes`: one row per proposed change to a tax, pricing, risk or loyalty config or a
  promotion (pricing policy), numbered per tenant (`seq`), with reason, impact and change
  reference. PROPOSED until a second person activates (ACTIVE) or rejects (REJECTED) it;
  `decided_by <> proposed_by` is a CHECK under the one function that activates
  (hub.governance.rule_changes.activate). `bootstrap` marks the audited seed path that is
  allowed only before the tenant has a box (decided_by 'bootstrap').
* `config_versions.change_id` / `pricing_policies.change_id`: the change a version came from;
  on PostgreSQL a CHECK makes it mandatory for the rule kinds and every policy version.
* Rule versions stored before this migration are logged as bootstrap changes decided by
  'migration:0023', so every version in force has an entry and the boxes keep accepting them.
"""

from __future__ import annotations

from typing import Any

RULE_KINDS = "'tax', 'pricing', 'risk', 'loyalty'"
TABLE = f"""CREATE TABLE rule_changes (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
    seq INTEGER NOT NULL CHECK (seq >= 1),
    kind TEXT NOT NULL CHECK (kind IN ({RULE_KINDS}, 'promotion')),
    branch_id TEXT, operation TEXT NOT NULL CHECK (operation IN ('set', 'upsert', 'retire')),
    target TEXT NOT NULL, payload {{JSON}} NOT NULL, reason TEXT NOT NULL,
    impact TEXT NOT NULL, change_ref TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('PROPOSED', 'ACTIVE', 'REJECTED')),
    proposed_by TEXT NOT NULL, proposed_at {{TS}} NOT NULL, decided_by TEXT, decided_at {{TS}},
    note TEXT NOT NULL DEFAULT '', bootstrap {{BOOL}} NOT NULL DEFAULT FALSE,
    effective_at {{TS}}, result {{JSON}},
    UNIQUE (tenant_id, seq),
    CHECK (decided_by IS NULL OR decided_by <> proposed_by),
    CHECK (state = 'PROPOSED' OR (decided_by IS NOT NULL AND decided_at IS NOT NULL)),
    CHECK (state <> 'ACTIVE' OR effective_at IS NOT NULL))"""
STATEMENTS = [
    TABLE,
    "CREATE INDEX rule_changes_tenant_state ON rule_changes (tenant_id, state, proposed_at)",
    "ALTER TABLE config_versions ADD COLUMN change_id TEXT REFERENCES rule_changes(id)",
    "ALTER TABLE pricing_policies ADD COLUMN change_id TEXT REFERENCES rule_changes(id)",
]
# the versions already stored, as bootstrap entries of the log (both dialects)
LEGACY = """WITH legacy AS (
    SELECT 'legacy-cv-' || id AS id, tenant_id, kind, branch_id, 'set' AS operation,
           'config:' || kind AS target, reason, actor, created_at,
           id AS row_id, 'cv' AS src
    FROM config_versions WHERE kind IN ({kinds})
    UNION ALL
    SELECT 'legacy-pp-' || id, tenant_id, 'promotion', NULL, 'upsert',
           'policy:' || policy_id, reason, created_by, created_at, id, 'pp'
    FROM pricing_policies)
INSERT INTO rule_changes (id, tenant_id, seq, kind, branch_id, operation, target, payload,
    reason, impact, change_ref, state, proposed_by, proposed_at, decided_by, decided_at,
    note, bootstrap, effective_at, result)
SELECT id, tenant_id, ROW_NUMBER() OVER (PARTITION BY tenant_id ORDER BY created_at, id),
    kind, branch_id, operation, target, {payload}, reason, 'stored before the decision log',
    'migration:0023', 'ACTIVE', actor, created_at, 'migration:0023', created_at,
    'logged by migration 0023', {true}, created_at, {payload}
FROM legacy"""
LINK = [
    "UPDATE config_versions SET change_id = 'legacy-cv-' || id "
    f"WHERE kind IN ({RULE_KINDS}) AND change_id IS NULL",
    "UPDATE pricing_policies SET change_id = 'legacy-pp-' || id WHERE change_id IS NULL",
]
PG_ONLY = [
    "ALTER TABLE config_versions ADD CONSTRAINT config_versions_rule_change CHECK "
    f"(kind NOT IN ({RULE_KINDS}) OR change_id IS NOT NULL)",
    "ALTER TABLE pricing_policies ADD CONSTRAINT pricing_policies_rule_change CHECK "
    "(change_id IS NOT NULL)",
    "ALTER TABLE rule_changes ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE rule_changes FORCE ROW LEVEL SECURITY",
    "CREATE POLICY rule_changes_scope ON rule_changes USING ({cond}) WITH CHECK ({cond})",
    # the log is never deleted: the app may insert and decide, nothing else
    "GRANT SELECT, INSERT, UPDATE ON rule_changes TO cfpos_app",
]
TENANT = (
    "tenant_id = (select nullif(current_setting('app.tenant_id', true), '')) "
    "OR CURRENT_USER = 'cfpos_platform'"
)


def up(ctx: Any) -> None:
    """Create the log, link the versions, log the versions already stored."""
    for stmt in STATEMENTS:
        ctx.execute(stmt)
    pg = ctx.dialect == "postgres"
    ctx.execute(
        LEGACY.format(
            kinds=RULE_KINDS,
            payload="'{}'::jsonb" if pg else "'{}'",
            true="TRUE" if pg else "1",
        )
    )
    for stmt in LINK:
        ctx.execute(stmt)
    if pg:
        for stmt in PG_ONLY:
            ctx.execute(stmt.replace("{cond}", TENANT))
