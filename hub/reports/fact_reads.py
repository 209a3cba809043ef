"""What the report facts of a batch read (hub/reports/ingest.py): the catalog products its
documents name, the box's zone, which of its sales arrived late. Read once per batch, and
by ingest's fast pass before the batch's first insert (`reads`), so that no look-up waits
for the inserts it sent ahead (hub/core/writer.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from hub.catalog.models import Product
from hub.core.bulk import any_text
from hub.identity.models import Box
from hub.reports.days import branch_zones
from hub.sales.models import Sale
from posdomain.contract import EventType
from posdomain.envelope import EventEnvelope


class Known(NamedTuple):
    """What the report facts read of a catalog product (read once per batch, as tuples)."""

    sku: str
    name: str
    category: str | None
    cost_minor: int | None
    age_restriction: int | None
    price_minor: int


def products(tenant_id: str, ids: Iterable[str]) -> dict[str, Known]:
    """The products `ids` name, as report facts read them (one query)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    query = Product.select(
        Product.id,
        Product.sku,
        Product.name,
        Product.category,
        Product.cost_minor,
        Product.age_restriction,
        Product.price_minor,
    ).where(Product.tenant_id == tenant_id, any_text(Product.id, wanted))
    rows: Any = query.tuples()
    return {row[0]: Known(*row[1:]) for row in rows}


def late_sales(events: list[EventEnvelope], box: Box) -> set[str]:
    """Sale ids that arrived past the late window (the sales area decided: `sales.late`)."""
    from_ids = [str(ev.payload.get("sale_id")) for ev in events]
    if not from_ids:
        return set()
    query = Sale.select(Sale.id).where(
        Sale.tenant_id == box.tenant_id,
        any_text(Sale.id, from_ids),
        Sale.late == True,  # noqa: E712
    )
    return {s.id for s in query}


KINDS = frozenset({EventType.SALE_COMPLETED, EventType.REFUND_COMPLETED, EventType.SALE_VOIDED})


@dataclass(frozen=True)
class Reads:
    """What the report facts of a batch read before its first insert (`reads`): the box's
    zone and the catalog products its documents name."""

    zone: Any
    products: dict[str, Known]


def _product_ids(events: Iterable[EventEnvelope]) -> list[str]:
    return [
        str(ln.get("product_id"))
        for ev in events
        if ev.type in KINDS
        for ln in ev.payload.get("lines", []) or []
        if isinstance(ln, dict)
    ]


def reads(box: Box, events: list[EventEnvelope]) -> Reads:
    """Read the zone and products the report facts of `events` (or of any subset) need."""
    return Reads(
        branch_zones(box.tenant_id).get(box.branch_id),
        products(box.tenant_id, _product_ids(events)),
    )
