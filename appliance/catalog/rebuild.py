"""A large catalog download built beside the catalog in force, then swapped in (issue 15 item 7).

Staging a 100 000-product download and then putting it in force in one set-wise transaction
(`catch_up._apply_stage`) did the index, FTS and barcode work of every product in that last
transaction, after the last chunk: the tail nothing overlapped. A download at least
`REBUILD_MIN` products long and at least as long as the catalog it replaces is built instead
in `products_next`, `barcodes_next` and `products_next_fts` (migration 0020): every chunk is
upserted straight into them with its FTS entries (in rowid order) and barcodes (`stage`,
committed per chunk like any staged chunk), and the last chunk's transaction (`swap`) copies
in the products of the catalog in force that the download did not bring (with their names and
the barcodes no staged product claimed), drops the tables in force, renames the next ones,
creates the secondary indexes and FTS triggers again from their own stored SQL (each index
built once, sorted, instead of row by row at every chunk's commit) and the next tables again,
empty. All of that is one transaction, so a box killed at any point before its commit keeps
the old catalog in force (and the staged download), and the till never sees a partial
catalog: nothing but this module reads the next tables.
"""

from __future__ import annotations

import json
from typing import Any

from appliance.catalog.models import Product
from appliance.catalog.stage_rows import StagedRows, product_columns

REBUILD_MIN = 20_000  # a smaller download is staged and applied set-wise (catch_up)
_NEXT = ("products_next", "barcodes_next", "products_next_fts")


def _cursor() -> Any:
    return Product._meta.database.cursor()


def worth_rebuilding(download: int) -> bool:
    """True if a download of up to `download` products is built beside the catalog: it is
    large, and copying the catalog in force costs no more than the download itself."""
    if download < REBUILD_MIN:
        return False
    (held,) = _cursor().execute("SELECT count(*) FROM products").fetchone()
    return download >= int(held)


def stage(staged: StagedRows) -> None:
    """Upsert a chunk's products, their FTS entries and barcodes into the next tables (caller's
    transaction): a product an earlier chunk staged (it changed again during the download:
    rare) loses its old name from the index and its old barcodes first (a scan of
    barcodes_next, which has no index on product ids); a later claim on a GTIN wins."""
    cols = product_columns()
    cur = _cursor()
    ids = json.dumps(staged.ids)
    chunk = "SELECT value FROM json_each(?)"
    there = cur.execute(
        f"SELECT rowid, name FROM products_next WHERE id IN ({chunk}) ORDER BY rowid", (ids,)
    ).fetchall()
    if there:
        cur.executemany(
            "INSERT INTO products_next_fts (products_next_fts, rowid, name)"
            " VALUES ('delete', ?, ?)",
            there,
        )
        cur.execute(f"DELETE FROM barcodes_next WHERE product_id IN ({chunk})", (ids,))
    update = ", ".join(f"{c} = excluded.{c}" for c in cols if c != "id")
    cur.executemany(
        f"INSERT INTO products_next ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        f" ON CONFLICT (id) DO UPDATE SET {update}",
        staged.rows,
    )
    cur.execute(  # new products have rowids above every earlier chunk's: in order
        "INSERT INTO products_next_fts (rowid, name)"
        f" SELECT rowid, name FROM products_next WHERE id IN ({chunk}) ORDER BY rowid",
        (ids,),
    )
    cur.executemany(
        "INSERT OR REPLACE INTO barcodes_next (gtin14, code, product_id) VALUES (?, ?, ?)",
        staged.barcodes,
    )


def _copy_the_rest() -> int:
    """Copy into the next tables the products in force the download did not bring, their
    names into the index and their barcodes that no staged product claimed (what the set-wise
    apply leaves of them); how many products the download brought."""
    cur = _cursor()
    count, top = cur.execute(
        "SELECT count(*), coalesce(max(rowid), 0) FROM products_next"
    ).fetchone()
    listed = ", ".join(product_columns())
    cur.execute(
        f"INSERT INTO products_next ({listed}) SELECT {listed} FROM products"
        " WHERE id NOT IN (SELECT id FROM products_next) ORDER BY rowid"
    )
    cur.execute(  # above every staged rowid, in order
        "INSERT INTO products_next_fts (rowid, name)"
        " SELECT rowid, name FROM products_next WHERE rowid > ? ORDER BY rowid",
        (top,),
    )
    cur.execute(
        "INSERT INTO barcodes_next (gtin14, code, product_id)"
        " SELECT gtin14, code, product_id FROM barcodes"
        " WHERE product_id IN (SELECT id FROM products_next WHERE rowid > ?)"
        " AND gtin14 NOT IN (SELECT gtin14 FROM barcodes_next)",
        (top,),
    )
    return int(count)


def swap() -> int:
    """Put the download in force: the next tables, completed with the rest of the catalog,
    swapped in and created again, empty (caller's transaction); how many products the
    download brought.

    The secondary indexes and the FTS triggers of products and barcodes are created again from
    the SQL they were created with, so the schema after a swap is the schema before it; the
    indexes are built once over the whole table (a sorted pass) instead of row by row."""
    count = _copy_the_rest()
    cur = _cursor()
    kept = [
        sql
        for (sql,) in cur.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name IN ('products', 'barcodes')"
            " AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name"
        ).fetchall()
    ]
    marks = ", ".join("?" * len(_NEXT))
    fresh = dict(cur.execute(f"SELECT name, sql FROM sqlite_master WHERE name IN ({marks})", _NEXT))
    for table in ("barcodes", "products_fts", "products"):  # the child first (foreign key)
        cur.execute(f"DROP TABLE {table}")
    cur.execute("ALTER TABLE products_next RENAME TO products")  # barcodes_next follows it
    cur.execute("ALTER TABLE barcodes_next RENAME TO barcodes")
    cur.execute("ALTER TABLE products_next_fts RENAME TO products_fts")
    for sql in kept:
        cur.execute(sql)
    for name in _NEXT:
        cur.execute(fresh[name])
    return count


def clear() -> None:
    """Empty the next tables (caller's transaction): a download given up."""
    cur = _cursor()
    cur.execute("DELETE FROM barcodes_next")
    cur.execute("DELETE FROM products_next")
    cur.execute("INSERT INTO products_next_fts (products_next_fts) VALUES ('delete-all')")
