"""Numbered schema migrations (`NNNN_name.py`, each with `up(db)`), applied once, in order."""

from __future__ import annotations

import importlib
import pkgutil
import re
from datetime import UTC, datetime
from types import ModuleType
from typing import Any, cast

from peewee import SqliteDatabase

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+$")


def run_sql(db: SqliteDatabase, sql: str, params: tuple[Any, ...] = ()) -> Any:
    """Execute one statement (peewee's execute_sql is untyped)."""
    return cast(Any, db).execute_sql(sql, params)


def discover() -> list[tuple[int, str, ModuleType]]:
    """All migration modules of this package as (version, name, module), ordered."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        match = _NAME.match(info.name)
        if match:
            module = importlib.import_module(f"{__name__}.{info.name}")
            found.append((int(match.group(1)), info.name, module))
    return sorted(found, key=lambda item: item[0])


def applied_versions(db: SqliteDatabase) -> set[int]:
    """Versions recorded in schema_migrations (creating the table if needed)."""
    run_sql(
        db,
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )
    return {row[0] for row in run_sql(db, "SELECT version FROM schema_migrations")}


def migrate(db: SqliteDatabase) -> list[str]:
    """Apply every pending migration, each in its own transaction; return the names applied."""
    done = applied_versions(db)
    applied = []
    for version, name, module in discover():
        if version in done:
            continue
        with db.atomic("IMMEDIATE"):
            module.up(db)
            run_sql(
                db,
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (version, name, datetime.now(UTC).isoformat()),
            )
        applied.append(name)
    return applied


def pending(db: SqliteDatabase) -> list[str]:
    """Names of migrations not yet applied."""
    done = applied_versions(db)
    return [name for version, name, _ in discover() if version not in done]
