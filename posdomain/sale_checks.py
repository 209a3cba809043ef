"""Domain rules of the box's sales, as pure functions (FR-303: trust nothing).

`check_sale` returns every rule a sale breaks, each with a stable reason code (empty list =
it adds up); refunds and post-voids: `posdomain.refund_checks`, built on the primitives
here. The box builds documents that pass by construction (`posdomain.pricing`,
`posdomain.tax`, the settlement of tenders); the hub runs the same rules at ingest and
quarantines what fails. The rules (docs/CONTRACT.md):

* lines: positive quantities (whole for products sold per item), non-negative money,
  extended = qty x unit price (weighed lines within the 1 g resolution of the scale),
  line amount = extended - discounts, line total = amount (inclusive tax) or amount + tax
  (exclusive), line tax = the rate's tax of the amount within one minor unit, unique line
  numbers, deposit lines pointing at a line of the same sale;
* totals: subtotal = sum of extended, discount total = sum of discounts, tax total = sum of
  line taxes, total = sum of line totals (net + tax), each breakdown row net + tax = gross
  and equal to its class's lines, payable = total + cash rounding (at most half a coin step);
* tenders: known kinds, positive amounts, change >= 0 and only from cash, card never more
  than the total and never a card number, tenders - change = payable; an exchange whose
  payable is negative pays it out exactly with negative tenders and no change; an even
  exchange has no tender;
* returns: a returned line (negative qty) of an exchange names its sale line (`return_of`);
  returned empties only beside sold lines, never outweighing them;
* the tenant's currency and exponent, timestamps inside the configured window.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import NoReturn

from posdomain.errors import Reason, ValidationError
from posdomain.money import parse_money, quantum
from posdomain.payloads import LineTaxPart, RefundLine, SaleCompleted, SaleLine, TaxRow, Tender
from posdomain.tax import TaxClass, TaxComponent, exact_tax
from posdomain.tax_engine import exact_parts
from posdomain.till_codes import POINTS_TENDER, TenderKind

MAX_QTY = Decimal(1_000_000)
MAX_ROUNDING_UNITS = 50  # cash rounding never exceeds half of a 1.00 coin step
WEIGHT_RESOLUTION = Decimal("0.0005")  # half a gram: how far a price label's kg can be off
_PAN_LIKE = re.compile(r"^\d{12,19}$")
_TENDER_KINDS = frozenset(k.value for k in TenderKind) | {POINTS_TENDER}


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


Part = tuple[str, Decimal, bool]  # (tax code, tax, is a levy)


@dataclass(frozen=True)
class Figures:
    """A line's parsed amounts; `parts` its tax per code (one, its class, if not given)."""

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


def parse_rate_amount(value: str, name: str) -> Decimal:
    """A levy per unit: non-negative, at most 6 decimals."""
    try:
        levy = Decimal(value.strip())
    except (InvalidOperation, ValueError):
        fail(Reason.TAX_MISMATCH, "levy", f"{name}: levy is not a number")
    if not levy.is_finite() or levy < 0 or levy > MAX_QTY or levy != levy.quantize(Decimal("1e-6")):
        fail(Reason.TAX_MISMATCH, "levy", f"{name}: levy out of range")
    return levy


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


def _line(ln: SaleLine, exp: int, inclusive: bool | None, ctx: Context) -> Figures:
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


def tenders_sum(tenders: Sequence[Tender], exp: int, sign: int) -> tuple[Decimal, Decimal]:
    """(cash, other) sums of known tenders (sign 1: sale, -1: refund, amounts negative); other
    is card and loyalty points, which give no change and never exceed the total."""
    cash = card = Decimal(0)
    for t in tenders:
        if t.kind not in _TENDER_KINDS:
            fail(Reason.UNKNOWN_TENDER, "tender_kind", f"unknown tender {t.kind!r}")
        amount = money(t.amount, exp, "tender")
        if amount * sign <= 0:
            fail(Reason.INVALID_MONEY, "tender_sign", "a tender has the wrong sign")
        if t.kind == TenderKind.CARD:
            ref = (t.reference or "").strip()
            if not ref or _PAN_LIKE.match(ref.replace("-", "").replace(" ", "")):
                fail(
                    Reason.VALIDATION_FAILED,
                    "card_reference",
                    "a card tender needs the terminal reference, never a PAN",
                )
            card += amount
        elif t.kind == POINTS_TENDER:
            card += amount
        else:
            cash += amount
    return cash, card


def parse_rounding(value: str, exp: int) -> Decimal:
    rounding = money(value, exp, "cash_rounding")
    if abs(rounding) > MAX_ROUNDING_UNITS * quantum(exp):
        fail(Reason.TOTALS_MISMATCH, "cash_rounding", f"cash rounding {rounding}")
    return rounding


