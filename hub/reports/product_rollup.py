"""The daily product rollup (`report_rollup_products`): line sums per branch, business day,
product and tax class/rate, kept at ingest next to the hourly rollup. A post-void takes its
sale's lines back out (from the same batch, or from the stored line facts)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from peewee import EXCLUDED

from hub.reports.models import ReportLine, RollupProduct

KEY = ("tenant_id", "branch_id", "business_day", "product_id", "tax_class", "tax_rate")
SUMS = ("qty_milli", "gross", "discounts", "refunds", "net", "tax", "total", "cost")
LABELS = ("sku", "name", "category")

Buckets = dict[tuple[Any, ...], dict[str, Any]]


def buckets() -> Buckets:
    """An empty set of buckets for one batch."""
    return defaultdict(lambda: dict.fromkeys(SUMS, 0))


def add(into: Buckets, line: dict[str, Any], sign: int = 1) -> None:
    """Add (1) or take out (-1) one line."""
    bucket = into[tuple(line[k] for k in KEY)]
    for name in SUMS:
        bucket[name] += sign * int(line[name])
    for name in LABELS:
        if sign > 0 or name not in bucket:
            bucket[name] = line[name]


def stored_lines(tenant_id: str, sale_id: str) -> list[dict[str, Any]]:
    """A stored sale's line facts (caller's transaction)."""
    query = ReportLine.select().where(
        ReportLine.tenant_id == tenant_id,
        ReportLine.kind == "sale",
        ReportLine.doc_id == sale_id,
    )
    return [{n: getattr(r, n) for n in (*KEY, *SUMS, *LABELS)} for r in query]


def write(into: Buckets) -> None:
    """Upsert the batch's buckets (sums added, labels from the latest line)."""
    rows = [{**dict(zip(KEY, key, strict=True)), **sums} for key, sums in into.items()]
    if not rows:
        return
    update: dict[Any, Any] = {
        getattr(RollupProduct, n): getattr(RollupProduct, n) + EXCLUDED[n] for n in SUMS
    }
    update.update({getattr(RollupProduct, n): EXCLUDED[n] for n in LABELS})
    RollupProduct.insert_many(rows).on_conflict(
        conflict_target=[getattr(RollupProduct, k) for k in KEY], update=update
    ).execute()
