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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hub.core.bulk import select_later, upsert_rows
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
    """One batch's daily product buckets; the monthly, tenant-wide monthly and tenant-wide
    daily ones are summed from them when the batch is written (`rolled_up`): each line is
    added once, not four times."""

    daily: Sums = field(default_factory=_sums)
    # daily key -> (order of its last added line, order of its first line): which bucket's
    # labels a summed-up bucket takes (the latest added line's, as line by line)
    order: dict[tuple[Any, ...], tuple[int, int]] = field(default_factory=dict)
    lines: int = 0


def buckets() -> Buckets:
    """An empty set of buckets for one batch."""
    return Buckets()


def add(into: Buckets, line: dict[str, Any], sign: int = 1) -> None:
    """Add (1) or take out (-1) one line. Labels are the latest added line's; a line taken
    out only labels a bucket that has none yet."""
    key = tuple([line[k] for k in KEY])
    bucket = into.daily[key]
    for name in SUMS:
        bucket[name] += sign * int(line[name])
    into.lines += 1
    last, first = into.order.get(key, (-1, into.lines))
    if sign > 0 or "sku" not in bucket:
        for name in LABELS:
            bucket[name] = line[name]
    if sign > 0:
        last = into.lines
    into.order[key] = (last, first)


def _summed(into: Buckets, of: Any) -> Sums:
    """The daily buckets summed under the key `of(daily key)`, each with the labels a line by
    line pass would leave: the latest added line's, or, where every line was taken out, the
    first one's."""
    out: Sums = _sums()
    chosen: dict[tuple[Any, ...], tuple[int, int]] = {}
    for key, bucket in into.daily.items():
        to = of(key)
        target = out[to]
        for name in SUMS:
            target[name] += bucket[name]
        last, first = into.order[key]
        rank = (1, last) if last >= 0 else (0, -first)
        if to not in chosen or rank > chosen[to]:
            chosen[to] = rank
            for name in LABELS:
                target[name] = bucket[name]
    return out


def rolled_up(into: Buckets) -> tuple[Sums, Sums, Sums]:
    """The (monthly, tenant-wide monthly, tenant-wide daily) buckets of the batch."""
    return (
        _summed(into, lambda k: (*k[:2], str(k[2])[:7], *k[3:])),
        _summed(into, lambda k: (k[0], str(k[2])[:7], *k[3:])),
        _summed(into, lambda k: (k[0], *k[2:])),
    )


def stored_lines(tenant_id: str, sale_id: str) -> list[dict[str, Any]]:
    """A stored sale's line facts (caller's transaction)."""
    query = ReportLine.select().where(
        ReportLine.tenant_id == tenant_id,
        ReportLine.kind == "sale",
        ReportLine.doc_id == sale_id,
    )
    return [{n: getattr(r, n) for n in (*KEY, *SUMS, *LABELS)} for r in query]


Stored = dict[tuple[Any, ...], dict[str, Any]]


def _stored(daily: Sums) -> Callable[[], Stored]:
    """The stored daily buckets the batch touches (locked until the batch commits); inside
    `send_ahead()` the read is sent ahead and answered when called (`select_later`)."""
    keys = list(daily)
    fields = [getattr(RollupProduct, n) for n in (*KEY, *SUMS, "category")]
    query = RollupProduct.select(*fields).where(
        RollupProduct.tenant_id.in_(sorted({k[0] for k in keys})),
        RollupProduct.branch_id.in_(sorted({k[1] for k in keys})),
        RollupProduct.business_day.in_(sorted({k[2] for k in keys})),
        RollupProduct.product_id.in_(sorted({k[3] for k in keys})),
    )
    if is_postgres():  # SQLite (the embedded fallback) has one writer and no FOR UPDATE
        query = query.for_update()
    answer = select_later(query)
    wanted = set(keys)
    width = len(KEY)

    def read() -> Stored:
        out = {}
        for row in answer():
            key = tuple(row[:width])
            if key in wanted:
                out[key] = dict(zip((*SUMS, "category"), row[width:], strict=True))
        return out

    return read


def _categories(daily: Sums, stored: Stored) -> Sums:
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


def stored(into: Buckets) -> Callable[[], Stored]:
    """The stored daily buckets the batch's `into` touches, locked until the batch commits:
    read (or sent ahead) now, answered when called."""
    return _stored(into.daily) if into.daily else dict


def write(into: Buckets, held: Callable[[], Stored] | None = None) -> None:
    """Upsert the batch's buckets (sums added, labels from the latest line); `held`: the
    stored buckets as `stored` read them (read here when not given)."""
    if not into.daily:
        return
    categories = _categories(into.daily, (held or stored(into))())
    monthly, tenant, tenant_daily = rolled_up(into)
    _upsert(RollupProduct, KEY, into.daily, labels=True)
    _upsert(RollupProductMonthly, MONTH_KEY, monthly, labels=True)
    _upsert(RollupProductTenant, TENANT_KEY, tenant, labels=True)
    _upsert(RollupProductTenantDaily, TENANT_DAY_KEY, tenant_daily, labels=True)
    _upsert(RollupCategory, CATEGORY_KEY, categories, labels=False)
