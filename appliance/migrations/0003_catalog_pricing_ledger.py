"""Catalog deltas, engine pricing and the box stock ledger (issue 3).

* products gain the CONTRACT wire fields (category, tiers, floor/cost, deposit, version);
* barcodes are keyed by the normalised GTIN-14 (`posdomain.barcodes.normalize_gtin`), keeping
  the code as the hub sent it; codes that are not valid GTINs are dropped;
* basket and sale lines hold decimal quantities as integer thousandths (`qty_milli`), the
  weight unit, the deposit link to their parent line, and (sales) discounts and cash rounding;
* products_fts: FTS5 trigram index of product names (substring search without a table scan;
  the box never runs VACUUM, which could renumber the rowids it is keyed by);
* stock_movements: the append-only box ledger (FR-201); policy_rejections: one audit per
  rejected policy version.
"""

from __future__ import annotations

from peewee import SqliteDatabase

from appliance.migrations import run_sql
from posdomain.barcodes import is_valid_gtin, normalize_gtin

PRODUCT_COLUMNS = [
    "category TEXT",
    "wholesale_tiers TEXT NOT NULL DEFAULT '[]'",
    "min_price_minor INTEGER",
    "cost_minor INTEGER",
    "age_restriction INTEGER",
    "deposit_product_id TEXT",
    "is_deposit INTEGER NOT NULL DEFAULT 0",
    "version INTEGER NOT NULL DEFAULT 0",
]

