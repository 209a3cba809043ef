"""Multi-row INSERTs for the hot ingest path (one statement per table per batch).

Peewee's `insert_many` builds its SQL node by node, which costs more Python time than the
database spends on the rows; this writes the same `INSERT … VALUES (…), (…)` directly, with
every value converted by the model field (JSON, UTC timestamps) exactly as peewee would.
"""

from __future__ import annotations

from typing import Any

from hub.core.db import db

# well under PostgreSQL's 65 535 and SQLite's 32 766 bind parameters per statement
MAX_PARAMS = 30_000


def insert_rows(
    model: Any, rows: list[dict[str, Any]], *, suffix: str = ""
) -> list[tuple[Any, ...]]:
    """Insert `rows` (same keys each) into `model`'s table; return the rows of `suffix`'s
    RETURNING clause, if any (`suffix` is e.g. "ON CONFLICT DO NOTHING RETURNING id")."""
    if not rows:
        return []
    names = list(rows[0])
    fields = [model._meta.fields[n] for n in names]
    columns = ", ".join(f.column_name for f in fields)
    one = "(" + ", ".join([db.param] * len(names)) + ")"
    per_stmt = max(1, MAX_PARAMS // len(names))
    out: list[tuple[Any, ...]] = []
    for start in range(0, len(rows), per_stmt):
        chunk = rows[start : start + per_stmt]
        params: list[Any] = []
        for row in chunk:
            params.extend(f.db_value(row[n]) for f, n in zip(fields, names, strict=True))
        sql = (
            f"INSERT INTO {model._meta.table_name} ({columns}) VALUES "
            + ", ".join([one] * len(chunk))
            + (f" {suffix}" if suffix else "")
        )
        cur = db.execute_sql(sql, params)
        if "RETURNING" in suffix.upper():
            out.extend(tuple(r) for r in cur.fetchall())
    return out
