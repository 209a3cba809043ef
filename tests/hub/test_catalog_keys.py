"""Catalog keys checked per statement (migration 0038, issue 15 item 7): a barcode or tier must
name a product of its own tenant; a product with barcodes or tiers is never deleted and its id
never changes. Raw SQL on the real PostgreSQL, as the app role (RLS) and as the superuser."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg2
import psycopg2.errors
import pytest

from hub.catalog.csv_import import import_csv
from hub.demo.catalog_bench import generate_csv, make_bench_tenant
from posdomain.permissions import Principal, Role, Scope

pytestmark = [pytest.mark.pg]
T = "t-greenbasket"


@pytest.fixture
def app_cursor(hub_urls: tuple[str, str], app: Any) -> Iterator[Any]:
    """A cursor of the app role inside an open transaction for tenant T (rolled back)."""
    conn = psycopg2.connect(hub_urls[1])
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT set_config('app.tenant_id', %s, true)", (T,))
            yield cur
    finally:
        conn.rollback()
        conn.close()


def _product_of(hub_urls: tuple[str, str], tenant: str) -> str:
    conn = psycopg2.connect(hub_urls[0])
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT id FROM products WHERE tenant_id = %s ORDER BY id LIMIT 1", (tenant,)
            )
            return str(cur.fetchone()[0])
    finally:
        conn.close()


@pytest.mark.req("FR-200")
def test_a_barcode_or_tier_of_an_unknown_product_is_refused_whole_statement(app_cursor, hub_urls):
    mine = _product_of(hub_urls, T)
    app_cursor.execute("SAVEPOINT s")
    app_cursor.execute(
        "INSERT INTO wholesale_tiers (tenant_id, product_id, min_qty_milli, price_minor)"
        " VALUES (%s, %s, 777000, 1)",
        (T, mine),
    )  # a good row alone goes in
    app_cursor.execute("ROLLBACK TO SAVEPOINT s")
    with pytest.raises(psycopg2.errors.ForeignKeyViolation):
        app_cursor.execute(
            "INSERT INTO product_barcodes (tenant_id, product_id, barcode, code) VALUES"
            " (%s, %s, '00000000000017', '0000000000017'), (%s, 'p-nosuch', '00000000000024',"
            " '0000000000024')",
            (T, mine, T),
        )
    app_cursor.execute("ROLLBACK TO SAVEPOINT s")
    with pytest.raises(psycopg2.errors.ForeignKeyViolation):
        app_cursor.execute(
            "INSERT INTO wholesale_tiers (tenant_id, product_id, min_qty_milli, price_minor)"
            " VALUES (%s, 'p-nosuch', 1000, 1)",
            (T,),
        )


@pytest.mark.req("FR-200", "FR-100")
def test_a_barcode_cannot_name_another_tenants_product(app_cursor, hub_urls):
    """Stronger than the key it replaced (which only asked that the id existed anywhere)."""
    other = make_bench_tenant()
    owner = Principal(kind="user", id="keys-test", role=Role.TENANT_OWNER, tenant_id=other)
    import_csv(owner, other, Scope.TENANT, generate_csv(2))
    theirs = _product_of(hub_urls, other)
    with pytest.raises(psycopg2.errors.ForeignKeyViolation):
        app_cursor.execute(
            "INSERT INTO product_barcodes (tenant_id, product_id, barcode, code)"
            " VALUES (%s, %s, '00000000000031', '0000000000031')",
            (T, theirs),
        )


@pytest.mark.req("FR-200")
def test_moving_a_barcode_to_an_unknown_product_is_refused(app_cursor):
    app_cursor.execute("SELECT barcode FROM product_barcodes LIMIT 1")
    (key,) = app_cursor.fetchone()
    with pytest.raises(psycopg2.errors.ForeignKeyViolation):
        app_cursor.execute(
            "UPDATE product_barcodes SET product_id = 'p-nosuch' WHERE barcode = %s", (key,)
        )


@pytest.mark.req("FR-200")
def test_a_product_id_never_changes_and_the_app_cannot_delete_products(app_cursor, hub_urls):
    mine = _product_of(hub_urls, T)
    app_cursor.execute("SAVEPOINT s")
    app_cursor.execute("UPDATE products SET name = name WHERE id = %s", (mine,))  # other columns
    with pytest.raises(psycopg2.errors.ForeignKeyViolation):
        app_cursor.execute("UPDATE products SET id = id || '-x' WHERE id = %s", (mine,))
    app_cursor.execute("ROLLBACK TO SAVEPOINT s")
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        app_cursor.execute("DELETE FROM products WHERE id = %s", (mine,))


@pytest.mark.req("FR-200")
def test_even_the_superuser_cannot_delete_a_product_that_has_barcodes(hub_urls, app):
    conn = psycopg2.connect(hub_urls[0])
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT product_id FROM product_barcodes WHERE tenant_id = %s LIMIT 1", (T,)
            )
            (pid,) = cur.fetchone()
            cur.execute(
                "UPDATE products SET deposit_product_id = NULL WHERE deposit_product_id = %s",
                (pid,),
            )
            cur.execute("DELETE FROM branch_prices WHERE product_id = %s", (pid,))
            with pytest.raises(psycopg2.errors.ForeignKeyViolation):
                cur.execute("DELETE FROM products WHERE id = %s", (pid,))
    finally:
        conn.rollback()
        conn.close()
