"""Money: strict parsing of wire values, exact minor units, rounding modes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from posdomain.errors import Reason, ValidationError
from posdomain.money import (
    MAX_ABS_MINOR,
    format_minor,
    from_minor,
    parse_minor,
    parse_money,
    quantum,
    round_money,
    to_minor,
)


@pytest.mark.req("FR-800")
@pytest.mark.parametrize(
    ("value", "expected"),
    [("1.99", "1.99"), ("1.9", "1.90"), (" 2 ", "2.00"), (5, "5.00"), ("-0.01", "-0.01")],
)
def test_parse_money_accepts_strings_and_ints(value: object, expected: str) -> None:
    amount = parse_money(value)
    assert amount == Decimal(expected)
    assert str(amount) == expected


@pytest.mark.req("FR-800")
@pytest.mark.parametrize(
    "value",
    [1.99, 0.0, True, False, "NaN", "nan", "Infinity", "-Infinity", "sNaN", "abc", "", None,
     "1.999", "0.001", "1e-3", str(MAX_ABS_MINOR // 100 + 1), [1], {"a": 1},
     # found by the ingest fuzz: rounding these to cents raised decimal.InvalidOperation
     "1e30", "9" * 40, "-1E+29"],
)  # fmt: skip
def test_parse_money_rejects(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        parse_money(value, field="price")
    assert info.value.reason is Reason.INVALID_MONEY
    assert info.value.status == 400
    assert info.value.details == {"field": "price"}


def test_parse_money_range_edge_and_exponent() -> None:
    assert parse_money(str(MAX_ABS_MINOR // 100)) == Decimal(MAX_ABS_MINOR // 100)
    assert parse_money("1.999", exponent=3) == Decimal("1.999")
    assert str(parse_money("7", exponent=0)) == "7"
    with pytest.raises(ValidationError):
        parse_money("7.5", exponent=0)


def test_minor_units() -> None:
    assert quantum(2) == Decimal("0.01")
    assert to_minor(Decimal("12.34")) == 1234
    assert to_minor(Decimal("-0.05")) == -5
    assert from_minor(1234) == Decimal("12.34")
    assert format_minor(5) == "0.05"
    assert format_minor(-250) == "-2.50"
    assert format_minor(7, exponent=0) == "7"
    with pytest.raises(ValidationError) as info:
        to_minor(Decimal("0.001"))
    assert info.value.reason is Reason.INVALID_MONEY


@pytest.mark.parametrize(
    ("amount", "mode", "expected"),
    [("0.125", "HALF_UP", "0.13"), ("0.125", "HALF_EVEN", "0.12"), ("0.135", "HALF_EVEN", "0.14"),
     ("-0.125", "HALF_UP", "-0.13")],
)  # fmt: skip
def test_round_money_modes(amount: str, mode: str, expected: str) -> None:
    assert round_money(Decimal(amount), mode=mode) == Decimal(expected)


@pytest.mark.req("FR-800")
@given(st.integers(min_value=-MAX_ABS_MINOR, max_value=MAX_ABS_MINOR), st.sampled_from([0, 2, 3]))
def test_minor_round_trip(minor: int, exponent: int) -> None:
    amount = from_minor(minor, exponent)
    assert to_minor(amount, exponent) == minor
    assert parse_money(format_minor(minor, exponent), exponent) == amount


@pytest.mark.req("FR-800")
@given(st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False))
def test_decimal_round_trip(amount: Decimal) -> None:
    assert from_minor(to_minor(amount)) == amount
    assert parse_money(str(amount)) == amount


# Mutation survivors (docs/mutation.md): defaults, messages and the range bound.


@pytest.mark.req("FR-800")
def test_an_unnamed_amount_is_reported_as_amount() -> None:
    with pytest.raises(ValidationError) as info:
        parse_money("abc")
    assert info.value.details == {"field": "amount"}
    with pytest.raises(ValidationError) as info:
        parse_minor(1.5)
    assert info.value.details == {"field": "amount"}


@pytest.mark.req("FR-800")
@pytest.mark.parametrize(
    ("value", "words"),
    [(1.5, ("price", "decimal string", "float")), (True, ("price", "bool")),
     ("abc", ("price", "not a number", "'abc'")), ("NaN", ("price", "finite")),
     ("1e30", ("price", "out of range")), ("10000000001", ("price", "out of range")),
     ("1.999", ("price", "more than 2 decimals"))],
)  # fmt: skip
def test_each_refusal_says_what_is_wrong_with_which_field(
    value: object, words: tuple[str, ...]
) -> None:
    with pytest.raises(ValidationError) as info:
        parse_money(value, field="price")
    assert info.value.reason is Reason.INVALID_MONEY
    assert info.value.details == {"field": "price"}
    for word in words:
        assert word in info.value.message


@pytest.mark.req("FR-800")
@pytest.mark.parametrize("exponent", [0, 2, 3])
def test_the_range_is_a_trillion_minor_units_in_every_currency(exponent: int) -> None:
    top = from_minor(MAX_ABS_MINOR, exponent)
    assert parse_money(str(top), exponent) == top
    assert parse_money(str(-top), exponent) == -top
    for over in (top + quantum(exponent), -top - quantum(exponent), top * 2):
        with pytest.raises(ValidationError) as info:
            parse_money(str(over), exponent, field="total")
        assert info.value.details == {"field": "total"}
        assert "out of range" in info.value.message


@pytest.mark.req("FR-800")
def test_round_money_rounds_half_up_by_default() -> None:
    assert round_money(Decimal("0.125")) == Decimal("0.13")
    assert round_money(Decimal("2.5"), 0) == Decimal("3")
    assert round_money(Decimal("-0.125")) == Decimal("-0.13")


@pytest.mark.req("FR-800")
def test_to_minor_says_which_amount_is_not_whole_minor_units() -> None:
    with pytest.raises(ValidationError) as info:
        to_minor(Decimal("0.125"))
    assert "0.125" in info.value.message
    assert "minor units" in info.value.message


@pytest.mark.req("FR-800")
@pytest.mark.parametrize(
    ("value", "exponent", "minor"),
    [("12.34", 2, 1234), (" 7 ", 0, 7), ("-0.05", 2, -5), ("1.999", 3, 1999), (12, 2, 1200),
     (-3, 0, -3)],
)  # fmt: skip
def test_parse_minor_reads_wire_values_into_minor_units(
    value: object, exponent: int, minor: int
) -> None:
    assert parse_minor(value, exponent) == minor
    assert parse_minor(value, exponent) == minor  # the cached string path gives the same


@pytest.mark.req("FR-800")
@pytest.mark.parametrize("value", ["1.999", "abc", 1.5, None, "1e30"])
def test_parse_minor_refuses_what_parse_money_refuses_naming_the_field(value: object) -> None:
    for _ in range(2):  # a refusal is never cached
        with pytest.raises(ValidationError) as info:
            parse_minor(value, 2, "deposit")
        assert info.value.reason is Reason.INVALID_MONEY
        assert info.value.details == {"field": "deposit"}
        assert "deposit" in info.value.message
    with pytest.raises(ValidationError):
        parse_minor("7.5", 0)


@pytest.mark.req("FR-800")
def test_parse_minor_defaults_to_cents_and_refuses_any_json_shape() -> None:
    assert parse_minor("12.34") == 1234
    assert parse_minor(5) == 500
    for value in ([1], {"a": 1}):
        with pytest.raises(ValidationError) as info:
            parse_minor(value, 2, "deposit")
        assert info.value.details == {"field": "deposit"}
