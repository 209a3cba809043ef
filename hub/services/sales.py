"""Sales read side (REP-T): paged list, one sale, today's overview per branch."""

from __future__ import annotations

import math
from datetime import datetime, time
from typing import Any

from peewee import fn

from hub.db import tenant_tx
from hub.models import Box, Branch, Sale, SaleLine, utcnow
from posdomain.errors import Forbidden, NotFound, Reason
from posdomain.money import format_minor
from posdomain.permissions import Principal, Scope

PAGE_SIZE = 25


def allowed_branches(principal: Principal, scope: Scope, branch_id: str | None) -> list[str] | None:
    """Branches the caller may read (None = all of the tenant); 403 for a foreign branch."""
    if scope is Scope.TENANT:
        return [branch_id] if branch_id else None
    if branch_id:
        if branch_id not in principal.branch_ids:
            raise Forbidden("that branch is not assigned to you", Reason.FORBIDDEN_BRANCH)
        return [branch_id]
    return sorted(principal.branch_ids)


def sale_dict(sale: Sale) -> dict[str, Any]:
    """JSON form of a sale header (money as decimal strings)."""
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
        "correlation_id": sale.correlation_id,
    }


def list_sales(
    tenant_id: str, branches: list[str] | None, page: int, page_size: int = PAGE_SIZE
) -> dict[str, Any]:
    """One page of the tenant's sales, newest first, limited to `branches` if given."""
    page = max(page, 1)
    with tenant_tx(tenant_id):
        query = Sale.select().where(Sale.tenant_id == tenant_id)
        if branches is not None:
            query = query.where(Sale.branch_id.in_(branches))
        total = query.count()
        rows = query.order_by(Sale.completed_at.desc(), Sale.id).paginate(page, page_size)
        items = [sale_dict(s) for s in rows]
    return {
        "items": items,
        "page": page,
        "page_size": page_size,
        "total": total,
        "pages": max(1, math.ceil(total / page_size)),
    }


def get_sale(tenant_id: str, branches: list[str] | None, sale_id: str) -> dict[str, Any]:
    """One sale with lines, or 404 (also for another tenant's or branch's sale)."""
    with tenant_tx(tenant_id):
        sale = Sale.get_or_none(Sale.id == sale_id, Sale.tenant_id == tenant_id)
        if sale is None or (branches is not None and sale.branch_id not in branches):
            raise NotFound("no such sale")
        lines = SaleLine.select().where(SaleLine.sale_id == sale_id).order_by(SaleLine.line_no)
        out = sale_dict(sale)
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
    return out


def overview(tenant_id: str, branches: list[str] | None) -> dict[str, Any]:
    """Today's (UTC) sales count/total per branch and the boxes with last_seen."""
    start = datetime.combine(utcnow().date(), time.min, tzinfo=utcnow().tzinfo)
    with tenant_tx(tenant_id):
        bq = Branch.select().where(Branch.tenant_id == tenant_id).order_by(Branch.name)
        branch_rows = [b for b in bq if branches is None or b.id in branches]
        ids = [b.id for b in branch_rows]
        totals = {
            r.branch_id: (r.n, r.total)  # type: ignore[attr-defined]
            for r in Sale.select(
                Sale.branch_id,
                fn.COUNT(Sale.id).alias("n"),
                fn.SUM(Sale.total_minor).alias("total"),
            )
            .where(Sale.tenant_id == tenant_id, Sale.completed_at >= start, Sale.branch_id.in_(ids))
            .group_by(Sale.branch_id)
        }
        boxes = list(Box.select().where(Box.branch_id.in_(ids)).order_by(Box.box_id))
    return {
        "branches": [
            {
                "branch_id": b.id,
                "name": b.name,
                "sales_today": totals.get(b.id, (0, 0))[0],
                "total_today": format_minor(int(totals.get(b.id, (0, 0))[1] or 0)),
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


def list_boxes(tenant_id: str, branches: list[str] | None) -> list[dict[str, Any]]:
    """The tenant's boxes (device health)."""
    with tenant_tx(tenant_id):
        query = Box.select().where(Box.tenant_id == tenant_id)
        if branches is not None:
            query = query.where(Box.branch_id.in_(branches))
        return [box_dict(b) for b in query.order_by(Box.box_id)]
