"""Migration runner: applies hub/migrations/NNNN_*.py in order, recorded in schema_migrations.

Runs with the admin (owner/superuser) DSN; creates the non-owner app role `cfpos_app`
(LOGIN NOSUPERUSER NOBYPASSRLS) that the web app and ingest worker connect as, and the
platform role `cfpos_platform` that only platform transactions log in as.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg2
import psycopg2.errors

from hub import migrations

log = logging.getLogger(__name__)

APP_ROLE = "cfpos_app"
PLACEHOLDERS = {
    "postgres": {
        "JSON": "JSONB",
        "TS": "TIMESTAMPTZ",
        "SERIAL": "BIGSERIAL PRIMARY KEY",
        "BLOB": "BYTEA",
        "BOOL": "BOOLEAN",
    },
    "sqlite": {
        "JSON": "TEXT",
        "TS": "TEXT",
        "SERIAL": "INTEGER PRIMARY KEY AUTOINCREMENT",
        "BLOB": "BLOB",
        "BOOL": "INTEGER",
    },
}
PLATFORM_ROLE = "cfpos_platform"  # platform transactions log in as this role (0010)
_CREATE_ROLE = """
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
    CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$"""


@dataclass
class MigrationContext:
    """What a migration's up() gets: the dialect and an execute() with placeholders filled."""

    dialect: str
    cursor: Any

    def execute(self, sql: str) -> None:
        """Run one statement after replacing {JSON}/{TS}/{SERIAL}/{BLOB}/{BOOL}."""
        for key, value in PLACEHOLDERS[self.dialect].items():
            sql = sql.replace("{" + key + "}", value)
        self.cursor.execute(sql)


def available() -> list[tuple[int, str]]:
    """(version, module name) of every migration module, in order."""
    found = []
    for info in pkgutil.iter_modules(migrations.__path__):
        head = info.name.split("_", 1)[0]
        if head.isdigit():
            found.append((int(head), info.name))
    return sorted(found)


def _connect(url: str) -> tuple[str, Any]:
    if url.startswith("sqlite:///"):
        return "sqlite", sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    return "postgres", psycopg2.connect(url)


def ensure_app_role(conn: Any) -> None:
    """Create the app and platform roles if missing (tolerating the race of parallel tests)."""
    steps = [_CREATE_ROLE.format(role=role) for role in (APP_ROLE, PLATFORM_ROLE)]
    # the platform role has the app's table privileges; the app role is NOT its member
    steps.append(f"GRANT {APP_ROLE} TO {PLATFORM_ROLE}")
    for sql in steps:
        for attempt in range(3):
            try:
                with conn.cursor() as cur:
                    cur.execute(sql)
                conn.commit()
                break
            except psycopg2.errors.InternalError:
                conn.rollback()
                log.info("role creation raced, retrying", extra={"fields": {"attempt": attempt}})


def _applied(dialect: str, conn: Any) -> set[int]:
    cur = conn.cursor()
    cur.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
        "name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    cur.execute("SELECT version FROM schema_migrations")
    done = {row[0] for row in cur.fetchall()}
    if dialect == "postgres":
        conn.commit()
    return done


def _apply_one(dialect: str, conn: Any, version: int, name: str) -> None:
    module = importlib.import_module(f"hub.migrations.{name}")
    cur = conn.cursor()
    if dialect == "sqlite":
        cur.execute("BEGIN IMMEDIATE")
    module.up(MigrationContext(dialect, cur))
    mark = "%s" if dialect == "postgres" else "?"
    cur.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) "
        f"VALUES ({mark}, {mark}, {mark})",
        (version, name, datetime.now(UTC).isoformat()),
    )
    conn.commit() if dialect == "postgres" else cur.execute("COMMIT")


def migrate(url: str) -> list[str]:
    """Apply every pending migration to the database at `url`; return the names applied."""
    dialect, conn = _connect(url)
    try:
        if dialect == "postgres":
            ensure_app_role(conn)
        done = _applied(dialect, conn)
        applied = []
        for version, name in available():
            if version not in done:
                _apply_one(dialect, conn, version, name)
                log.info("migration applied", extra={"fields": {"migration": name}})
                applied.append(name)
        return applied
    finally:
        conn.close()
