"""A large catalog download is built beside the catalog in force, then swapped in (issue 15
item 7, sixth pass).

* products_next / barcodes_next / products_next_fts: shaped like products, barcodes and
  products_fts (same columns; products_next_fts is the same FTS5 trigram index, its content
  table named `products` because that is what it indexes once swapped in). A download much
  larger than the catalog it replaces copies the catalog in force into them, then stages each
  chunk straight into them — index, FTS and barcode work done chunk by chunk while the hub
  builds the next window — and its last chunk swaps them in with a few DDL statements in one
  transaction (`catalog.rebuild`). Empty at rest: the swap creates them anew, empty.
* catalog_stage_state.rebuild: 1 while the staged download is being built in those tables.
"""

from __future__ import annotations

from peewee import SqliteDatabase

from appliance.migrations import run_sql

STATEMENTS = [
    """CREATE TABLE products_next (
        id TEXT PRIMARY KEY, sku TEXT NOT NULL, name TEXT NOT NULL,
        price_minor INTEGER NOT NULL, tax_class TEXT NOT NULL, unit TEXT NOT NULL,
        age_restricted INTEGER NOT NULL DEFAULT 0, active INTEGER NOT NULL DEFAULT 1,
        category TEXT, wholesale_tiers TEXT NOT NULL DEFAULT '[]', min_price_minor INTEGER,
        cost_minor INTEGER, age_restriction INTEGER, deposit_product_id TEXT,
        is_deposit INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL DEFAULT 0)""",
    """CREATE TABLE barcodes_next (
        gtin14 TEXT PRIMARY KEY, code TEXT NOT NULL,
        product_id TEXT NOT NULL REFERENCES products_next (id) ON DELETE CASCADE)""",
    """CREATE VIRTUAL TABLE products_next_fts USING fts5(
        name, content='products', content_rowid='rowid', tokenize='trigram')""",
    "ALTER TABLE catalog_stage_state ADD COLUMN rebuild INTEGER NOT NULL DEFAULT 0",
]


def up(db: SqliteDatabase) -> None:
    """Create the tables a large download is built in."""
    for stmt in STATEMENTS:
        run_sql(db, stmt)
