"""Items per minute of a cashier (FR-600, REP-T-08): selling time from each sale's start (if
the box said) and completion, idle gaps over 600 s left out with the items they timed
(posdomain.staff_stats, used by hub/performance/derive.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posdomain.staff_stats import IDLE_LIMIT_S, ActiveTime, TimedSale, active_time

pytestmark = pytest.mark.req("FR-600")
T0 = datetime(2026, 6, 1, 9, tzinfo=UTC)
FAST = settings(max_examples=30, deadline=None)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def sale(done: float, items: int, start: float | None = None) -> TimedSale:
    return TimedSale(at(done), items, None if start is None else at(start))


def test_the_idle_limit_is_ten_minutes() -> None:
    assert IDLE_LIMIT_S == 600


def test_items_per_minute_is_items_over_selling_time() -> None:
    assert ActiveTime(60_000, 12).items_per_minute() == Decimal(12)
    assert ActiveTime(90_000, 3).items_per_minute() == Decimal(2)
    assert ActiveTime(1, 1).items_per_minute() == Decimal(60_000)
    assert ActiveTime(0, 5).items_per_minute() is None
    assert ActiveTime(-1, 5).items_per_minute() is None


def test_parts_of_a_timeline_subtract_exactly() -> None:
    assert ActiveTime(5_000, 7) - ActiveTime(2_000, 3) == ActiveTime(3_000, 4)


def test_nothing_sold_is_no_selling_time() -> None:
    assert active_time([]) == ActiveTime(0, 0)


def test_a_sale_with_a_start_counts_its_basket_time() -> None:
    assert active_time([sale(30, 4, start=0)]) == ActiveTime(30_000, 4)
    assert active_time([sale(0.0015, 1, start=0)]) == ActiveTime(1, 1)  # whole milliseconds


def test_a_sale_without_a_start_counts_from_the_previous_completion() -> None:
    """The first one has nothing before it: neither its time nor its items count."""
    assert active_time([sale(0, 3), sale(40, 2)]) == ActiveTime(40_000, 2)
    assert active_time([sale(0, 3)]) == ActiveTime(0, 0)


def test_the_wait_before_a_timed_sale_counts_up_to_the_limit() -> None:
    assert active_time([sale(0, 1), sale(100, 2, start=70)]) == ActiveTime(100_000, 2)
    at_limit = [sale(0, 1), sale(630, 2, start=600)]
    assert active_time(at_limit) == ActiveTime(630_000, 2)
    over = [sale(0, 1), sale(630.001, 2, start=600.001)]
    assert active_time(over) == ActiveTime(30_000, 2)  # the wait is idle, the basket counts


def test_a_timed_sale_started_before_the_last_completion_adds_no_wait() -> None:
    overlap = [sale(10, 1), sale(20, 2, start=5)]  # two tills' overlap, or a clock step
    assert active_time(overlap) == ActiveTime(15_000, 2)


def test_a_basket_over_the_limit_is_idle_with_its_items() -> None:
    assert active_time([sale(600, 3, start=0)]) == ActiveTime(600_000, 3)
    assert active_time([sale(600.001, 3, start=0)]) == ActiveTime(0, 0)
    assert active_time([sale(0, 1), sale(700, 3, start=50)]) == ActiveTime(50_000, 0)


def test_a_gap_over_the_limit_is_idle_with_the_items_it_timed() -> None:
    assert active_time([sale(0, 1), sale(600, 2)]) == ActiveTime(600_000, 2)
    assert active_time([sale(0, 1), sale(600.001, 2)]) == ActiveTime(0, 0)
    assert active_time([sale(0, 1), sale(600.001, 2), sale(650, 5)]) == ActiveTime(49_999, 5)


def test_a_start_after_the_completion_is_ignored() -> None:
    assert active_time([sale(0, 1), sale(20, 2, start=25)]) == ActiveTime(20_000, 2)
    assert active_time([sale(20, 2, start=20)]) == ActiveTime(0, 2)  # an instant basket


def test_the_limit_can_be_set() -> None:
    sales = [sale(0, 1), sale(100, 2), sale(130, 4, start=110)]
    assert active_time(sales, idle_limit=60) == ActiveTime(30_000, 4)
    assert active_time(sales, idle_limit=100) == ActiveTime(130_000, 6)


def test_sales_in_any_order_are_put_on_the_timeline_by_completion() -> None:
    sales = [sale(100, 2), sale(0, 1), sale(130, 4, start=110), sale(50, 3)]
    assert active_time(sales) == active_time(sorted(sales, key=lambda s: s.completed_at))
    assert active_time(sales) == ActiveTime(130_000, 9)


@given(
    st.lists(
        st.tuples(st.integers(0, 2_000), st.integers(1, 9), st.none() | st.integers(0, 900)),
        max_size=8,
    ),
    st.integers(0, 8),
)
@FAST
def test_a_timeline_cut_in_two_adds_up(raw: list[tuple[int, int, int | None]], cut: int) -> None:
    """What derive.py relies on: a window's figure is (timeline with it) - (timeline before)."""
    sales = sorted(
        (sale(done, items, None if back is None else done - back) for done, items, back in raw),
        key=lambda s: s.completed_at,
    )
    whole, before = active_time(sales), active_time(sales[:cut])
    assert whole.ms >= before.ms >= 0
    assert whole.timed_items >= before.timed_items >= 0
    assert whole.timed_items <= sum(s.items for s in sales)
    assert whole.ms <= 2 * (2_000 + 900) * 1000


def test_sales_completed_in_the_same_millisecond_all_count() -> None:
    """A gap of 0 is not idle: the items of the second sale count (two quick scans)."""
    assert active_time([sale(0, 1), sale(0, 2)]) == ActiveTime(0, 2)
    assert active_time([sale(0, 1), sale(0.0005, 2), sale(30, 3)]) == ActiveTime(
        29_999, 5
    )  # ms floored per span
