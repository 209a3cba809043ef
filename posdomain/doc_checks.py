"""The primitives of the documents' domain rules (FR-303: trust nothing): a broken rule
(`Violation`, with its stable reason code), what the rules know beyond the document
(`Context`), the readers of wire money, quantities, tax rates and levies (a value they cannot
read stops the checks: `Broken`), and the document-level rules every check shares (the
tenant's currency and exponent, timestamps inside the window). Built on by
`posdomain.line_checks`, `posdomain.sale_checks`, `posdomain.refund_checks` and
`posdomain.shift_checks`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import NoReturn

from posdomain.errors import Reason, ValidationError
from posdomain.money import parse_money

MAX_QTY = Decimal(1_000_000)


@dataclass(frozen=True)
class Violation:
    """One broken rule: its reason code, the rule's name and what was found."""

    reason: Reason
    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """JSON form (reconciliation details, ack messages)."""
        return {"reason": str(self.reason), "rule": self.rule, "message": self.message}


@dataclass(frozen=True)
class Context:
    """What the rules know beyond the document: the tenant's money, a sane time window and
    the unit ("each"/"weight") of every product the hub's catalog holds."""

    currency: str | None
    exponent: int | None
    earliest: datetime
    latest: datetime
    units: Mapping[str, str] = field(default_factory=dict)


class Broken(Exception):
    """A value the rules cannot even read (bad money or quantity): stops the checks."""

    def __init__(self, violation: Violation) -> None:
        super().__init__(violation.message)
        self.violation = violation


def violation(reason: Reason, rule: str, message: str) -> Violation:
    return Violation(reason, rule, message)


def fail(reason: Reason, rule: str, message: str) -> NoReturn:
    raise Broken(Violation(reason, rule, message))


def money(value: str, exponent: int, name: str) -> Decimal:
    try:
        return parse_money(value, exponent, name)
    except ValidationError as err:
        fail(Reason.INVALID_MONEY, "money", f"{name}: {err.message}")


def quantity(value: str, name: str, signed: bool = False) -> Decimal:
    """A positive quantity with at most 3 decimals (`signed`: also a negative one, not 0).
    A good wire string is parsed once per process (`_good_quantity`); a bad one is parsed
    again to fail with this field's name."""
    if type(value) is str:
        good = _good_quantity(value, signed)
        if good is not None:
            return good
    return _quantity(value, name, signed)


@lru_cache(maxsize=65536)
def _good_quantity(value: str, signed: bool) -> Decimal | None:
    try:
        return _quantity(value, "qty", signed)
    except Broken:
        return None


def _quantity(value: str, name: str, signed: bool) -> Decimal:
    try:
        qty = Decimal(value.strip())
    except (InvalidOperation, ValueError):
        fail(Reason.INVALID_QUANTITY, "qty", f"{name} is not a number")
    if signed and qty.is_finite() and qty < 0:
        return -_quantity(str(-qty), name, False)
    if not qty.is_finite() or qty <= 0 or qty > MAX_QTY or qty != qty.quantize(Decimal("0.001")):
        fail(Reason.INVALID_QUANTITY, "qty", f"{name} must be > 0 with at most 3 decimals")
    return qty


def parse_rate(value: str, name: str) -> Decimal:
    """A tax rate in [0, 10) with at most 6 decimals (good wire strings parsed once)."""
    if type(value) is str:
        good = _good_rate(value)
        if good is not None:
            return good
    return _rate(value, name)


@lru_cache(maxsize=4096)
def _good_rate(value: str) -> Decimal | None:
    try:
        return _rate(value, "rate")
    except Broken:
        return None


def _rate(value: str, name: str) -> Decimal:
    try:
        rate = Decimal(value.strip())
    except (InvalidOperation, ValueError):
        fail(Reason.TAX_MISMATCH, "rate", f"{name} is not a number")
    if not rate.is_finite() or rate < 0 or rate >= 10 or rate != rate.quantize(Decimal("1e-6")):
        fail(Reason.TAX_MISMATCH, "rate", f"{name} is out of range")
    return rate


def check_document(
    currency: str | None, exponent: int, times: Sequence[datetime], ctx: Context
) -> list[Violation]:
    """The tenant's currency/exponent and timestamps inside the window."""
    out = []
    if ctx.currency is not None and currency is not None and currency != ctx.currency:
        out.append(
            violation(Reason.CURRENCY_MISMATCH, "currency", f"{currency} is not {ctx.currency}")
        )
    if ctx.exponent is not None and exponent != ctx.exponent:
        out.append(violation(Reason.CURRENCY_MISMATCH, "exponent", f"exponent {exponent}"))
    return out + check_times(times, ctx)


def check_times(times: Sequence[datetime], ctx: Context) -> list[Violation]:
    """Timestamps inside the configured window."""
    out = []
    for when in times:
        if not ctx.earliest <= when <= ctx.latest:
            out.append(
                violation(
                    Reason.TIMESTAMP_OUT_OF_RANGE,
                    "time",
                    f"{when.isoformat()} is outside "
                    f"{ctx.earliest.isoformat()} .. {ctx.latest.isoformat()}",
                )
            )
    return out


def parse_rate_amount(value: str, name: str) -> Decimal:
    """A levy per unit: non-negative, at most 6 decimals."""
    try:
        levy = Decimal(value.strip())
    except (InvalidOperation, ValueError):
        fail(Reason.TAX_MISMATCH, "levy", f"{name}: levy is not a number")
    if not levy.is_finite() or levy < 0 or levy > MAX_QTY or levy != levy.quantize(Decimal("1e-6")):
        fail(Reason.TAX_MISMATCH, "levy", f"{name}: levy out of range")
    return levy


def quantity_sign(value: str) -> int:
    """-1 for a quantity written negative, else 1 (parsed properly by `quantity`)."""
    return -1 if value.strip().startswith("-") else 1
