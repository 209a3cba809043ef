"""A checked sale.completed turned into hub rows, and a run of them written set-based.

Only sales that passed `hub.sync.rules` come here, so every amount parses and adds up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.core import writer
from hub.core.bulk import insert_rows, insert_rows_later
from hub.identity.models import Box
from hub.inventory import box_events, ledger
from hub.sales.models import Sale, SaleLine
from hub.sync import health, reconciliation
from posdomain.envelope import EventEnvelope
from posdomain.money import parse_minor
from posdomain.payloads import SaleCompleted


@dataclass(frozen=True)
class Arrival:
    """When the hub received the batch and how far the box clock is behind the hub's."""

    received_at: datetime
    skew_seconds: float


@dataclass(frozen=True)
class PreparedSale:
    """A checked sale event turned into rows, ready for the run's multi-row inserts."""

    ev: EventEnvelope
    sale: dict[str, Any]
    lines: list[dict[str, Any]]
    stock: box_events.SaleStock
    facts: reconciliation.SaleFacts


def _line_rows(box: Box, sale: SaleCompleted) -> list[dict[str, Any]]:
    exp = sale.exponent
    return [
        dict(
            sale_id=sale.sale_id,
            tenant_id=box.tenant_id,
            branch_id=box.branch_id,
            line_no=ln.line_no,
            product_id=ln.product_id,
            sku=ln.sku,
            name=ln.name,
            barcode=ln.barcode,
            qty=ln.qty,
            tax_class=ln.tax_class,
            tax_rate=ln.tax_rate,
            unit_price_minor=parse_minor(ln.unit_price, exp, "unit_price"),
            line_total_minor=parse_minor(ln.line_total, exp, "line_total"),
            tax_minor=parse_minor(ln.tax, exp, "tax"),
            return_of_sale_id=str(ln.return_of.sale_id) if ln.return_of else None,
            return_of_line_no=ln.return_of.line_no if ln.return_of else None,
        )
        for ln in sale.lines
    ]


def prepare(box: Box, ev: EventEnvelope, sale: SaleCompleted, arrival: Arrival) -> PreparedSale:
    """The rows of one checked sale."""
    exp = sale.exponent
    row = dict(
        id=sale.sale_id,
        tenant_id=box.tenant_id,
        branch_id=box.branch_id,
        box_id=box.box_id,
        event_id=str(ev.event_id),
        receipt_no=sale.receipt_no,
        cashier_id=sale.cashier_id,
        cashier_name=sale.cashier_name,
        currency=sale.currency,
        exponent=exp,
        subtotal_minor=parse_minor(sale.subtotal, exp, "subtotal"),
        tax_minor=parse_minor(sale.tax_total, exp, "tax_total"),
        total_minor=parse_minor(sale.total, exp, "total"),
        change_minor=parse_minor(sale.change, exp, "change"),
        tenders=[t.model_dump(exclude_none=True) for t in sale.tenders],
        completed_at=sale.completed_at,
        correlation_id=ev.correlation_id,
        received_at=arrival.received_at,
        occurred_at=ev.occurred_at,
        clock_skew_seconds=arrival.skew_seconds,
        late=health.is_late(ev.occurred_at, arrival.received_at, arrival.skew_seconds),
    )
    stock = box_events.SaleStock(
        event_id=str(ev.event_id),
        sale_id=sale.sale_id,
        lines=[(ln.product_id, -ledger.parse_qty(ln.qty)) for ln in sale.lines],
        occurred_at=sale.completed_at,
    )
    facts = reconciliation.SaleFacts(
        event_id=str(ev.event_id),
        sale_id=sale.sale_id,
        cashier_id=sale.cashier_id,
        occurred_at=ev.occurred_at,
        catalog_version=ev.versions.catalog,
        policies=[(d.policy_id, d.policy_version) for ln in sale.lines for d in ln.discounts],
    )
    return PreparedSale(ev, row, _line_rows(box, sale), stock, facts)


def write(box: Box, sales: list[PreparedSale]) -> list[PreparedSale]:
    """Write a run of consecutive sales set-based (one insert per table, one stock booking,
    one reconciliation pass); return the sales whose id another tenant already used (not
    written: `ON CONFLICT DO NOTHING` answers without revealing the other tenant's row).

    The run's stock is locked and read before its first insert, so that inside
    `send_ahead()` the inserts run on the writer thread while the movements are built; there
    the sales are written as if every id were free and the answer is read at the end (an id
    held elsewhere: `Mispredicted`, and the careful pass refuses that sale alone)."""
    if not sales:
        return []
    plan = box_events.plan_sales(box.tenant_id, box.branch_id, [p.stock for p in sales])
    seen = reconciliation.known(box.tenant_id, [p.facts for p in sales])
    stored_later = insert_rows_later(
        # bare on purpose: id and event_id are both unique; a sale missing from RETURNING
        # on either key is refused as DOCUMENT_ID_CONFLICT, never taken as stored
        Sale,
        [p.sale for p in sales],
        suffix="ON CONFLICT DO NOTHING RETURNING id",
    )
    ahead = writer.current() is not None
    stored = None if ahead else {str(r[0]) for r in stored_later()}
    kept = sales if stored is None else [p for p in sales if p.sale["id"] in stored]
    insert_rows(SaleLine, [ln for p in kept for ln in p.lines])
    if len(kept) != len(sales):
        plan = box_events.plan_sales(box.tenant_id, box.branch_id, [p.stock for p in kept])
    after = box_events.book_sales(plan)  # sales inserted just now: never booked before
    reconciliation.check_sales(box, list(zip([p.facts for p in kept], after, strict=True)), seen)
    if stored is None:
        stored = {str(r[0]) for r in stored_later()}
        if len(stored) != len(sales):
            raise writer.Mispredicted("a sale id of the run is held elsewhere")
    return [p for p in sales if p.sale["id"] not in stored]
