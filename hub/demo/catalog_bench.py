"""Benchmark hook for `just bench`: time a CSV import of N generated products.

Runs against the database the hub is bound to, in a fresh throwaway tenant (so it never
touches real catalogs); point it at a bench database.
"""

from __future__ import annotations

import uuid
from time import perf_counter, process_time
from typing import Any

from hub.catalog.csv_import import import_csv
from hub.catalog.csv_rows import header_line, render_row
from hub.catalog.models import Category
from hub.core.db import platform_tx, tenant_tx
from hub.governance import rule_changes
from hub.identity.models import Tenant
from posdomain.barcodes import check_digit
from posdomain.permissions import Principal, Role, Scope

BENCH_TAX = {
    "rounding": "HALF_UP",
    "classes": {
        "STD": {"rate": "0.20", "inclusive": True},
        "ZERO": {"rate": "0", "inclusive": True},
    },
}


def generate_csv(
    rows: int,
    sku_prefix: str = "BN",
    taxes: tuple[str, str] = ("STD", "ZERO"),
    category: str = "BENCH",
) -> str:
    """A valid catalog CSV of `rows` products (unique SKUs and EAN-13s, some tiers/deposits)
    for a tenant with those two tax classes and that category."""
    lines = [header_line()]
    first = _row(0, sku_prefix, taxes, category) | {"is_deposit": "true", "name": "Deposit"}
    lines.append(render_row(first))
    lines += [render_row(_row(n, sku_prefix, taxes, category)) for n in range(1, rows)]
    return "".join(lines)


def bench_barcode(n: int) -> str:
    """The EAN-13 of generated product n."""
    stem = f"409{n:09d}"  # 400… holds demo catalog codes
    return stem + check_digit(stem)


def _row(n: int, sku_prefix: str, taxes: tuple[str, str], category: str) -> dict[str, str]:
    return {
        "sku": f"{sku_prefix}-{n:06d}",
        "name": f"Bench product {n}",
        "barcodes": bench_barcode(n),
        "category": category,
        "tax_class": taxes[0] if n % 3 else taxes[1],
        "unit": "weight" if n % 10 == 0 else "each",
        "price": f"{1 + n % 50}.{n % 100:02d}",
        "cost": f"{n % 50}.50",
        "wholesale_tiers": "10:0.99|50:0.89" if n % 4 == 0 else "",
        "age_restriction": "18" if n % 25 == 0 else "",
        "is_deposit": "false",
        "deposit_sku": f"{sku_prefix}-000000" if n and n % 7 == 0 else "",
        "active": "true",
    }


def make_bench_tenant() -> str:
    """A fresh tenant with tax and pricing config and one category (BENCH)."""
    tenant_id = f"t-bench-{uuid.uuid4().hex[:8]}"
    with platform_tx():
        Tenant.create(id=tenant_id, name="Catalog bench")
    with tenant_tx(tenant_id):
        rule_changes.bootstrap_config(tenant_id, "tax", BENCH_TAX, "bench")
        pricing = {"currency": "EUR", "exponent": 2, "locale": "en"}
        rule_changes.bootstrap_config(tenant_id, "pricing", pricing, "bench")
        Category.insert(tenant_id=tenant_id, code="BENCH", name="Bench").execute()
    return tenant_id


def bench_import(rows: int = 10_000) -> dict[str, Any]:
    """Import `rows` generated products into a new tenant; return rows/s and the summary."""
    tenant_id = make_bench_tenant()
    principal = Principal(kind="system", id="bench", role=Role.TENANT_OWNER, tenant_id=tenant_id)
    text = generate_csv(rows)
    started, cpu = perf_counter(), process_time()
    summary = import_csv(principal, tenant_id, Scope.TENANT, text)
    seconds = perf_counter() - started
    return {
        "rows": rows,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(process_time() - cpu, 3),
        "rows_per_s": round(rows / seconds) if seconds else None,
        "created": summary["created"],
        "tenant_id": tenant_id,
    }
