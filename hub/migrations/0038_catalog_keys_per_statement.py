"""A 100 000-product catalog import at database speed (issue 15 item 7, FR-200): `products`,
`product_barcodes` and `wholesale_tiers` lose their foreign key to `tenants`; a barcode's or
tier's product is checked once per statement instead of once per row.

An import of N products writes N products, about N barcodes and N/2 tiers in three set
statements; every row fired a `tenants(id)` RI trigger (a `SELECT ... FOR KEY SHARE` on the
one tenant row), about a fifth of the server time of those statements. As in 0041 for the
report facts, the key guarded nothing the schema does not already hold: these tables have
FORCE row-level security whose WITH CHECK admits only `tenant_id = app.tenant_id` (set by
`tenant_tx` from the signed-in principal's tenant), and tenants are never deleted. A product
still names its category (`(tenant_id, category)`, which also names the tenant) and its
deposit item.

A barcode's and a tier's key to `products(id)` (an RI trigger per row that also share-locks
the product row: about half of the server time of writing 150 000 of them) becomes one
statement-level check per INSERT or UPDATE over the statement's new rows (a transition
table): every row must name a product **of its own tenant** (stronger than the key, which
allowed another tenant's product). The row lock guarded a product against being deleted or
re-keyed meanwhile; neither can happen: the app role has no DELETE on `products` (0003), a
product's id cannot change (a trigger refuses it), and a delete by anyone else is refused
while a barcode or tier names the product (statement trigger). The errors are
`foreign_key_violation` (23503), as the keys raised.

`audit_log.details` is TOASTed with lz4 instead of pglz (new rows only; a server built
without lz4 keeps pglz): a full-catalog import's one entry is ≈ 9 MB of JSON.

SQLite (the embedded demo hub) does not enforce keys on this path: nothing to do there.
"""

from __future__ import annotations

from typing import Any

TABLES = ("products", "product_barcodes", "wholesale_tiers")

DROP = """
DO $$
DECLARE r record;
BEGIN
  FOR r IN
    SELECT c.conrelid::regclass AS tbl, c.conname
    FROM pg_constraint c
    WHERE c.contype = 'f' AND c.confrelid = 'tenants'::regclass
      AND c.conrelid::regclass::text = ANY ({tables})
  LOOP
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.tbl, r.conname);
  END LOOP;
END $$
"""

LZ4 = """
DO $$
BEGIN
  ALTER TABLE audit_log ALTER COLUMN details SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
  RAISE NOTICE 'lz4 not available: audit_log.details stays pglz';
END $$
"""


CHILDREN = ("product_barcodes", "wholesale_tiers")

CHECKS = [
    """CREATE FUNCTION cfpos_catalog_child_product() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM new_rows n WHERE NOT EXISTS (
          SELECT 1 FROM products p WHERE p.id = n.product_id AND p.tenant_id = n.tenant_id))
      THEN
        RAISE EXCEPTION '% names a product its tenant does not have', TG_TABLE_NAME
          USING ERRCODE = 'foreign_key_violation';
      END IF;
      RETURN NULL;
    END $$""",
    """CREATE FUNCTION cfpos_products_kept() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM old_rows o
                 WHERE EXISTS (SELECT 1 FROM product_barcodes b WHERE b.product_id = o.id)
                    OR EXISTS (SELECT 1 FROM wholesale_tiers t WHERE t.product_id = o.id))
      THEN
        RAISE EXCEPTION 'a deleted product still has barcodes or tiers'
          USING ERRCODE = 'foreign_key_violation';
      END IF;
      RETURN NULL;
    END $$""",
    """CREATE FUNCTION cfpos_product_id_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'a product id never changes' USING ERRCODE = 'foreign_key_violation';
    END $$""",
    "CREATE TRIGGER products_kept AFTER DELETE ON products REFERENCING OLD TABLE AS old_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION cfpos_products_kept()",
    "CREATE TRIGGER products_id_fixed BEFORE UPDATE OF id ON products FOR EACH ROW"
    " WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION cfpos_product_id_fixed()",
]


def _child_checks(table: str) -> list[str]:
    return [
        f"ALTER TABLE {table} DROP CONSTRAINT {table}_product_id_fkey",
        *(
            f"CREATE TRIGGER {table}_product_{event.lower()} AFTER {event} ON {table}"
            " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT"
            " EXECUTE FUNCTION cfpos_catalog_child_product()"
            for event in ("INSERT", "UPDATE")
        ),
    ]


def up(ctx: Any) -> None:
    """Drop the tenant foreign keys of the catalog tables, check a barcode's or tier's product
    per statement; lz4 for audit details (PostgreSQL)."""
    if ctx.dialect != "postgres":
        return
    tables = "ARRAY[" + ", ".join(f"'{t}'" for t in TABLES) + "]"
    ctx.execute(DROP.replace("{tables}", tables))
    for stmt in [*CHECKS, *(s for t in CHILDREN for s in _child_checks(t))]:
        ctx.execute(stmt)
    ctx.execute(LZ4)
