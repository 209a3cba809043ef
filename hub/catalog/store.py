"""Catalog storage helpers: version counter, barcode/tier rows, bulk loads, JSON shapes.

Everything here runs inside the caller's tenant transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from peewee import chunked

from hub.catalog.models import BranchPrice, CatalogState, Product, ProductBarcode, WholesaleTier
from hub.catalog.rules import format_qty
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


def barcode_owners(tenant_id: str, codes: Iterable[str]) -> dict[str, str]:
    """GTIN-14 key → product id for the given keys already held by the tenant."""
    owners: dict[str, str] = {}
    for batch in chunked(list(codes), BULK_ROWS):
        rows = ProductBarcode.select().where(
            ProductBarcode.tenant_id == tenant_id, ProductBarcode.barcode.in_(batch)
        )
        owners.update({r.barcode: r.product_id for r in rows})
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
    tenant_id: str, product_ids: list[str], barcodes: dict[str, Any], tiers: dict[str, Any]
) -> None:
    """Replace the barcode ((code, GTIN-14) pairs) and tier rows of `product_ids` (bulk)."""
    for batch in chunked(product_ids, BULK_ROWS):
        ProductBarcode.delete().where(ProductBarcode.product_id.in_(batch)).execute()
        WholesaleTier.delete().where(WholesaleTier.product_id.in_(batch)).execute()
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
    for rows in chunked(code_rows, BULK_ROWS):
        ProductBarcode.insert_many(rows).execute()
    for rows in chunked(tier_rows, BULK_ROWS):
        WholesaleTier.insert_many(rows).execute()


def children_of(product_ids: list[str]) -> tuple[dict[str, list[str]], dict[str, list[Any]]]:
    """(barcodes by product, tiers (min_qty_milli, price_minor) by product) for `product_ids`."""
    codes: dict[str, list[str]] = defaultdict(list)
    tiers: dict[str, list[Any]] = defaultdict(list)
    for batch in chunked(product_ids, BULK_ROWS):
        for b in ProductBarcode.select().where(ProductBarcode.product_id.in_(batch)):
            codes[b.product_id].append(b.code)
        query = WholesaleTier.select().where(WholesaleTier.product_id.in_(batch))
        for t in query.order_by(WholesaleTier.min_qty_milli):
            tiers[t.product_id].append((t.min_qty_milli, t.price_minor))
    for values in codes.values():
        values.sort()
    return codes, tiers


def branch_prices_of(product_ids: list[str], branch_id: str) -> dict[str, int]:
    """product id → the branch's override price (minor units)."""
    found: dict[str, int] = {}
    for batch in chunked(product_ids, BULK_ROWS):
        rows = BranchPrice.select().where(
            BranchPrice.branch_id == branch_id, BranchPrice.product_id.in_(batch)
        )
        found.update({r.product_id: r.price_minor for r in rows})
    return found


def tiers_json(tiers: list[Any], exponent: int) -> list[dict[str, str]]:
    """Wholesale tiers as wire/API JSON (ascending min_qty, decimal strings)."""
    return [{"min_qty": format_qty(m), "price": format_minor(p, exponent)} for m, p in tiers]


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
        "price": format_minor(p.price_minor if price_minor is None else price_minor, exponent),
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
