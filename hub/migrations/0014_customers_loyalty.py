"""Customers, their purchase history and the loyalty points ledger (FR-400, FR-401, FR-402).

* `customers`: minimal PII (display name for the till, optional full name, phone, e-mail),
  an optional loyalty card barcode unique per tenant, consent flags, tier, and `dir_version`:
  the tenant's card-directory version (down kind `cards`) that last changed what a box holds
  of this customer (card, display name, tier, balance, active).
* `customer_activity`: one row per sale, refund or post-void of a customer, written at ingest
  (grain: one document; money signed minor units) — purchase history, REP-T-15, tier spend.
* `loyalty_ledger`: every earn, redemption, reversal, expiry and manual adjustment as an
  immutable row, unique per (tenant, source, kind, line_no) as constraint
  `loyalty_ledger_source_key`, so replaying a sale or refund is a no-op. A trigger refuses
  UPDATE/DELETE/TRUNCATE even for the owner; the app role may only SELECT and INSERT.
* `loyalty_balances`: the running balance per customer, moved in the same statement batch as
  the ledger rows (tests prove it equals the ledger sum).
* `loyalty_tier_changes`: append-only history of tier changes (which tier held at a sale time).
* `config_versions.kind` also accepts `loyalty` (the versioned rules document).
"""

from __future__ import annotations

from typing import Any

APP_ROLE = "cfpos_app"
LEDGER_KINDS = ("earn", "redeem", "earn_reversal", "redeem_reversal", "expire", "adjust")
_LK = ", ".join(f"'{k}'" for k in LEDGER_KINDS)

TABLES = [
    """CREATE TABLE customers (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        display_name TEXT NOT NULL, full_name TEXT, phone TEXT, email TEXT, card TEXT,
        search_text TEXT NOT NULL,
        consent_marketing {BOOL} NOT NULL DEFAULT FALSE,
        consent_email_receipts {BOOL} NOT NULL DEFAULT FALSE,
        home_branch_id TEXT, active {BOOL} NOT NULL DEFAULT TRUE, tier TEXT,
        dir_version BIGINT NOT NULL DEFAULT 0,
        source TEXT NOT NULL CHECK (source IN ('hub', 'box')),
        created_by TEXT NOT NULL, created_at {TS} NOT NULL, updated_at {TS} NOT NULL,
        UNIQUE (tenant_id, card))""",
    "CREATE INDEX customers_phone ON customers (tenant_id, phone)",
    "CREATE INDEX customers_email ON customers (tenant_id, email)",
    "CREATE INDEX customers_dir ON customers (tenant_id, dir_version)",
    """CREATE TABLE customer_activity (
        id {SERIAL}, tenant_id TEXT NOT NULL REFERENCES tenants(id), customer_id TEXT NOT NULL,
        doc_kind TEXT NOT NULL CHECK (doc_kind IN ('sale', 'refund', 'void')),
        doc_id TEXT NOT NULL, sale_id TEXT, event_id TEXT NOT NULL UNIQUE, branch_id TEXT NOT NULL,
        box_id TEXT NOT NULL, receipt_no BIGINT, total_minor BIGINT NOT NULL,
        net_minor BIGINT NOT NULL, exponent INTEGER NOT NULL, occurred_at {TS} NOT NULL)""",
    """CREATE INDEX customer_activity_customer
        ON customer_activity (tenant_id, customer_id, occurred_at)""",
    "CREATE INDEX customer_activity_sale ON customer_activity (tenant_id, sale_id)",
    f"""CREATE TABLE loyalty_ledger (
        id {{SERIAL}}, tenant_id TEXT NOT NULL REFERENCES tenants(id), customer_id TEXT NOT NULL,
        source TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ({_LK})),
        line_no INTEGER NOT NULL DEFAULT 0, points BIGINT NOT NULL CHECK (points <> 0),
        sale_id TEXT, branch_id TEXT, box_id TEXT, rules_version INTEGER, reason_code TEXT,
        note TEXT, actor TEXT NOT NULL, occurred_at {{TS}} NOT NULL, recorded_at {{TS}} NOT NULL,
        CHECK ((kind IN ('earn', 'redeem_reversal') AND points > 0)
            OR (kind IN ('redeem', 'earn_reversal', 'expire') AND points < 0)
            OR kind = 'adjust'),
        CHECK (kind <> 'adjust' OR reason_code IS NOT NULL),
        CONSTRAINT loyalty_ledger_source_key UNIQUE (tenant_id, source, kind, line_no))""",
    "CREATE INDEX loyalty_ledger_customer ON loyalty_ledger (tenant_id, customer_id, occurred_at)",
    "CREATE INDEX loyalty_ledger_sale ON loyalty_ledger (tenant_id, sale_id)",
    """CREATE TABLE loyalty_balances (
        tenant_id TEXT NOT NULL REFERENCES tenants(id), customer_id TEXT NOT NULL,
        points BIGINT NOT NULL, updated_at {TS} NOT NULL,
        PRIMARY KEY (tenant_id, customer_id))""",
    """CREATE TABLE loyalty_tier_changes (
        id {SERIAL}, tenant_id TEXT NOT NULL REFERENCES tenants(id), customer_id TEXT NOT NULL,
        from_tier TEXT, to_tier TEXT, basis TEXT NOT NULL, basis_value TEXT NOT NULL,
        rules_version INTEGER NOT NULL, actor TEXT NOT NULL, changed_at {TS} NOT NULL)""",
    """CREATE INDEX loyalty_tier_changes_customer
        ON loyalty_tier_changes (tenant_id, customer_id, changed_at)""",
]
TENANT_TABLES = (
    "customers",
    "customer_activity",
    "loyalty_ledger",
    "loyalty_balances",
    "loyalty_tier_changes",
)
APPEND_ONLY = ("customer_activity", "loyalty_ledger", "loyalty_tier_changes")


def _pg_security() -> list[str]:
    cond = (
        "tenant_id = nullif(current_setting('app.tenant_id', true), '') "
        "OR CURRENT_USER = 'cfpos_platform'"
    )
    stmts = [
        # config kinds are checked by shape since 0011 (the `loyalty` kind needs no change)
    ]
    for table in TENANT_TABLES:
        stmts += [
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
            f"CREATE POLICY {table}_tenant ON {table} USING ({cond}) WITH CHECK ({cond})",
        ]
    for table in APPEND_ONLY:  # cfpos_append_only() comes from 0001
        stmts += [
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION cfpos_append_only()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION cfpos_append_only()",
        ]
    stmts += [
        f"GRANT SELECT, INSERT ON {', '.join(APPEND_ONLY)} TO {APP_ROLE}",
        f"GRANT SELECT, INSERT, UPDATE ON customers, loyalty_balances TO {APP_ROLE}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}",
    ]
    return stmts


def _sqlite_append_only() -> list[str]:
    return [
        f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        for table in APPEND_ONLY
        for op in ("UPDATE", "DELETE")
    ]


def up(ctx: Any) -> None:
    """Create the customer and loyalty tables; on PostgreSQL also RLS, triggers and grants."""
    for stmt in TABLES:
        ctx.execute(stmt)
    extra = _pg_security() if ctx.dialect == "postgres" else _sqlite_append_only()
    for stmt in extra:
        ctx.execute(stmt)
