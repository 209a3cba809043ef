"""Sales read side (REP-T): paged sales and refunds, one sale, today's overview per branch.

Figures that claim to be sales follow the report catalog (hub.sales.figures): a post-voided
sale is marked and left out of every sum, refunds are listed and subtracted.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import reduce
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from peewee import fn

from hub.compliance import holds
from hub.core.db import tenant_tx
from hub.core.models import utcnow
from hub.core.paging import PAGE_SIZE, paged
from hub.customers.models import CustomerActivity
from hub.governance import config
from hub.identity import scope as scope_ids
from hub.identity.models import Box, Branch
from hub.sales.figures import day_figures
from hub.sales.models import BoxRefund, HubSaleVoid, Sale, SaleLine
from posdomain.errors import NotFound
from posdomain.money import format_minor
from posdomain.permissions import Principal, Scope


def allowed_branches(principal: Principal, scope: Scope, branch_id: str | None) -> list[str] | None:
    """Branches the caller may read (None = all of the tenant); a named branch is resolved
    first (403 FORBIDDEN_BRANCH alike for a foreign, unknown or unassigned one)."""
    if branch_id:
        scope_ids.check_branch(principal, branch_id, assigned=scope is not Scope.TENANT)
        return [branch_id]
    if scope in (Scope.TENANT, Scope.PLATFORM):
        return None
    return sorted(principal.branch_ids)


def void_dict(void: HubSaleVoid | None) -> dict[str, Any] | None:
    """JSON form of a post-void (who, approver, why, when), None if not voided."""
    if void is None:
        return None
    return {
        "voided_at": void.voided_at.isoformat(),
        "cashier_id": void.cashier_id,
        "approver_id": void.approver_id,
        "reason_code": void.reason_code,
    }


def sale_dict(
    sale: Sale, void: HubSaleVoid | None = None, refunded_minor: int = 0
) -> dict[str, Any]:
    """JSON form of a sale header (money as decimal strings), marked when post-voided."""
    exp = sale.exponent
    return {
        "sale_id": sale.id,
        "branch_id": sale.branch_id,
        "box_id": sale.box_id,
        "receipt_no": sale.receipt_no,
        "cashier_name": sale.cashier_name,
        "currency": sale.currency,
        "subtotal": format_minor(sale.subtotal_minor, exp),
        "tax_total": format_minor(sale.tax_minor, exp),
        "total": format_minor(sale.total_minor, exp),
        "completed_at": sale.completed_at.isoformat(),
        "received_at": sale.received_at.isoformat(),
        "late_synced": bool(sale.late),  # REP-T-05 bucket: arrived past the late window
        "correlation_id": sale.correlation_id,
        "voided": void is not None,  # a post-voided sale is no sale in any figure
        "void": void_dict(void),
        "refunded": format_minor(-refunded_minor, exp),  # tax included, positive
    }


def refund_dict(refund: BoxRefund) -> dict[str, Any]:
    """JSON form of a refund document (money negative, decimal strings)."""
    exp = refund.exponent
    return {
        "refund_id": refund.id,
        "branch_id": refund.branch_id,
        "box_id": refund.box_id,
        "receipt_no": refund.receipt_no,
        "sale_id": refund.sale_id,
        "original_receipt_no": refund.original_receipt_no,
        "with_receipt": bool(refund.with_receipt),
        "cashier_id": refund.cashier_id,
        "approver_id": refund.approver_id,
        "reason_code": refund.reason_code,
        "currency": refund.currency,
        "tax_total": format_minor(refund.tax_minor, exp),
        "total": format_minor(refund.total_minor, exp),
        "cash_rounding": format_minor(refund.cash_rounding_minor, exp),
        "completed_at": refund.completed_at.isoformat(),
    }


def _voids(tenant_id: str, sale_ids: list[str]) -> dict[str, HubSaleVoid]:
    if not sale_ids:
        return {}
    query = HubSaleVoid.select().where(
        HubSaleVoid.tenant_id == tenant_id, HubSaleVoid.sale_id.in_(sale_ids)
    )
    return {v.sale_id: v for v in query}


def _refunded(tenant_id: str, sale_ids: list[str]) -> dict[str, int]:
    if not sale_ids:
        return {}
    rows = (
        BoxRefund.select(BoxRefund.sale_id, fn.SUM(BoxRefund.total_minor))
        .where(BoxRefund.tenant_id == tenant_id, BoxRefund.sale_id.in_(sale_ids))
        .group_by(BoxRefund.sale_id)
        .tuples()
    )
    return {str(sid): int(total) for sid, total in cast(Iterable[tuple[Any, Any]], rows)}


def _sale_dicts(tenant_id: str, sales: list[Sale]) -> list[dict[str, Any]]:
    ids = [s.id for s in sales]
    voids, refunded = _voids(tenant_id, ids), _refunded(tenant_id, ids)
    return [sale_dict(s, voids.get(s.id), refunded.get(s.id, 0)) for s in sales]


@dataclass(frozen=True)
class SalesReader:
    """Which sales a caller may read: tenant, branches (None = all), and `today_at`: when
    set, only sales of each branch's local calendar day at that instant (SUPERVISOR)."""

    tenant_id: str
    branches: list[str] | None
    today_at: datetime | None = None


