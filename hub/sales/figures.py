"""Sales figures by the report catalog's definitions (report_catalog.md, REP-T-01).

* transactions = sales that were not post-voided (a post-void is counted under `voids`);
* refunds = value of refunded lines, tax-exclusive, positive (with their count);
* net = sales net - refunds (tax-exclusive: a line's tax is removed from its total);
* tax = tax collected on sales - tax reversed on refunds;
* total = net + tax = what customers paid, before cash rounding (the Z report's net total).

Sales are bucketed by their completion time, refunds by theirs, each in the branch's local
business day; a post-voided sale leaves every sum (the Z report does the same).
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial, reduce
from typing import Any, cast

from peewee import JOIN, fn

from hub.sales.models import BoxRefund, HubSaleVoid, Sale
from posdomain.money import format_minor

Bounds = dict[str, tuple[datetime, datetime]]


@dataclass
class DayFigures:
    """One branch's business-day figures in minor units."""

    transactions: int = 0
    sales_total: int = 0
    sales_tax: int = 0
    voids: int = 0
    voids_total: int = 0
    refunds: int = 0
    refunds_total: int = 0  # negative, tax included
    refunds_tax: int = 0  # negative

    @property
    def refunds_value(self) -> int:
        """Refunded line value, tax-exclusive, positive."""
        return -(self.refunds_total - self.refunds_tax)

    @property
    def tax(self) -> int:
        """Tax collected on sales minus tax reversed on refunds."""
        return self.sales_tax + self.refunds_tax

    @property
    def total(self) -> int:
        """net + tax: what customers paid before cash rounding."""
        return self.sales_total + self.refunds_total

    @property
    def net(self) -> int:
        """gross - discounts - refunds, tax-exclusive."""
        return self.total - self.tax

    def as_dict(self, exponent: int) -> dict[str, Any]:
        """The overview's JSON fields (money as decimal strings)."""
        money = partial(format_minor, exponent=exponent)
        return {
            "sales_today": self.transactions,
            "total_today": money(self.total),
            "net_today": money(self.net),
            "tax_today": money(self.tax),
            "refunds_today": {"count": self.refunds, "value": money(self.refunds_value)},
            "voids_today": {"count": self.voids, "value": money(self.voids_total)},
        }


def _in_day(field: Any, branch: Any, bounds: Bounds) -> Any:
    return reduce(
        operator.or_,
        [
            (branch == bid) & (field >= start) & (field < end)
            for bid, (start, end) in bounds.items()
        ],
    )


def day_figures(tenant_id: str, bounds: Bounds) -> dict[str, DayFigures]:
    """Figures per branch inside each branch's own day (caller's tenant transaction)."""
    out = {bid: DayFigures() for bid in bounds}
    if not bounds:
        return out
    voided = HubSaleVoid.sale_id.is_null(False)
    sales = (
        Sale.select(
            Sale.branch_id,
            voided.alias("voided"),
            fn.COUNT(Sale.id).alias("n"),
            fn.SUM(Sale.total_minor).alias("total"),
            fn.SUM(Sale.tax_minor).alias("tax"),
        )
        .join(
            HubSaleVoid,
            JOIN.LEFT_OUTER,
            on=(HubSaleVoid.sale_id == Sale.id) & (HubSaleVoid.box_id == Sale.box_id),
        )
        .where(Sale.tenant_id == tenant_id, _in_day(Sale.completed_at, Sale.branch_id, bounds))
        .group_by(Sale.branch_id, voided)
        .dicts()
    )
    for row in cast(Iterable[dict[str, Any]], sales):
        fig = out[row["branch_id"]]
        if row["voided"]:
            fig.voids, fig.voids_total = int(row["n"]), int(row["total"] or 0)
        else:
            fig.transactions, fig.sales_total = int(row["n"]), int(row["total"] or 0)
            fig.sales_tax = int(row["tax"] or 0)
    refunds = (
        BoxRefund.select(
            BoxRefund.branch_id,
            fn.COUNT(BoxRefund.id).alias("n"),
            fn.SUM(BoxRefund.total_minor).alias("total"),
            fn.SUM(BoxRefund.tax_minor).alias("tax"),
        )
        .where(
            BoxRefund.tenant_id == tenant_id,
            _in_day(BoxRefund.completed_at, BoxRefund.branch_id, bounds),
        )
        .group_by(BoxRefund.branch_id)
        .dicts()
    )
    for row in cast(Iterable[dict[str, Any]], refunds):
        fig = out[row["branch_id"]]
        fig.refunds, fig.refunds_total = int(row["n"]), int(row["total"] or 0)
        fig.refunds_tax = int(row["tax"] or 0)
    return out
