"""The rules of one sale or refund line and of the tax breakdown over a document's lines,
as pure functions (docs/CONTRACT.md): positive quantities (whole for products sold per
item), non-negative money, extended = qty x unit price (weighed lines within the 1 g
resolution of the scale), line amount = extended - discounts, line total = amount
(inclusive tax) or amount + tax (exclusive), line tax = the rate's tax of the amount within
one minor unit (each tax of a multi-tax line its exact tax), unique line numbers, deposit
lines pointing at a line of the same document; each breakdown row net + tax = gross and
equal to its code's lines. A line that breaks a rule raises `Broken` (the first rule).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import NamedTuple

from posdomain.doc_checks import (
    Context,
    Violation,
    fail,
    money,
    parse_rate,
    parse_rate_amount,
    quantity,
    violation,
)
from posdomain.errors import Reason
from posdomain.money import quantum
from posdomain.payloads import LineTaxPart, RefundLine, SaleLine, TaxRow
from posdomain.tax import TaxClass, TaxComponent, exact_tax
from posdomain.tax_engine import exact_parts

WEIGHT_RESOLUTION = Decimal("0.0005")  # half a gram: how far a price label's kg can be off


Part = tuple[str, Decimal, bool]  # (tax code, tax, is a levy)


class Figures(NamedTuple):
    """A line's parsed amounts; `parts` its tax per code (one, its class, if not given). A
    named tuple: one is built per checked line (a frozen dataclass's `__init__` cost 1.5 µs
    of the 0.5 µs a tuple takes)."""

    extended: Decimal
    discounts: Decimal
    total: Decimal
    tax: Decimal
    tax_class: str
    parts: tuple[Part, ...] = ()

    def taxes(self) -> tuple[Part, ...]:
        """The line's tax per code."""
        return self.parts or ((self.tax_class, self.tax, False),)


def inclusive_of(rows: Sequence[TaxRow]) -> dict[str, bool]:
    """Inclusive flag per breakdown row code (class or tax code)."""
    return {r.tax_class: r.inclusive for r in rows if r.inclusive is not None}


def inclusive_for(flags: Mapping[str, bool], ln: SaleLine | RefundLine) -> bool | None:
    """A line's inclusive flag: its class's row, else the row of one of its tax codes."""
    for code in (ln.tax_class, *(p.code for p in ln.taxes)):
        if code in flags:
            return flags[code]
    return None


def _extended_ok(qty: Decimal, price: Decimal, extended: Decimal, exp: int, weighed: bool) -> bool:
    exact = qty * price
    if not weighed:
        return extended == exact.quantize(quantum(exp), rounding=ROUND_HALF_UP)
    return abs(extended - exact) <= price * WEIGHT_RESOLUTION + quantum(exp) / 2


@lru_cache(maxsize=65536)
def tax_ok(
    amount: Decimal, tax: Decimal, rate: Decimal, inclusive: bool, exp: int, units: int = 1
) -> bool:
    """Tax within `units` minor units of the rate's exact tax (line rounding is <= 1/2,
    document rounding allocated back to lines < 1; a partial refund scales both: < 3).
    Cached: a pure function of numbers (equal Decimals give the same answer), and the same
    few (price, rate) pairs recur on every till's lines, so ingest computes each once."""
    exact = exact_tax(amount, TaxClass("x", rate, inclusive))
    return abs(tax - exact) < units * quantum(exp)


def _components(parts: Sequence[LineTaxPart], name: str) -> tuple[TaxComponent, ...]:
    """The line's taxes as components, each `on` only codes listed before it."""
    seen: list[str] = []
    out = []
    for part in parts:
        if part.code in seen or any(code not in seen for code in part.on):
            fail(Reason.TAX_MISMATCH, "line_taxes", f"{name}: taxes out of order or repeated")
        levy = None if part.per_unit is None else parse_rate_amount(part.per_unit, name)
        out.append(TaxComponent(part.code, "", parse_rate(part.rate, name), levy, tuple(part.on)))
        seen.append(part.code)
    return tuple(out)


def line_parts(
    parts: Sequence[LineTaxPart],
    figures: tuple[Decimal, Decimal, Decimal],
    inclusive: bool,
    exp: int,
    units: int,
    name: str,
) -> tuple[Part, ...]:
    """Check a multi-tax line's taxes: they sum to its tax and each is its exact tax (within
    `units` minor units per tax). `figures` = (amount, qty, tax), all of one sign."""
    amount, qty, tax = figures
    if not parts:
        return ()
    components = _components(parts, name)
    taxes = [money(p.tax, exp, f"{name} tax") for p in parts]
    if sum(taxes, Decimal(0)) != tax:
        fail(Reason.TAX_MISMATCH, "line_taxes", f"{name}: its taxes do not add up to {tax}")
    sign = -1 if qty < 0 else 1
    tc = TaxClass("line", Decimal(0), inclusive, components)
    _, exact = exact_parts(abs(amount), abs(qty), tc)
    for part, got, want in zip(components, taxes, exact, strict=True):
        if abs(got * sign - want) >= units * quantum(exp):
            fail(Reason.TAX_MISMATCH, "line_tax", f"{name}: {part.code} {got} is not {want}")
    return tuple(
        (c.code, t, c.per_unit is not None) for c, t in zip(components, taxes, strict=True)
    )


