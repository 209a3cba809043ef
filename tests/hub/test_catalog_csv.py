"""Catalog CSV import/export (FR-200): 10k rows, every bad row reported, nothing half-imported."""

from __future__ import annotations

import csv
import io

import pytest

from hub.catalog.csv_import import export_lines, import_changes, import_csv
from hub.catalog.models import Product
from hub.catalog.store import current_version
from hub.core.db import tenant_tx
from hub.demo.catalog_bench import generate_csv, make_bench_tenant
from hub.governance import audit
from posdomain.errors import ValidationError
from posdomain.permissions import Principal, Role, Scope
from tests.hub.conftest import login

pytestmark = [pytest.mark.pg]


def owner_of(tenant_id: str) -> Principal:
    return Principal(kind="user", id="csv-test", role=Role.TENANT_OWNER, tenant_id=tenant_id)


def products_in(tenant_id: str) -> int:
    with tenant_tx(tenant_id):
        return int(Product.select().where(Product.tenant_id == tenant_id).count())


@pytest.fixture
def tenant(app) -> str:
    return make_bench_tenant()


def _break(text: str, edits: dict[int, dict[str, str]]) -> str:
    """Apply column edits to data rows by their line number (header = line 1)."""
    rows = list(csv.DictReader(io.StringIO(text)))
    for line, change in edits.items():
        rows[line - 2].update(change)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@pytest.mark.req("FR-200")
def test_import_10000_rows(tenant):
    summary = import_csv(owner_of(tenant), tenant, Scope.TENANT, generate_csv(10_000))
    assert summary["created"] == 10_000
    assert summary["to_version"] - summary["from_version"] == 9_999
    assert products_in(tenant) == 10_000
    with tenant_tx(tenant):
        assert current_version(tenant) == summary["to_version"]
        entry = [r for r in audit.chain_records(tenant) if r.action == "catalog.imported"][-1]
    assert entry.details["created"] == 10_000
    assert len(import_changes(entry.details)) == 10_000


@pytest.mark.req("FR-200")
def test_three_bad_rows_reported_with_lines_and_nothing_imported(tenant):
    text = _break(
        generate_csv(1_000),
        {
            17: {"barcodes": "4006381333932"},
            503: {"tax_class": "LUXURY"},
            998: {"sku": "BN-000004"},  # same SKU as line 6
        },
    )
    with pytest.raises(ValidationError) as caught:
        import_csv(owner_of(tenant), tenant, Scope.TENANT, text)
    errors = caught.value.details["errors"]
    assert [(e["line"], e["reason"]) for e in errors] == [
        (17, "INVALID_BARCODE"),
        (503, "UNKNOWN_TAX_CLASS"),
        (998, "DUPLICATE"),
    ]
    assert caught.value.details["error_count"] == 3
    assert products_in(tenant) == 0
    with tenant_tx(tenant):
        assert current_version(tenant) == 0


@pytest.mark.req("FR-200")
def test_export_import_round_trip_is_identical(tenant):
    text = generate_csv(1_200)
    import_csv(owner_of(tenant), tenant, Scope.TENANT, text)
    exported = "".join(export_lines(tenant))
    assert exported.count("\n") == 1_201
    with tenant_tx(tenant):
        v = current_version(tenant)
    again = import_csv(owner_of(tenant), tenant, Scope.TENANT, exported)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1_200)
    with tenant_tx(tenant):
        assert current_version(tenant) == v
    assert "".join(export_lines(tenant)) == exported
    assert sorted(exported.splitlines()[1:]) == sorted(text.splitlines()[1:])


@pytest.mark.req("FR-200")
def test_upsert_by_sku_changes_only_changed_rows(tenant):
    text = generate_csv(50)
    import_csv(owner_of(tenant), tenant, Scope.TENANT, text)
    changed = _break(text, {10: {"price": "9.99"}, 11: {"active": "false"}})
    summary = import_csv(owner_of(tenant), tenant, Scope.TENANT, changed)
    assert (summary["created"], summary["updated"], summary["unchanged"]) == (0, 2, 48)
    with tenant_tx(tenant):
        entry = [r for r in audit.chain_records(tenant) if r.action == "catalog.imported"][-1]
    prices = {
        c["sku"]: (c["before"]["price"], c["after"]["price"]) for c in import_changes(entry.details)
    }
    assert prices["BN-000008"][1] == "9.99"


@pytest.mark.req("FR-200")
def test_http_import_and_export(client):
    login(client, "owner")
    header = "sku,name,barcodes,category,tax_class,unit,price\n"
    good = header + "CSV-1,Csv Tea,,PANTRY,REDUCED,each,2.10\n"
    with client.session_transaction() as sess:
        token = sess["csrf_token"]
    resp = client.post(
        "/api/v1/products/import",
        data=good,
        content_type="text/csv",
        headers={"X-CSRF-Token": token},
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["created"] == 1
    bad = header + "CSV-2,Bad,123,PANTRY,REDUCED,each,2.10\n"
    resp = client.post(
        "/catalog/import",
        data={"csrf_token": token, "file": (io.BytesIO(bad.encode()), "c.csv")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 400
    assert b"INVALID_BARCODE" in resp.data
    export = client.get("/api/v1/products/export.csv")
    assert export.mimetype == "text/csv"
    assert "CSV-1,Csv Tea,,PANTRY,REDUCED,each,2.10" in export.get_data(as_text=True)


def _catalog_state(tenant_id: str) -> tuple[int, int, list[tuple[str, int]]]:
    with tenant_tx(tenant_id):
        rows = list(Product.select(Product.sku, Product.price_minor).order_by(Product.sku).tuples())
        imports = [r for r in audit.chain_records(tenant_id) if r.action == "catalog.imported"]
        return current_version(tenant_id), len(imports), rows


@pytest.mark.req("FR-200")
def test_a_large_import_with_one_bad_row_at_the_end_writes_nothing(tenant):
    rows = 20_000
    text = generate_csv(rows)
    bad_last = _break(text, {rows + 1: {"price": "1.999"}})  # header is line 1
    with pytest.raises(ValidationError) as caught:
        import_csv(owner_of(tenant), tenant, Scope.TENANT, bad_last)
    details = caught.value.details
    assert (details["rows"], details["error_count"]) == (rows, 1)
    assert [(e["line"], e["reason"], e["field"]) for e in details["errors"]] == [
        (rows + 1, "INVALID_MONEY", "price")
    ]
    assert _catalog_state(tenant) == (0, 0, [])
    # the same over a catalog already held: a re-import changing prices, one bad row last
    import_csv(owner_of(tenant), tenant, Scope.TENANT, text)
    before = _catalog_state(tenant)
    repriced = "\n".join(
        line.replace(",1.50,", ",1.51,") if n else line for n, line in enumerate(text.split("\n"))
    )
    dup = _break(repriced, {rows + 1: {"barcodes": "4090000000007"}})  # line 2's barcode
    with pytest.raises(ValidationError) as caught:
        import_csv(owner_of(tenant), tenant, Scope.TENANT, dup)
    assert [(e["line"], e["reason"]) for e in caught.value.details["errors"]] == [
        (rows + 1, "DUPLICATE")
    ]
    assert _catalog_state(tenant) == before