STATEMENTS = [
    """CREATE TABLE barcodes_v3 (
        gtin14 TEXT PRIMARY KEY, code TEXT NOT NULL,
        product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE)""",
    "ALTER TABLE basket ADD COLUMN price_list TEXT NOT NULL DEFAULT 'retail'",
    """CREATE TABLE basket_lines_v3 (
        id INTEGER PRIMARY KEY,
        basket_id INTEGER NOT NULL REFERENCES basket (id) ON DELETE CASCADE,
        line_no INTEGER NOT NULL, product_id TEXT NOT NULL, barcode TEXT NOT NULL,
        sku TEXT NOT NULL, name TEXT NOT NULL, tax_class TEXT NOT NULL,
        unit TEXT NOT NULL DEFAULT 'each',
        qty_milli INTEGER NOT NULL CHECK (qty_milli > 0),
        label_price_minor INTEGER, parent_line_no INTEGER,
        voided INTEGER NOT NULL DEFAULT 0, UNIQUE (basket_id, line_no))""",
    """INSERT INTO basket_lines_v3 (id, basket_id, line_no, product_id, barcode, sku, name,
        tax_class, qty_milli, voided)
       SELECT id, basket_id, line_no, product_id, barcode, sku, name, tax_class, qty * 1000,
        voided FROM basket_lines""",
    "DROP TABLE basket_lines",
    "ALTER TABLE basket_lines_v3 RENAME TO basket_lines",
    """CREATE TABLE sale_lines_v3 (
        id INTEGER PRIMARY KEY,
        sale_id TEXT NOT NULL REFERENCES sales (id), line_no INTEGER NOT NULL,
        product_id TEXT NOT NULL, sku TEXT NOT NULL, name TEXT NOT NULL, barcode TEXT NOT NULL,
        unit TEXT NOT NULL DEFAULT 'each', qty_milli INTEGER NOT NULL,
        unit_price_minor INTEGER NOT NULL, extended_minor INTEGER NOT NULL,
        discount_minor INTEGER NOT NULL DEFAULT 0, discounts TEXT NOT NULL DEFAULT '[]',
        line_total_minor INTEGER NOT NULL, tax_class TEXT NOT NULL, tax_rate TEXT NOT NULL,
        tax_minor INTEGER NOT NULL, deposit_for_line INTEGER, UNIQUE (sale_id, line_no))""",
    """INSERT INTO sale_lines_v3 (id, sale_id, line_no, product_id, sku, name, barcode,
        qty_milli, unit_price_minor, extended_minor, line_total_minor, tax_class, tax_rate,
        tax_minor)
       SELECT id, sale_id, line_no, product_id, sku, name, barcode, qty * 1000,
        unit_price_minor, line_total_minor, line_total_minor, tax_class, tax_rate, tax_minor
       FROM sale_lines""",
    "DROP TABLE sale_lines",
    "ALTER TABLE sale_lines_v3 RENAME TO sale_lines",
    "ALTER TABLE sales ADD COLUMN cash_rounding_minor INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE sales ADD COLUMN price_list TEXT NOT NULL DEFAULT 'retail'",
    """CREATE TABLE stock_movements (
        seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, product_id TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN
            ('sale', 'refund', 'receipt', 'adjustment', 'count', 'waste')),
        qty_milli INTEGER NOT NULL, reason_code TEXT, ref TEXT, staff_id TEXT,
        event_id TEXT, occurred_at TEXT NOT NULL)""",
    "CREATE INDEX stock_movements_product ON stock_movements (product_id)",
    """CREATE TRIGGER stock_movements_no_update BEFORE UPDATE ON stock_movements
        BEGIN SELECT RAISE(ABORT, 'stock_movements is append-only'); END""",
    """CREATE TRIGGER stock_movements_no_delete BEFORE DELETE ON stock_movements
        BEGIN SELECT RAISE(ABORT, 'stock_movements is append-only'); END""",
    "CREATE INDEX products_lower_sku ON products (lower(sku))",
    # name search: FTS5 trigram index (substring match) over products.name, kept by triggers
    """CREATE VIRTUAL TABLE products_fts USING fts5(
        name, content='products', content_rowid='rowid', tokenize='trigram')""",
    """CREATE TRIGGER products_fts_insert AFTER INSERT ON products
        BEGIN INSERT INTO products_fts (rowid, name) VALUES (new.rowid, new.name); END""",
    """CREATE TRIGGER products_fts_delete AFTER DELETE ON products
        BEGIN INSERT INTO products_fts (products_fts, rowid, name)
              VALUES ('delete', old.rowid, old.name); END""",
    """CREATE TRIGGER products_fts_update AFTER UPDATE OF name ON products
        BEGIN INSERT INTO products_fts (products_fts, rowid, name)
              VALUES ('delete', old.rowid, old.name);
              INSERT INTO products_fts (rowid, name) VALUES (new.rowid, new.name); END""",
    "INSERT INTO products_fts (products_fts) VALUES ('rebuild')",
    """CREATE TABLE policy_rejections (
        policy_id TEXT NOT NULL, policy_version INTEGER NOT NULL, reason TEXT NOT NULL,
        first_seen TEXT NOT NULL, PRIMARY KEY (policy_id, policy_version))""",
]


def _rekey_barcodes(db: SqliteDatabase) -> None:
    """Copy the old barcode rows under their GTIN-14 key (invalid codes cannot be scanned)."""
    rows = run_sql(db, "SELECT barcode, product_id FROM barcodes").fetchall()
    for code, product_id in rows:
        if is_valid_gtin(code):
            run_sql(
                db,
                "INSERT OR REPLACE INTO barcodes_v3 (gtin14, code, product_id) VALUES (?, ?, ?)",
                (normalize_gtin(code), code, product_id),
            )
    run_sql(db, "DROP TABLE barcodes")
    run_sql(db, "ALTER TABLE barcodes_v3 RENAME TO barcodes")
    run_sql(db, "CREATE INDEX barcodes_product ON barcodes (product_id)")


def up(db: SqliteDatabase) -> None:
    """Apply the issue 3 schema."""
    for column in PRODUCT_COLUMNS:
        run_sql(db, f"ALTER TABLE products ADD COLUMN {column}")
    for statement in STATEMENTS:
        run_sql(db, statement)
    _rekey_barcodes(db)
