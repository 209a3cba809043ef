"""Database binding and the tenant-scoped transactions that PostgreSQL RLS relies on.

The app role never sets a session-level GUC: `set_config(..., true)` is transaction
scoped, so a pooled connection cannot carry one request's tenant into the next
(PITFALLS "PostgreSQL tenant isolation").
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import unquote, urlparse

from peewee import Database, DatabaseProxy, SqliteDatabase
from playhouse.pool import PooledPostgresqlDatabase

from posdomain.errors import Forbidden, Reason
from posdomain.permissions import Principal

log = logging.getLogger(__name__)

db = DatabaseProxy()
_databases: dict[str, Database] = {}


def make_database(url: str) -> Database:
    """A peewee database for a postgresql:// or sqlite:/// URL."""
    if url.startswith("sqlite:///"):
        log.warning(
            "app-level isolation only: no row-level security on SQLite",
            extra={"fields": {"database_url": url}},
        )
        return SqliteDatabase(
            url.removeprefix("sqlite:///"),
            pragmas={"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 5000},
        )
    parts = urlparse(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError(f"unsupported database URL scheme {parts.scheme!r}")
    pooled: Database = PooledPostgresqlDatabase(
        parts.path.lstrip("/"),
        user=unquote(parts.username or ""),
        password=unquote(parts.password) if parts.password else None,
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        max_connections=16,
        stale_timeout=300,
        timeout=10,
    )
    return pooled


def bind(url: str) -> Database:
    """Bind the shared proxy to the database for `url` (cached, so rebinding is cheap)."""
    if url not in _databases:
        _databases[url] = make_database(url)
    database: Database = _databases[url]
    db.initialize(database)
    return database


def is_postgres() -> bool:
    """True when the proxy is bound to PostgreSQL (RLS is active)."""
    return isinstance(db.obj, PooledPostgresqlDatabase)


def _tenant_of(who: Principal | str) -> str:
    if isinstance(who, Principal):
        if who.tenant_id is None:
            raise Forbidden("no tenant in context", Reason.FORBIDDEN_TENANT)
        return who.tenant_id
    return who


@contextmanager
def tenant_tx(who: Principal | str) -> Iterator[None]:
    """One transaction in which RLS shows only the tenant of `who` (principal or tenant id)."""
    tenant_id = _tenant_of(who)
    with db.atomic():
        if is_postgres():
            db.execute_sql("SELECT set_config('app.tenant_id', %s, true)", (tenant_id,))
        yield


@contextmanager
def platform_tx() -> Iterator[None]:
    """One transaction with the platform flag on (APPLICATION_OWNER, box lookup, start-up)."""
    with db.atomic():
        if is_postgres():
            db.execute_sql("SELECT set_config('app.platform', 'on', true)")
        yield


def disconnect_all() -> None:
    """Close this thread's connection and every pooled one (before the database is replaced)."""
    if not db.is_closed():
        db.close()
    close_all = getattr(db.obj, "close_all", None)
    if close_all is not None:
        close_all()
