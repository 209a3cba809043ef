"""Sale lines partitioned by business month (issue 12 item 5, migration 0022): the migration
converts a `report_lines` that holds rows without losing one, rows land in their month's
partition, and RLS is enforced on the parent and on every partition read directly."""

from __future__ import annotations

import importlib
import uuid
from typing import Any

import psycopg2
import pytest

from hub.migrate import _applied, _apply_one, _connect, available, ensure_app_role
from tests.hub.conftest import _admin_exec

pytestmark = [pytest.mark.pg]
PARTITIONED = 22


def _rows(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall()) if cur.description else []
    finally:
        conn.close()


def _line(tenant: str, day: str, n: int) -> tuple[Any, ...]:
    doc = f"d-{tenant}-{n}"
    return (tenant, "b-1", "box-1", "u-1", day, "sale", doc, doc, 1, "p-1", "S", "N", None,
            "STD", "0.20", 1000, 100, 0, 0, 100, 20, 120, 60, None, None)  # fmt: skip


@pytest.mark.req("NFR-001", "FR-600")
def test_the_migration_partitions_held_lines_and_rls_holds_on_every_partition(pg_admin_dsn):
    name = f"cfpos_test_part_{uuid.uuid4().hex[:8]}"
    _admin_exec(pg_admin_dsn, f"CREATE DATABASE {name}")
    admin = f"{pg_admin_dsn.rsplit('/', 1)[0]}/{name}"
    try:
        dialect, conn = _connect(admin)
        ensure_app_role(conn)
        _applied(dialect, conn)
        for version, module in available():
            if version < PARTITIONED:
                _apply_one(dialect, conn, version, module)
        for tenant in ("t-a", "t-b"):
            _rows(admin, "INSERT INTO tenants (id, name, created_at) VALUES (%s, %s, now())",
                  tenant, tenant)  # fmt: skip
        cols = importlib.import_module("hub.migrations.0022_report_exceptions").NAMES
        cols = cols.removeprefix("id, ")
        held = [_line("t-a", "2026-03-31", 1), _line("t-a", "2026-04-01", 2),
                _line("t-b", "2026-04-15", 3), _line("t-b", "2019-12-31", 4)]  # fmt: skip
        for row in held:
            marks = ", ".join(["%s"] * len(row))
            _rows(admin, f"INSERT INTO report_lines ({cols}) VALUES ({marks})", *row)
        before = _rows(admin, "SELECT id, doc_id, net FROM report_lines ORDER BY id")
        for version, module in available():
            if version >= PARTITIONED:
                _apply_one(dialect, conn, version, module)
        conn.close()
        assert _rows(admin, "SELECT id, doc_id, net FROM report_lines ORDER BY id") == before
        kind = _rows(admin, "SELECT relkind FROM pg_class WHERE relname = 'report_lines'")
        assert kind == [("p",)]  # partitioned
        placed = _rows(
            admin,
            "SELECT tableoid::regclass::text, doc_id FROM report_lines ORDER BY doc_id",
        )
        assert placed == [
            ("report_lines_2026_03", "d-t-a-1"), ("report_lines_2026_04", "d-t-a-2"),
            ("report_lines_2026_04", "d-t-b-3"), ("report_lines_default", "d-t-b-4"),
        ]  # fmt: skip
        # the id sequence goes on after the copied rows
        _rows(admin, f"INSERT INTO report_lines ({cols}) VALUES ({marks})",
              *_line("t-a", "2026-04-02", 5))  # fmt: skip
        assert max(r[0] for r in _rows(admin, "SELECT id FROM report_lines")) > before[-1][0]
        unsafe = _rows(
            admin,
            """SELECT c.relname FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid
               JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'report_lines'
               AND NOT (c.relrowsecurity AND c.relforcerowsecurity)""",
        )
        assert unsafe == []  # every partition: RLS enabled and forced
        app = f"postgresql://cfpos_app@127.0.0.1:5432/{name}"
        for table in ("report_lines", "report_lines_2026_04", "report_lines_default"):
            seen = _tenant_read(app, "t-a", f"SELECT DISTINCT tenant_id FROM {table}")
            assert seen in ([], [("t-a",)]), table
        assert _tenant_read(app, "t-b", "SELECT doc_id FROM report_lines_2026_04") == [("d-t-b-3",)]
        assert _tenant_read(app, "", "SELECT count(*) FROM report_lines_2026_04") == [(0,)]
    finally:
        _admin_exec(pg_admin_dsn, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _tenant_read(app: str, tenant: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows the app role reads in a transaction of `tenant`."""
    conn = psycopg2.connect(app)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant,))
            cur.execute(sql)
            return list(cur.fetchall())
    finally:
        conn.close()
