"""Report facts and the hourly rollup written at ingest (called once per batch from
hub/sync/derived.py, inside the batch transaction, after the events are stored).

* a sale becomes a `report_docs` row, a `report_lines` row per line, a tender row per tender
  and a discount row per discount source, and is added to its hour's rollup;
* a refund the same, with its value under `refunds` and negative net/tax/total;
* a post-void moves its sale out of the rollups (the facts stay; reports skip voided sales).

Figures are tax-exclusive where the catalog says so: a tax-inclusive line's net is its
amount minus its tax, its discounts are divided by (1 + rate), gross = net + discounts, so
net = gross - discounts - refunds holds to the cent; a document's net is total - tax, and any
rounding residue between that and the sum of its lines goes to its last line.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from typing import Any, TypeVar

from pydantic import BaseModel

from hub.core.bulk import insert_rows, upsert_rows
from hub.identity.models import Box
from hub.reports import doc_rollups, product_rollup
from hub.reports.days import business_day
from hub.reports.fact_reads import KINDS, Known, Reads, late_sales, reads
from hub.reports.models import (
    ReportDiscount,
    ReportDoc,
    ReportLine,
    ReportTaxPart,
    ReportTender,
    RollupHourly,
)
from posdomain.contract import EventType
from posdomain.envelope import EventEnvelope
from posdomain.money import parse_minor
from posdomain.payloads import RefundCompleted, SaleCompleted, SaleVoided

SUMS = doc_rollups.DOC_SUMS  # the per-document figures every rollup sums
M = TypeVar("M", bound=BaseModel)
ROLLUP_KEY = ("tenant_id", "branch_id", "business_day", "local_hour", "box_id", "cashier_id")


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


@lru_cache(maxsize=65536)
def milli(qty: str) -> int:
    """A decimal quantity in thousandths (cached: a pure function of the wire string, and the
    same few quantities recur on every till's lines)."""
    return _round(Decimal(qty) * 1000)


@lru_cache(maxsize=65536)
def _cost_of(qty_milli: int, cost_minor: int) -> int:
    """The cost of `qty_milli` thousandths at `cost_minor` a unit, rounded half-even."""
    return _round(Decimal(qty_milli) * cost_minor / 1000)


@lru_cache(maxsize=65536)
def _net_discount(given: int, rate: str) -> int:
    """A tax-inclusive line's discount without its tax: `given` / (1 + rate), half-even."""
    return _round(Decimal(given) / (1 + Decimal(rate)))


@dataclass
class _Rows:
    docs: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    tenders: list[dict[str, Any]] = field(default_factory=list)
    discounts: list[dict[str, Any]] = field(default_factory=list)
    rollup: dict[tuple[Any, ...], dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: dict.fromkeys(SUMS, 0))
    )
    products: product_rollup.Buckets = field(default_factory=product_rollup.buckets)
    sale_lines: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    parts: list[dict[str, Any]] = field(default_factory=list)
    sale_parts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sale_tenders: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tender_sums: doc_rollups.Buckets = field(
        default_factory=lambda: doc_rollups.buckets(doc_rollups.TENDER_SUMS)
    )
    tax_sums: doc_rollups.Buckets = field(
        default_factory=lambda: doc_rollups.buckets(doc_rollups.TAX_SUMS)
    )
    daily: doc_rollups.Buckets = field(
        default_factory=lambda: doc_rollups.buckets(doc_rollups.DAILY_SUMS)
    )
    hours: doc_rollups.Buckets = field(
        default_factory=lambda: doc_rollups.buckets(doc_rollups.HOURS_SUMS)
    )

    def keep_lines(self, doc_id: str, lines: list[dict[str, Any]]) -> None:
        """Store a document's lines and add them to the product rollup."""
        self.lines += lines
        self.sale_lines[doc_id] = lines
        for line in lines:
            product_rollup.add(self.products, line)

    def keep_parts(
        self, doc_id: str, lines: list[dict[str, Any]], wire: list[Any], exp: int
    ) -> None:
        """Store the tax parts of a document's lines and add them to the tax rollup."""
        parts = [
            p
            for line, ln in zip(lines, wire, strict=True)
            for p in doc_rollups.line_parts(line, list(ln.taxes), exp)
        ]
        self.parts += parts
        self.sale_parts[doc_id] = parts
        for part in parts:
            doc_rollups.add_tax(self.tax_sums, part)

    def roll(self, doc: dict[str, Any], sign: int) -> None:
        """Add (sign 1) or take out (sign -1) a document's figures in its hour."""
        bucket = self.rollup[tuple(doc[k] for k in ROLLUP_KEY)]
        bucket["transactions"] += sign * (1 if doc["kind"] == "sale" else 0)
        for name in SUMS[1:]:
            bucket[name] += sign * int(doc[name])
        doc_rollups.add_doc_daily(self.daily, doc, sign)
        doc_rollups.add_doc_hour(self.hours, doc, sign)


