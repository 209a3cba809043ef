"""Catalog (FR-200): categories, products, barcodes, wholesale tiers, branch prices,
barcode formats and the per-tenant catalog version counter.

Every table is tenant-owned and gets the same RLS policy as 0001 (ENABLE + FORCE,
`tenant_id = nullif(current_setting('app.tenant_id', true), '')` or the platform flag).
Money is BIGINT minor units; quantities are BIGINT thousandths (`*_milli`).
`product_barcodes.barcode` is the GTIN-14 key (posdomain.barcodes.normalize_gtin), unique
per tenant, so EAN-13 and its zero-padded forms collide; `code` keeps the digits as entered.
Products are never deleted (archive = active false), so the app role gets no DELETE on
products; barcodes and tiers are replaced wholesale on edit and may be deleted.
"""

from __future__ import annotations

from typing import Any

APP_ROLE = "cfpos_app"

TABLES = [
    """CREATE TABLE categories (
        tenant_id TEXT NOT NULL REFERENCES tenants(id), code TEXT NOT NULL, name TEXT NOT NULL,
        created_at {TS} NOT NULL, PRIMARY KEY (tenant_id, code))""",
    """CREATE TABLE products (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        sku TEXT NOT NULL, name TEXT NOT NULL, category TEXT, tax_class TEXT NOT NULL,
        unit TEXT NOT NULL CHECK (unit IN ('each', 'weight')),
        price_minor BIGINT NOT NULL CHECK (price_minor >= 0),
        cost_minor BIGINT CHECK (cost_minor >= 0),
        age_restriction INTEGER CHECK (age_restriction BETWEEN 1 AND 99),
        is_deposit {BOOL} NOT NULL DEFAULT FALSE,
        deposit_product_id TEXT REFERENCES products(id),
        active {BOOL} NOT NULL DEFAULT TRUE, version BIGINT NOT NULL,
        created_at {TS} NOT NULL, updated_at {TS} NOT NULL, UNIQUE (tenant_id, sku),
        FOREIGN KEY (tenant_id, category) REFERENCES categories(tenant_id, code))""",
    "CREATE INDEX products_tenant_version ON products (tenant_id, version)",
    "CREATE INDEX products_tenant_name ON products (tenant_id, name)",
    """CREATE TABLE product_barcodes (
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        product_id TEXT NOT NULL REFERENCES products(id), barcode TEXT NOT NULL,
        code TEXT NOT NULL, PRIMARY KEY (tenant_id, barcode))""",
    "CREATE INDEX product_barcodes_product ON product_barcodes (product_id)",
    """CREATE TABLE wholesale_tiers (
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        product_id TEXT NOT NULL REFERENCES products(id),
        min_qty_milli BIGINT NOT NULL CHECK (min_qty_milli > 0),
        price_minor BIGINT NOT NULL CHECK (price_minor >= 0),
        PRIMARY KEY (product_id, min_qty_milli))""",
    """CREATE TABLE branch_prices (
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        branch_id TEXT NOT NULL REFERENCES branches(id),
        product_id TEXT NOT NULL REFERENCES products(id),
        price_minor BIGINT NOT NULL CHECK (price_minor >= 0),
        updated_by TEXT NOT NULL, updated_at {TS} NOT NULL,
        PRIMARY KEY (branch_id, product_id))""",
    "CREATE INDEX branch_prices_product ON branch_prices (product_id)",
    """CREATE TABLE barcode_formats (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        prefix TEXT NOT NULL, length INTEGER NOT NULL,
        item_start INTEGER NOT NULL, item_end INTEGER NOT NULL,
        value_start INTEGER NOT NULL, value_end INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('price', 'weight')),
        decimals INTEGER NOT NULL, check_kind TEXT NOT NULL, price_check INTEGER,
        active {BOOL} NOT NULL DEFAULT TRUE, version INTEGER NOT NULL DEFAULT 1,
        created_at {TS} NOT NULL, updated_at {TS} NOT NULL)""",
    """CREATE UNIQUE INDEX barcode_formats_active_prefix
        ON barcode_formats (tenant_id, prefix) WHERE active""",
    """CREATE TABLE catalog_state (
        tenant_id TEXT PRIMARY KEY REFERENCES tenants(id),
        version BIGINT NOT NULL DEFAULT 0)""",
]

TENANT_TABLES = (
    "categories",
    "products",
    "product_barcodes",
    "wholesale_tiers",
    "branch_prices",
    "barcode_formats",
    "catalog_state",
)
NO_DELETE = ("products", "categories", "catalog_state")


def _policy(table: str) -> list[str]:
    cond = (
        "tenant_id = nullif(current_setting('app.tenant_id', true), '') "
        "OR current_setting('app.platform', true) = 'on'"
    )
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY {table}_tenant ON {table} USING ({cond}) WITH CHECK ({cond})",
    ]


def _pg_security() -> list[str]:
    stmts = [s for table in TENANT_TABLES for s in _policy(table)]
    stmts += [
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(TENANT_TABLES)} TO {APP_ROLE}",
        f"REVOKE DELETE, TRUNCATE ON {', '.join(NO_DELETE)} FROM {APP_ROLE}",
    ]
    return stmts


def up(ctx: Any) -> None:
    """Create the catalog tables; on PostgreSQL also RLS and grants."""
    for stmt in TABLES:
        ctx.execute(stmt)
    if ctx.dialect == "postgres":
        for stmt in _pg_security():
            ctx.execute(stmt)