def _sale_totals(sale: SaleCompleted, figures: list[Figures]) -> list[Violation]:
    exp = sale.exponent
    out = []
    if money(sale.subtotal, exp, "subtotal") != sum(f.extended for f in figures):
        out.append(violation(Reason.TOTALS_MISMATCH, "subtotal", "subtotal is not the lines' sum"))
    given = sale.discount_total
    if given is not None and money(given, exp, "discount_total") != sum(
        f.discounts for f in figures
    ):
        out.append(violation(Reason.TOTALS_MISMATCH, "discount_total", "discounts do not add up"))
    if money(sale.tax_total, exp, "tax_total") != sum(f.tax for f in figures):
        out.append(violation(Reason.TAX_MISMATCH, "tax_total", "tax total is not the lines' tax"))
    total = money(sale.total, exp, "total")
    if total != sum(f.total for f in figures):
        out.append(
            violation(Reason.TOTALS_MISMATCH, "total", f"total {total} is not the lines' sum")
        )
    out += breakdown(sale.tax_breakdown, figures, exp, 1)
    rounding = parse_rounding(sale.cash_rounding, exp)
    payable = total + rounding
    if sale.payable is not None and money(sale.payable, exp, "payable") != payable:
        out.append(violation(Reason.TOTALS_MISMATCH, "payable", "payable is not total + rounding"))
    return out + _sale_tenders(sale, total, rounding)


def _payout_tenders(sale: SaleCompleted, total: Decimal, rounding: Decimal) -> list[Violation]:
    """An exchange that pays money back: negative tenders paying out exactly the payable, cash
    rounding only on a cash pay-out."""
    payable = total + rounding
    cash, card = tenders_sum(sale.tenders, sale.exponent, -1)
    if money(sale.change, sale.exponent, "change") != 0:
        return [violation(Reason.TENDER_MISMATCH, "payout_change", "a pay-out gives no change")]
    if cash == 0 and rounding != 0:
        return [violation(Reason.TENDER_MISMATCH, "cash_only", "rounding without cash")]
    if cash + card != payable:
        return [violation(Reason.TENDER_MISMATCH, "tenders", "paid out is not the payable")]
    return []


def _sale_tenders(sale: SaleCompleted, total: Decimal, rounding: Decimal) -> list[Violation]:
    exp = sale.exponent
    if total + rounding < 0 and any(ln.return_of is not None for ln in sale.lines):
        return _payout_tenders(sale, total, rounding)  # only an exchange pays out
    cash, card = tenders_sum(sale.tenders, exp, 1)
    change = money(sale.change, exp, "change")
    if change < 0:
        return [violation(Reason.INVALID_MONEY, "change", "change is negative")]
    # rounding without cash only where the cash part itself rounded away: a card leaving less
    # than half a cash step, an exchange owing the customer less than that (the box settles
    # both with no cash tender); anything else is cash rounding on a card
    if cash == 0 and (change != 0 or (rounding != 0 and card != total + rounding)):
        return [violation(Reason.TENDER_MISMATCH, "cash_only", "change or rounding without cash")]
    if (card > 0 and card > total) or change > cash:  # no card at all is never over
        return [
            violation(Reason.TENDER_MISMATCH, "tender_split", "card over total or change > cash")
        ]
    if cash + card - change != total + rounding:
        return [
            violation(
                Reason.TENDER_MISMATCH,
                "tenders",
                f"tenders {cash + card} - change {change} is not {total + rounding}",
            )
        ]
    return []


def _returns(sale: SaleCompleted) -> list[Violation]:
    """Returned lines (negative qty): an exchange's name the sale line they bring back
    (`return_of`, they may make the total negative); other returns (empties) only beside
    sold lines, never outweighing them."""
    unmatched = [ln for ln in sale.lines if ln.return_of is None]
    signs = {quantity_sign(ln.qty) for ln in unmatched}
    if -1 not in signs:
        return []
    if 1 not in signs or _gross(unmatched, sale.exponent) < 0:
        return [violation(Reason.UNMATCHED_RETURN, "returns", "returns without a matching sale")]
    return []


def _gross(lines: Sequence[SaleLine], exp: int) -> Decimal:
    """The lines' totals summed (unreadable money counts as 0: its own rule reports it)."""
    out = Decimal(0)
    for ln in lines:
        try:
            out += money(ln.line_total, exp, "line_total")
        except Broken:
            continue
    return out


def quantity_sign(value: str) -> int:
    """-1 for a quantity written negative, else 1 (parsed properly by `quantity`)."""
    return -1 if value.strip().startswith("-") else 1


def check_sale(sale: SaleCompleted, ctx: Context) -> list[Violation]:
    """Every rule a sale.completed breaks (empty: it adds up and may be stored)."""
    out = check_document(sale.currency, sale.exponent, [sale.completed_at], ctx)
    out += line_numbers(
        [ln.line_no for ln in sale.lines], [ln.deposit_for_line for ln in sale.lines]
    )
    out += _returns(sale)
    inclusive = inclusive_of(sale.tax_breakdown)
    try:
        figures = [_line(ln, sale.exponent, inclusive_for(inclusive, ln), ctx) for ln in sale.lines]
        return out + _sale_totals(sale, figures)
    except Broken as broken:
        return [*out, broken.violation]