def _settle(lines: list[dict[str, Any]], net: int) -> None:
    """Give the document's rounding residue to its last line."""
    if lines:
        residue = net - sum(ln["net"] for ln in lines)
        lines[-1]["net"] += residue
        lines[-1]["gross"] += residue


class _Builder:
    def __init__(self, box: Box, products: dict[str, Known], zone: Any) -> None:
        self.box, self.products, self.zone = box, products, zone
        self.rows = _Rows()

    def _key(self, cashier_id: str, at: Any) -> dict[str, Any]:
        day, hour = business_day(at, self.zone)
        box = self.box
        return {
            "tenant_id": box.tenant_id,
            "branch_id": box.branch_id,
            "box_id": box.box_id,
            "cashier_id": cashier_id,
            "business_day": day,
            "local_hour": hour,
        }

    def _cost(self, product_id: str, qty_milli: int) -> int:
        product = self.products.get(product_id)
        if product is None or product.cost_minor is None:
            return 0
        return _cost_of(qty_milli, int(product.cost_minor))

    def sale(self, body: SaleCompleted, late: bool) -> None:
        """Facts of one sale."""
        exp = body.exponent
        key = self._key(body.cashier_id, body.completed_at)
        total, tax = parse_minor(body.total, exp), parse_minor(body.tax_total, exp)
        amounts = [parse_minor(ln.line_total, exp) for ln in body.lines]
        inclusive = sum(amounts) == total
        lines = []
        base = {k: key[k] for k in ROLLUP_KEY if k != "local_hour"}  # the same on every line
        line_base = {**base, "kind": "sale", "doc_id": body.sale_id, "sale_id": body.sale_id}
        products = self.products
        for ln, amount in zip(body.lines, amounts, strict=True):
            line_tax = parse_minor(ln.tax, exp)
            net = amount - line_tax if inclusive else amount
            discount = 0
            if ln.discounts:
                discount = given = sum([parse_minor(d.amount, exp) for d in ln.discounts])
                if inclusive and given:  # 0 / (1 + rate) is 0
                    discount = _net_discount(given, ln.tax_rate)
            qty = milli(ln.qty)
            product = products.get(ln.product_id)
            if product is None:
                category = age = None
                cost = 0
            else:
                category, age = product.category, product.age_restriction
                cost = 0 if product.cost_minor is None else _cost_of(qty, int(product.cost_minor))
            line = line_base.copy()
            line.update(
                line_no=ln.line_no,
                product_id=ln.product_id,
                sku=ln.sku,
                name=ln.name,
                category=category,
                tax_class=ln.tax_class,
                tax_rate=ln.tax_rate,
                qty_milli=qty,
                gross=net + discount,
                discounts=discount,
                refunds=0,
                net=net,
                tax=line_tax,
                total=amount if inclusive else amount + line_tax,
                cost=cost,
                age_required=age,
                age_verified_by=ln.age_verified_by,
            )
            lines.append(line)
            if ln.discounts or ln.price_override is not None:
                self._discounts(base, body.sale_id, ln, exp, product)
        _settle(lines, total - tax)
        doc = {
            **key,
            "kind": "sale",
            "doc_id": body.sale_id,
            "sale_id": body.sale_id,
            "cashier_name": body.cashier_name,
            "receipt_no": body.receipt_no,
            "at": body.completed_at,
            "exponent": exp,
            "items_milli": sum(ln["qty_milli"] for ln in lines),
            "gross": sum(ln["gross"] for ln in lines),
            "discounts": sum(ln["discounts"] for ln in lines),
            "refunds": 0,
            "net": total - tax,
            "tax": tax,
            "total": total,
            "cost": sum(ln["cost"] for ln in lines),
            "cash_rounding": -parse_minor(body.cash_rounding, exp),
            "change": parse_minor(body.change, exp),
            "late": late,
        }
        self._tenders(doc, [(t.kind, parse_minor(t.amount, exp)) for t in body.tenders])
        self.rows.docs.append(doc)
        self.rows.keep_lines(doc["doc_id"], lines)
        self.rows.keep_parts(doc["doc_id"], lines, list(body.lines), exp)
        self.rows.roll(doc, 1)

    def _discounts(
        self, base: dict[str, Any], sale_id: str, ln: Any, exp: int, product: Known | None
    ) -> None:
        """A line's discount facts (`base`: its document's key without the hour)."""
        for d in ln.discounts:
            self.rows.discounts.append(
                {
                    **base,
                    "doc_id": sale_id,
                    "line_no": ln.line_no,
                    "source_kind": "policy" if d.kind == "policy" else "promotion",
                    "source_id": d.policy_id,
                    "source_version": d.policy_version,
                    "approver_id": None,
                    "reason_code": d.kind or None,
                    "value": parse_minor(d.amount, exp),
                }
            )
        override = ln.price_override
        if override is not None:
            listed = int(product.price_minor) if product else parse_minor(ln.unit_price, exp)
            per_unit = listed - parse_minor(override.unit_price, exp)
            given = _round(Decimal(per_unit) * Decimal(ln.qty))
            self.rows.discounts.append(
                {
                    **base,
                    "doc_id": sale_id,
                    "line_no": ln.line_no,
                    "source_kind": "override",
                    "source_id": override.reason_code,
                    "source_version": 0,
                    "approver_id": override.approver_id,
                    "reason_code": override.reason_code,
                    "value": given,
                }
            )

    def _tenders(self, doc: dict[str, Any], tenders: list[tuple[str, int]]) -> None:
        change_left = doc["change"]
        kept = self.rows.sale_tenders.setdefault(doc["doc_id"], [])
        for kind, amount in tenders:
            change = change_left if kind == "cash" else 0
            change_left -= change
            row = {
                **{k: doc[k] for k in ROLLUP_KEY if k != "local_hour"},
                "kind": doc["kind"],
                "doc_id": doc["doc_id"],
                "sale_id": doc["sale_id"],
                "tender": kind,
                "amount": amount,
                "change": change,
            }
            self.rows.tenders.append(row)
            with_hour = {**row, "local_hour": doc["local_hour"]}
            kept.append(with_hour)
            doc_rollups.add_tender(self.rows.tender_sums, with_hour)
            doc_rollups.add_tender_daily(self.rows.daily, row)

    def refund(self, body: RefundCompleted) -> None:
        """Facts of one refund document."""
        exp = body.exponent
        key = self._key(body.cashier_id, body.completed_at)
        total, tax = parse_minor(body.total, exp), parse_minor(body.tax_total, exp)
        amounts = [parse_minor(ln.line_total, exp) for ln in body.lines]
        inclusive = sum(amounts) == total
        lines = []
        for ln, amount in zip(body.lines, amounts, strict=True):
            line_tax = parse_minor(ln.tax, exp)
            net = amount - line_tax if inclusive else amount
            qty = milli(ln.qty)
            product = self.products.get(ln.product_id)
            lines.append(
                {
                    **{k: key[k] for k in ROLLUP_KEY if k != "local_hour"},
                    "kind": "refund",
                    "doc_id": body.refund_id,
                    "sale_id": body.sale_id,
                    "line_no": ln.line_no,
                    "product_id": ln.product_id,
                    "sku": ln.sku or (product.sku if product else ""),
                    "name": ln.name or (product.name if product else ""),
                    "category": product.category if product else None,
                    "tax_class": ln.tax_class,
                    "tax_rate": ln.tax_rate,
                    "qty_milli": -qty,
                    "gross": 0,
                    "discounts": 0,
                    "refunds": -net,
                    "net": net,
                    "tax": line_tax,
                    "total": amount + (0 if inclusive else line_tax),
                    "cost": -self._cost(ln.product_id, qty),
                    "age_required": product.age_restriction if product else None,
                    "age_verified_by": None,
                }
            )
        if lines:
            residue = (total - tax) - sum(ln["net"] for ln in lines)
            lines[-1]["net"] += residue
            lines[-1]["refunds"] -= residue
        doc = {
            **key,
            "kind": "refund",
            "doc_id": body.refund_id,
            "sale_id": body.sale_id,
            "cashier_name": "",
            "receipt_no": body.receipt_no,
            "at": body.completed_at,
            "exponent": exp,
            "items_milli": 0,  # REP-T-01 counts items sold; returned units show in REP-T-06/12
            "gross": 0,
            "discounts": 0,
            "refunds": -(total - tax),
            "net": total - tax,
            "tax": tax,
            "total": total,
            "cost": sum(ln["cost"] for ln in lines),
            "cash_rounding": -parse_minor(body.cash_rounding, exp),
            "change": 0,
            "late": False,
        }
        self._tenders(doc, [(t.kind, parse_minor(t.amount, exp)) for t in body.tenders])
        self.rows.docs.append(doc)
        self.rows.keep_lines(doc["doc_id"], lines)
        self.rows.keep_parts(doc["doc_id"], lines, list(body.lines), exp)
        self.rows.roll(doc, 1)

    def void(self, body: SaleVoided, pending: dict[str, dict[str, Any]]) -> None:
        """Take a post-voided sale out of its hour's rollup."""
        doc = pending.get(body.sale_id)
        if doc is None:
            row = ReportDoc.get_or_none(
                ReportDoc.tenant_id == self.box.tenant_id,
                ReportDoc.kind == "sale",
                ReportDoc.doc_id == body.sale_id,
            )
            if row is None:  # sold before the report facts existed: nothing rolled up
                return
            names = (*ROLLUP_KEY, "kind", "late", *SUMS[1:])
            doc = {name: getattr(row, name) for name in names}
        self.rows.roll(doc, -1)
        tenant, sale_id = self.box.tenant_id, body.sale_id
        lines = self.rows.sale_lines.get(sale_id)
        if lines is None:
            lines = product_rollup.stored_lines(tenant, sale_id)
        for line in lines:
            product_rollup.add(self.rows.products, line, -1)
        tenders = self.rows.sale_tenders.get(sale_id)
        if tenders is None:
            tenders = doc_rollups.stored_tenders(tenant, sale_id, int(doc["local_hour"]))
        for tender in tenders:
            doc_rollups.add_tender(self.rows.tender_sums, tender, -1)
            doc_rollups.add_tender_daily(self.rows.daily, tender, -1)
        parts = self.rows.sale_parts.get(sale_id)
        if parts is None:
            parts = doc_rollups.stored_parts(tenant, sale_id)
        for part in parts:
            doc_rollups.add_tax(self.rows.tax_sums, part, -1)


