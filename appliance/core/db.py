"""The box's SQLite database: one proxy, durable pragmas, IMMEDIATE write transactions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from peewee import DatabaseProxy, SqliteDatabase

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
