"""Generated report data: branches in named zones, products with cost and category, and
days of sales with promotions, several tax rates, cash rounding and change, refunds and
post-voids, sent through the real ingest handler. Expected figures are computed here from
the payloads, apart from the hub's SQL."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hub.catalog.models import Product
from hub.core.db import platform_tx
from hub.identity.models import Branch
from scripts.testkit.crafted import Item, T, sale_payload
from tests.hub.conftest import enrol_box
from tests.hub.ingest_helpers import envelope, send

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Prod:
    """A test product: id, price, tax class and rate, unit cost, category, age limit."""

    pid: str
    price: str
    tax_class: str
    rate: str
    cost: int
    category: str
    age: int | None = None


def new_products(tenant: str = T) -> list[Prod]:
    """Four fresh products across three tax rates, one age-restricted."""
    tag = uuid.uuid4().hex[:6]
    prods = [
        Prod(f"p-rep-{tag}-1", "1.49", "REDUCED", "0.05", 80, "PRODUCE"),
        Prod(f"p-rep-{tag}-2", "2.99", "STD", "0.20", 150, "SNACKS"),
        Prod(f"p-rep-{tag}-3", "0.99", "ZERO", "0.00", 40, "PANTRY"),
        Prod(f"p-rep-{tag}-4", "7.49", "STD", "0.20", 400, "DRINKS", age=18),
    ]
    with platform_tx():
        for p in prods:
            Product.create(
                id=p.pid,
                tenant_id=tenant,
                sku=f"SKU-{p.pid}",
                name=f"Product {p.pid[-8:]}",
                category=p.category,
                tax_class=p.tax_class,
                unit="each",
                price_minor=int(Decimal(p.price) * 100),
                cost_minor=p.cost,
                age_restriction=p.age,
                version=1,
            )
    return prods


def zoned_branch(zone: str, tenant: str = T) -> str:
    """A fresh branch in `zone`."""
    branch_id = f"b-rep-{uuid.uuid4().hex[:10]}"
    with platform_tx():
        Branch.create(id=branch_id, tenant_id=tenant, name=f"Store {zone}", timezone=zone)
    return branch_id


def item(p: Prod, qty: int, discount: str = "0.00") -> Item:
    """A crafted line of a test product."""
    return Item(
        product_id=p.pid,
        sku=f"SKU-{p.pid}",
        name=f"Product {p.pid[-8:]}",
        qty=str(qty),
        unit="each",
        unit_price=p.price,
        tax_class=p.tax_class,
        rate=p.rate,
        discount=discount,
    )


def priced_sale(receipt: int, items: list[Item], at: datetime, cash: bool) -> dict[str, Any]:
    """A sale payload with cash rounding to 0.05 and change when paid in cash."""
    body = sale_payload(receipt, items=items, card=not cash)
    total = Decimal(body["total"])
    body["completed_at"] = at.isoformat()
    body["cashier_id"] = "u-rep-cashier"
    if cash:
        payable = (total / Decimal("0.05")).quantize(Decimal(1)) * Decimal("0.05")
        payable = payable.quantize(CENT)
        tendered = (payable + Decimal("10")).quantize(Decimal(1))
        body["cash_rounding"] = str((payable - total).quantize(CENT))
        body["payable"] = str(payable)
        body["tenders"] = [{"kind": "cash", "amount": str(tendered)}]
        body["change"] = str((tendered - payable).quantize(CENT))
    return body


def refund_of(sold: dict[str, Any], receipt: int, at: datetime) -> dict[str, Any]:
    """A refund of the first line of a sold sale, paid out in cash (no rounding)."""
    ln = sold["lines"][0]
    total, tax = -Decimal(ln["line_total"]), -Decimal(ln["tax"])
    return {
        "refund_id": str(uuid.uuid4()),
        "receipt_no": receipt,
        "sale_id": sold["sale_id"],
        "original_receipt_no": sold["receipt_no"],
        "with_receipt": True,
        "idempotency_key": uuid.uuid4().hex,
        "cashier_id": "u-rep-cashier",
        "cashier_name": "Rita Reports",
        "approver_id": "u-manager",
        "reason_code": "DEFECTIVE",
        "currency": "EUR",
        "exponent": 2,
        "lines": [
            {
                "line_no": 1,
                "sale_line_no": 1,
                "product_id": ln["product_id"],
                "sku": ln["sku"],
                "name": ln["name"],
                "qty": ln["qty"],
                "line_total": str(total),
                "tax_class": ln["tax_class"],
                "tax_rate": ln["tax_rate"],
                "tax": str(tax),
            }
        ],
        "tax_total": str(tax),
        "total": str(total),
        "cash_rounding": "0.00",
        "payable": str(total),
        "tax_breakdown": [
            {
                "tax_class": ln["tax_class"],
                "rate": ln["tax_rate"],
                "net": str(total - tax),
                "tax": str(tax),
                "gross": str(total),
            }
        ],
        "tenders": [{"kind": "cash", "amount": str(total)}],
        "completed_at": at.isoformat(),
    }


def void_of(sold: dict[str, Any], at: datetime) -> dict[str, Any]:
    """A post-void of a sold sale."""
    return {
        "sale_id": sold["sale_id"],
        "receipt_no": sold["receipt_no"],
        "cashier_id": "u-rep-cashier",
        "approver_id": "u-manager",
        "reason_code": "CASHIER_ERROR",
        "exponent": 2,
        "total": sold["total"],
        "voided_at": at.isoformat(),
    }


@dataclass
class Day:
    """What was sent for one box, and the figures expected from the payloads."""

    box: str
    branch: str
    sales: list[dict[str, Any]] = field(default_factory=list)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    voided: set[str] = field(default_factory=set)

    def kept(self) -> list[dict[str, Any]]:
        """Sales that are sales (not post-voided)."""
        return [s for s in self.sales if s["sale_id"] not in self.voided]

    def total(self) -> Decimal:
        """Σ sale totals - Σ refunded totals (what the Z calls net total)."""
        return sum((Decimal(s["total"]) for s in self.kept()), Decimal(0)) + sum(
            (Decimal(r["total"]) for r in self.refunds), Decimal(0)
        )

    def tax(self) -> Decimal:
        """Σ sale tax + Σ refund tax (negative)."""
        return sum((Decimal(s["tax_total"]) for s in self.kept()), Decimal(0)) + sum(
            (Decimal(r["tax_total"]) for r in self.refunds), Decimal(0)
        )

    def rounding(self) -> Decimal:
        """The cash-rounding adjustment (total - payable) over kept sales and refunds."""
        return -sum(
            (Decimal(d.get("cash_rounding", "0")) for d in [*self.kept(), *self.refunds]),
            Decimal(0),
        )


def generate_day(
    branch: str, prods: list[Prod], start: datetime, n_sales: int = 24, seed: int = 7
) -> Day:
    """`n_sales` sales over a few hours from `start` (UTC): mixed rates, promotions on some
    lines, cash with rounding and change or card; every fifth refunded, every seventh voided."""
    rnd = random.Random(seed)
    box = enrol_box(T, branch)
    day = Day(box, branch)
    events, seq, receipt = [], 0, 0
    for n in range(n_sales):
        at = start + timedelta(minutes=11 * n + rnd.randint(0, 9))
        lines = []
        for p in rnd.sample(prods, rnd.randint(1, 3)):
            promo = "0.30" if rnd.random() < 0.4 and p.price != "0.99" else "0.00"
            lines.append(item(p, rnd.randint(1, 3), promo))
        receipt += 1
        body = priced_sale(receipt, lines, at, cash=rnd.random() < 0.6)
        day.sales.append(body)
        seq += 1
        events.append(envelope(box, seq, body, branch_id=branch))
        if n % 7 == 3:
            seq += 1
            events.append(
                envelope(
                    box,
                    seq,
                    void_of(body, at + timedelta(minutes=1)),
                    "sale.voided",
                    branch_id=branch,
                )
            )
            day.voided.add(body["sale_id"])
        elif n % 5 == 1:
            receipt += 1
            refund = refund_of(body, receipt, at + timedelta(minutes=2))
            day.refunds.append(refund)
            seq += 1
            events.append(envelope(box, seq, refund, "refund.completed", branch_id=branch))
    ack = send(box, events)
    assert ack is not None
    assert (ack.acked_through, ack.rejected) == (seq, []), ack.rejected
    return day


def at_local(zone: str, text: str) -> datetime:
    """A local wall-clock time in `zone` as UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
