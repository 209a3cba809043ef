"""Catalog import edge cases (FR-200): control characters in cells, two imports at once."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import pytest

from hub.catalog import store
from hub.catalog.csv_import import import_csv
from hub.catalog.models import Product
from hub.core.db import tenant_tx
from hub.demo.catalog_bench import generate_csv, make_bench_tenant
from posdomain.errors import PosError, ValidationError
from posdomain.permissions import Principal, Role, Scope
from tests.hub.conftest import login

pytestmark = [pytest.mark.pg]

HEADER = "sku,name,barcodes,category,tax_class,unit,price\n"


def owner_of(tenant_id: str) -> Principal:
    return Principal(kind="user", id="race-test", role=Role.TENANT_OWNER, tenant_id=tenant_id)


@pytest.fixture
def tenant(app) -> str:
    return make_bench_tenant()


def _skus(tenant_id: str) -> list[str]:
    with tenant_tx(tenant_id):
        return sorted(s for (s,) in Product.select(Product.sku).tuples())


@pytest.mark.req("FR-200")
@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x7f", "\t", "\n"])
def test_a_control_character_in_a_name_refuses_the_file_with_its_line(tenant, char):
    text = generate_csv(5)
    lines = text.splitlines()
    sku, _name, rest = lines[3].split(",", 2)
    lines[3] = f'{sku},"Bad{char}name",{rest}'  # quoted: a newline stays inside the cell
    with pytest.raises(ValidationError) as caught:
        import_csv(owner_of(tenant), tenant, Scope.TENANT, "\n".join(lines) + "\n")
    errors = caught.value.details["errors"]
    assert [(e["line"], e["reason"], e.get("field")) for e in errors] == [
        (4, "INVALID_TEXT", "name")
    ]
    assert _skus(tenant) == []


@pytest.mark.req("FR-200")
def test_a_nul_in_another_cell_is_refused_too(tenant):
    bad = HEADER + "NUL-1,Fine name,,BENCH,STD\x00,each,2.10\n"
    with pytest.raises(ValidationError) as caught:
        import_csv(owner_of(tenant), tenant, Scope.TENANT, bad)
    assert [(e["line"], e["reason"]) for e in caught.value.details["errors"]] == [
        (2, "INVALID_TEXT")
    ]


@pytest.mark.req("FR-200")
def test_http_import_of_a_nul_name_is_400_whatever_the_content_type(client):
    login(client, "owner")
    with client.session_transaction() as sess:
        token = sess["csrf_token"]
    body = HEADER + "NUL-2,Nul\x00Tea,,PANTRY,REDUCED,each,2.10\n"
    for content_type in ("application/octet-stream", "text/csv"):
        resp = client.post(
            "/api/v1/products/import",
            data=body.encode(),
            content_type=content_type,
            headers={"X-CSRF-Token": token},
        )
        assert resp.status_code == 400, (content_type, resp.status_code)
        assert b"INVALID_TEXT" in resp.data


@pytest.mark.req("FR-200")
def test_the_product_api_refuses_a_tab_in_a_name(client):
    login(client, "owner")
    with client.session_transaction() as sess:
        token = sess["csrf_token"]
    body = {"sku": "TAB-1", "name": "Tab\tTea", "tax_class": "REDUCED", "price": "2.10"}
    resp = client.post("/api/v1/products", json=body, headers={"X-CSRF-Token": token})
    assert resp.status_code == 400
    assert resp.get_json()["error"]["reason"] == "INVALID_TEXT"


@pytest.mark.req("FR-200")
def test_two_imports_of_the_same_new_skus_at_once_are_serialised(tenant, monkeypatch):
    """Both requests read the catalog before either writes (the barrier holds the first at
    its version bump until the second got there too, or 3 s): on the old code the second
    commit hit the (tenant, sku) unique index and answered 500 (IntegrityError)."""
    text = generate_csv(300, sku_prefix="RACE")
    barrier = threading.Barrier(2, timeout=3)
    real_bump = store.bump_version

    def bump(tenant_id: str, count: int = 1) -> int:
        # broken: the other import is held back before it read anything (serialised)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return real_bump(tenant_id, count)

    monkeypatch.setattr(store, "bump_version", bump)
    results: list[Any] = []

    def run() -> None:
        try:
            results.append(import_csv(owner_of(tenant), tenant, Scope.TENANT, text))
        except PosError as err:  # a clean refusal would do as well
            results.append(err)
        except Exception as err:  # what the web layer would answer 500 for
            results.append(("500", type(err).__name__, str(err)[:200]))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not [r for r in results if isinstance(r, tuple)], results
    summaries = [r for r in results if isinstance(r, dict)]
    assert sorted((s["created"], s["unchanged"]) for s in summaries) in (
        [(0, 300), (300, 0)],
        [(300, 0)],
    )
    assert len(_skus(tenant)) == 300


@pytest.mark.req("FR-200")
def test_names_with_quotes_commas_and_backslashes_are_stored_as_written(tenant):
    """The staging COPY (CSV format) keeps every character: quotes, separators, what COPY's
    text format would read as escapes or NULL (\\N), a lone \\. ."""
    names = ['He said "hi", twice', "\\N", "\\.", "back\\slash\\t", "Ünïcødé \u2014 5 €", "a;b|c"]
    rows = "".join(
        f'NAME-{n},"{name.replace(chr(34), chr(34) * 2)}",,BENCH,STD,each,1.00\n'
        for n, name in enumerate(names)
    )
    import_csv(owner_of(tenant), tenant, Scope.TENANT, HEADER + rows)
    with tenant_tx(tenant):
        stored = dict(Product.select(Product.sku, Product.name).tuples())
    assert stored == {f"NAME-{n}": name for n, name in enumerate(names)}


_KILLED_IMPORT = """
import sys, time, types
from hub.core import db
from hub.catalog import csv_import
from hub.demo.catalog_bench import generate_csv
from posdomain.permissions import Principal, Role, Scope