def _in_window(reader: SalesReader, branch_field: Any, time_field: Any) -> Any:
    """A WHERE condition limiting documents to the reader's days (True when unlimited)."""
    if reader.today_at is None:
        return True
    bounds = branch_day_bounds(reader.tenant_id, reader.branches, reader.today_at)
    if not bounds:
        return False
    return reduce(
        operator.or_,
        [
            (branch_field == bid) & (time_field >= start) & (time_field < end)
            for bid, (start, end) in bounds.items()
        ],
    )


def list_sales(reader: SalesReader, page: int, page_size: int = PAGE_SIZE) -> dict[str, Any]:
    """One page of the tenant's sales, newest first, limited to the reader's branches/days."""
    page = max(page, 1)
    tenant_id, branches = reader.tenant_id, reader.branches
    with tenant_tx(tenant_id):
        window = _in_window(reader, Sale.branch_id, Sale.completed_at)
        query = Sale.select().where(Sale.tenant_id == tenant_id, window)
        if branches is not None:
            query = query.where(Sale.branch_id.in_(branches))
        total = query.count()
        rows = list(query.order_by(Sale.completed_at.desc(), Sale.id).paginate(page, page_size))
        items = _sale_dicts(tenant_id, rows)
    return paged(items, page, total, page_size)


def list_refunds(reader: SalesReader, page: int, page_size: int = PAGE_SIZE) -> dict[str, Any]:
    """One page of the tenant's refund documents, newest first, limited like the sales."""
    page = max(page, 1)
    tenant_id, branches = reader.tenant_id, reader.branches
    with tenant_tx(tenant_id):
        window = _in_window(reader, BoxRefund.branch_id, BoxRefund.completed_at)
        query = BoxRefund.select().where(BoxRefund.tenant_id == tenant_id, window)
        if branches is not None:
            query = query.where(BoxRefund.branch_id.in_(branches))
        total = query.count()
        rows = query.order_by(BoxRefund.completed_at.desc(), BoxRefund.id).paginate(page, page_size)
        items = [refund_dict(r) for r in rows]
    return paged(items, page, total, page_size)


def get_sale(reader: SalesReader, sale_id: str) -> dict[str, Any]:
    """One sale with lines, its post-void and its refunds, or 404 (also for another
    tenant's, branch's or day's sale)."""
    tenant_id, branches = reader.tenant_id, reader.branches
    with tenant_tx(tenant_id):
        window = _in_window(reader, Sale.branch_id, Sale.completed_at)
        sale = Sale.get_or_none(Sale.id == sale_id, Sale.tenant_id == tenant_id, window)
        if sale is None or (branches is not None and sale.branch_id not in branches):
            raise NotFound("no such sale")
        lines = SaleLine.select().where(SaleLine.sale_id == sale_id).order_by(SaleLine.line_no)
        (out,) = _sale_dicts(tenant_id, [sale])
        refunds = BoxRefund.select().where(
            BoxRefund.tenant_id == tenant_id, BoxRefund.sale_id == sale_id
        )
        out["refunds"] = [refund_dict(r) for r in refunds.order_by(BoxRefund.completed_at)]
        out["lines"] = [
            {
                "line_no": ln.line_no,
                "sku": ln.sku,
                "name": ln.name,
                "qty": ln.qty,
                "unit_price": format_minor(ln.unit_price_minor, sale.exponent),
                "line_total": format_minor(ln.line_total_minor, sale.exponent),
                "tax_class": ln.tax_class,
            }
            for ln in lines
        ]
        buyers = CustomerActivity.select(CustomerActivity.customer_id).where(
            CustomerActivity.tenant_id == tenant_id, CustomerActivity.sale_id == sale_id
        )
        out["legal_holds"] = holds.holds_for_record(
            tenant_id,
            branch_id=sale.branch_id,
            customer_ids=[b.customer_id for b in buyers],
            at=sale.completed_at,
        )
    return out


