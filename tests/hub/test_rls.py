"""PostgreSQL RLS as the app role (FR-100): no WHERE clause still sees only one tenant."""

from __future__ import annotations

import psycopg2
import psycopg2.errors
import pytest

from hub.core.db import db, tenant_tx
from hub.sales.models import Sale
from hub.sync.apply import apply_batch
from scripts.testkit.crafted import make_batch
from tests.hub.conftest import enrol_box

pytestmark = [pytest.mark.pg]


@pytest.fixture
def two_tenants_with_sales(app):
    for tenant, branch in (("t-greenbasket", "b-downtown"), ("t-harborfoods", "b-harbor-main")):
        box = enrol_box(tenant, branch)
        apply_batch(make_batch(box, tenant, branch, [1]), box)


def _app_conn(hub_urls):
    conn = psycopg2.connect(hub_urls[1])
    return conn


@pytest.mark.req("FR-100")
def test_raw_sql_without_where_sees_only_current_tenant(hub_urls, two_tenants_with_sales):
    conn = _app_conn(hub_urls)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT set_config('app.tenant_id', 't-greenbasket', true)")
        cur.execute("SELECT DISTINCT tenant_id FROM sales")
        assert [r[0] for r in cur.fetchall()] == ["t-greenbasket"]
        cur.execute("SELECT DISTINCT tenant_id FROM audit_log")
        assert [r[0] for r in cur.fetchall()] == ["t-greenbasket"]
    with conn, conn.cursor() as cur:
        for table in ("sales", "users", "audit_log", "boxes", "config_versions", "tenants"):
            cur.execute(f"SELECT count(*) FROM {table}")
            assert cur.fetchone()[0] == 0, table
    conn.close()


@pytest.mark.req("FR-100")
def test_app_role_cannot_bypass_rls(hub_urls):
    conn = _app_conn(hub_urls)
    with conn.cursor() as cur:
        cur.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert cur.fetchone() == (False, False)
        cur.execute("SELECT count(*) FROM pg_tables WHERE tableowner = current_user")
        assert cur.fetchone()[0] == 0
        cur.execute("SET row_security = off")
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("SELECT count(*) FROM sales")
    conn.rollback()
    with conn.cursor() as cur:
        cur.execute("SELECT set_config('app.tenant_id', 't-greenbasket', true)")
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("INSERT INTO tenants (id, name, created_at) VALUES ('t-x', 'x', now())")
    conn.rollback()
    conn.close()


@pytest.mark.req("FR-100")
def test_pooled_connection_does_not_leak_tenant(two_tenants_with_sales):
    with tenant_tx("t-greenbasket"):
        assert Sale.select().count() > 0
        conn_id = id(db.connection())
    with db.atomic():
        assert id(db.connection()) == conn_id
        assert Sale.select().count() == 0
        setting = db.execute_sql("SELECT current_setting('app.tenant_id', true)").fetchone()[0]
        assert setting in ("", None)


@pytest.mark.req("FR-802")
def test_audit_log_is_append_only_for_app_role(hub_urls):
    conn = _app_conn(hub_urls)
    for sql in (
        "UPDATE audit_log SET severity = 'INFO'",
        "DELETE FROM audit_log",
        "UPDATE box_audit SET severity = 'INFO'",
        "TRUNCATE audit_log",
    ):
        with conn.cursor() as cur:
            cur.execute("SELECT set_config('app.tenant_id', 't-greenbasket', true)")
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute(sql)
        conn.rollback()
    conn.close()
