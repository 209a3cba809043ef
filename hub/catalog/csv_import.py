"""Catalog CSV import (all-or-nothing upsert by SKU, bulk writes) and streamed export.

A file is validated completely first; one bad row rejects the whole file and nothing is
written. A good file is applied in one transaction: unchanged rows are skipped, changed and
new rows get their own catalog version each (so catch-up chunks can split anywhere), and the
import is audited once with before/after of every changed product.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import os
from collections import namedtuple
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from peewee import IntegrityError

from hub.catalog import store
from hub.catalog.csv_rows import (
    COLUMNS,
    ParsedFile,
    ParsedRow,
    RowError,
    header_line,
    parse_csv,
    render_row,
)
from hub.catalog.models import Product
from hub.catalog.rules import load_context
from hub.catalog.service import require_tenant_scope
from hub.core.bulk import insert_rows
from hub.core.db import db, is_postgres, tenant_tx
from hub.core.models import utcnow
from hub.governance import audit
from posdomain.errors import Conflict, Reason, ValidationError
from posdomain.permissions import Principal, Scope

EXPORT_PAGE = 1000
T = TypeVar("T")


def csv_row(
    p: Product, codes: list[str], tiers: list[Any], exponent: int, deposit_sku: str
) -> dict[str, str]:
    """A product as a CSV row dict (what export writes and the audit shows)."""
    return {
        "sku": p.sku,
        "name": p.name,
        "barcodes": "|".join(codes),
        "category": p.category or "",
        "tax_class": p.tax_class,
        "unit": p.unit,
        "price": store.money_text(p.price_minor, exponent),
        "cost": store.money_text(p.cost_minor, exponent),
        "wholesale_tiers": "|".join(
            f"{store.qty_text(m)}:{store.money_text(v, exponent)}" for m, v in tiers
        ),
        "age_restriction": "" if p.age_restriction is None else str(p.age_restriction),
        "is_deposit": "true" if p.is_deposit else "false",
        "deposit_sku": deposit_sku,
        "active": "true" if p.active else "false",
    }


# the products columns an import compares and writes (ProductValues.row()), after id
_HELD = (
    "id",
    "sku",
    "name",
    "category",
    "tax_class",
    "unit",
    "price_minor",
    "cost_minor",
    "age_restriction",
    "is_deposit",
    "deposit_product_id",
    "active",
)
Held = namedtuple("Held", _HELD)  # type: ignore[misc]  # a stored product, as csv_row reads it


class _Catalog:
    """The tenant's existing products as the import needs them (caller's transaction): plain
    tuples in one query (model instances of 100 000 products cost seconds)."""

    def __init__(self, tenant_id: str) -> None:
        query = Product.select(*(getattr(Product, c) for c in _HELD))
        rows = store.rows_of(query.where(Product.tenant_id == tenant_id))
        self.by_sku: dict[str, Any] = {row[1]: Held._make(row) for row in rows}
        self.sku_by_id = {p.id: sku for sku, p in self.by_sku.items()}


def _cross_check(tenant_id: str, parsed: ParsedFile, cat: _Catalog) -> None:
    """Add errors that need the whole file: duplicate SKUs/barcodes, barcode owners, deposits."""
    bad: dict[int, RowError] = {}
    first_line: dict[str, int] = {}
    key_line: dict[str, int] = {}
    file_skus = {r.values.sku for r in parsed.rows}
    owners = store.barcode_owners(
        tenant_id, {k for r in parsed.rows for _c, k in r.values.barcodes}
    )
    deposits = {r.values.sku for r in parsed.rows if r.values.is_deposit} | {
        s for s, p in cat.by_sku.items() if p.is_deposit and s not in file_skus
    }
    for r in parsed.rows:
        sku = r.values.sku
        if sku in first_line:
            msg = f"SKU {sku} also on line {first_line[sku]}"
            bad[r.line] = RowError(r.line, sku, Reason.DUPLICATE, msg, "sku")
            continue
        first_line[sku] = r.line
        for code, key in r.values.barcodes:
            owner_sku = cat.sku_by_id.get(owners.get(key, ""))
            if key in key_line:
                msg = f"barcode {code} also on line {key_line[key]}"
                bad.setdefault(r.line, RowError(r.line, sku, Reason.DUPLICATE, msg, "barcodes"))
            elif owner_sku and owner_sku != sku and owner_sku not in file_skus:
                msg = f"barcode {code} belongs to SKU {owner_sku}"
                bad.setdefault(r.line, RowError(r.line, sku, Reason.DUPLICATE, msg, "barcodes"))
            key_line.setdefault(key, r.line)
        if r.deposit_sku and r.deposit_sku not in deposits:
            msg = f"deposit_sku {r.deposit_sku} is not a deposit item"
            bad.setdefault(
                r.line, RowError(r.line, sku, Reason.UNKNOWN_DEPOSIT, msg, "deposit_sku")
            )
    parsed.errors.extend(bad.values())
    parsed.errors.sort(key=lambda e: e.line)


def _reject(parsed: ParsedFile, total: int) -> None:
    raise ValidationError(
        f"{len(parsed.errors)} of {total} rows are invalid; nothing was imported",
        Reason.VALIDATION_FAILED,
        {
            "rows": total,
            "error_count": len(parsed.errors),
            "errors": [e.to_dict() for e in parsed.errors],
        },
    )


def _changes(parsed: ParsedFile, cat: _Catalog, ids: dict[str, str], exponent: int) -> list[Any]:
    """(row, new column values, before csv dict | None) of every new or changed row."""
    existing = [cat.by_sku[r.values.sku].id for r in parsed.rows if r.values.sku in cat.by_sku]
    codes, tiers = store.children_of(existing)
    out: list[tuple[ParsedRow, dict[str, Any], dict[str, str] | None]] = []
    for r in sorted(parsed.rows, key=lambda r: (not r.values.is_deposit, r.line)):
        r.values.deposit_product_id = ids.get(r.deposit_sku or "")
        cols, old = r.values.row(), cat.by_sku.get(r.values.sku)
        if old is not None:
            same = all(getattr(old, k) == v for k, v in cols.items())
            same = same and codes[old.id] == sorted(c for c, _k in r.values.barcodes)
            if same and [tuple(t) for t in tiers[old.id]] == r.values.tiers:
                continue
            dep = cat.sku_by_id.get(old.deposit_product_id or "", "")
            out.append((r, cols, csv_row(old, codes[old.id], tiers[old.id], exponent, dep)))
        else:
            out.append((r, cols, None))
    return out


def _write(
    tenant_id: str, changes: list[Any], ids: dict[str, str], side: Callable[[int, int], T]
) -> T:
    """Write the changes under new catalog versions; `side(first, top)` (the audit details:
    pure Python, no database) runs meanwhile on PostgreSQL, after the writes elsewhere."""
    top = store.bump_version(tenant_id, len(changes))
    first = top - len(changes) + 1
    if is_postgres():
        return _copy_write(tenant_id, changes, ids, first, lambda: side(first, top))
    _insert_write(tenant_id, changes, ids, first)
    return side(first, top)


_STAGE_PRODUCTS = (
    "CREATE TEMP TABLE catalog_stage_products (id text, sku text, name text, category text,"
    " tax_class text, unit text, price_minor bigint, cost_minor bigint, age_restriction int,"
    " is_deposit boolean, deposit_product_id text, active boolean, version bigint,"
    " fresh boolean) ON COMMIT DROP"
)
_STAGE_BARCODES = (
    "CREATE TEMP TABLE catalog_stage_barcodes (product_id text, barcode text, code text)"
    " ON COMMIT DROP"
)
_STAGE_TIERS = (
    "CREATE TEMP TABLE catalog_stage_tiers (product_id text, min_qty_milli bigint,"
    " price_minor bigint) ON COMMIT DROP"
)


def _csv_stream(rows: list[tuple[Any, ...]]) -> io.StringIO:
    """`rows` as one CSV stream for COPY, written by the C csv writer (no statement and no
    Python formatting per value). None is written as an unquoted empty field, which COPY's
    CSV format reads as NULL; no staged text column is ever the empty string (names, SKUs,
    codes are non-empty, an absent category is None), booleans are written True/False,
    which PostgreSQL's boolean input accepts."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    out.seek(0)
    return out