def branch_day_bounds(
    tenant_id: str, branches: list[str] | None, now: datetime
) -> dict[str, tuple[datetime, datetime]]:
    """Per branch, [start, end) in UTC of its local day at `now` (caller's transaction)."""
    pricing = config.current(tenant_id, "pricing")
    tenant_tz = pricing.body.get("timezone") if pricing else None
    rows = Branch.select().where(Branch.tenant_id == tenant_id)
    return {
        b.id: local_day_bounds(now, branch_zone(b.timezone, tenant_tz))
        for b in rows
        if branches is None or b.id in branches
    }


def branch_zone(branch_tz: str | None, tenant_tz: str | None) -> ZoneInfo:
    """The branch's zone: its own column, else the tenant's pricing config, else UTC.

    An unknown zone name falls through to the next candidate instead of failing the page.
    """
    for name in (branch_tz, tenant_tz):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def local_day_bounds(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the local calendar day that `now` falls on in `zone`."""
    day = now.astimezone(zone).date()
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def overview(
    tenant_id: str, branches: list[str] | None, now: datetime | None = None
) -> dict[str, Any]:
    """Today's figures per branch by the report catalog's definitions (transactions net of
    post-voids, refunds, net, tax, total), "today" being each branch's local day, and the
    boxes with last_seen."""
    now = now or utcnow()
    with tenant_tx(tenant_id):
        pricing = config.current(tenant_id, "pricing")
        tenant_tz = pricing.body.get("timezone") if pricing else None
        exponent = int(pricing.body.get("exponent", 2)) if pricing else 2
        bq = Branch.select().where(Branch.tenant_id == tenant_id).order_by(Branch.name)
        branch_rows = [b for b in bq if branches is None or b.id in branches]
        bounds = {
            b.id: local_day_bounds(now, branch_zone(b.timezone, tenant_tz)) for b in branch_rows
        }
        figures = day_figures(tenant_id, bounds)
        boxes = list(Box.select().where(Box.branch_id.in_(list(bounds))).order_by(Box.box_id))
    return {
        "branches": [
            {
                "branch_id": b.id,
                "name": b.name,
                "timezone": str(branch_zone(b.timezone, tenant_tz)),
                **figures[b.id].as_dict(exponent),
            }
            for b in branch_rows
        ],
        "boxes": [box_dict(b) for b in boxes],
    }


def box_dict(box: Box) -> dict[str, Any]:
    """JSON form of a box's health summary."""
    return {
        "box_id": box.box_id,
        "branch_id": box.branch_id,
        "name": box.name,
        "status": box.status,
        "last_seen_at": box.last_seen_at.isoformat() if box.last_seen_at else None,
        "last_contiguous_seq": box.last_contiguous_seq,
    }


def list_branches(tenant_id: str) -> list[dict[str, Any]]:
    """The tenant's branches (404 if the tenant is not visible)."""
    with tenant_tx(tenant_id):
        rows = list(Branch.select().where(Branch.tenant_id == tenant_id).order_by(Branch.id))
    if not rows:
        raise NotFound("no such tenant")
    return [{"id": b.id, "name": b.name, "timezone": b.timezone} for b in rows]


def branch_choices(principal: Principal, tenant_id: str) -> list[dict[str, Any]]:
    """Branches the caller may filter by: the tenant's, narrowed to their own if assigned."""
    choices = list_branches(tenant_id)
    if principal.branch_ids:
        choices = [b for b in choices if b["id"] in principal.branch_ids]
    return choices


def list_boxes(tenant_id: str, branches: list[str] | None) -> list[dict[str, Any]]:
    """The tenant's boxes (device health)."""
    with tenant_tx(tenant_id):
        query = Box.select().where(Box.tenant_id == tenant_id)
        if branches is not None:
            query = query.where(Box.branch_id.in_(branches))
        return [box_dict(b) for b in query.order_by(Box.box_id)]
