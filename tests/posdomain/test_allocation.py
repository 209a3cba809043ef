"""Largest-remainder allocation (FR-301, FR-302): the parts sum exactly to the total, to the
currency unit, negative totals mirror positive ones, and bad input says what is wrong."""

from __future__ import annotations

from decimal import Decimal

import pytest

from posdomain.allocation import allocate

pytestmark = pytest.mark.req("FR-301", "FR-302")

D = Decimal


def test_cents_by_default_and_other_units_when_told() -> None:
    assert allocate(D("1.00"), [D(1), D(1), D(1)], ["a", "b", "c"]) == [
        D("0.34"), D("0.33"), D("0.33"),
    ]  # fmt: skip
    assert allocate(D("10"), [D(1), D(1), D(1)], ["a", "b", "c"], 0) == [D(4), D(3), D(3)]
    assert allocate(D("0.010"), [D(1), D(2)], ["a", "b"], 3) == [D("0.003"), D("0.007")]


def test_a_negative_total_mirrors_the_positive_one() -> None:
    weights, keys = [D(1), D(2), D(0)], ["a", "b", "c"]
    for exponent, total in ((2, D("-1.00")), (0, D("-10")), (3, D("-0.010"))):
        back = allocate(total, weights, keys, exponent)
        assert back == [-p for p in allocate(-total, weights, keys, exponent)]
        assert sum(back) == total
        assert all(p <= 0 for p in back)
    assert allocate(D("-1.00"), weights, keys) == [D("-0.33"), D("-0.67"), D("0.00")]


def test_all_zero_weights_split_evenly() -> None:
    assert allocate(D("1.00"), [D(0), D(0)], ["a", "b"]) == [D("0.50"), D("0.50")]
    assert allocate(D("0.03"), [D(0), D(0)], ["b", "a"]) == [D("0.01"), D("0.02")]


def test_leftover_units_go_to_the_largest_remainders_then_the_smallest_key() -> None:
    assert allocate(D("0.10"), [D(3), D(3), D(4)], ["z", "y", "x"]) == [
        D("0.03"), D("0.03"), D("0.04"),
    ]  # fmt: skip
    assert allocate(D("0.05"), [D(1), D(1)], ["b", "a"]) == [D("0.02"), D("0.03")]
    assert [str(p) for p in allocate(D("5"), [D(1), D(1)], ["a", "b"])] == ["2.50", "2.50"]


@pytest.mark.parametrize(
    ("args", "message"),
    [((D("1.00"), [D(1)], ["a", "b"]), "weights and keys differ in length"),
     ((D("1.00"), [], []), "cannot allocate a non-zero total over nothing"),
     ((D("1.00"), [D(1), D(-1)], ["a", "b"]), "weights must be non-negative"),
     ((D("1.005"), [D(1)], ["a"]), "1.005 is not a whole number of units")],
)  # fmt: skip
def test_bad_input_says_what_is_wrong(args: tuple[object, ...], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        allocate(*args)  # type: ignore[arg-type]
    assert allocate(D("0.00"), [], []) == []
