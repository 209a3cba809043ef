"""The product rollups kept at ingest next to the hourly rollup: line sums per branch,
business day, product and tax class/rate (`report_rollup_products`), the same per calendar
month (`report_rollup_products_monthly`, migration 0033), the monthly one summed over every
branch of the tenant (`report_rollup_products_tenant`, 0034), the daily one summed likewise
(`report_rollup_products_tenant_daily`, 0035) and per branch, day and the
category each daily bucket carries (`report_rollup_categories`, 0033). A post-void takes its
sale's lines back out (from the same batch, or from the stored line facts).

Buckets are upserted in key order, so two batches that touch the same rows (two boxes of a
branch; any two branches of a tenant for the tenant-wide rows) lock them in the same order
and wait for each other instead of deadlocking.

A daily bucket's labels (sku, name, category) are its latest line's. When a batch changes a
stored bucket's category, the bucket's stored sums move from the old category to the new one,
so the category rollup always equals grouping the daily product rollup by category."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from hub.core.bulk import upsert_rows
from hub.core.db import is_postgres
from hub.core.models import BaseModel
from hub.reports.models import (
    ReportLine,
    RollupCategory,
    RollupProduct,
    RollupProductMonthly,
    RollupProductTenant,
    RollupProductTenantDaily,
)

KEY = ("tenant_id", "branch_id", "business_day", "product_id", "tax_class", "tax_rate")
MONTH_KEY = ("tenant_id", "branch_id", "month", "product_id", "tax_class", "tax_rate")
TENANT_KEY = ("tenant_id", "month", "product_id", "tax_class", "tax_rate")
TENANT_DAY_KEY = ("tenant_id", "business_day", "product_id", "tax_class", "tax_rate")
CATEGORY_KEY = ("tenant_id", "branch_id", "business_day", "category")
SUMS = ("qty_milli", "gross", "discounts", "refunds", "net", "tax", "total", "cost")
LABELS = ("sku", "name", "category")

Sums = dict[tuple[Any, ...], dict[str, Any]]


def _sums() -> Sums:
    return defaultdict(lambda: dict.fromkeys(SUMS, 0))


@dataclass
class Buckets:
    """One batch's daily, monthly and tenant-wide monthly product buckets."""

    daily: Sums = field(default_factory=_sums)
    monthly: Sums = field(default_factory=_sums)
    tenant: Sums = field(default_factory=_sums)
    tenant_daily: Sums = field(default_factory=_sums)


def buckets() -> Buckets:
    """An empty set of buckets for one batch."""
    return Buckets()


def _add(bucket: dict[str, Any], line: dict[str, Any], sign: int) -> None:
    for name in SUMS:
        bucket[name] += sign * int(line[name])
    for name in LABELS:
        if sign > 0 or name not in bucket:
            bucket[name] = line[name]


def add(into: Buckets, line: dict[str, Any], sign: int = 1) -> None:
    """Add (1) or take out (-1) one line."""
    key = tuple(line[k] for k in KEY)
    _add(into.daily[key], line, sign)
    month = str(key[2])[:7]
    _add(into.monthly[(*key[:2], month, *key[3:])], line, sign)
    _add(into.tenant[(key[0], month, *key[3:])], line, sign)
    _add(into.tenant_daily[(key[0], *key[2:])], line, sign)


def stored_lines(tenant_id: str, sale_id: str) -> list[dict[str, Any]]:
    """A stored sale's line facts (caller's transaction)."""
    query = ReportLine.select().where(
        ReportLine.tenant_id == tenant_id,
        ReportLine.kind == "sale",
        ReportLine.doc_id == sale_id,
    )
    return [{n: getattr(r, n) for n in (*KEY, *SUMS, *LABELS)} for r in query]


def _stored(daily: Sums) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The stored daily buckets the batch touches (locked until the batch commits)."""
    keys = list(daily)
    query = RollupProduct.select().where(
        RollupProduct.tenant_id.in_(sorted({k[0] for k in keys})),
        RollupProduct.branch_id.in_(sorted({k[1] for k in keys})),
        RollupProduct.business_day.in_(sorted({k[2] for k in keys})),
        RollupProduct.product_id.in_(sorted({k[3] for k in keys})),
    )
    if is_postgres():  # SQLite (the embedded fallback) has one writer and no FOR UPDATE
        query = query.for_update()
    wanted = set(keys)
    out = {}
    for r in query:
        key = tuple(getattr(r, k) for k in KEY)
        if key in wanted:
            out[key] = {n: getattr(r, n) for n in (*SUMS, "category")}
    return out


def _categories(daily: Sums, stored: dict[tuple[Any, ...], dict[str, Any]]) -> Sums:
    """What the batch adds to each (branch, day, category): its own sums under the bucket's
    new category, a new bucket counted there, and a stored bucket moved (its sums and its
    count) when its category changes."""
    out: Sums = defaultdict(lambda: dict.fromkeys(("buckets", *SUMS), 0))
    for key, bucket in daily.items():
        new = (*key[:3], bucket["category"] or "")
        old = stored.get(key)
        if old is None:
            out[new]["buckets"] += 1
        elif (old["category"] or "") != new[3]:
            before = (*key[:3], old["category"] or "")
            out[before]["buckets"] -= 1
            out[new]["buckets"] += 1
            for name in SUMS:
                out[before][name] -= int(old[name])
                out[new][name] += int(old[name])
        for name in SUMS:
            out[new][name] += bucket[name]
    return out


def _order(key: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple(str(k) for k in key)


def _upsert(model: type[BaseModel], key: tuple[str, ...], into: Sums, labels: bool) -> None:
    rows = [{**dict(zip(key, k, strict=True)), **into[k]} for k in sorted(into, key=_order)]
    if not rows:
        return
    sums = ("buckets", *SUMS) if model is RollupCategory else SUMS
    upsert_rows(model, rows, key, sums, LABELS if labels else ())


def write(into: Buckets) -> None:
    """Upsert the batch's buckets (sums added, labels from the latest line)."""
    if not into.daily:
        return
    categories = _categories(into.daily, _stored(into.daily))
    _upsert(RollupProduct, KEY, into.daily, labels=True)
    _upsert(RollupProductMonthly, MONTH_KEY, into.monthly, labels=True)
    _upsert(RollupProductTenant, TENANT_KEY, into.tenant, labels=True)
    _upsert(RollupProductTenantDaily, TENANT_DAY_KEY, into.tenant_daily, labels=True)
    _upsert(RollupCategory, CATEGORY_KEY, categories, labels=False)
