"""Domain rules of the box's sales, as pure functions (FR-303: trust nothing).

`check_sale` returns every rule a sale breaks, each with a stable reason code (empty list =
it adds up); the primitives are in `posdomain.doc_checks`, the line and breakdown rules in
`posdomain.line_checks`; refunds and post-voids: `posdomain.refund_checks`. The box
builds documents that pass by construction (`posdomain.pricing`,
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
from collections.abc import Sequence
from decimal import Decimal

from posdomain.doc_checks import (
    MAX_QTY,
    Broken,
    Context,
    Violation,
    check_document,
    check_times,
    fail,
    money,
    parse_rate,
    parse_rate_amount,
    quantity,
    quantity_sign,
    violation,
)
from posdomain.errors import Reason
from posdomain.line_checks import (
    Figures,
    breakdown,
    inclusive_for,
    inclusive_of,
    line_numbers,
    sale_line,
)
from posdomain.money import quantum
from posdomain.payloads import SaleCompleted, SaleLine, Tender
from posdomain.till_codes import POINTS_TENDER, TenderKind

# the names callers have imported from here since before the split
__all__ = [
    "MAX_QTY",
    "Broken",
    "Context",
    "Violation",
    "check_document",
    "check_sale",
    "check_times",
    "parse_rate",
    "parse_rate_amount",
    "parse_rounding",
    "quantity",
    "tenders_sum",
    "violation",
]

MAX_ROUNDING_UNITS = 50  # cash rounding never exceeds half of a 1.00 coin step
_PAN_LIKE = re.compile(r"^\d{12,19}$")
_TENDER_KINDS = frozenset(k.value for k in TenderKind) | {POINTS_TENDER}


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


def check_sale(sale: SaleCompleted, ctx: Context) -> list[Violation]:
    """Every rule a sale.completed breaks (empty: it adds up and may be stored)."""
    out = check_document(sale.currency, sale.exponent, [sale.completed_at], ctx)
    out += line_numbers(
        [ln.line_no for ln in sale.lines], [ln.deposit_for_line for ln in sale.lines]
    )
    out += _returns(sale)
    inclusive = inclusive_of(sale.tax_breakdown)
    try:
        figures = [
            sale_line(ln, sale.exponent, inclusive_for(inclusive, ln), ctx) for ln in sale.lines
        ]
        return out + _sale_totals(sale, figures)
    except Broken as broken:
        return [*out, broken.violation]
