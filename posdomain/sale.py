"""Pure basket arithmetic: line totals, tax-inclusive breakdown per class, totals, change.

Tax is rounded once per document per tax class (tax = gross * rate / (1 + rate)), then
allocated back to the lines by largest remainder so line taxes sum exactly to the class tax
and the breakdown's gross sums exactly to the document total (FR-302, PITFALLS "tax").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from posdomain.errors import Reason, ValidationError
from posdomain.money import ROUNDING_MODES, parse_money, quantum, round_money


@dataclass(frozen=True)
class TaxClass:
    """One configured tax class; only tax-inclusive prices are supported for now."""

    code: str
    rate: Decimal
    inclusive: bool = True


@dataclass(frozen=True)
class LineInput:
    """A basket line as the basket holds it (unit price already a Decimal amount)."""

    line_no: int
    product_id: str
    sku: str
    name: str
    barcode: str
    qty: int
    unit_price: Decimal
    tax_class: str


@dataclass(frozen=True)
class PricedLine:
    """A line with its gross total and its share of the document's class tax."""

    line: LineInput
    line_total: Decimal
    tax_rate: Decimal
    tax: Decimal


@dataclass(frozen=True)
class TaxRow:
    """One row of the receipt's tax breakdown (net + tax == gross)."""

    tax_class: str
    rate: Decimal
    net: Decimal
    tax: Decimal
    gross: Decimal


@dataclass(frozen=True)
class Totals:
    """Everything a receipt needs about the money of a basket."""

    lines: list[PricedLine]
    breakdown: list[TaxRow]
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    item_count: int


def parse_tax_classes(tax_config: Mapping[str, Any]) -> tuple[dict[str, TaxClass], str]:
    """Tax classes and rounding mode from a config down message's `tax` section."""
    rounding = str(tax_config.get("rounding", "HALF_UP"))
    if rounding not in ROUNDING_MODES:
        raise ValidationError(f"unknown tax rounding {rounding!r}", Reason.VALIDATION_FAILED)
    classes: dict[str, TaxClass] = {}
    raw_classes = tax_config.get("classes") or {}
    if not isinstance(raw_classes, Mapping):
        raise ValidationError("tax.classes must be a mapping", Reason.VALIDATION_FAILED)
    for code, spec in raw_classes.items():
        rate = _parse_rate(spec.get("rate"), str(code))
        inclusive = bool(spec.get("inclusive", True))
        if rate < 0 or not inclusive:
            raise ValidationError(
                f"tax class {code}: only non-negative tax-inclusive rates are supported",
                Reason.VALIDATION_FAILED,
            )
        classes[str(code)] = TaxClass(code=str(code), rate=rate, inclusive=inclusive)
    return classes, rounding


def _parse_rate(value: object, code: str) -> Decimal:
    """A tax rate as an exact Decimal ('0.20'); floats are refused like money."""
    parse_money(value, exponent=6, field=f"tax.classes.{code}.rate")
    return Decimal(str(value).strip())


def _class_of(line: LineInput, classes: Mapping[str, TaxClass]) -> TaxClass:
    try:
        return classes[line.tax_class]
    except KeyError as err:
        raise ValidationError(
            f"product {line.sku} has unknown tax class {line.tax_class!r}",
            Reason.VALIDATION_FAILED,
            {"tax_class": line.tax_class},
        ) from err


def included_tax(gross: Decimal, rate: Decimal) -> Decimal:
    """Unrounded tax contained in a tax-inclusive gross amount."""
    return gross * rate / (1 + rate)


def _allocate(total: Decimal, weights: Sequence[Decimal], exponent: int) -> list[Decimal]:
    """Split `total` over the weights in whole units (largest remainder; sums exactly)."""
    unit = quantum(exponent)
    weight_sum = sum(weights, Decimal(0))
    if weight_sum == 0:
        return [Decimal(0).quantize(unit) for _ in weights]
    raw = [total * w / weight_sum for w in weights]
    floors = [r.quantize(unit, rounding=ROUND_FLOOR) for r in raw]
    leftover = int(((total - sum(floors, Decimal(0))) / unit).to_integral_value())
    order = sorted(range(len(raw)), key=lambda i: (floors[i] - raw[i], i))
    for i in order[:leftover]:
        floors[i] += unit
    return floors


def compute_totals(
    lines: Sequence[LineInput],
    classes: Mapping[str, TaxClass],
    *,
    exponent: int = 2,
    rounding: str = "HALF_UP",
) -> Totals:
    """Line totals, per-class breakdown rounded per document, and the document totals."""
    gross_of = {ln.line_no: ln.unit_price * ln.qty for ln in lines}
    by_class: dict[str, list[LineInput]] = {}
    for ln in lines:
        by_class.setdefault(_class_of(ln, classes).code, []).append(ln)
    priced: dict[int, PricedLine] = {}
    breakdown: list[TaxRow] = []
    for code in sorted(by_class):
        members = by_class[code]
        tc = classes[code]
        gross = sum((gross_of[m.line_no] for m in members), Decimal(0))
        tax = round_money(included_tax(gross, tc.rate), exponent, rounding)
        shares = _allocate(
            tax, [included_tax(gross_of[m.line_no], tc.rate) for m in members], exponent
        )
        for m, share in zip(members, shares, strict=True):
            priced[m.line_no] = PricedLine(m, gross_of[m.line_no], tc.rate, share)
        breakdown.append(TaxRow(code, tc.rate, gross - tax, tax, gross))
    total = sum((row.gross for row in breakdown), Decimal(0)).quantize(quantum(exponent))
    tax_total = sum((row.tax for row in breakdown), Decimal(0)).quantize(quantum(exponent))
    return Totals(
        lines=[priced[ln.line_no] for ln in lines],
        breakdown=breakdown,
        subtotal=total,
        tax_total=tax_total,
        total=total,
        item_count=sum(ln.qty for ln in lines),
    )


def change_due(total: Decimal, tendered: Decimal) -> Decimal:
    """Change for a cash tender, or raise INSUFFICIENT_TENDER if it does not cover the total."""
    if tendered < total:
        raise ValidationError(
            f"tendered {tendered} is less than the total {total}",
            Reason.INSUFFICIENT_TENDER,
            {"total": str(total), "tendered": str(tendered)},
        )
    return tendered - total
