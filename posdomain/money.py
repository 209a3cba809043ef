"""Money as Decimal in the domain, integer minor units in storage, decimal strings on the wire."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal, InvalidOperation
from functools import cache, lru_cache

from posdomain.errors import Reason, ValidationError

# UP / DOWN are away from / towards zero (Python's ROUND_UP / ROUND_DOWN), so a refund rounds
# like the sale it reverses
ROUNDING_MODES = {
    "HALF_UP": ROUND_HALF_UP,
    "HALF_EVEN": ROUND_HALF_EVEN,
    "UP": ROUND_UP,
    "DOWN": ROUND_DOWN,
}
MAX_ABS_MINOR = 10**12  # a trillion cents: anything larger is an input error, not a sale
MAX_DIGITS = 15  # integer digits looked at before any arithmetic (1e999999999 overflows abs())


@cache
def quantum(exponent: int = 2) -> Decimal:
    """The smallest unit for a currency with `exponent` decimals (0.01 for 2)."""
    return Decimal(1).scaleb(-exponent)


def parse_money(value: object, exponent: int = 2, field: str = "amount") -> Decimal:
    """Parse a wire value (string or int, never float) into an exact Decimal amount."""
    if type(value) is str:  # the wire's form: the same few prices recur (Decimal is immutable)
        return _parse_str(value, exponent, field)
    return _parse(value, exponent, field)


@lru_cache(maxsize=65536)
def _parse_str(value: str, exponent: int, field: str) -> Decimal:
    """A cached `_parse` of a string (a refused value raises every time: errors are never
    cached, so each caller gets its own field's message)."""
    return _parse(value, exponent, field)


def _parse(value: object, exponent: int, field: str) -> Decimal:
    if isinstance(value, (bool, float)):
        raise ValidationError(
            f"{field} must be a decimal string, not {type(value).__name__}",
            Reason.INVALID_MONEY,
            {"field": field},
        )
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as err:
        raise ValidationError(
            f"{field} is not a number: {value!r}", Reason.INVALID_MONEY, {"field": field}
        ) from err
    if not amount.is_finite():
        raise ValidationError(f"{field} must be finite", Reason.INVALID_MONEY, {"field": field})
    # range first: quantize() of 1e400 (or 30 digits) would overflow the decimal context
    if amount.adjusted() > MAX_DIGITS or abs(amount) > Decimal(MAX_ABS_MINOR).scaleb(-exponent):
        raise ValidationError(f"{field} is out of range", Reason.INVALID_MONEY, {"field": field})
    rounded = amount.quantize(quantum(exponent), rounding=ROUND_HALF_UP)
    if amount != rounded:
        raise ValidationError(
            f"{field} has more than {exponent} decimals", Reason.INVALID_MONEY, {"field": field}
        )
    # (no second range check: |rounded| == |amount| <= MAX_ABS_MINOR units, checked above)
    return rounded


def parse_minor(value: object, exponent: int = 2, field: str = "amount") -> int:
    """Parse a wire money value straight into integer minor units (see parse_money)."""
    if type(value) is str:  # the wire's form: cached like parse_money (errors never cached)
        return _minor_str(value, exponent, field)
    return to_minor(parse_money(value, exponent, field), exponent)


@lru_cache(maxsize=65536)
def _minor_str(value: str, exponent: int, field: str) -> int:
    return to_minor(_parse_str(value, exponent, field), exponent)


def round_money(amount: Decimal, exponent: int = 2, mode: str = "HALF_UP") -> Decimal:
    """Round to the currency unit with the configured mode (HALF_UP default)."""
    return amount.quantize(quantum(exponent), rounding=ROUNDING_MODES[mode])


def to_minor(amount: Decimal, exponent: int = 2) -> int:
    """Exact Decimal amount to integer minor units (raises if not exact)."""
    scaled = amount.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise ValidationError(
            f"{amount} is not a whole number of minor units", Reason.INVALID_MONEY
        )
    return int(scaled)


def from_minor(minor: int, exponent: int = 2) -> Decimal:
    """Integer minor units to a Decimal amount."""
    return Decimal(minor).scaleb(-exponent).quantize(quantum(exponent))


def format_minor(minor: int, exponent: int = 2) -> str:
    """Wire/display form of minor units: '12.34'."""
    return str(from_minor(minor, exponent))