def _copy(cursor: Any, table: str, stream: io.StringIO) -> None:
    """COPY a `_csv_stream` into a staging table (nothing if it is empty)."""
    if stream.getvalue():
        cursor.copy_expert(f"COPY {table} FROM STDIN WITH (FORMAT csv)", stream)


def _run(conn: Any, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
    """Run statements on the transaction's connection (from the import's helper thread:
    psycopg2 lets go of the GIL while PostgreSQL works, and serialises the connection)."""
    with conn.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)


def _copy_write(
    tenant_id: str, changes: list[Any], ids: dict[str, str], first: int, side: Callable[[], T]
) -> T:
    """PostgreSQL: COPY the changed rows into staging tables of this transaction (temporary,
    dropped at commit or rollback; COPY cannot write an RLS table), then one set-based
    statement per table: products upserted by id, the children of products that existed
    replaced. Row-level security and every constraint apply to these statements as to any.

    The set statements are PostgreSQL's work (indexes, foreign keys) and run on a helper
    thread, on this transaction's connection, while this thread builds what comes next:
    the barcode and tier staging rows while the products go in, `side()` (the audit
    details) while the barcodes and tiers go in. Statement order is unchanged; an error of
    either thread ends the import as before (nothing committed)."""
    conn = db.connection()  # this thread's: the transaction's (peewee's is per thread)
    cursor = db.cursor()
    for ddl in (_STAGE_PRODUCTS, _STAGE_BARCODES, _STAGE_TIERS):
        # an earlier import in the same outer transaction left its own (a savepoint's)
        cursor.execute(f"DROP TABLE IF EXISTS {ddl.split()[3]}")
        cursor.execute(ddl)
    cols = _HELD[1:]
    staged = [
        (ids[r.values.sku], *(c[k] for k in cols), first + n, before is None)
        for n, (r, c, before) in enumerate(changes)
    ]
    _copy(cursor, "catalog_stage_products", _csv_stream(staged))
    now = utcnow()
    listed = ", ".join(cols)
    update = ", ".join(f"{c} = EXCLUDED.{c}" for c in (*cols, "version", "updated_at"))
    insert = (
        f"INSERT INTO products (id, tenant_id, {listed}, version, created_at, updated_at)"
        f" SELECT id, %s, {listed}, version, %s, %s FROM catalog_stage_products"
    )
    # new products (fresh ids) first and without ON CONFLICT's speculative insertion, then
    # the changed ones (which may point at a new deposit item)
    statements = [
        (f"{insert} WHERE fresh", (tenant_id, now, now)),
        (
            f"{insert} WHERE NOT fresh ON CONFLICT (id) DO UPDATE SET {update}",
            (tenant_id, now, now),
        ),
    ]
    with ThreadPoolExecutor(1, thread_name_prefix="catalog-import") as helper:
        products = helper.submit(_run, conn, statements)
        pid = [(ids[r.values.sku], r, before) for r, _c, before in changes]
        codes = _csv_stream([(p, key, code) for p, r, _b in pid for code, key in r.values.barcodes])
        tiers = _csv_stream(
            [(p, milli, price) for p, r, _b in pid for milli, price in r.values.tiers]
        )
        held = [p for p, _r, before in pid if before is not None]
        products.result()
        if held:
            store.replace_children(tenant_id, held, {}, {})  # deletes only: nothing to insert
        _copy(cursor, "catalog_stage_barcodes", codes)
        _copy(cursor, "catalog_stage_tiers", tiers)
        children = helper.submit(
            _run,
            conn,
            [
                (
                    "INSERT INTO product_barcodes (tenant_id, product_id, barcode, code)"
                    " SELECT %s, product_id, barcode, code FROM catalog_stage_barcodes",
                    (tenant_id,),
                ),
                (
                    "INSERT INTO wholesale_tiers (tenant_id, product_id, min_qty_milli,"
                    " price_minor) SELECT %s, product_id, min_qty_milli, price_minor"
                    " FROM catalog_stage_tiers",
                    (tenant_id,),
                ),
            ],
        )
        try:
            return side()
        finally:
            children.result()


