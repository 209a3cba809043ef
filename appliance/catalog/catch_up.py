"""Catalog catch-up (CONTRACT "Catalog sync"): the retained head and the chunks that follow it.

* The head `{head: true, version: V}` only records the target version; a head below the held
  version means the hub restored its catalog from a backup, so the box reloads everything.
* A chunk `{head: false, from_version, to_version, products, last}` continues the download
  if `from_version <= resume_from < to_version` (resume_from: the staged top, else the held
  version). It is **staged** (tables of migration 0019, committed per chunk) until the staged
  top reaches the announced head; then every staged chunk is applied in one transaction
  (`_apply_stage`, set-based: one INSERT … SELECT per table, the FTS name index maintained by
  two statements instead of a trigger per row) and held = the staged top. A large download
  (`rebuild.worth_rebuilding`) is staged instead into tables shaped like the final ones and
  swapped in by that transaction (`catalog.rebuild`, migration 0020). Rows come from
  `chunk_of` (`stage_rows.fast_rows`, equal to the model's rows). A partial download never
  becomes active; a restart resumes after the last staged chunk. Products upsert by id
  and their barcodes are replaced, keyed by GTIN-14; codes that are not valid GTINs cannot be
  scanned and are skipped (logged).
* The sync agent asks for chunks from `catalog_resume_from()` while `catalog_behind()`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from appliance.audit import log as audit_log
from appliance.catalog import rebuild
from appliance.catalog.config_docs import current_exponent, store_body, stored_version
from appliance.catalog.models import Product
from appliance.catalog.stage_rows import StagedRows, fast_rows, model_rows, product_columns
from appliance.catalog.wire import CatalogChunk, CatalogHead, parse_body
from appliance.core.context import BoxContext
from appliance.core.db import write_txn
from appliance.sync.box_state import held_versions, set_held_version
from posdomain.audit_chain import Severity
from posdomain.errors import ValidationError
from posdomain.obs import log_event

log = logging.getLogger(__name__)


def _cursor() -> Any:
    return Product._meta.database.cursor()


def stage_products(staged: StagedRows) -> None:
    """Stage a chunk's rows and barcodes (caller's transaction): a product staged again
    (a later version) replaces its staged row and barcodes."""
    cols = product_columns()
    cur = _cursor()
    again = cur.execute(  # staged by an earlier chunk: rare, so look before deleting
        "SELECT id FROM catalog_stage_products WHERE id IN (SELECT value FROM json_each(?))",
        (json.dumps(staged.ids),),
    ).fetchall()
    if again:
        cur.executemany("DELETE FROM catalog_stage_barcodes WHERE product_id = ?", again)
    cur.executemany(
        f"INSERT OR REPLACE INTO catalog_stage_products ({', '.join(cols)})"
        f" VALUES ({', '.join('?' * len(cols))})",
        staged.rows,
    )
    cur.executemany(
        "INSERT INTO catalog_stage_barcodes (gtin14, code, product_id) VALUES (?, ?, ?)",
        staged.barcodes,
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
    cols = product_columns()
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
    """Drop whatever is staged (caller's transaction), in the next tables too."""
    cur = _cursor()
    if _rebuilding() is True:
        rebuild.clear()
    for table in ("catalog_stage_barcodes", "catalog_stage_products", "catalog_stage_state"):
        cur.execute(f"DELETE FROM {table}")


def staged_top() -> int | None:
    """The version the staged chunks reach (None: nothing staged)."""
    row = _cursor().execute("SELECT to_version FROM catalog_stage_state").fetchone()
    return None if row is None else int(row[0])


def _set_staged_top(version: int, rebuilding: bool) -> None:
    _cursor().execute(
        "INSERT OR REPLACE INTO catalog_stage_state (id, to_version, rebuild) VALUES (1, ?, ?)",
        (version, int(rebuilding)),
    )


def _rebuilding() -> bool | None:
    """Whether the staged download is built in the next tables (None: nothing staged)."""
    row = _cursor().execute("SELECT rebuild FROM catalog_stage_state").fetchone()
    return None if row is None else bool(row[0])


def _stage(staged: StagedRows, held: int) -> bool:
    """Stage a chunk (caller's transaction); True if the download is built in the next
    tables. The first chunk of a download decides, by the versions it spans up to the head
    (an upper bound of the products it brings: each changed product has a version of its own)."""
    rebuilding = _rebuilding()
    if rebuilding is None:
        rebuilding = rebuild.worth_rebuilding(catalog_target() - held)
    if rebuilding:
        rebuild.stage(staged)
    else:
        stage_products(staged)
    return rebuilding


def _put_in_force(rebuilding: bool) -> int:
    """Put the staged download in force (caller's transaction); how many products it had."""
    if not rebuilding:
        return _apply_stage()
    count = rebuild.swap()
    clear_stage()
    return count


def chunk_of(body: dict[str, Any]) -> tuple[CatalogChunk, StagedRows]:
    """A chunk body parsed at the edge, with its products as staging rows: the products by
    the fast path where every one is certainly valid (then the model checks the rest of the
    body), else all of it by the model (which refuses what it must)."""
    exponent = current_exponent()
    try:
        fast = fast_rows(body.get("products"), exponent)
    except ValidationError:
        fast = None  # e.g. a bad price: the model path raises what it always raised
    if fast is None:
        chunk = parse_body(CatalogChunk, body)
        return chunk, model_rows(chunk.products, exponent)
    return parse_body(CatalogChunk, {**body, "products": []}), fast


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


@contextmanager
def _staging_commit(only_staged: bool) -> Iterator[None]:
    """The commit of a transaction that only stages (stage tables and their top, nothing in
    force) runs with synchronous=NORMAL: in WAL mode a power loss can then roll back the last
    such commits (the box resumes from an earlier staged top), never leave half of one, and
    never touch what a FULL commit made durable (it syncs the whole WAL, every frame before it
    too). Every other commit keeps FULL (appliance.core.db.PRAGMAS)."""
    if not only_staged:
        yield
        return
    db = Product._meta.database
    (level,) = db.execute_sql("PRAGMA synchronous").fetchone()
    db.execute_sql("PRAGMA synchronous = NORMAL")
    try:
        yield
    finally:
        db.execute_sql(f"PRAGMA synchronous = {int(level)}")


def apply_chunk(ctx: BoxContext, chunk: CatalogChunk, staged: StagedRows | None = None) -> bool:
    """Stage one catch-up chunk if it continues the download (one transaction); once the
    staged chunks reach the announced head, put them all in force in that transaction.
    `staged`: the chunk's products as rows (`chunk_of`), else made from `chunk.products`."""
    if staged is None:
        staged = model_rows(chunk.products, current_exponent())
    with _staging_commit(chunk.to_version < catalog_target()), write_txn():
        held = catalog_held()
        resume = catalog_resume_from()
        if not chunk.from_version <= resume < chunk.to_version:
            return False
        rebuilding = _stage(staged, held)
        _set_staged_top(chunk.to_version, rebuilding)
        if chunk.to_version < catalog_target():
            only_staged = True
        else:
            only_staged = False
            count = _put_in_force(rebuilding)
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
        "catalog chunk staged" if only_staged else "catalog applied",
        from_version=chunk.from_version,
        to_version=chunk.to_version,
        products=len(staged.rows),
        held=held if only_staged else chunk.to_version,
    )
    return True
