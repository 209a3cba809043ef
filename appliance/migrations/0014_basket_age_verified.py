"""REP-T-16 "verified by" (issue 12): who confirmed the customer's age for a basket line.

`basket_lines.age_verified_by` = the staff id of the cashier who confirmed the age check when
the age-restricted line was scanned (NULL for other lines); the sale's line carries it up as
`age_verified_by` in `sale.completed`.
"""

from __future__ import annotations

from peewee import SqliteDatabase

from appliance.migrations import run_sql


def up(db: SqliteDatabase) -> None:
    """Add who verified the age to basket lines."""
    run_sql(db, "ALTER TABLE basket_lines ADD COLUMN age_verified_by TEXT")
