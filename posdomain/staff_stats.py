"""Cashier figures that need a timeline (FR-600 / REP-T-08): items per minute with idle gaps
over 600 s excluded, from when each sale started (if the box said) and completed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

IDLE_LIMIT_S = 600


@dataclass(frozen=True)
class TimedSale:
    """One sale on one till's timeline."""

    completed_at: datetime
    items: int
    started_at: datetime | None = None


@dataclass(frozen=True)
class ActiveTime:
    """Milliseconds of selling and the items sold in them (items/minute = 60000 x items / ms).

    Whole milliseconds per span, so the figures of parts of a timeline add up exactly."""

    ms: int
    timed_items: int

    def __sub__(self, other: ActiveTime) -> ActiveTime:
        return ActiveTime(self.ms - other.ms, self.timed_items - other.timed_items)

    def items_per_minute(self) -> Decimal | None:
        """Items per minute, or None before any timed selling."""
        if self.ms <= 0:
            return None
        return Decimal(self.timed_items * 60_000) / Decimal(self.ms)


def _ms(later: datetime, earlier: datetime | None) -> int | None:
    return None if earlier is None else (later - earlier) // timedelta(milliseconds=1)


def active_time(sales: Iterable[TimedSale], idle_limit: int = IDLE_LIMIT_S) -> ActiveTime:
    """Selling time of one till's sales (any order in; sorted by completion here).

    A sale with a start time counts from its start to its completion, plus the wait since the
    previous completion when that wait is at most `idle_limit`; without one it counts from
    the previous completion when that gap is at most `idle_limit`. A span over the limit is an
    idle gap: its time is left out and so are the items of a sale timed only by it.
    """
    limit = idle_limit * 1000
    ms = 0
    items = 0
    prev: datetime | None = None
    for sale in sorted(sales, key=lambda s: s.completed_at):
        start = sale.started_at
        if start is not None and start <= sale.completed_at:
            wait = _ms(start, prev)
            if wait is not None and 0 <= wait <= limit:
                ms += wait
            basket = _ms(sale.completed_at, start) or 0
            if basket <= limit:
                ms += basket
                items += sale.items
        else:
            gap = _ms(sale.completed_at, prev)
            if gap is not None and 0 <= gap <= limit:
                ms += gap
                items += sale.items
        prev = sale.completed_at if prev is None else max(prev, sale.completed_at)
    return ActiveTime(ms, items)
