"""Catalog catch-up staged until complete, applied set-wise (issue 15 item 7).

* catalog_stage_products / catalog_stage_barcodes: the rows of catch-up chunks received but not
  yet in force (products as the products table holds them, barcodes keyed by GTIN-14). A box
  stages chunks until it reaches the hub's announced head, then applies them all in one
  transaction (`catalog.catch_up.apply_staged`): a partial download never becomes active, and a
  box that restarts mid-download resumes after its last staged chunk.
* catalog_stage_state: the version the staged chunks reach.
* catalog_fts_paused: while it holds a row, the FTS name-index triggers of products do nothing;
  the bulk apply inserts that row, maintains products_fts with two set-wise statements and
  deletes the row again, all in its one transaction (per-row trigger maintenance of 100 000
  trigram entries took ~40x longer than the set-wise insert).
"""

from __future__ import annotations

from peewee import SqliteDatabase

from appliance.migrations import run_sql

PAUSED = "WHEN NOT EXISTS (SELECT 1 FROM catalog_fts_paused)"

STATEMENTS = [
    """CREATE TABLE catalog_stage_products (
        id TEXT PRIMARY KEY, sku TEXT NOT NULL, name TEXT NOT NULL,
        price_minor INTEGER NOT NULL, tax_class TEXT NOT NULL, unit TEXT NOT NULL,
        age_restricted INTEGER NOT NULL, active INTEGER NOT NULL, category TEXT,
        wholesale_tiers TEXT NOT NULL, min_price_minor INTEGER, cost_minor INTEGER,
        age_restriction INTEGER, deposit_product_id TEXT, is_deposit INTEGER NOT NULL,
        version INTEGER NOT NULL)""",
    """CREATE TABLE catalog_stage_barcodes (
        seq INTEGER PRIMARY KEY, gtin14 TEXT NOT NULL, code TEXT NOT NULL,
        product_id TEXT NOT NULL)""",
    "CREATE INDEX catalog_stage_barcodes_product ON catalog_stage_barcodes (product_id)",
    # the version the staged chunks reach (no row: nothing staged)
    """CREATE TABLE catalog_stage_state (
        id INTEGER PRIMARY KEY CHECK (id = 1), to_version INTEGER NOT NULL)""",
    "CREATE TABLE catalog_fts_paused (id INTEGER PRIMARY KEY CHECK (id = 1))",
    "DROP TRIGGER products_fts_insert",
    "DROP TRIGGER products_fts_delete",
    "DROP TRIGGER products_fts_update",
    f"""CREATE TRIGGER products_fts_insert AFTER INSERT ON products {PAUSED}
        BEGIN INSERT INTO products_fts (rowid, name) VALUES (new.rowid, new.name); END""",
    f"""CREATE TRIGGER products_fts_delete AFTER DELETE ON products {PAUSED}
        BEGIN INSERT INTO products_fts (products_fts, rowid, name)
              VALUES ('delete', old.rowid, old.name); END""",
    f"""CREATE TRIGGER products_fts_update AFTER UPDATE OF name ON products {PAUSED}
        BEGIN INSERT INTO products_fts (products_fts, rowid, name)
              VALUES ('delete', old.rowid, old.name);
              INSERT INTO products_fts (rowid, name) VALUES (new.rowid, new.name); END""",
]


def up(db: SqliteDatabase) -> None:
    """Create the staging tables and make the FTS triggers pausable."""
    for stmt in STATEMENTS:
        run_sql(db, stmt)
