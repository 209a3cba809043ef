"""Platform scope cannot be self-granted (P0 probe item 8, FR-100/NFR-005).

An attacker with SQL injection inside a tenant transaction runs as the app role. Before
migration 0010 `set_config('app.platform', 'on', true)` opened every tenant's rows to it;
now only the separate `cfpos_platform` login role passes the policies, and the app role is
not a member of it.
"""

from __future__ import annotations

import psycopg2
import psycopg2.errors
import pytest

from hub.core.db import PLATFORM_ROLE, db, platform_tx, platform_url_for, tenant_tx
from hub.identity.models import Tenant, User

pytestmark = [pytest.mark.pg]
A, B = "t-greenbasket", "t-harborfoods"
TABLES = ("users", "branches", "tenants", "audit_log", "products", "config_versions")


@pytest.mark.req("FR-100", "NFR-005")
def test_injected_platform_flag_does_not_widen_a_tenant_transaction(hub_urls, app):
    conn = psycopg2.connect(hub_urls[1])
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT set_config('app.tenant_id', %s, true)", (A,))
            cur.execute("SELECT set_config('app.platform', 'on', true)")
            for table in TABLES:
                column = "id" if table == "tenants" else "tenant_id"
                cur.execute(f"SELECT count(*) FROM {table} WHERE {column} = %s", (B,))
                assert cur.fetchone()[0] == 0, f"{table}: another tenant's rows visible"
            cur.execute("UPDATE users SET display_name = 'pwned' WHERE tenant_id = %s", (B,))
            assert cur.rowcount == 0
        with conn.cursor() as cur:
            cur.execute("SELECT set_config('app.tenant_id', %s, true)", (A,))
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute(f"SET ROLE {PLATFORM_ROLE}")
        conn.rollback()
        with conn.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute(f"SET SESSION AUTHORIZATION {PLATFORM_ROLE}")
        conn.rollback()
    finally:
        conn.close()


@pytest.mark.req("FR-100")
def test_the_same_through_the_models(app):
    with tenant_tx(A):
        db.execute_sql("SELECT set_config('app.platform', 'on', true)")
        assert User.select().where(User.tenant_id == B).count() == 0
        assert [t.id for t in Tenant.select()] == [A]


@pytest.mark.req("FR-100")
def test_platform_transactions_still_see_every_tenant(app):
    with platform_tx():
        who = db.execute_sql("SELECT current_user").fetchone()[0]
        tenants = {t.id for t in Tenant.select()}
    assert who == PLATFORM_ROLE
    assert {A, B} <= tenants
    with tenant_tx(A):
        assert db.execute_sql("SELECT current_user").fetchone()[0] == "cfpos_app"


@pytest.mark.req("FR-100")
def test_no_policy_trusts_a_setting_for_platform_scope(hub_urls):
    conn = psycopg2.connect(hub_urls[0])
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT tablename, qual, with_check FROM pg_policies")
            rows = cur.fetchall()
            cur.execute(
                "SELECT count(*) FROM pg_tables t WHERE schemaname = 'public' AND rowsecurity"
            )
            rls_tables = cur.fetchone()[0]
    finally:
        conn.close()
    assert rls_tables >= 39
    offenders = [t for t, q, c in rows if "app.platform" in f"{q} {c}"]
    assert offenders == []
    # release artifacts are the platform's published builds, not tenant data: every tenant's
    # boxes read the one on offer (0018_releases); only the platform role writes them
    public_read = {("release_artifacts", "true", None)}
    assert [
        (t, q, c)
        for t, q, c in rows
        if PLATFORM_ROLE not in f"{q} {c}"
        and "tenant_id" not in f"{q} {c}"
        and (t, q, c) not in public_read
    ] == []


def test_platform_url_is_the_app_url_with_the_platform_role():
    url = "postgresql://cfpos_app:pw@db.example:5433/hub"
    assert platform_url_for(url) == "postgresql://cfpos_platform:pw@db.example:5433/hub"
    assert platform_url_for("sqlite:///x.db") == "sqlite:///x.db"
    assert platform_url_for("postgresql://postgres@h/db") == "postgresql://postgres@h/db"
