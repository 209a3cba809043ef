"""Product API (FR-200): CRUD, validation reason codes, tenant isolation, branch prices."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg2
import psycopg2.errors
import pytest

from hub.catalog.models import Product
from hub.catalog.store import current_version
from hub.core.db import tenant_tx
from hub.governance import audit
from posdomain.barcodes import check_digit
from tests.hub.conftest import login

pytestmark = [pytest.mark.pg]
T, OTHER = "t-greenbasket", "t-harborfoods"


def gtin() -> str:
    """A fresh valid EAN-13."""
    stem = f"47{uuid.uuid4().int % 10**10:010d}"
    return stem + check_digit(stem)


def product(**over: Any) -> dict[str, Any]:
    """A valid product body with a unique SKU and barcode."""
    body = {
        "sku": f"T-{uuid.uuid4().hex[:10]}",
        "name": "Test Oats 500g",
        "barcodes": [gtin()],
        "category": "PANTRY",
        "tax_class": "REDUCED",
        "unit": "each",
        "price": "1.99",
        "cost": "1.10",
        "wholesale_tiers": [{"min_qty": "50", "price": "1.69"}, {"min_qty": "10", "price": "1.79"}],
    }
    return {**body, **over}


def count_products() -> int:
    with tenant_tx(T):
        return int(Product.select().where(Product.tenant_id == T).count())


def version() -> int:
    with tenant_tx(T):
        return current_version(T)


@pytest.fixture
def owner(client):
    login(client, "owner")
    return client


@pytest.mark.req("FR-200")
def test_create_read_update_archive_with_audit_and_versions(owner):
    before_v = version()
    resp = owner.post("/api/v1/products", json=product(name="Rolled Oats"))
    assert resp.status_code == 201, resp.get_json()
    created = resp.get_json()
    assert created["price"] == "1.99"
    assert created["cost"] == "1.10"
    assert created["wholesale_tiers"] == [
        {"min_qty": "10", "price": "1.79"},
        {"min_qty": "50", "price": "1.69"},
    ]
    assert created["version"] == before_v + 1 == version()
    pid = created["id"]
    body = product(sku=created["sku"], name="Rolled Oats 1kg", price="2.49", barcodes=[])
    updated = owner.put(f"/api/v1/products/{pid}", json=body).get_json()
    assert updated["name"] == "Rolled Oats 1kg"
    assert updated["barcodes"] == []
    archived = owner.delete(f"/api/v1/products/{pid}").get_json()
    assert archived["active"] is False
    assert archived["version"] == before_v + 3
    assert owner.get(f"/api/v1/products/{pid}").get_json()["active"] is False
    with tenant_tx(T):
        entries = [r for r in audit.chain_records(T) if r.target == f"product:{pid}"]
    assert [e.action for e in entries] == ["product.created", "product.updated", "product.archived"]
    assert entries[1].details["before"]["name"] == "Rolled Oats"
    assert entries[1].details["after"]["name"] == "Rolled Oats 1kg"


@pytest.mark.req("FR-200")
@pytest.mark.parametrize(
    ("over", "status", "reason"),
    [
        ({"barcodes": ["4006381333932"]}, 400, "INVALID_BARCODE"),
        ({"barcodes": ["12345"]}, 400, "INVALID_BARCODE"),
        ({"tax_class": "LUXURY"}, 400, "UNKNOWN_TAX_CLASS"),
        ({"category": "NOPE"}, 400, "UNKNOWN_CATEGORY"),
        ({"price": 1.99}, 400, "VALIDATION_FAILED"),
        ({"price": "1.999"}, 400, "INVALID_MONEY"),
        ({"price": "-1.00"}, 400, "INVALID_MONEY"),
        ({"unit": "box"}, 400, "VALIDATION_FAILED"),
        ({"deposit_product_id": "p-003"}, 400, "UNKNOWN_DEPOSIT"),
        ({"sku": "GB-0001"}, 409, "DUPLICATE"),
        ({"barcodes": ["4006381333931"]}, 409, "DUPLICATE"),
        ({"barcodes": ["04006381333931"]}, 409, "DUPLICATE"),
    ],
)
def test_validation_errors_have_reason_codes_and_write_nothing(owner, over, status, reason):
    n, v = count_products(), version()
    resp = owner.post("/api/v1/products", json=product(**over))
    assert resp.status_code == status, resp.get_json()
    assert resp.get_json()["error"]["reason"] == reason
    assert count_products() == n
    assert version() == v


@pytest.mark.req("FR-200")
def test_invalid_barcode_names_the_code(owner):
    resp = owner.post("/api/v1/products", json=product(barcodes=[gtin(), "96385070"]))
    assert resp.get_json()["error"]["details"]["barcode"] == "96385070"


@pytest.mark.req("FR-200")
@pytest.mark.parametrize(
    "code",
    ["96385074", "036000291452", "4006381333931", "10614141000415", "01234565"],
    ids=["EAN-8", "UPC-A", "EAN-13", "GTIN-14", "UPC-E"],
)
def test_every_gtin_kind_is_accepted(app, code):
    client = app.test_client()
    login(client, "harbor-owner")  # own tenant, so the fixed codes never collide with seed data
    body = product(barcodes=[code], category=None, tax_class="STD")
    resp = client.post("/api/v1/products", json=body)
    assert resp.status_code == 201, resp.get_json()
    assert client.delete(f"/api/v1/products/{resp.get_json()['id']}").status_code == 200


@pytest.mark.req("FR-200", "FR-100")
def test_same_sku_allowed_in_another_tenant(app):
    a, b = app.test_client(), app.test_client()
    login(a, "owner")
    login(b, "harbor-owner")
    sku, code = f"S-{uuid.uuid4().hex[:8]}", gtin()
    assert a.post("/api/v1/products", json=product(sku=sku, barcodes=[code])).status_code == 201
    body = product(sku=sku, barcodes=[code], category=None)
    assert b.post("/api/v1/products", json=body).status_code == 201
    assert a.post("/api/v1/products", json=product(sku=sku)).status_code == 409


@pytest.mark.smoke
@pytest.mark.req("FR-200", "FR-100")
def test_other_tenant_cannot_read_update_or_archive_by_id(app):
    harbor = app.test_client()
    login(harbor, "harbor-owner")
    assert harbor.get("/api/v1/products/p-001").status_code == 404
    body = product(sku="GB-0001", category=None, tax_class="STD")
    assert harbor.put("/api/v1/products/p-001", json=body).status_code == 404
    assert harbor.delete("/api/v1/products/p-001").status_code == 404
    resp = harbor.put("/api/v1/products/p-001/branch-prices/b-downtown", json={"price": "0.01"})
    assert resp.status_code == 403  # another tenant's branch in the path (P0 probe item 2)
    assert resp.get_json()["error"]["reason"] == "FORBIDDEN_BRANCH"
    assert harbor.get("/api/v1/products?q=Bananas").get_json()["total"] == 0
    with tenant_tx(T):
        assert Product.get_by_id("p-001").active is True


@pytest.mark.req("FR-200", "FR-100")
def test_rls_on_catalog_tables(hub_urls, app):
    conn = psycopg2.connect(hub_urls[1])
    tables = ("categories", "products", "product_barcodes", "wholesale_tiers", "branch_prices")
    with conn, conn.cursor() as cur:
        for table in (*tables, "barcode_formats", "catalog_state"):
            cur.execute(f"SELECT count(*) FROM {table}")
            assert cur.fetchone()[0] == 0, table
        cur.execute("SELECT set_config('app.tenant_id', %s, true)", (OTHER,))
        cur.execute("SELECT count(*) FROM products WHERE tenant_id = %s", (T,))
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT count(*) FROM product_barcodes WHERE tenant_id = %s", (T,))
        assert cur.fetchone()[0] == 0
    with conn.cursor() as cur:
        cur.execute("SELECT set_config('app.tenant_id', %s, true)", (OTHER,))
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute(
                "INSERT INTO categories (tenant_id, code, name, created_at) "
                "VALUES (%s, 'X', 'x', now())",
                (T,),
            )
    conn.rollback()
    with conn.cursor() as cur:
        cur.execute("SELECT set_config('app.tenant_id', %s, true)", (T,))
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("DELETE FROM products WHERE id = 'p-001'")
    conn.rollback()
    conn.close()


@pytest.mark.req("FR-200", "FR-101")
def test_branch_manager_sets_only_own_branch_price(app):
    manager = app.test_client()
    login(manager, "manager")  # b-downtown only
    url = "/api/v1/products/p-004/branch-prices/{}"
    resp = manager.put(url.format("b-downtown"), json={"price": "3.29"})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["price"] == "3.29"
    resp = manager.put(url.format("b-riverside"), json={"price": "3.19"})
    assert resp.status_code == 403
    assert resp.get_json()["error"]["reason"] == "FORBIDDEN_BRANCH"
    assert manager.post("/api/v1/products", json=product()).status_code == 403
    assert manager.delete("/api/v1/products/p-004").status_code == 403
    detail = manager.get("/api/v1/products/p-004").get_json()
    assert {"branch_id": "b-downtown", "price": "3.29"} in detail["branch_prices"]
    assert manager.put(url.format("b-downtown"), json={"price": None}).status_code == 200
    assert manager.get("/api/v1/products/p-004").get_json()["branch_prices"] == []
    cashier = app.test_client()
    login(cashier, "cashier")
    assert cashier.get("/api/v1/products").status_code == 403


@pytest.mark.smoke
@pytest.mark.req("FR-200")
def test_search_filters_and_paging(owner):
    by_name = owner.get("/api/v1/products?q=banan").get_json()
    assert [p["sku"] for p in by_name["items"]] == ["GB-0001"]
    by_code = owner.get("/api/v1/products?q=4006381333931").get_json()
    assert [p["sku"] for p in by_code["items"]] == ["GB-0003"]
    by_sku = owner.get("/api/v1/products?q=GB-003&page_size=5&page=2").get_json()
    assert (by_sku["page"], by_sku["pages"], len(by_sku["items"])) == (2, 2, 5)
    # q=GB-0: the seeded catalog only (report tests add DRINKS/STD products of their own)
    drinks = owner.get("/api/v1/products?category=DRINKS&tax_class=STD&q=GB-0").get_json()
    assert {p["sku"] for p in drinks["items"]} == {"GB-0016", "GB-0017"}
    assert owner.get("/api/v1/products?active=false&q=GB-00").get_json()["total"] == 0


@pytest.mark.req("FR-200")
def test_barcode_formats_crud(owner):
    listed = owner.get("/api/v1/barcode-formats").get_json()["items"]
    assert {f["prefix"] for f in listed if f["active"]} >= {"21", "28"}
    body = {"prefix": "23", "item": [2, 7], "value": [7, 12], "kind": "weight", "decimals": 3}
    created = owner.post("/api/v1/barcode-formats", json=body)
    assert created.status_code == 201, created.get_json()
    fid = created.get_json()["id"]
    assert owner.post("/api/v1/barcode-formats", json=body).status_code == 409
    bad = {**body, "value": [7, 14]}
    assert owner.put(f"/api/v1/barcode-formats/{fid}", json=bad).status_code == 400
    assert owner.delete(f"/api/v1/barcode-formats/{fid}").get_json()["active"] is False


@pytest.mark.req("FR-200", "FR-801")
def test_portal_pages_render_and_form_saves(owner):
    page = owner.get("/catalog?q=Lager")
    assert page.status_code == 200
    assert b"Lager 6x330ml" in page.data
    form = owner.get("/catalog/p-033")
    assert b'name="csrf_token"' in form.data
    with owner.session_transaction() as sess:
        token = sess["csrf_token"]
    data = {
        "csrf_token": token,
        "sku": f"F-{uuid.uuid4().hex[:8]}",
        "name": "Form Product",
        "barcodes": gtin(),
        "tax_class": "STD",
        "unit": "each",
        "price": "3.10",
        "active": "true",
    }
    assert owner.post("/catalog/new", data=data).status_code == 302
    bad = owner.post("/catalog/new", data={**data, "sku": "F-other", "barcodes": "123"})
    assert bad.status_code == 400
    assert b"INVALID_BARCODE" in bad.data
    assert owner.post("/catalog/new", data={**data, "csrf_token": "x"}).status_code == 400
    assert owner.get("/catalog/import").status_code == 200
