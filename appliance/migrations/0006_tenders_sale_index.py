"""Index tenders by sale: the X/Z reports and refunds look a sale's tenders up by sale_id.

The `Tender.sale` foreign key always declared this index (peewee indexes foreign keys); the
table was created without it in 0001. Adding it changes no behaviour, only the lookups
(tests/appliance/core/test_models_match_migrations.py found the drift).
"""

from __future__ import annotations

from peewee import SqliteDatabase

from appliance.migrations import run_sql


def up(db: SqliteDatabase) -> None:
    """Create the index."""
    run_sql(db, "CREATE INDEX tenders_sale ON tenders (sale_id)")
