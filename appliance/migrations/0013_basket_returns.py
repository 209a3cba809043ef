"""Returned lines in an open basket (issue 14 item 3): returned empties beside a sale.

`basket_lines.returned` = 1 marks a line the customer brings back (quantity stays positive in
the basket; the sale document carries it negative).
"""

from __future__ import annotations

from peewee import SqliteDatabase

from appliance.migrations import run_sql


def up(db: SqliteDatabase) -> None:
    """Add the returned flag to basket lines."""
    run_sql(
        db,
        "ALTER TABLE basket_lines ADD COLUMN returned INTEGER NOT NULL DEFAULT 0"
        " CHECK (returned IN (0, 1))",
    )
