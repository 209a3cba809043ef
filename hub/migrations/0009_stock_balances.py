"""Running stock balance per (tenant, branch, product) (FR-201 speed, NFR-003).

`stock_balances.on_hand_milli` is maintained by the one movement writer
(`hub.services.stock_ledger`) in the same transaction as the movements it sums, under the same
per-(branch, product) stock lock, so it always equals `SUM(stock_movements.qty_milli)` for its
key (tests/hub/test_inventory_ledger.py checks it). Stock checks and low-stock alerts read this
row instead of summing a product's whole ledger. The ledger stays the source of truth: this
migration back-fills the balances from it.
"""

from __future__ import annotations

from typing import Any

APP_ROLE = "cfpos_app"

TABLES = [
    """CREATE TABLE stock_balances (
        tenant_id TEXT NOT NULL, branch_id TEXT NOT NULL, product_id TEXT NOT NULL,
        on_hand_milli BIGINT NOT NULL,
        PRIMARY KEY (tenant_id, branch_id, product_id))""",
    """INSERT INTO stock_balances (tenant_id, branch_id, product_id, on_hand_milli)
        SELECT tenant_id, branch_id, product_id, SUM(qty_milli) FROM stock_movements
        GROUP BY tenant_id, branch_id, product_id""",
]


def _pg_security() -> list[str]:
    cond = (
        "tenant_id = nullif(current_setting('app.tenant_id', true), '') "
        "OR current_setting('app.platform', true) = 'on'"
    )
    return [
        "ALTER TABLE stock_balances ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE stock_balances FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY stock_balances_tenant ON stock_balances USING ({cond}) WITH CHECK ({cond})",
        f"GRANT SELECT, INSERT, UPDATE ON stock_balances TO {APP_ROLE}",
    ]


def up(ctx: Any) -> None:
    """Create and back-fill the balance table; on PostgreSQL also RLS and grants."""
    for stmt in TABLES:
        ctx.execute(stmt)
    if ctx.dialect == "postgres":
        for stmt in _pg_security():
            ctx.execute(stmt)
