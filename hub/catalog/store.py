"""Catalog storage helpers: version counter, barcode/tier rows, bulk loads, JSON shapes.

Everything here runs inside the caller's tenant transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from typing import Any

from peewee import Expression, Field, chunked

from hub.catalog.models import BranchPrice, CatalogState, Product, ProductBarcode, WholesaleTier
from hub.catalog.rules import format_qty
from hub.core.bulk import any_text, insert_rows
from hub.core.db import db, is_postgres
from posdomain.errors import Conflict, Reason
from posdomain.money import format_minor

BULK_ROWS = 1000


def current_version(tenant_id: str) -> int:
    """The tenant's catalog version (0 before the first change)."""
    row = CatalogState.get_or_none(CatalogState.tenant_id == tenant_id)
    return int(row.version) if row else 0


def bump_version(tenant_id: str, count: int = 1) -> int:
    """Reserve `count` new catalog versions; return the highest (row-locked until commit).

    The counter row stays locked until the transaction ends, so catalog changes of one
    tenant commit in version order and a box asking "since V" never misses a later commit.
    """
    CatalogState.insert(tenant_id=tenant_id, version=count).on_conflict(
        conflict_target=[CatalogState.tenant_id],
        update={CatalogState.version: CatalogState.version + count},
    ).execute()
    return current_version(tenant_id)


def lock_catalog(tenant_id: str) -> None:
    """Take the tenant's catalog counter row lock (the one `bump_version` takes) now, until
    the transaction ends: a writer that reads the catalog before it decides what to write (a
    CSV import) serialises with every other catalog writer instead of both reading the same
    catalog and the second commit hitting the (tenant, sku) unique index."""
    CatalogState.insert(tenant_id=tenant_id, version=0).on_conflict(
        conflict_target=[CatalogState.tenant_id],
        update={CatalogState.version: CatalogState.version},
    ).execute()


def rows_of(query: Any) -> list[tuple[Any, ...]]:
    """The rows of a peewee SELECT as the driver returns them, without peewee's per-value
    conversion (1.6 M `python_value` calls for a 100 000-product catch-up; the columns read
    here are text, integers and booleans the driver already gives as Python values)."""
    sql, params = query.sql()
    return list(db.execute_sql(sql, params).fetchall())


def money_text(minor: int | None, exponent: int) -> str:
    """`format_minor` of a stored (non-negative) amount without Decimal; '' for None."""
    if minor is None:
        return ""
    if minor < 0 or exponent <= 0:
        return format_minor(minor, exponent)
    whole, frac = divmod(minor, 10**exponent)
    return f"{whole}.{frac:0{exponent}d}"


def qty_text(milli: int) -> str:
    """`format_qty` of a positive quantity in thousandths without Decimal."""
    if milli <= 0:
        return format_qty(milli)
    whole, frac = divmod(milli, 1000)
    return str(whole) if not frac else f"{whole}.{frac:03d}".rstrip("0")


def _among(field: Field, values: list[str]) -> list[Expression]:
    """`field` among `values`: one `= ANY(text[])` on PostgreSQL (one parameter however many
    values), IN lists of BULK_ROWS elsewhere."""
    if is_postgres():
        return [any_text(field, values)] if values else []
    return [field.in_(part) for part in chunked(values, BULK_ROWS)]


def barcode_owners(tenant_id: str, codes: Iterable[str]) -> dict[str, str]:
    """GTIN-14 key → product id for the given keys already held by the tenant."""
    owners: dict[str, str] = {}
    for among in _among(ProductBarcode.barcode, list(codes)):
        query = ProductBarcode.select(ProductBarcode.barcode, ProductBarcode.product_id)
        owners.update(dict(rows_of(query.where(ProductBarcode.tenant_id == tenant_id, among))))
    return owners


def check_barcodes_free(
    tenant_id: str, product_id: str | None, barcodes: list[tuple[str, str]]
) -> None:
    """409 DUPLICATE if another product of the tenant already has one of the (code, key)s."""
    code_of = {key: code for code, key in barcodes}
    for key, owner in barcode_owners(tenant_id, code_of).items():
        code = code_of[key]
        if owner != product_id:
            raise Conflict(
                f"barcode {code} already belongs to another product",
                Reason.DUPLICATE,
                {"field": "barcodes", "barcode": code, "product_id": owner},
            )


