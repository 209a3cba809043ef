"""Exchanges at the till (issue 14 item 3): a returned line names the sale line it brings back.

`return_sale_id` / `return_line_no` on a basket line (and on the sale line it becomes) say
which line of which sale of this box is returned; the refundable quantity of that sale line
counts them like refunds (`till.refunds.returned_so_far`).
"""

from __future__ import annotations

from peewee import SqliteDatabase

from appliance.migrations import run_sql


def up(db: SqliteDatabase) -> None:
    """Add the returned sale line's reference to basket and sale lines."""
    for table in ("basket_lines", "sale_lines"):
        run_sql(db, f"ALTER TABLE {table} ADD COLUMN return_sale_id TEXT")
        run_sql(db, f"ALTER TABLE {table} ADD COLUMN return_line_no INTEGER")
    run_sql(
        db,
        "CREATE INDEX sale_lines_return_of ON sale_lines (return_sale_id, return_line_no)"
        " WHERE return_sale_id IS NOT NULL",
    )
