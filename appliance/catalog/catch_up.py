"""Catalog catch-up (CONTRACT "Catalog sync"): the retained head and the chunks that follow it.

* The head `{head: true, version: V}` only records the target version; a head below the held
  version means the hub restored its catalog from a backup, so the box reloads everything.
* A chunk `{head: false, from_version, to_version, products, last}` is applied in one
  transaction, only if `from_version <= held < to_version`; then held = to_version. Products
  upsert by id and their barcodes are replaced, keyed by GTIN-14; codes that are not valid
  GTINs cannot be scanned and are skipped (logged).
* The sync agent asks for chunks while `catalog_behind()`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from appliance.audit import log as audit_log
from appliance.catalog.config_docs import current_exponent, store_body, stored_version
from appliance.catalog.models import Product
from appliance.catalog.wire import CatalogChunk, CatalogHead, WireProduct
from appliance.core.context import BoxContext
from appliance.core.db import write_txn
from appliance.sync.box_state import held_versions, set_held_version
from posdomain.audit_chain import Severity
from posdomain.barcodes import is_valid_gtin, normalize_gtin
from posdomain.money import parse_minor, parse_money
from posdomain.obs import log_event

log = logging.getLogger(__name__)


def _minor(value: str | None, exponent: int, field: str) -> int | None:
    return None if value is None else parse_minor(value, exponent, field)


def _row(p: WireProduct, exponent: int) -> dict[str, Any]:
    tiers = [
        {"min_qty": t.min_qty, "price": str(parse_money(t.price, exponent, "tier price"))}
        for t in p.wholesale_tiers
    ]
    return {
        "id": p.id,
        "sku": p.sku,
        "name": p.name,
        "price_minor": _minor(p.price, exponent, f"price of {p.sku}"),
        "tax_class": p.tax_class,
        "unit": p.unit,
        "age_restricted": int(p.age_restriction is not None),
        "active": int(p.active),
        "category": p.category,
        "wholesale_tiers": json.dumps(tiers),
        "min_price_minor": _minor(p.min_price, exponent, "min_price"),
        "cost_minor": _minor(p.cost, exponent, "cost"),
        "age_restriction": p.age_restriction,
        "deposit_product_id": p.deposit_product_id,
        "is_deposit": int(p.is_deposit),
        "version": p.version,
    }


def _barcode_rows(products: Sequence[WireProduct]) -> list[dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    for p in products:
        for code in p.barcodes:
            if not is_valid_gtin(code):
                log_event(log, "invalid GTIN skipped", logging.WARNING, product=p.id, code=code)
                continue
            gtin = normalize_gtin(code)
            rows[gtin] = {"gtin14": gtin, "code": code, "product": p.id}
    return list(rows.values())


def upsert_products(products: Sequence[WireProduct], exponent: int) -> None:
    """Insert or update products by id and replace their barcodes (caller's transaction).

    In bulk: one prepared statement per table run by `executemany` over the chunk (the same
    upsert peewee's `insert_many(...).on_conflict(preserve=...)` writes, without building
    it per 100 rows); the FTS name index follows by its triggers as before."""
    rows = [_row(p, exponent) for p in products]
    if not rows:
        return
    names = list(rows[0])
    cols = [Product._meta.fields[n].column_name for n in names]
    update = ", ".join(f"{c} = excluded.{c}" for c in cols if c != "id")
    cur = Product._meta.database.cursor()
    cur.executemany(
        f"INSERT INTO products ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
        f"ON CONFLICT (id) DO UPDATE SET {update}",
        [tuple(r[n] for n in names) for r in rows],
    )
    cur.executemany("DELETE FROM barcodes WHERE product_id = ?", [(p.id,) for p in products])
    cur.executemany(
        "INSERT OR REPLACE INTO barcodes (gtin14, code, product_id) VALUES (?, ?, ?)",
        [(c["gtin14"], c["code"], c["product"]) for c in _barcode_rows(products)],
    )


def catalog_target() -> int:
    """The catalog version the hub last announced (0 before any head)."""
    return stored_version("catalog")


def catalog_held() -> int:
    """The catalog version this box holds."""
    return held_versions().get("catalog", 0)


def catalog_behind() -> bool:
    """True while the box holds an older catalog than the hub announced."""
    return catalog_held() < catalog_target()


def apply_head(ctx: BoxContext, head: CatalogHead) -> bool:
    """Remember the hub's catalog version; True if it changed.

    A head below the held version means the hub's catalog was restored from a backup: the box
    then reloads the whole catalog (held = 0) so it cannot keep prices the hub no longer has.
    """
    with write_txn():
        if head.version == catalog_target():
            return False
        held = catalog_held()
        if head.version < held:
            set_held_version("catalog", 0)
            audit_log.append(
                ctx,
                actor="hub",
                action="down.catalog.reset",
                target="catalog",
                severity=Severity.WARN,
                details={"head": head.version, "held": held},
            )
        store_body("catalog", head.version, head.model_dump())
    return True


def apply_chunk(ctx: BoxContext, chunk: CatalogChunk) -> bool:
    """Apply one catch-up chunk in one transaction if it continues what the box holds."""
    with write_txn():
        held = catalog_held()
        if not chunk.from_version <= held < chunk.to_version:
            return False
        upsert_products(chunk.products, current_exponent())
        set_held_version("catalog", chunk.to_version)
        audit_log.append(
            ctx,
            actor="hub",
            action="down.catalog.applied",
            target="catalog",
            details={
                "version": chunk.to_version,
                "previous": held,
                "products": len(chunk.products),
            },
        )
    log_event(
        log,
        "catalog chunk applied",
        from_version=held,
        to_version=chunk.to_version,
        products=len(chunk.products),
    )
    return True