def replace_children(
    tenant_id: str,
    product_ids: list[str],
    barcodes: dict[str, Any],
    tiers: dict[str, Any],
    *,
    new_ids: Collection[str] = (),
) -> None:
    """Replace the barcode ((code, GTIN-14) pairs) and tier rows of `product_ids` (bulk:
    one delete and one insert per table; `new_ids`: products created in this transaction,
    which have nothing to delete)."""
    held = [pid for pid in product_ids if pid not in new_ids]
    for among in _among(ProductBarcode.product_id, held):
        ProductBarcode.delete().where(among).execute()
    for among in _among(WholesaleTier.product_id, held):
        WholesaleTier.delete().where(among).execute()
    code_rows = [
        {"tenant_id": tenant_id, "product_id": pid, "barcode": key, "code": code}
        for pid in product_ids
        for code, key in barcodes.get(pid, [])
    ]
    tier_rows = [
        {"tenant_id": tenant_id, "product_id": pid, "min_qty_milli": m, "price_minor": p}
        for pid in product_ids
        for m, p in tiers.get(pid, [])
    ]
    insert_rows(ProductBarcode, code_rows)
    insert_rows(WholesaleTier, tier_rows)


def children_of(product_ids: list[str]) -> tuple[dict[str, list[str]], dict[str, list[Any]]]:
    """(barcodes by product, tiers (min_qty_milli, price_minor) by product) for `product_ids`."""
    codes: dict[str, list[str]] = defaultdict(list)
    tiers: dict[str, list[Any]] = defaultdict(list)
    for among in _among(ProductBarcode.product_id, product_ids):
        codes_q: Any = ProductBarcode.select(ProductBarcode.product_id, ProductBarcode.code)
        for pid, code in rows_of(codes_q.where(among)):
            codes[pid].append(code)
    for among in _among(WholesaleTier.product_id, product_ids):
        tiers_q: Any = WholesaleTier.select(
            WholesaleTier.product_id, WholesaleTier.min_qty_milli, WholesaleTier.price_minor
        )
        ordered = tiers_q.where(among).order_by(WholesaleTier.min_qty_milli)
        for pid, milli, price in rows_of(ordered):
            tiers[pid].append((milli, price))
    for values in codes.values():
        values.sort()
    return codes, tiers


def branch_prices_of(product_ids: list[str], branch_id: str) -> dict[str, int]:
    """product id → the branch's override price (minor units)."""
    found: dict[str, int] = {}
    for among in _among(BranchPrice.product_id, product_ids):
        prices: Any = BranchPrice.select(BranchPrice.product_id, BranchPrice.price_minor)
        found.update(dict(rows_of(prices.where(BranchPrice.branch_id == branch_id, among))))
    return found


def tiers_json(tiers: list[Any], exponent: int) -> list[dict[str, str]]:
    """Wholesale tiers as wire/API JSON (ascending min_qty, decimal strings)."""
    return [{"min_qty": qty_text(m), "price": money_text(p, exponent)} for m, p in tiers]


def wire_product(
    p: Product, codes: list[str], tiers: list[Any], exponent: int, price_minor: int | None = None
) -> dict[str, Any]:
    """The CONTRACT 'product on the wire' shape (price = branch override when given)."""
    return {
        "id": p.id,
        "sku": p.sku,
        "name": p.name,
        "barcodes": codes,
        "category": p.category,
        "tax_class": p.tax_class,
        "unit": p.unit,
        "price": money_text(p.price_minor if price_minor is None else price_minor, exponent),
        "wholesale_tiers": tiers_json(tiers, exponent),
        "age_restriction": p.age_restriction,
        "deposit_product_id": p.deposit_product_id,
        "is_deposit": bool(p.is_deposit),
        "active": bool(p.active),
        "version": int(p.version),
    }


def api_product(p: Product, codes: list[str], tiers: list[Any], exponent: int) -> dict[str, Any]:
    """The hub API shape: the wire shape plus cost and timestamps."""
    out = wire_product(p, codes, tiers, exponent)
    out["cost"] = None if p.cost_minor is None else format_minor(p.cost_minor, exponent)
    out["created_at"] = p.created_at.isoformat()
    out["updated_at"] = p.updated_at.isoformat()
    return out