def _insert_write(tenant_id: str, changes: list[Any], ids: dict[str, str], first: int) -> None:
    """SQLite (the embedded demo hub): the same rows as multi-row INSERTs."""
    now = utcnow()
    rows = [
        {
            **cols,
            "id": ids[r.values.sku],
            "tenant_id": tenant_id,
            "version": first + n,
            "created_at": now,
            "updated_at": now,
        }
        for n, (r, cols, _before) in enumerate(changes)
    ]
    keep = [
        f.column_name
        for f in Product._meta.sorted_fields
        if f.name not in ("id", "tenant_id", "created_at")
    ]
    # one statement for the whole file (rows as one array per column: hub.core.bulk)
    update = ", ".join(f"{c} = EXCLUDED.{c}" for c in keep)
    insert_rows(Product, rows, suffix=f"ON CONFLICT (id) DO UPDATE SET {update}")
    changed_ids = [ids[r.values.sku] for r, _c, _b in changes]
    store.replace_children(
        tenant_id,
        changed_ids,
        {ids[r.values.sku]: r.values.barcodes for r, _c, _b in changes},
        {ids[r.values.sku]: r.values.tiers for r, _c, _b in changes},
        new_ids={ids[r.values.sku] for r, _c, before in changes if before is None},
    )


def import_csv(principal: Principal, tenant_id: str, scope: Scope, text: str) -> dict[str, Any]:
    """Validate every row, then upsert all by SKU in one transaction (or import nothing)."""
    require_tenant_scope(scope)
    with tenant_tx(tenant_id):
        store.lock_catalog(tenant_id)  # two imports at once: the second reads the first's
        ctx = load_context(tenant_id)
        parsed = parse_csv(text, ctx)
        total = len(parsed.rows) + len(parsed.errors)
        cat = _Catalog(tenant_id)
        _cross_check(tenant_id, parsed, cat)
        if parsed.errors:
            _reject(parsed, total)
        ids = {s: p.id for s, p in cat.by_sku.items()}
        new = [r.values.sku for r in parsed.rows if r.values.sku not in ids]
        ids.update(zip(new, _new_ids(len(new)), strict=True))
        changes = _changes(parsed, cat, ids, ctx.exponent)
        summary = _summary(text, total, changes)
        if changes:

            def details(first: int, top: int) -> Any:
                summary["from_version"], summary["to_version"] = first, top
                return audit.storable_details(_audit_details(summary, changes, ctx.exponent))

            try:
                audited = _write(tenant_id, changes, ids, details)
            except IntegrityError as err:  # a writer that skipped the lock took a SKU/barcode
                raise Conflict(
                    "the catalog changed while importing; nothing was imported, try again",
                    Reason.DUPLICATE,
                ) from err
            audit.append(
                tenant_id, principal.actor, "catalog.imported", "catalog", stored_details=audited
            )
    return summary


