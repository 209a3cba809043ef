"""Sale lines partitioned by business month (issue 12 item 5, migration 0022): the migration
converts a `report_lines` that holds rows without losing one, rows land in their month's
partition, and RLS is enforced on the parent and on every partition read directly; the
partition job (hub/reports/partitions.py) keeps months ahead and gives lines caught by the
DEFAULT partition their own month."""

from __future__ import annotations

import importlib
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import psycopg2
import pytest

from hub.migrate import _applied, _apply_one, _connect, available, ensure_app_role
from hub.reports import partitions
from hub.sync import rules as sync_rules
from hub.sync import triage
from scripts.testkit.crafted import T
from tests.hub.conftest import _admin_exec, enrol_box, login
from tests.hub.ingest_helpers import envelope, send
from tests.hub.report_helpers import at_local, item, new_products, priced_sale, zoned_branch

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


def _placed(admin: str, doc_ids: list[str]) -> dict[str, str]:
    rows = _rows(
        admin,
        "SELECT doc_id, tableoid::regclass::text FROM report_lines WHERE doc_id = ANY(%s)",
        doc_ids,
    )
    return dict(rows)  # type: ignore[arg-type]


def _reported(client: Any, branch: str, day: str) -> tuple[Decimal, Decimal]:
    """(REP-T-01 total, Σ REP-T-06 net) of one business day of `branch`."""
    f = {"branches": branch, "date_from": day, "date_to": day, "page_size": 200}
    t01 = client.get("/api/v1/reports/REP-T-01", query_string=f)
    t06 = client.get("/api/v1/reports/REP-T-06", query_string=f)
    assert (t01.status_code, t06.status_code) == (200, 200), (t01.get_json(), t06.get_json())
    total = sum((Decimal(r["total"]) for r in t01.get_json()["items"]), Decimal(0))
    net = sum((Decimal(r["net"]) for r in t06.get_json()["items"]), Decimal(0))
    return total, net


@pytest.mark.req("NFR-001", "FR-600")
def test_sales_dated_2031_and_2035_are_stored_reported_and_get_their_own_partitions(
    app, client, hub_urls, monkeypatch
):
    """Past the last partition of 0022 (2030-12) a sale lands in DEFAULT and is reported; the
    partition job then gives its month a partition with RLS, moves it there, reports the same
    and, run again, does nothing. (The hub refuses times past its clock: the clock's window is
    moved to 2036 here, as if the hub ran then.)"""
    admin = hub_urls[0]
    earliest, _latest = triage.window()
    later = (earliest, datetime(2036, 1, 1, tzinfo=UTC))
    monkeypatch.setattr(triage, "window", lambda: later)
    monkeypatch.setattr(sync_rules, "window", lambda: later)
    prods = new_products()
    branch = zoned_branch("Europe/Berlin")
    box = enrol_box(T, branch)
    sales = [
        priced_sale(1, [item(prods[0], 2), item(prods[1], 1, "0.30")],
                    at_local("Europe/Berlin", "2031-03-05T10:00:00"), cash=False),
        priced_sale(2, [item(prods[2], 3)],
                    at_local("Europe/Berlin", "2035-07-01T00:30:00"), cash=True),
    ]  # fmt: skip
    ack = send(box, [envelope(box, n + 1, s, branch_id=branch) for n, s in enumerate(sales)])
    assert ack is not None
    assert (ack.acked_through, ack.rejected) == (2, [])
    ids = [s["sale_id"] for s in sales]
    days = ["2031-03-05", "2035-07-01"]
    login(client, "owner")
    placed = _placed(admin, ids)
    assert set(placed) == set(ids)
    assert set(placed.values()) <= {
        "report_lines_default", "report_lines_2031_03", "report_lines_2035_07"
    }  # fmt: skip
    expected = [(Decimal(s["total"]), Decimal(s["total"]) - Decimal(s["tax_total"])) for s in sales]
    assert [_reported(client, branch, d) for d in days] == expected

    done = partitions.ensure(admin)
    assert _placed(admin, ids) == {ids[0]: "report_lines_2031_03", ids[1]: "report_lines_2035_07"}
    assert [_reported(client, branch, d) for d in days] == expected
    have = {r[0] for r in _rows(admin, "SELECT relname FROM pg_class WHERE relkind = 'r'")}
    assert {name for name, _, _ in partitions.months_ahead(date.today())} <= have
    unsafe = _rows(
        admin,
        """SELECT c.relname FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid
           JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'report_lines'
           AND NOT (c.relrowsecurity AND c.relforcerowsecurity)""",
    )
    assert unsafe == []  # every partition, old and new: RLS enabled and forced
    app_url = hub_urls[1]
    assert _tenant_read(app_url, T, "SELECT count(*) FROM report_lines_2035_07") == [(1,)]
    assert _tenant_read(app_url, "t-other", "SELECT count(*) FROM report_lines_2035_07") == [(0,)]
    assert partitions.ensure(admin) == {"created": [], "moved": 0}
    assert {"report_lines_2031_03", "report_lines_2035_07"} <= set(done["created"])
    assert done["moved"] == 3  # the three lines DEFAULT held
