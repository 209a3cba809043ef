"""Basket arithmetic: tax-inclusive breakdown per class, rounding per document, change."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posdomain.errors import Reason, ValidationError
from posdomain.sale import LineInput, change_due, compute_totals, parse_tax_classes

CLASSES, ROUNDING = parse_tax_classes(
    {
        "rounding": "HALF_UP",
        "classes": {
            "STD": {"rate": "0.20", "inclusive": True},
            "RED": {"rate": "0.07", "inclusive": True},
            "ZERO": {"rate": "0", "inclusive": True},
        },
    }
)


def line(no: int, price: str, qty: int = 1, tax_class: str = "STD") -> LineInput:
    """A basket line with a made-up product."""
    return LineInput(
        no, f"p{no}", f"SKU{no}", f"Item {no}", f"400000000{no}", qty, Decimal(price), tax_class
    )


@pytest.mark.req("FR-302")
def test_single_line_matches_contract_example() -> None:
    totals = compute_totals([line(1, "1.99")], CLASSES)
    assert totals.total == Decimal("1.99")
    assert totals.tax_total == Decimal("0.33")
    row = totals.breakdown[0]
    assert (row.tax_class, row.net, row.tax, row.gross) == (
        "STD",
        Decimal("1.66"),
        Decimal("0.33"),
        Decimal("1.99"),
    )
    assert totals.lines[0].tax == Decimal("0.33")


@pytest.mark.req("FR-302")
def test_tax_rounded_per_document_not_per_line() -> None:
    # three lines of 0.10 at 20 %: per line 0.0167 -> 0.02 each (0.06); per document 0.05
    totals = compute_totals([line(i, "0.10") for i in (1, 2, 3)], CLASSES)
    assert totals.tax_total == Decimal("0.05")
    assert sum(pl.tax for pl in totals.lines) == Decimal("0.05")


@pytest.mark.req("FR-302")
def test_several_classes_and_quantities() -> None:
    totals = compute_totals(
        [line(1, "2.50", 3), line(2, "1.07", 2, "RED"), line(3, "5.00", 1, "ZERO")], CLASSES
    )
    assert totals.total == Decimal("14.64")
    assert totals.item_count == 6
    assert [r.tax_class for r in totals.breakdown] == ["RED", "STD", "ZERO"]
    assert totals.breakdown[0].tax == Decimal("0.14")
    assert totals.breakdown[1].tax == Decimal("1.25")
    assert totals.breakdown[2].tax == Decimal("0.00")


def test_unknown_tax_class_is_a_clear_error() -> None:
    with pytest.raises(ValidationError) as err:
        compute_totals([line(1, "1.00", tax_class="LUX")], CLASSES)
    assert err.value.reason is Reason.VALIDATION_FAILED


def test_exclusive_or_float_rates_are_refused() -> None:
    with pytest.raises(ValidationError):
        parse_tax_classes({"classes": {"STD": {"rate": "0.2", "inclusive": False}}})
    with pytest.raises(ValidationError):
        parse_tax_classes({"classes": {"STD": {"rate": 0.2}}})
    with pytest.raises(ValidationError):
        parse_tax_classes({"rounding": "BANKERS", "classes": {}})


@pytest.mark.req("FR-300")
def test_change_and_insufficient_tender() -> None:
    assert change_due(Decimal("1.99"), Decimal("5.00")) == Decimal("3.01")
    assert change_due(Decimal("1.99"), Decimal("1.99")) == Decimal("0.00")
    with pytest.raises(ValidationError) as err:
        change_due(Decimal("1.99"), Decimal("1.98"))
    assert err.value.reason is Reason.INSUFFICIENT_TENDER


line_strategy = st.tuples(
    st.integers(min_value=1, max_value=99_999),
    st.integers(min_value=1, max_value=50),
    st.sampled_from(["STD", "RED", "ZERO"]),
)


@pytest.mark.req("FR-302")
@settings(max_examples=200, deadline=None)
@given(st.lists(line_strategy, min_size=1, max_size=30))
def test_breakdown_sums_exactly_to_the_total(specs: list[tuple[int, int, str]]) -> None:
    lines = [
        line(i + 1, str(Decimal(cents) / 100), qty, tc) for i, (cents, qty, tc) in enumerate(specs)
    ]
    totals = compute_totals(lines, CLASSES)
    assert sum(r.gross for r in totals.breakdown) == totals.total
    assert sum(r.tax for r in totals.breakdown) == totals.tax_total
    assert all(r.net + r.tax == r.gross for r in totals.breakdown)
    assert sum(pl.line_total for pl in totals.lines) == totals.total
    assert sum(pl.tax for pl in totals.lines) == totals.tax_total
    assert all(pl.tax >= 0 for pl in totals.lines)
