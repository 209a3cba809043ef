"""Database binding and the tenant-scoped transactions that PostgreSQL RLS relies on.

The app role never sets a session-level GUC: `set_config(..., true)` is transaction
scoped, so a pooled connection cannot carry one request's tenant into the next
(PITFALLS "PostgreSQL tenant isolation").

Platform work (login lookups, box identity, start-up chain checks) does not switch a flag
the app role could switch itself: it runs on a separate connection that logs in as the
`cfpos_platform` role, the only role the RLS policies let past the tenant check. A tenant
transaction running injected SQL (`set_config('app.platform', ...)`, `SET ROLE`) cannot
widen itself: the app role is not a member of the platform role (docs/security.md).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import unquote, urlparse

import peewee
from peewee import Database, DatabaseProxy, InterfaceError, OperationalError, SqliteDatabase
from playhouse.pool import PooledPostgresqlDatabase

from hub.core import writer
from posdomain.errors import Forbidden, Reason
from posdomain.permissions import Principal

log = logging.getLogger(__name__)

APP_ROLE = "cfpos_app"
PLATFORM_ROLE = "cfpos_platform"
_route: ContextVar[Database | None] = ContextVar("cfpos_platform_route", default=None)


class RoutingProxy(DatabaseProxy):
    """The shared proxy: the bound database, or the platform one inside `platform_tx()`."""

    __slots__ = ("_base", "_platform")

    def __setattr__(self, attr: str, value: Any) -> None:
        if attr == "obj":
            attr = "_base"
        object.__setattr__(self, attr, value)

    @property
    def obj(self) -> Database | None:
        """The database queries go to in this context."""
        routed = _route.get()
        return routed if routed is not None else self._base


class HubPostgresDatabase(PooledPostgresqlDatabase):  # type: ignore[misc]
    """The pooled PostgreSQL database, aware of statements sent ahead (`hub.core.writer`):
    every statement and the commit of a thread first wait for what it sent ahead, and a
    rollback first discards it, so a transaction ends with nothing of it still queued."""

    def execute_sql(self, sql: str, params: Any = None) -> Any:
        writer.barrier()
        return super().execute_sql(sql, params)

    def commit(self) -> Any:
        writer.barrier()
        return super().commit()

    def rollback(self) -> Any:
        writer.discard()
        return super().rollback()


db = RoutingProxy()
db._platform = None
_databases: dict[str, Database] = {}
# SQLSTATE classes worth retrying: connection, rollback (serialization, deadlock), resources,
# object in use / lock not available, operator intervention (shutdown, cancel), system I/O
TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "55", "57", "58"})


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
    pooled: Database = HubPostgresDatabase(
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


def platform_url_for(url: str) -> str:
    """The platform role's URL beside an app-role URL (same server and database).

    Only a URL that logs in as the app role has a platform twin; any other URL (SQLite, a
    superuser in a dev shell) is its own platform connection.
    """
    parts = urlparse(url)
    if parts.scheme not in ("postgresql", "postgres") or unquote(parts.username or "") != APP_ROLE:
        return url
    netloc = parts.netloc.replace(APP_ROLE, PLATFORM_ROLE, 1)
    return parts._replace(netloc=netloc).geturl()


def _database(url: str) -> Database:
    if url not in _databases:
        _databases[url] = make_database(url)
    return _databases[url]


def bind(url: str, platform_url: str | None = None) -> Database:
    """Bind the shared proxy to `url`, platform work to `platform_url` (cached, cheap)."""
    database = _database(url)
    db.initialize(database)
    db._platform = _database(platform_url or platform_url_for(url))
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
def send_ahead() -> Iterator[None]:
    """Inside a transaction: its inserts that need no answer run on a writer thread while
    this thread goes on (`hub.core.writer`); on SQLite (dev only) a plain block."""
    if not is_postgres():
        yield
        return
    database: Any = db.obj
    # peewee's module-level wrapper: a failure is raised as peewee's IntegrityError etc.
    wrapper: Any = peewee.__exception_wrapper__  # type: ignore[attr-defined]
    with writer.pipelined(database.connection(), wrapper):
        yield


@contextmanager
def read_only_tx(who: Principal | str) -> Iterator[None]:
    """A tenant transaction that cannot write: PostgreSQL `READ ONLY` with a REPEATABLE READ
    snapshot (every query sees the same moment), for predictive endpoints and exports.

    Any INSERT/UPDATE/DELETE inside fails with SQLSTATE 25006; on SQLite (no RLS, dev only)
    `PRAGMA query_only` gives the same refusal.
    """
    tenant_id = _tenant_of(who)
    with db.atomic():
        if is_postgres():
            db.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            db.execute_sql("SELECT set_config('app.tenant_id', %s, true)", (tenant_id,))
            yield
            return
        db.execute_sql("PRAGMA query_only = ON")
        try:
            yield
        finally:
            db.execute_sql("PRAGMA query_only = OFF")


@contextmanager
def platform_tx() -> Iterator[None]:
    """One transaction as the platform role (APPLICATION_OWNER, box lookup, start-up).

    Nested inside another platform transaction it is a savepoint of that one; anywhere
    else it is its own transaction on the platform connection, committed on exit.
    """
    if _route.get() is not None:
        with db.atomic():
            yield
        return
    platform: Database | None = db._platform if db._platform is not None else db.obj
    assert platform is not None, "bind() the database first"
    was_closed = platform.is_closed()
    token = _route.set(platform)
    try:
        with platform.atomic():
            yield
    finally:
        _route.reset(token)
        if was_closed and platform is not db.obj and not platform.is_closed():
            platform.close()


def close_connection() -> None:
    """Give this thread's connection back (to the pool) if it holds one: at the end of a
    request, of a worker thread, or after a failed transaction."""
    if not db.is_closed():
        db.close()


def disconnect_all() -> None:
    """Close this thread's connection and every pooled one (before the database is replaced)."""
    close_connection()
    for database in (db.obj, db._platform):
        close_all = getattr(database, "close_all", None)
        if close_all is not None:
            close_all()


def is_transient(err: BaseException) -> bool:
    """True for a database failure that a retry may cure (connection lost, deadlock, shutdown).

    Everything else (constraint violations, bad data, program limits such as "statement too
    complex") fails the same way every time and must be classified, never retried forever.
    """
    if isinstance(err, InterfaceError):
        return True
    if not isinstance(err, OperationalError):
        return False
    cause = err.args[0] if err.args else None
    code = getattr(cause, "pgcode", None)
    return code is None or str(code)[:2] in TRANSIENT_SQLSTATE_CLASSES