def _new_ids(count: int) -> list[str]:
    """`count` new product ids, p- and 16 random hex digits (one urandom call for all)."""
    raw = os.urandom(8 * count).hex()
    return [f"p-{raw[n : n + 16]}" for n in range(0, 16 * count, 16)]


def _summary(text: str, total: int, changes: list[Any]) -> dict[str, Any]:
    created = sum(1 for _r, _c, before in changes if before is None)
    return {
        "rows": total,
        "created": created,
        "updated": len(changes) - created,
        "unchanged": total - len(changes),
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
    }


def _audit_details(summary: dict[str, Any], changes: list[Any], exponent: int) -> dict[str, Any]:
    """The details of the import's one audit entry: the summary and every changed product
    before and after, as CSV lines in the import format (`after`: every new or changed
    product, `before`: the updated ones as they were; `import_changes` reads them back as
    {sku, before, after} per product). One string per product instead of an object of 13:
    the entry is dumped, hashed and stored in a fraction of the time. Pure Python (it runs
    while PostgreSQL writes the rows)."""
    after = _csv_lines(_after_row(r, exponent) for r, _cols, _before in changes)
    before = _csv_lines(b for _r, _cols, b in changes if b is not None)
    return {
        **summary,
        "changes": {"format": "csv", "columns": list(COLUMNS), "after": after, "before": before},
    }