db.bind(sys.argv[1])
tenant = sys.argv[2]

def audit_then_hang(*args, **kwargs):
    print("WRITTEN", flush=True)  # every product, barcode and tier row is in, not committed
    time.sleep(600)

csv_import.audit = types.SimpleNamespace(  # the append comes after every write
    append=audit_then_hang, storable_details=csv_import.audit.storable_details
)
who = Principal(kind="user", id="killed", role=Role.TENANT_OWNER, tenant_id=tenant)
csv_import.import_csv(who, tenant, Scope.TENANT, generate_csv(5000))
"""


@pytest.mark.req("FR-200")
def test_an_import_killed_after_writing_every_row_leaves_nothing(tenant, hub_urls):
    """SIGKILL of the importing process after all its rows are written and before the
    commit: no product, no version bump, no audit entry; the next import goes through."""
    import os
    import signal
    import subprocess
    import sys

    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_IMPORT, hub_urls[1], tenant],
        stdout=subprocess.PIPE,
        text=True,
        cwd=os.getcwd(),
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "WRITTEN"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    assert _skus(tenant) == []
    with tenant_tx(tenant):
        assert store.current_version(tenant) == 0
    summary = import_csv(owner_of(tenant), tenant, Scope.TENANT, generate_csv(5000))
    assert (summary["created"], summary["from_version"], summary["to_version"]) == (5000, 1, 5000)


@pytest.mark.req("FR-200")
def test_a_changed_product_may_point_at_a_deposit_item_new_in_the_same_file(tenant):
    """New products are written before changed ones (the changed one's deposit link to a
    product created by the same import holds), each new or changed row under its own
    version, the unchanged row skipped."""
    header = "sku,name,barcodes,category,tax_class,unit,price,is_deposit,deposit_sku\n"
    first = (
        header
        + "BOTTLE-1,Water 1l,,BENCH,STD,each,0.90,false,\nKEEP-1,Kept,,BENCH,STD,each,1.00,false,\n"
    )
    import_csv(owner_of(tenant), tenant, Scope.TENANT, first)
    second = (
        header
        + "BOTTLE-1,Water 1l,,BENCH,STD,each,0.95,false,DEP-25\n"
        + "KEEP-1,Kept,,BENCH,STD,each,1.00,false,\n"
        + "DEP-25,Deposit 0.25,,BENCH,STD,each,0.25,true,\n"
    )
    summary = import_csv(owner_of(tenant), tenant, Scope.TENANT, second)
    assert (summary["created"], summary["updated"], summary["unchanged"]) == (1, 1, 1)
    with tenant_tx(tenant):
        rows = {p.sku: p for p in Product.select()}
    assert rows["BOTTLE-1"].deposit_product_id == rows["DEP-25"].id
    assert rows["BOTTLE-1"].price_minor == 95
    assert sorted([rows["DEP-25"].version, rows["BOTTLE-1"].version]) == [3, 4]
    assert rows["KEEP-1"].version == 2
