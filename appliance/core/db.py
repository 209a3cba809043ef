"""The box's SQLite database: one proxy, durable pragmas, IMMEDIATE write transactions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

import peewee
from peewee import AutoField, DatabaseProxy, IntegerField, Model, SqliteDatabase, TextField

database = DatabaseProxy()

# synchronous=FULL (2): WAL + NORMAL can lose committed sales on power loss (PITFALLS).
PRAGMAS: dict[str, Any] = {
    "journal_mode": "wal",
    "synchronous": 2,
    "foreign_keys": 1,
    "busy_timeout": 5000,
}


def open_database(path: str | Path) -> SqliteDatabase:
    """Open (creating the folder if needed) the box database and bind the proxy to it."""
    target = Path(path)
    if str(path) != ":memory:":
        target.parent.mkdir(parents=True, exist_ok=True)
    db = SqliteDatabase(str(target), pragmas=PRAGMAS, timeout=5)
    database.initialize(db)
    return db


def write_txn() -> Any:
    """A write transaction that takes the write lock up front (no upgrade deadlocks)."""
    return database.atomic("IMMEDIATE")


# what peewee's own execute_sql turns sqlite3's errors into peewee's (IntegrityError, ...) with
_PEEWEE_ERRORS: Any = getattr(peewee, "__exception_wrapper__")  # noqa: B009 - a dunder name
M = TypeVar("M", bound=Model)
# fields whose stored value is already the Python value (no conversion needed)
_PLAIN = (AutoField, IntegerField, TextField)
_STORED: dict[type, type] = {AutoField: int, IntegerField: int, TextField: str}


def select_models(model: type[M], sql: str, params: Sequence[Any] = ()) -> list[M]:
    """The rows of one hand-written SELECT as `model` instances (every column a column of the
    model, named as in its table). For the till's hot path (issue 15): peewee spends more
    time building a query's SQL and each row's instance than SQLite spends answering; here the
    statement is a constant (sqlite3 keeps it prepared) and each instance is filled the way
    peewee fills one it read (`model_reader`)."""
    cursor = cast(Any, database).execute_sql(sql, tuple(params))
    read = model_reader(model, [d[0] for d in cursor.description])
    return [read(row) for row in cursor]


def model_reader(model: type[M], columns: Sequence[str]) -> Callable[[Sequence[Any]], M]:
    """What makes a `model` instance of a row holding these columns of its table: filled the
    way peewee fills one it read (its field data, nothing dirty), without running the field
    defaults and setters of a new instance."""
    known = model._meta.columns
    fields = [known[c] for c in columns]
    names = [f.name for f in fields]
    convert = [(i, f.python_value) for i, f in enumerate(fields) if type(f) not in _PLAIN]

    def read(row: Sequence[Any]) -> M:
        if convert:
            row = list(row)
            for i, to_python in convert:
                row[i] = to_python(row[i])
        instance = model.__new__(model)
        state = cast(Any, instance)  # peewee's per-instance state is untyped
        state.__data__ = dict(zip(names, row, strict=True))
        state._dirty = set()
        state.__rel__ = {}
        return instance

    return read


def select_one(model: type[M], sql: str, params: Sequence[Any] = ()) -> M | None:
    """The first row of `select_models`, or None when there is none."""
    found = select_models(model, sql, params)
    return found[0] if found else None


def execute(sql: str, params: Sequence[Any] = ()) -> Any:
    """Run one hand-written statement on the box database (its cursor)."""
    return cast(Any, database).execute_sql(sql, tuple(params))


def insert_rows(model: type[Model], rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows (field name -> value, every row the same fields) with one prepared
    statement run for each row (`executemany`), not a query built per row: a 30-line sale
    writes its lines and stock movements this way. Field defaults are not applied: every
    NOT NULL field without a database default must be given."""
    if not rows:
        return
    fields = [model._meta.fields[name] for name in rows[0]]
    to_db = [f.db_value for f in fields]
    kinds = [_STORED.get(type(f)) for f in fields]  # the Python type stored as it is
    marks = ", ".join("?" * len(fields))
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    values = []
    for row in rows:
        if row.keys() != rows[0].keys():
            raise ValueError("insert_rows: every row must name the same fields")
        value = [
            v if v is None or type(v) is kind else convert(v)
            for v, kind, convert in zip(row.values(), kinds, to_db, strict=True)
        ]
        values.append(value)
    sql = f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ({marks})'
    with _PEEWEE_ERRORS:  # a constraint fails as peewee's IntegrityError, as Model.insert's
        cast(Any, database).cursor().executemany(sql, values)
