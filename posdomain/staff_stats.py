"""Cashier figures that need a timeline (FR-600 / REP-T-08): items per minute with idle gaps
over 600 s excluded, from when each sale started (if the box said) and completed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
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
    """Seconds of selling and the items sold in them (items per minute = 60 x items / s)."""

    seconds: int
    timed_items: int

    def items_per_minute(self) -> Decimal | None:
        """Items per minute, or None before any timed selling."""
        if self.seconds <= 0:
            return None
        return Decimal(self.timed_items * 60) / Decimal(self.seconds)


def _gap(later: datetime, earlier: datetime | None) -> float | None:
    return None if earlier is None else (later - earlier).total_seconds()


def active_time(sales: Iterable[TimedSale], idle_limit: int = IDLE_LIMIT_S) -> ActiveTime:
    """Selling time of one till's sales (any order in; sorted by completion here).

    A sale with a start time counts from its start to its completion, plus the wait since the
    previous completion when that wait is at most `idle_limit`; without one it counts from
    the previous completion when that gap is at most `idle_limit`. A span over the limit is an
    idle gap: its time is left out and so are the items of a sale timed only by it.
    """
    seconds = 0.0
    items = 0
    prev: datetime | None = None
    for sale in sorted(sales, key=lambda s: s.completed_at):
        start = sale.started_at
        if start is not None and start <= sale.completed_at:
            wait = _gap(start, prev)
            if wait is not None and 0 <= wait <= idle_limit:
                seconds += wait
            basket = (sale.completed_at - start).total_seconds()
            if basket <= idle_limit:
                seconds += basket
                items += sale.items
        else:
            gap = _gap(sale.completed_at, prev)
            if gap is not None and 0 <= gap <= idle_limit:
                seconds += gap
                items += sale.items
        prev = sale.completed_at if prev is None else max(prev, sale.completed_at)
    return ActiveTime(int(seconds), items)