def _body(bodies: Mapping[str, BaseModel], ev: EventEnvelope, model: type[M]) -> M:
    """The event's payload as `model`: the one ingest already checked, else parsed here."""
    body = bodies.get(str(ev.event_id))
    return body if isinstance(body, model) else model.model_validate(ev.payload)


def apply_events(
    box: Box,
    events: list[EventEnvelope],
    bodies: Mapping[str, BaseModel] | None = None,
    seen: Reads | None = None,
    late: set[str] | None = None,
) -> None:
    """Write the report facts and rollup of a batch's applied events (`bodies`: payloads
    already parsed by ingest, by event id; `seen`: `reads` of these events or of a superset,
    done before the batch's first insert; `late`: the ids of the batch's late sales, as its
    `sales` rows have them; each is read here when not given)."""
    bodies = bodies or {}
    relevant = sorted((ev for ev in events if ev.type in KINDS), key=lambda e: e.seq)
    if not relevant:
        return
    seen = seen or reads(box, relevant)
    builder = _Builder(box, seen.products, seen.zone)
    sales = [ev for ev in relevant if ev.type == EventType.SALE_COMPLETED]
    late = late_sales(sales, box) if late is None else late
    pending: dict[str, dict[str, Any]] = {}
    for ev in relevant:
        if ev.type == EventType.SALE_COMPLETED:
            body = _body(bodies, ev, SaleCompleted)
            builder.sale(body, body.sale_id in late)
            pending[body.sale_id] = builder.rows.docs[-1]
        elif ev.type == EventType.REFUND_COMPLETED:
            builder.refund(_body(bodies, ev, RefundCompleted))
        else:
            builder.void(_body(bodies, ev, SaleVoided), pending)
    _write(builder.rows)


def _write(rows: _Rows) -> None:
    # the stored product buckets are read (and locked) before the batch's report inserts, so
    # inside `send_ahead()` those run on the writer thread while the rollups are summed
    stored = product_rollup.stored(rows.products)
    insert_rows(ReportDoc, rows.docs)
    insert_rows(ReportLine, rows.lines)
    insert_rows(ReportTender, rows.tenders)
    insert_rows(ReportDiscount, rows.discounts)
    insert_rows(ReportTaxPart, rows.parts)
    ordered = sorted(rows.rollup, key=lambda k: tuple(str(v) for v in k))  # lock order
    buckets = [{**dict(zip(ROLLUP_KEY, key, strict=True)), **rows.rollup[key]} for key in ordered]
    upsert_rows(RollupHourly, buckets, ROLLUP_KEY, SUMS)
    product_rollup.write(rows.products, stored)
    doc_rollups.write(rows.tender_sums, rows.tax_sums, rows.daily, rows.hours)
