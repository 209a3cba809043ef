"""Till operations (FR-300, REP-T-03/04): overrides, shifts, cash movements, refunds,
post-voids, no-sale opens, Z reports and suspended baskets.

* `overrides`: single-use, short-lived approval tokens (used_at set once, by trigger only once);
* `shifts`: one open shift per till (partial unique index); `cash_movements` (drops, paid-outs);
* `refunds` + `refund_lines`, `sale_voids`, `no_sales`, `sale_tenders_ext` (card references,
  customer) and `z_reports` are append-only (triggers refuse UPDATE and DELETE);
* `suspended_baskets`: a parked basket as JSON lines, deleted when resumed;
  `basket_customers`: the customer attached to an open basket (by basket key);
  `basket_price_overrides`: approved manual prices/discounts of open basket lines.
"""

from __future__ import annotations

from peewee import SqliteDatabase

from appliance.migrations import run_sql

APPEND_ONLY = (
    "cash_movements",
    "refunds",
    "refund_lines",
    "sale_voids",
    "no_sales",
    "z_reports",
    "sale_extras",
)

STATEMENTS = [
    """CREATE TABLE overrides (
        token TEXT PRIMARY KEY, action TEXT NOT NULL, reason_code TEXT NOT NULL,
        approver_id TEXT NOT NULL, approver_role TEXT NOT NULL, requested_by TEXT NOT NULL,
        details TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL, expires_at TEXT NOT NULL,
        used_at TEXT, used_ref TEXT)""",
    """CREATE TRIGGER overrides_single_use BEFORE UPDATE ON overrides
        WHEN OLD.used_at IS NOT NULL OR NEW.token IS NOT OLD.token
          OR NEW.action IS NOT OLD.action OR NEW.approver_id IS NOT OLD.approver_id
        BEGIN SELECT RAISE(ABORT, 'an override is used once and never changed'); END""",
    """CREATE TABLE shifts (
        id TEXT PRIMARY KEY, till TEXT NOT NULL, staff_id TEXT NOT NULL,
        opening_float_minor INTEGER NOT NULL CHECK (opening_float_minor >= 0),
        opened_at TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'open'
          CHECK (state IN ('open', 'closed')),
        closed_at TEXT, closed_by TEXT)""",
    "CREATE UNIQUE INDEX shifts_one_open_per_till ON shifts (till) WHERE state = 'open'",
    """CREATE TRIGGER shifts_closed_final BEFORE UPDATE ON shifts WHEN OLD.state = 'closed'
        BEGIN SELECT RAISE(ABORT, 'a closed shift is final'); END""",
    """CREATE TABLE cash_movements (
        id TEXT PRIMARY KEY, shift_id TEXT NOT NULL REFERENCES shifts (id),
        kind TEXT NOT NULL CHECK (kind IN ('drop', 'paid_out')),
        amount_minor INTEGER NOT NULL CHECK (amount_minor > 0), reason_code TEXT,
        note TEXT, staff_id TEXT NOT NULL, created_at TEXT NOT NULL)""",
    """CREATE TABLE refunds (
        id TEXT PRIMARY KEY, receipt_no INTEGER NOT NULL UNIQUE, sale_id TEXT,
        shift_id TEXT, staff_id TEXT NOT NULL, approver_id TEXT NOT NULL,
        reason_code TEXT NOT NULL, tender TEXT NOT NULL, card_reference TEXT,
        total_minor INTEGER NOT NULL, tax_minor INTEGER NOT NULL,
        cash_rounding_minor INTEGER NOT NULL, idempotency_key TEXT NOT NULL UNIQUE,
        event_id TEXT NOT NULL UNIQUE, payload TEXT NOT NULL, completed_at TEXT NOT NULL)""",
    "CREATE INDEX refunds_sale ON refunds (sale_id)",
    """CREATE TABLE refund_lines (
        id INTEGER PRIMARY KEY, refund_id TEXT NOT NULL REFERENCES refunds (id),
        sale_line_no INTEGER, product_id TEXT NOT NULL, qty_milli INTEGER NOT NULL,
        gross_minor INTEGER NOT NULL, tax_minor INTEGER NOT NULL, tax_class TEXT NOT NULL,
        tax_rate TEXT NOT NULL)""",
    "CREATE INDEX refund_lines_refund ON refund_lines (refund_id)",
    """CREATE TABLE sale_voids (
        sale_id TEXT PRIMARY KEY, shift_id TEXT, staff_id TEXT NOT NULL,
        approver_id TEXT NOT NULL, reason_code TEXT NOT NULL, total_minor INTEGER NOT NULL,
        event_id TEXT NOT NULL UNIQUE, voided_at TEXT NOT NULL)""",
    """CREATE TABLE no_sales (
        id TEXT PRIMARY KEY, shift_id TEXT, staff_id TEXT NOT NULL, approver_id TEXT NOT NULL,
        reason_code TEXT NOT NULL, created_at TEXT NOT NULL)""",
    """CREATE TABLE sale_extras (
        sale_id TEXT PRIMARY KEY, card_reference TEXT, customer_id TEXT, customer_name TEXT,
        created_at TEXT NOT NULL)""",
    """CREATE TABLE z_reports (
        z_no INTEGER PRIMARY KEY CHECK (z_no >= 1), shift_id TEXT NOT NULL UNIQUE,
        till TEXT NOT NULL, body TEXT NOT NULL, grand_total_minor INTEGER NOT NULL,
        closed_at TEXT NOT NULL)""",
    """CREATE TABLE suspended_baskets (
        id INTEGER PRIMARY KEY, label TEXT NOT NULL, staff_id TEXT NOT NULL,
        price_list TEXT NOT NULL, lines TEXT NOT NULL, customer TEXT,
        suspended_at TEXT NOT NULL)""",
    """CREATE TABLE basket_price_overrides (
        basket_id INTEGER NOT NULL REFERENCES basket (id) ON DELETE CASCADE,
        line_no INTEGER NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('price', 'discount')),
        unit_price_minor INTEGER NOT NULL CHECK (unit_price_minor >= 0), percent TEXT,
        approver_id TEXT NOT NULL, reason_code TEXT NOT NULL, created_at TEXT NOT NULL,
        PRIMARY KEY (basket_id, line_no))""",
    """CREATE TABLE basket_customers (
        basket_key TEXT PRIMARY KEY, customer_id TEXT NOT NULL, customer_name TEXT,
        attached_at TEXT NOT NULL)""",
]


def _append_only(table: str) -> list[str]:
    return [
        f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""",
        f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""",
    ]


def up(db: SqliteDatabase) -> None:
    """Create the till-operation tables and their immutability triggers."""
    for statement in STATEMENTS:
        run_sql(db, statement)
    for table in APPEND_ONLY:
        for statement in _append_only(table):
            run_sql(db, statement)