def _signs(
    line_no: int, qty: Decimal, price: Decimal, money_: list[Decimal], discounts: list[Decimal]
) -> None:
    """Sold lines: money >= 0; returned lines (qty < 0): money <= 0 and no discounts."""
    sign = -1 if qty < 0 else 1
    if price < 0 or min(m * sign for m in [*money_, *discounts]) < 0:
        fail(Reason.INVALID_MONEY, "negative", f"line {line_no}: money of the wrong sign")
    if sign < 0 and discounts:
        fail(Reason.LINE_ARITHMETIC, "returned_discount", f"line {line_no}: a return has none")


def sale_line(ln: SaleLine, exp: int, inclusive: bool | None, ctx: Context) -> Figures:
    """Parse and check one sale line (raises Broken on the first broken rule)."""
    qty = quantity(ln.qty, f"line {ln.line_no} qty", signed=True)
    unit = ctx.units.get(ln.product_id) or ln.unit or "each"
    if unit == "each" and qty != qty.to_integral_value():
        fail(
            Reason.INVALID_QUANTITY,
            "qty_unit",
            f"line {ln.line_no}: {ln.product_id} is sold per item, not {qty}",
        )
    price = money(ln.unit_price, exp, f"line {ln.line_no} unit_price")
    extended = money(ln.extended, exp, "extended") if ln.extended is not None else None
    amounts = [money(d.amount, exp, "discount") for d in ln.discounts]
    discounts = sum(amounts, Decimal(0))
    total, tax = money(ln.line_total, exp, "line_total"), money(ln.tax, exp, "tax")
    rate = parse_rate(ln.tax_rate, f"line {ln.line_no} tax_rate")
    _signs(ln.line_no, qty, price, [total, tax, extended or Decimal(0)], amounts)
    weighed = ln.unit == "weight" or unit == "weight"
    if extended is None:
        extended = (qty * price).quantize(quantum(exp), rounding=ROUND_HALF_UP)
    if not _extended_ok(qty, price, extended, exp, weighed) or discounts > abs(extended):
        fail(
            Reason.LINE_ARITHMETIC,
            "extended",
            f"line {ln.line_no}: {qty} x {price} is not {extended} - {discounts}",
        )
    amount = extended - discounts
    forms = [inclusive] if inclusive is not None else [True, False]
    matching = [f for f in forms if total == (amount if f else amount + tax)]
    if not matching:
        fail(
            Reason.LINE_ARITHMETIC,
            "line_total",
            f"line {ln.line_no}: line total {total} is not {amount} (+ tax)",
        )
    if ln.taxes:
        amount_of = total if matching[0] else amount
        parts = line_parts(
            ln.taxes, (amount_of, qty, tax), matching[0], exp, 2, f"line {ln.line_no}"
        )
        return Figures(extended, discounts, total, tax, ln.tax_class, parts)
    if not any(tax_ok(amount, tax, rate, f, exp) for f in matching):
        fail(
            Reason.TAX_MISMATCH,
            "line_tax",
            f"line {ln.line_no}: tax {tax} is not {rate} of {amount}",
        )
    return Figures(extended, discounts, total, tax, ln.tax_class)


def line_numbers(numbers: list[int], deposits: list[int | None]) -> list[Violation]:
    out = []
    if len(set(numbers)) != len(numbers):
        out.append(violation(Reason.DUPLICATE_LINE_NO, "line_no", "a line number is used twice"))
    if any(d is not None and d not in numbers for d in deposits):
        out.append(
            violation(Reason.VALIDATION_FAILED, "deposit_for_line", "deposit of no such line")
        )
    return out


def _sums(figures: Sequence[Figures]) -> dict[str, tuple[Decimal, Decimal]]:
    """(net, tax) per tax code over the lines: a levy adds no net."""
    by_code: dict[str, tuple[Decimal, Decimal]] = {}
    for f in figures:
        for code, tax, levy in f.taxes():
            net, sum_tax = by_code.get(code, (Decimal(0), Decimal(0)))
            by_code[code] = (net + (0 if levy else f.total - f.tax), sum_tax + tax)
    return by_code


def breakdown(
    rows: Sequence[TaxRow], figures: Sequence[Figures], exp: int, sign: int
) -> list[Violation]:
    """Each row (one per tax code): net + tax = gross, equal to the sums of its lines."""
    if not rows:
        return []
    by_code = _sums(figures)
    seen = set()
    for row in rows:
        net, tax, gross = (money(v, exp, "tax_breakdown") for v in (row.net, row.tax, row.gross))
        want = by_code.get(row.tax_class)
        if row.tax_class in seen or want is None or net + tax != gross:
            return [
                violation(Reason.TAX_MISMATCH, "breakdown", f"tax row {row.tax_class} is wrong")
            ]
        if (net * sign, tax * sign) != want:
            return [
                violation(Reason.TAX_MISMATCH, "breakdown", f"tax row {row.tax_class} != lines")
            ]
        seen.add(row.tax_class)
    if seen != set(by_code):
        return [violation(Reason.TAX_MISMATCH, "breakdown", "a taxed class has no breakdown row")]
    return []
