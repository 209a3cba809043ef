"""Initial box schema: identity/counters, staff, catalog, config, basket, sales, outbox, audit."""

from __future__ import annotations

from peewee import SqliteDatabase

from appliance.migrations import run_sql

STATEMENTS = [
    """CREATE TABLE box_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        box_id TEXT NOT NULL, tenant_id TEXT NOT NULL, branch_id TEXT NOT NULL,
        next_seq INTEGER NOT NULL DEFAULT 1 CHECK (next_seq >= 1),
        next_receipt_no INTEGER NOT NULL DEFAULT 1 CHECK (next_receipt_no >= 1),
        versions TEXT NOT NULL DEFAULT '{}',
        agent_seen_at TEXT, last_ack_at TEXT, created_at TEXT NOT NULL)""",
    """CREATE TABLE staff (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, pin_hash TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1, branch_ids TEXT NOT NULL DEFAULT '[]')""",
    """CREATE TABLE pin_failures (
        scope TEXT PRIMARY KEY, failures INTEGER NOT NULL DEFAULT 0, locked_until TEXT)""",
    """CREATE TABLE products (
        id TEXT PRIMARY KEY, sku TEXT NOT NULL, name TEXT NOT NULL,
        price_minor INTEGER NOT NULL, tax_class TEXT NOT NULL, unit TEXT NOT NULL,
        age_restricted INTEGER NOT NULL DEFAULT 0, active INTEGER NOT NULL DEFAULT 1)""",
    "CREATE INDEX products_lower_name ON products (lower(name))",
    "CREATE INDEX products_sku ON products (sku)",
    """CREATE TABLE barcodes (
        barcode TEXT PRIMARY KEY,
        product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE)""",
    "CREATE INDEX barcodes_product ON barcodes (product_id)",
    """CREATE TABLE config_doc (
        kind TEXT PRIMARY KEY, version INTEGER NOT NULL, body TEXT NOT NULL,
        applied_at TEXT NOT NULL)""",
    """CREATE TABLE basket (
        id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, staff_id TEXT NOT NULL,
        next_line_no INTEGER NOT NULL DEFAULT 1, opened_at TEXT NOT NULL)""",
    """CREATE TABLE basket_lines (
        id INTEGER PRIMARY KEY,
        basket_id INTEGER NOT NULL REFERENCES basket (id) ON DELETE CASCADE,
        line_no INTEGER NOT NULL, product_id TEXT NOT NULL, barcode TEXT NOT NULL,
        sku TEXT NOT NULL, name TEXT NOT NULL, tax_class TEXT NOT NULL,
        qty INTEGER NOT NULL CHECK (qty > 0), unit_price_minor INTEGER NOT NULL,
        voided INTEGER NOT NULL DEFAULT 0, UNIQUE (basket_id, line_no))""",
    """CREATE TABLE sales (
        id TEXT PRIMARY KEY, receipt_no INTEGER NOT NULL UNIQUE,
        idempotency_key TEXT NOT NULL UNIQUE, staff_id TEXT NOT NULL, staff_name TEXT NOT NULL,
        currency TEXT NOT NULL, exponent INTEGER NOT NULL,
        subtotal_minor INTEGER NOT NULL, tax_minor INTEGER NOT NULL,
        total_minor INTEGER NOT NULL, change_minor INTEGER NOT NULL,
        event_id TEXT NOT NULL UNIQUE, correlation_id TEXT NOT NULL,
        payload TEXT NOT NULL, completed_at TEXT NOT NULL)""",
    """CREATE TABLE sale_lines (
        id INTEGER PRIMARY KEY,
        sale_id TEXT NOT NULL REFERENCES sales (id), line_no INTEGER NOT NULL,
        product_id TEXT NOT NULL, sku TEXT NOT NULL, name TEXT NOT NULL, barcode TEXT NOT NULL,
        qty INTEGER NOT NULL, unit_price_minor INTEGER NOT NULL,
        line_total_minor INTEGER NOT NULL, tax_class TEXT NOT NULL, tax_rate TEXT NOT NULL,
        tax_minor INTEGER NOT NULL, UNIQUE (sale_id, line_no))""",
    """CREATE TABLE tenders (
        id INTEGER PRIMARY KEY, sale_id TEXT NOT NULL REFERENCES sales (id),
        kind TEXT NOT NULL, amount_minor INTEGER NOT NULL)""",
    """CREATE TABLE outbox (
        id INTEGER PRIMARY KEY, seq INTEGER NOT NULL UNIQUE CHECK (seq >= 1),
        event_id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, payload TEXT NOT NULL,
        created_at TEXT NOT NULL, acked_at TEXT, attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT)""",
    "CREATE INDEX outbox_unacked ON outbox (seq) WHERE acked_at IS NULL",
    """CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY, chain TEXT NOT NULL, ts TEXT NOT NULL, actor TEXT NOT NULL,
        action TEXT NOT NULL, target TEXT NOT NULL, severity TEXT NOT NULL,
        details TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL UNIQUE)""",
    # Append-only: audit rows never change; outbox rows only gain acked_at/attempts/last_error.
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    """CREATE TRIGGER outbox_no_delete BEFORE DELETE ON outbox
        BEGIN SELECT RAISE(ABORT, 'outbox rows are never deleted'); END""",
    """CREATE TRIGGER outbox_immutable BEFORE UPDATE ON outbox
        WHEN NEW.id IS NOT OLD.id OR NEW.seq IS NOT OLD.seq OR NEW.event_id IS NOT OLD.event_id
          OR NEW.type IS NOT OLD.type OR NEW.payload IS NOT OLD.payload
          OR NEW.created_at IS NOT OLD.created_at
          OR (OLD.acked_at IS NOT NULL AND NEW.acked_at IS NOT OLD.acked_at)
        BEGIN SELECT RAISE(ABORT, 'outbox rows only gain acked_at/attempts'); END""",
    """CREATE TRIGGER sales_no_update BEFORE UPDATE ON sales
        BEGIN SELECT RAISE(ABORT, 'completed sales are immutable'); END""",
    """CREATE TRIGGER sales_no_delete BEFORE DELETE ON sales
        BEGIN SELECT RAISE(ABORT, 'completed sales are immutable'); END""",
]


def up(db: SqliteDatabase) -> None:
    """Create the initial schema."""
    for statement in STATEMENTS:
        run_sql(db, statement)