def _csv_lines(rows: Iterator[dict[str, str]]) -> list[str]:
    """Each row as one CSV line in the import format (without its newline)."""
    out = io.StringIO()
    write = csv.writer(out, lineterminator="\n").writerow
    ends = [0]
    for r in rows:
        write([r[c] for c in COLUMNS])
        ends.append(out.tell())
    text = out.getvalue()
    return [text[a : b - 1] for a, b in itertools.pairwise(ends)]


def import_changes(details: dict[str, Any]) -> list[dict[str, Any]]:
    """The {sku, before, after} of every product a `catalog.imported` entry changed (before
    None for a created one), in import order."""
    changes = details["changes"]
    columns = changes["columns"]

    def rows(lines: list[str]) -> list[dict[str, str]]:
        return [dict(zip(columns, r, strict=True)) for r in csv.reader(lines)]

    before = {r["sku"]: r for r in rows(changes["before"])}
    return [
        {"sku": a["sku"], "before": before.get(a["sku"]), "after": a}
        for a in rows(changes["after"])
    ]


def _after_row(r: ParsedRow, exponent: int) -> dict[str, str]:
    v = r.values
    tiers = "|".join(f"{store.qty_text(m)}:{store.money_text(p, exponent)}" for m, p in v.tiers)
    return {
        "sku": v.sku,
        "name": v.name,
        "barcodes": "|".join(c for c, _k in v.barcodes),
        "category": v.category or "",
        "tax_class": v.tax_class,
        "unit": v.unit,
        "price": store.money_text(v.price_minor, exponent),
        "cost": store.money_text(v.cost_minor, exponent),
        "wholesale_tiers": tiers,
        "age_restriction": "" if v.age_restriction is None else str(v.age_restriction),
        "is_deposit": "true" if v.is_deposit else "false",
        "deposit_sku": r.deposit_sku or "",
        "active": "true" if v.active else "false",
    }


def export_lines(tenant_id: str) -> Iterator[str]:
    """The tenant's catalog as CSV lines, ordered by SKU, read page by page."""
    yield header_line()
    after = ""
    while True:
        with tenant_tx(tenant_id):
            exponent = load_context(tenant_id).exponent
            page = list(
                Product.select()
                .where(Product.tenant_id == tenant_id, Product.sku > after)
                .order_by(Product.sku)
                .limit(EXPORT_PAGE)
            )
            codes, tiers = store.children_of([p.id for p in page])
            dep_ids = list({p.deposit_product_id for p in page if p.deposit_product_id})
            dep_sku = {p.id: p.sku for p in Product.select().where(Product.id.in_(dep_ids))}
        if not page:
            return
        for p in page:
            dep = dep_sku.get(p.deposit_product_id or "", "")
            yield render_row(csv_row(p, codes[p.id], tiers[p.id], exponent, dep))
        after = page[-1].sku
