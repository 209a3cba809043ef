"""Multi-row INSERTs for the hot ingest path (one statement per table per batch).

Peewee's `insert_many` builds its SQL node by node, which costs more Python time than the
database spends on the rows; this writes the rows directly, with every value converted by the
model field (JSON, UTC timestamps) exactly as peewee would.

On PostgreSQL the rows go as one array literal per column,
`INSERT … SELECT u.c1::type, … FROM unnest($1::text[], …) AS u(c1, …)`: a handful of
parameters however many rows, parsed by `array_in` instead of one expression node per value
(`INSERT … VALUES (…), (…)` with 10 000 parameters spends most of its time in the parser and
the client-side interpolation). Row-level security applies as to any INSERT (COPY FROM is
refused on tables with RLS). SQLite gets the plain `VALUES` form.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from datetime import datetime
from functools import partial
from operator import itemgetter
from typing import Any

from peewee import (
    SQL,
    AutoField,
    BigAutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    Expression,
    Field,
    IntegerField,
    SmallIntegerField,
    TextField,
)
from psycopg2.extensions import Binary

from hub.core import writer
from hub.core.db import db, is_postgres
from hub.core.models import UtcField

# well under PostgreSQL's 65 535 and SQLite's 32 766 bind parameters per statement
MAX_PARAMS = 30_000
_column_types: dict[tuple[str, str], str] = {}


def _array_literal(values: list[Any]) -> str:
    """A PostgreSQL text[] literal of `values` (None = NULL, every other element quoted)."""
    out = []
    for v in values:
        if v is None:
            out.append("NULL")
            continue
        if isinstance(v, Binary):  # a BlobField's value: bytea's hex input form
            v = v.adapted
        if isinstance(v, (bytes, bytearray, memoryview)):
            text = "\\x" + bytes(v).hex()
        elif isinstance(v, bool):
            text = "t" if v else "f"
        elif isinstance(v, datetime):
            text = v.isoformat()
        else:
            text = str(v)
        out.append('"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(out) + "}"


_INT_FIELDS = (IntegerField, BigIntegerField, SmallIntegerField, AutoField, BigAutoField)
_TEXT_FIELDS = (CharField, TextField)


def _int_column(field: Any, values: list[Any]) -> str:
    """An int column's literal: digits need no quoting (any other value goes through the
    field, then the general form)."""
    kinds = set(map(type, values))  # one C pass instead of a generator per value
    if kinds == {int}:
        return "{" + ",".join(map(str, values)) + "}"
    if kinds <= {int, type(None)}:
        return "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"
    return _array_literal([field.db_value(v) for v in values])


def _quoted(v: str | None) -> str:
    return "NULL" if v is None else '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text_column(field: Any, values: list[Any]) -> str:
    """A text column's literal, escaped in three passes over the joined column instead of
    per value. The elements are joined by NUL, which no PostgreSQL text can hold: if any
    value contains one (or is not a plain str, or is NULL) the general per-value form is
    used, so a value can never split into two elements."""
    kinds = set(map(type, values))
    if kinds == {uuid.UUID}:  # event ids: hex and dashes, nothing to quote
        return "{" + ",".join(map(str, values)) + "}"
    if kinds != {str}:
        if kinds <= {str, type(None)}:  # nullable text: per value
            return "{" + ",".join(map(_quoted, values)) + "}"
        return _array_literal([field.db_value(v) for v in values])
    joined = "\x00".join(values)
    if joined.count("\x00") != len(values) - 1:
        return _array_literal(values)
    escaped = joined.replace("\\", "\\\\").replace('"', '\\"').replace("\x00", '","')
    return '{"' + escaped + '"}'


def _bool_column(field: Any, values: list[Any]) -> str:
    if set(map(type, values)) == {bool}:
        return "{" + ",".join("t" if v else "f" for v in values) + "}"
    return _general_column(field, values)


def _general_column(field: Any, values: list[Any]) -> str:
    """Any other field: each distinct value converted by the field once (a batch's rows share
    timestamps and ids), unhashable ones (JSON) one by one."""
    memo: dict[tuple[type, Any], str] = {}
    out = []
    for v in values:
        key = (type(v), v)  # typed: True == 1 must not share a literal
        try:
            text = memo.get(key)
        except TypeError:  # a dict or list: JSON
            out.append(_array_literal([field.db_value(v)])[1:-1])
            continue
        if text is None:
            text = memo[key] = _array_literal([field.db_value(v)])[1:-1]
        out.append(text)
    return "{" + ",".join(out) + "}"


def _utc_column(field: Any, values: list[Any]) -> str:
    """A UtcField column: each distinct instant converted by the field once and quoted as it
    is (ISO-8601 text holds no quote or backslash to escape); anything but datetimes and
    NULLs takes the general form."""
    memo: dict[datetime, str] = {}
    out = []
    for v in values:
        if v is None:
            out.append("NULL")
            continue
        if type(v) is not datetime:
            return _general_column(field, values)
        text = memo.get(v)
        if text is None:
            text = memo[v] = '"' + field.db_value(v) + '"'
        out.append(text)
    return "{" + ",".join(out) + "}"


def _encoder(field: Field) -> Callable[[Any, list[Any]], str]:
    """The column encoder for a model field: ints, plain text and UTC times on fast paths
    (the same literal the general form gives), anything else converted by the field one by
    one (JSON: a JsonText payload is stored as the text it is)."""
    kind = type(field)
    if kind in _INT_FIELDS:
        return _int_column
    if kind in _TEXT_FIELDS:
        return _text_column
    if kind is BooleanField:
        return _bool_column
    if kind is UtcField:
        return _utc_column
    return _general_column


def text_array(values: list[str]) -> str:
    """A PostgreSQL text[] literal of `values`, for `= ANY(%s::text[])` with one parameter
    however many values (an IN list of 100 000 ids is 100 000 parse nodes)."""
    return _text_column(TextField(), list(values))


def any_text(field: Any, values: list[str]) -> Expression:
    """`field` among the text `values` in one condition: `= ANY(%s::text[])` on PostgreSQL
    (one parameter and one node however many values; an IN list builds a node per value),
    an IN list elsewhere."""
    if is_postgres():
        expression: Expression = field == SQL("ANY(%s::text[])", [text_array(values)])
        return expression
    return field.in_(values)  # type: ignore[no-any-return]


def _types(table: str, columns: list[str]) -> list[str]:
    missing = [c for c in columns if (table, c) not in _column_types]
    if missing:
        cur = db.execute_sql(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            (table,),
        )
        for name, kind in cur.fetchall():
            _column_types[(table, name)] = kind
    return [_column_types[(table, c)] for c in columns]


def insert_rows(
    model: Any, rows: list[dict[str, Any]], *, suffix: str = ""
) -> list[tuple[Any, ...]]:
    """Insert `rows` (same keys each) into `model`'s table; return the rows of `suffix`'s
    RETURNING clause, if any (`suffix` is e.g. "ON CONFLICT DO NOTHING RETURNING id").

    Inside `send_ahead()` (hub.core.db) an insert without RETURNING is handed to the writer
    thread and this returns at once; its failure is raised at the next statement."""
    if not rows:
        return []
    if "RETURNING" in suffix.upper():
        return insert_rows_later(model, rows, suffix=suffix)()
    if is_postgres():
        _run_later(*_unnest_insert(model, rows, suffix), returning=False)
    else:
        _sqlite_insert(model, rows, suffix)
    return []


def insert_rows_later(
    model: Any, rows: list[dict[str, Any]], *, suffix: str
) -> Callable[[], list[tuple[Any, ...]]]:
    """`insert_rows` with RETURNING whose answer is read later: inside `send_ahead()` the
    insert runs on the writer thread and calling the answer waits for it; elsewhere it runs
    now. An answer nobody reads is still waited for (and its failure raised) at the end of
    the block."""
    if not rows:
        return list
    if is_postgres():
        return _run_later(*_unnest_insert(model, rows, suffix), returning=True)
    found = _sqlite_insert(model, rows, suffix)
    return lambda: found


def select_later(query: Any) -> Callable[[], list[tuple[Any, ...]]]:
    """A peewee SELECT whose rows (tuples, in its column order, as the driver returns them)
    are read later: inside `send_ahead()` it is sent ahead after the inserts queued before it,
    and calling the answer waits for it alone, not for the inserts sent after it; elsewhere
    it runs now."""
    sql, params = query.sql()
    return _run_later(sql, params, returning=True)


def _run_later(sql: str, params: Any, *, returning: bool) -> Callable[[], list[tuple[Any, ...]]]:
    """Run a statement now, or send it ahead inside `send_ahead()`; its rows when called."""
    pipe = writer.current()
    if pipe is not None:
        return partial(pipe.answer, pipe.send(sql, params, returning))
    cur = db.execute_sql(sql, params)
    found = [tuple(r) for r in cur.fetchall()] if returning else []
    return lambda: found


def _unnest_insert(model: Any, rows: list[dict[str, Any]], suffix: str) -> tuple[str, list[Any]]:
    """One INSERT … SELECT FROM unnest(text arrays) for PostgreSQL, and its parameters.

    A column whose rows all hold one value (a batch's tenant, branch, box, day, kind …) goes
    as a one-element array, `(%s::text[])[1]`, instead of one element per row: neither this
    side nor PostgreSQL's `array_in` handles the same text hundreds of times."""
    names = list(rows[0])
    fields = [model._meta.fields[n] for n in names]
    table = model._meta.table_name
    tail = f" {suffix}" if suffix else ""
    cols = [f.column_name for f in fields]
    kinds = _types(table, cols)
    columns = [list(map(itemgetter(n), rows)) for n in names]
    same = [len(v) > 1 and v.count(v[0]) == len(v) and _one_plain_type(v) for v in columns]
    if all(same):  # identical rows: unnest needs one array at least
        same = [False] * len(same)
    picks: list[str] = []
    constant: list[str] = []
    arrays: list[str] = []
    for f, kind, values, one in zip(fields, kinds, columns, same, strict=True):
        if one:
            constant.append(_encoder(f)(f, values[:1]))
            picks.append(f"(%s::text[])[1]::{kind}")
        else:
            picks.append(f"u.c{len(arrays)}::{kind}")
            arrays.append(_encoder(f)(f, values))
    sql = (
        f"INSERT INTO {table} ({', '.join(cols)}) SELECT "
        + ", ".join(picks)
        + " FROM unnest("
        + ", ".join(["%s::text[]"] * len(arrays))
        + f") AS u({', '.join(f'c{i}' for i in range(len(arrays)))}){tail}"
    )
    return sql, constant + arrays  # the placeholders' order: the SELECT list, then unnest's


def _one_plain_type(values: list[Any]) -> bool:
    """Values of one type whose equality is sameness in the column (`values.count` compares
    with ==: True == 1 and 1.0 == 1 must not make a mixed column look constant)."""
    kinds = set(map(type, values))
    return len(kinds) == 1 and kinds <= {str, int, type(None), uuid.UUID, datetime}


def _sqlite_insert(model: Any, rows: list[dict[str, Any]], suffix: str) -> list[tuple[Any, ...]]:
    """Multi-row VALUES inserts within SQLite's parameter limit (dev only)."""
    names = list(rows[0])
    fields = [model._meta.fields[n] for n in names]
    table = model._meta.table_name
    tail = f" {suffix}" if suffix else ""
    returning = "RETURNING" in suffix.upper()
    columns = ", ".join(f.column_name for f in fields)
    one = "(" + ", ".join([db.param] * len(names)) + ")"
    per_stmt = max(1, MAX_PARAMS // len(names))
    out: list[tuple[Any, ...]] = []
    for start in range(0, len(rows), per_stmt):
        chunk = rows[start : start + per_stmt]
        params_: list[Any] = []
        for row in chunk:
            params_.extend(f.db_value(row[n]) for f, n in zip(fields, names, strict=True))
        sql = f"INSERT INTO {table} ({columns}) VALUES " + ", ".join([one] * len(chunk)) + tail
        cur = db.execute_sql(sql, params_)
        if returning:
            out.extend(tuple(r) for r in cur.fetchall())
    return out


def upsert_rows(
    model: Any,
    rows: list[dict[str, Any]],
    key: tuple[str, ...],
    add: tuple[str, ...],
    replace: tuple[str, ...] = (),
) -> None:
    """Upsert `rows` into `model`'s table in one statement: a row whose `key` is stored adds
    its `add` columns to the stored ones and overwrites its `replace` columns (the rollup
    buckets of a batch; the caller orders the rows by key, the lock order)."""
    if not rows:
        return
    fields = model._meta.fields
    table = model._meta.table_name
    target = ", ".join(fields[k].column_name for k in key)
    added = [fields[n].column_name for n in add]
    replaced = [fields[n].column_name for n in replace]
    sets = [f"{c} = {table}.{c} + excluded.{c}" for c in added]
    sets += [f"{c} = excluded.{c}" for c in replaced]
    insert_rows(model, rows, suffix=f"ON CONFLICT ({target}) DO UPDATE SET {', '.join(sets)}")


def uuid4_texts(count: int) -> list[str]:
    """`count` random (version 4) UUIDs as text, from one `os.urandom` call: the ids of a
    batch's rows without building a `uuid.UUID` per row (same form as `str(uuid.uuid4())`)."""
    raw = os.urandom(16 * count).hex()
    out = []
    for at in range(0, 32 * count, 32):
        h = raw[at : at + 32]
        variant = "89ab"[int(h[16], 16) & 3]
        out.append(f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}")
    return out
