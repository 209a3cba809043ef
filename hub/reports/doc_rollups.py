"""The tender rollup (`report_rollup_tenders`, REP-T-09), tax per code (`report_tax_parts` +
`report_rollup_taxes`, REP-T-10; migration 0021), the daily rollup per branch and business
day (`report_rollup_daily`, REP-T-05 and REP-T-01; migration 0033) and the one per branch,
day and local hour (`report_rollup_hours`, REP-T-02; migration 0034), kept at ingest beside
the hourly and product rollups (upserted in key order: two batches upserting the same rows
take their locks in the same order). A post-void takes its sale's documents, tenders and
tax parts back out (from the same batch, or from the stored facts)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from hub.core.bulk import upsert_rows
from hub.core.models import BaseModel
from hub.reports.models import (
    ReportTaxPart,
    ReportTender,
    RollupDaily,
    RollupHours,
    RollupTax,
    RollupTender,
)
from posdomain.money import parse_minor
from posdomain.payloads import LineTaxPart

TENDER_KEY = (
    "tenant_id",
    "branch_id",
    "business_day",
    "local_hour",
    "box_id",
    "cashier_id",
    "tender",
)
TENDER_SUMS = ("count", "amount", "refunds", "change")
TAX_KEY = (
    "tenant_id",
    "branch_id",
    "business_day",
    "box_id",
    "cashier_id",
    "tax_class",
    "tax_code",
    "tax_rate",
    "per_unit",
)
TAX_SUMS = ("base", "tax")
DAILY_KEY = ("tenant_id", "branch_id", "business_day")
DOC_SUMS = (
    "transactions",
    "items_milli",
    "gross",
    "discounts",
    "refunds",
    "net",
    "tax",
    "total",
    "cost",
    "cash_rounding",
)
DAILY_SUMS = ("documents", *DOC_SUMS, "late_total", "tenders")
HOURS_KEY = ("tenant_id", "branch_id", "business_day", "local_hour")
HOURS_SUMS = ("transactions", "net")
Buckets = dict[tuple[Any, ...], dict[str, int]]


def buckets(sums: tuple[str, ...]) -> Buckets:
    """An empty set of buckets for one batch."""
    return defaultdict(lambda: dict.fromkeys(sums, 0))


def add_tender(into: Buckets, row: dict[str, Any], sign: int = 1) -> None:
    """Add (1) or take out (-1) one tender row (with its document's local hour)."""
    bucket = into[tuple(row[k] for k in TENDER_KEY)]
    sale = row["kind"] == "sale"
    bucket["count"] += sign * (1 if sale else 0)
    bucket["amount"] += sign * (int(row["amount"]) if sale else 0)
    bucket["refunds"] += sign * (0 if sale else -int(row["amount"]))
    bucket["change"] += sign * int(row["change"])


def add_doc_daily(into: Buckets, doc: dict[str, Any], sign: int = 1) -> None:
    """Add (1) or take out (-1) one document in its branch's day."""
    bucket = into[tuple(doc[k] for k in DAILY_KEY)]
    bucket["documents"] += sign
    bucket["transactions"] += sign * (1 if doc["kind"] == "sale" else 0)
    for name in DOC_SUMS[1:]:
        bucket[name] += sign * int(doc[name])
    if doc["late"]:
        bucket["late_total"] += sign * int(doc["total"])


def add_doc_hour(into: Buckets, doc: dict[str, Any], sign: int = 1) -> None:
    """Add (1) or take out (-1) one document in its branch's local hour."""
    bucket = into[tuple(doc[k] for k in HOURS_KEY)]
    bucket["transactions"] += sign * (1 if doc["kind"] == "sale" else 0)
    bucket["net"] += sign * int(doc["net"])


def add_tender_daily(into: Buckets, row: dict[str, Any], sign: int = 1) -> None:
    """Add (1) or take out (-1) one tender row's amount less change in its branch's day."""
    into[tuple(row[k] for k in DAILY_KEY)]["tenders"] += sign * (
        int(row["amount"]) - int(row["change"])
    )


def add_tax(into: Buckets, part: dict[str, Any], sign: int = 1) -> None:
    """Add (1) or take out (-1) one tax part."""
    bucket = into[tuple(part[k] for k in TAX_KEY)]
    for name in TAX_SUMS:
        bucket[name] += sign * int(part[name])


def line_parts(line: dict[str, Any], taxes: list[LineTaxPart], exp: int) -> list[dict[str, Any]]:
    """The tax parts of one line fact: one per tax of a multi-tax class (a levy's base is 0,
    a rate's the line's net, like the receipt's breakdown), else one coded like its class."""
    base = {
        k: line[k]
        for k in (
            "tenant_id",
            "branch_id",
            "box_id",
            "cashier_id",
            "business_day",
            "kind",
            "doc_id",
            "line_no",
            "tax_class",
        )
    }
    if not taxes:
        code = line["tax_class"]
        return [
            {**base, "tax_code": code, "tax_rate": line["tax_rate"], "per_unit": "",
             "base": line["net"], "tax": line["tax"]}
        ]  # fmt: skip
    out = []
    for part in taxes:
        levy = part.per_unit is not None
        out.append(
            {
                **base,
                "tax_code": part.code,
                "tax_rate": "0" if levy else part.rate,
                "per_unit": part.per_unit or "",
                "base": 0 if levy else line["net"],
                "tax": parse_minor(part.tax, exp, "tax"),
            }
        )
    return out


def stored_tenders(tenant_id: str, sale_id: str, local_hour: int) -> list[dict[str, Any]]:
    """A stored sale's tender facts with its hour (caller's transaction)."""
    query = ReportTender.select().where(
        ReportTender.tenant_id == tenant_id,
        ReportTender.kind == "sale",
        ReportTender.doc_id == sale_id,
    )
    names = (*TENDER_KEY, "kind", "amount", "change")
    return [{n: local_hour if n == "local_hour" else getattr(r, n) for n in names} for r in query]


def stored_parts(tenant_id: str, sale_id: str) -> list[dict[str, Any]]:
    """A stored sale's tax parts (caller's transaction)."""
    query = ReportTaxPart.select().where(
        ReportTaxPart.tenant_id == tenant_id,
        ReportTaxPart.kind == "sale",
        ReportTaxPart.doc_id == sale_id,
    )
    return [{n: getattr(r, n) for n in (*TAX_KEY, *TAX_SUMS)} for r in query]


def _upsert(
    model: type[BaseModel], key: tuple[str, ...], sums: tuple[str, ...], into: Buckets
) -> None:
    ordered = sorted(into, key=lambda k: tuple(str(v) for v in k))
    rows = [{**dict(zip(key, k, strict=True)), **into[k]} for k in ordered]
    if not rows:
        return
    upsert_rows(model, rows, key, sums)


def write(tenders: Buckets, taxes: Buckets, daily: Buckets, hours: Buckets) -> None:
    """Upsert the batch's tender, tax, daily and hour buckets (sums added)."""
    _upsert(RollupTender, TENDER_KEY, TENDER_SUMS, tenders)
    _upsert(RollupTax, TAX_KEY, TAX_SUMS, taxes)
    _upsert(RollupDaily, DAILY_KEY, DAILY_SUMS, daily)
    _upsert(RollupHours, HOURS_KEY, HOURS_SUMS, hours)
