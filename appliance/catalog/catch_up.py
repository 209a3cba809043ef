"""Catalog catch-up (CONTRACT "Catalog sync"): the retained head and the chunks that follow it.

* The head `{head: true, version: V}` only records the target version; a head below the held
  version means the hub restored its catalog from a backup, so the box reloads everything.
* A chunk `{head: false, from_version, to_version, products, last}` continues the download
  if `from_version <= resume_from < to_version` (resume_from: the staged top, else the held
  version). It is **staged** (tables of migration 0019, committed per chunk) until the staged
  top reaches the announced head; then every staged chunk is applied in one transaction
  (`apply_staged`, set-based: one INSERT … SELECT per table, the FTS name index maintained by
  two statements instead of a trigger per row) and held = the staged top. A partial download
  never becomes active; a restart resumes after the last staged chunk. Products upsert by id
  and their barcodes are replaced, keyed by GTIN-14; codes that are not valid GTINs cannot be
  scanned and are skipped (logged).
* The sync agent asks for chunks from `catalog_resume_from()` while `catalog_behind()`.
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
from posdomain.barcodes import check_digit, validate_gtin
from posdomain.errors import ValidationError
from posdomain.money import parse_minor, parse_money
from posdomain.obs import log_event

log = logging.getLogger(__name__)


def _minor(value: str | None, exponent: int, field: str) -> int | None:
    return None if value is None else parse_minor(value, exponent, field)


def _price(p: WireProduct, exponent: int) -> int:
    """The product's price in minor units, parsed under the constant field name (parse_minor
    caches by value and field: with the SKU in the field every product missed the cache);
    a bad price is parsed again to name the product in the error."""
    try:
        return parse_minor(p.price, exponent, "price")
    except ValidationError:
        return parse_minor(p.price, exponent, f"price of {p.sku}")


def _row(p: WireProduct, exponent: int) -> tuple[Any, ...]:
    """The product as a products row, its values in `_row_names()` order."""
    tiers = [
        {"min_qty": t.min_qty, "price": str(parse_money(t.price, exponent, "tier price"))}
        for t in p.wholesale_tiers
    ]
    tiers_text = json.dumps(tiers) if tiers else "[]"  # most products have none
    return (
        p.id,
        p.sku,
        p.name,
        _price(p, exponent),
        p.tax_class,
        p.unit,
        int(p.age_restriction is not None),
        int(p.active),
        p.category,
        tiers_text,
        _minor(p.min_price, exponent, "min_price"),
        _minor(p.cost, exponent, "cost"),
        p.age_restriction,
        p.deposit_product_id,
        int(p.is_deposit),
        p.version,
    )


def _gtin14(code: str) -> str:
    """`validate_gtin(code).gtin14`: a 12-, 13- or 14-digit code with its check digit is
    its own GTIN-14 zero-filled (what validate_gtin answers for one) without building its
    Gtin; anything else (EAN-8, UPC-E, odd input, a bad check digit) asks validate_gtin."""
    digits = len(code) in (12, 13, 14) and code.isascii() and code.isdigit()
    if digits and check_digit(code[:-1]) == code[-1]:
        return code.zfill(14)
    return validate_gtin(code).gtin14


def _barcode_rows(products: Sequence[WireProduct]) -> list[tuple[str, str, str]]:
    """(GTIN-14, code, product id) of every valid code (each validated once)."""
    rows: dict[str, tuple[str, str, str]] = {}
    for p in products:
        for code in p.barcodes:
            try:
                gtin = _gtin14(code)
            except ValidationError:
                log_event(log, "invalid GTIN skipped", logging.WARNING, product=p.id, code=code)
                continue
            rows[gtin] = (gtin, code, p.id)
    return list(rows.values())


_COLUMNS: list[str] = []


def _product_columns() -> list[str]:
    if not _COLUMNS:
        _COLUMNS.extend(Product._meta.fields[n].column_name for n in _row_names())
    return _COLUMNS


def _row_names() -> list[str]:
    return [
        "id", "sku", "name", "price_minor", "tax_class", "unit", "age_restricted", "active",
        "category", "wholesale_tiers", "min_price_minor", "cost_minor", "age_restriction",
        "deposit_product_id", "is_deposit", "version",
    ]  # fmt: skip  # the values of _row, in order


def _cursor() -> Any:
    return Product._meta.database.cursor()


def stage_products(products: Sequence[WireProduct], exponent: int) -> None:
    """Stage a chunk's products and barcodes (caller's transaction): a product staged again
    (a later version) replaces its staged row and barcodes."""
    cols = _product_columns()
    rows = [_row(p, exponent) for p in products]
    cur = _cursor()
    ids = json.dumps([p.id for p in products])
    again = cur.execute(  # staged by an earlier chunk: rare, so look before deleting
        "SELECT id FROM catalog_stage_products WHERE id IN (SELECT value FROM json_each(?))",
        (ids,),
    ).fetchall()
    if again:
        cur.executemany("DELETE FROM catalog_stage_barcodes WHERE product_id = ?", again)
    cur.executemany(
        f"INSERT OR REPLACE INTO catalog_stage_products ({', '.join(cols)})"
        f" VALUES ({', '.join('?' * len(cols))})",
        rows,
    )
    cur.executemany(
        "INSERT INTO catalog_stage_barcodes (gtin14, code, product_id) VALUES (?, ?, ?)",
        _barcode_rows(products),
    )


def _apply_stage() -> int:
    """Put every staged product in force, set-wise (caller's transaction); how many.

    The FTS triggers are paused for these statements (catalog_fts_paused, migration 0019) and
    the name index is kept by two set-wise statements: the old names of the staged products
    out, their new names in; all inside the caller's one transaction."""
    cur = _cursor()
    (count,) = cur.execute("SELECT count(*) FROM catalog_stage_products").fetchone()
    if not count:
        return 0
    cols = _product_columns()
    listed = ", ".join(cols)
    update = ", ".join(f"{c} = excluded.{c}" for c in cols if c != "id")
    staged = "SELECT id FROM catalog_stage_products"
    cur.execute("INSERT INTO catalog_fts_paused (id) VALUES (1)")
    cur.execute(
        "INSERT INTO products_fts (products_fts, rowid, name)"
        f" SELECT 'delete', rowid, name FROM products WHERE id IN ({staged}) ORDER BY rowid"
    )
    cur.execute(  # WHERE true: SQLite's parser needs it before ON CONFLICT after a SELECT
        f"INSERT INTO products ({listed}) SELECT {listed} FROM catalog_stage_products"
        f" WHERE true ON CONFLICT (id) DO UPDATE SET {update}"
    )
    cur.execute(  # in rowid order: FTS5 flushes its pending terms at every lower rowid
        f"INSERT INTO products_fts (rowid, name) SELECT rowid, name FROM products"
        f" WHERE id IN ({staged}) ORDER BY rowid"
    )
    cur.execute("DELETE FROM catalog_fts_paused")
    cur.execute(f"DELETE FROM barcodes WHERE product_id IN ({staged})")
    cur.execute(  # in staging order: a later chunk's claim on a GTIN wins, as it would live
        "INSERT OR REPLACE INTO barcodes (gtin14, code, product_id)"
        " SELECT gtin14, code, product_id FROM catalog_stage_barcodes ORDER BY seq"
    )
    clear_stage()
    return int(count)


def clear_stage() -> None:
    """Drop whatever is staged (caller's transaction)."""
    cur = _cursor()
    for table in ("catalog_stage_barcodes", "catalog_stage_products", "catalog_stage_state"):
        cur.execute(f"DELETE FROM {table}")


def staged_top() -> int | None:
    """The version the staged chunks reach (None: nothing staged)."""
    row = _cursor().execute("SELECT to_version FROM catalog_stage_state").fetchone()
    return None if row is None else int(row[0])


def _set_staged_top(version: int) -> None:
    _cursor().execute(
        "INSERT OR REPLACE INTO catalog_stage_state (id, to_version) VALUES (1, ?)", (version,)
    )


def upsert_products(products: Sequence[WireProduct], exponent: int) -> None:
    """Insert or update products by id and replace their barcodes at once (caller's
    transaction): staged and applied set-wise like a completed download."""
    if products:
        stage_products(products, exponent)
        _apply_stage()


def catalog_target() -> int:
    """The catalog version the hub last announced (0 before any head)."""
    return stored_version("catalog")


def catalog_held() -> int:
    """The catalog version this box holds."""
    return held_versions().get("catalog", 0)


def catalog_resume_from() -> int:
    """Where the next catch-up request starts: the staged top, else the held version."""
    top = staged_top()
    return catalog_held() if top is None else top


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
        top = staged_top()
        if top is not None and (head.version < top or head.version < catalog_target()):
            clear_stage()  # staged from a catalog the hub no longer has (a restore)
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
    """Stage one catch-up chunk if it continues the download (one transaction); once the
    staged chunks reach the announced head, put them all in force in that transaction."""
    with write_txn():
        held = catalog_held()
        resume = catalog_resume_from()
        if not chunk.from_version <= resume < chunk.to_version:
            return False
        stage_products(chunk.products, current_exponent())
        _set_staged_top(chunk.to_version)
        if chunk.to_version < catalog_target():
            staged = True
        else:
            staged = False
            count = _apply_stage()
            set_held_version("catalog", chunk.to_version)
            audit_log.append(
                ctx,
                actor="hub",
                action="down.catalog.applied",
                target="catalog",
                details={"version": chunk.to_version, "previous": held, "products": count},
            )
    log_event(
        log,
        "catalog chunk staged" if staged else "catalog applied",
        from_version=chunk.from_version,
        to_version=chunk.to_version,
        products=len(chunk.products),
        held=held if staged else chunk.to_version,
    )
    return True
