"""Domain rules of the box's refund and post-void documents, as pure functions (FR-303).

Same shape as `posdomain.sale_checks` (whose primitives they share): each `check_*` returns
every rule the document breaks with its stable reason code. A refund's money is negative,
its lines add up and its tenders pay out exactly its payable; a post-void names a stored,
not yet voided sale of the same box with the same receipt number and total.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from posdomain.doc_checks import (
    Broken,
    Context,
    Violation,
    check_document,
    fail,
    money,
    parse_rate,
    quantity,
    violation,
)
from posdomain.errors import Reason
from posdomain.line_checks import (
    Figures,
    breakdown,
    inclusive_for,
    inclusive_of,
    line_numbers,
    line_parts,
    tax_ok,
)
from posdomain.payloads import RefundCompleted, RefundLine, SaleVoided
from posdomain.sale_checks import parse_rounding, tenders_sum


@dataclass(frozen=True)
class SoldSale:
    """What a void is checked against: the stored sale it names."""

    box_id: str
    receipt_no: int
    total: Decimal
    voided: bool


def _refund_line(ln: RefundLine, exp: int, ctx: Context, inclusive: bool | None) -> Figures:
    qty = quantity(ln.qty, f"line {ln.line_no} qty")
    unit = ctx.units.get(ln.product_id, "weight")  # unknown products: any 3-decimal qty
    if unit == "each" and qty != qty.to_integral_value():
        fail(Reason.INVALID_QUANTITY, "qty_unit", f"line {ln.line_no}: {qty}")
    total, tax = money(ln.line_total, exp, "line_total"), money(ln.tax, exp, "tax")
    rate = parse_rate(ln.tax_rate, f"line {ln.line_no} tax_rate")
    if total > 0 or tax > 0 or tax < total:
        fail(Reason.INVALID_MONEY, "refund_line", f"line {ln.line_no}: sign")
    gross, back = -total, -tax
    if ln.taxes:
        incl = True if inclusive is None else inclusive
        base = total if incl else total - tax
        parts = line_parts(ln.taxes, (base, -qty, tax), incl, exp, 3, f"line {ln.line_no}")
        return Figures(total, Decimal(0), total, tax, ln.tax_class, parts)
    if not (
        tax_ok(gross, back, rate, True, exp, 3) or tax_ok(gross - back, back, rate, False, exp, 3)
    ):
        fail(Reason.TAX_MISMATCH, "line_tax", f"line {ln.line_no}: tax {tax}")
    return Figures(total, Decimal(0), total, tax, ln.tax_class)


def check_refund(refund: RefundCompleted, ctx: Context) -> list[Violation]:
    """Every rule a refund.completed breaks (money negative, lines adding up, paid out)."""
    exp = refund.exponent
    out = check_document(refund.currency, exp, [refund.completed_at], ctx)
    out += line_numbers([ln.line_no for ln in refund.lines], [])
    try:
        total = money(refund.total, exp, "total")
        if total > 0:
            return [
                *out,
                violation(
                    Reason.MALFORMED_MESSAGE, "refund_sign", "a refund total is never positive"
                ),
            ]
        inclusive = inclusive_of(refund.tax_breakdown)
        figures = [_refund_line(ln, exp, ctx, inclusive_for(inclusive, ln)) for ln in refund.lines]
        if total != sum(f.total for f in figures):
            out.append(violation(Reason.TOTALS_MISMATCH, "total", "total is not the lines' sum"))
        if money(refund.tax_total, exp, "tax_total") != sum(f.tax for f in figures):
            out.append(
                violation(Reason.TAX_MISMATCH, "tax_total", "tax total is not the lines' tax")
            )
        out += breakdown(refund.tax_breakdown, figures, exp, 1)
        payable = total + parse_rounding(refund.cash_rounding, exp)
        if refund.payable is not None and money(refund.payable, exp, "payable") != payable:
            out.append(
                violation(Reason.TOTALS_MISMATCH, "payable", "payable is not total + rounding")
            )
        cash, card = tenders_sum(refund.tenders, exp, -1)
        if cash + card != payable:
            out.append(violation(Reason.TENDER_MISMATCH, "tenders", "paid out is not the payable"))
        return out
    except Broken as broken:
        return [*out, broken.violation]


def check_void(
    void: SaleVoided, sold: SoldSale | None, box_id: str, ctx: Context
) -> list[Violation]:
    """A post-void names a stored, not yet voided sale of the same box, with its receipt
    number and total."""
    out = check_document(None, void.exponent, [void.voided_at], ctx)
    try:
        total = money(void.total, void.exponent, "total")
    except Broken as broken:
        return [*out, broken.violation]
    if sold is None:
        return [*out, violation(Reason.VOID_MISMATCH, "void_target", "no such sale on the hub")]
    if sold.voided:
        return [*out, violation(Reason.VOID_MISMATCH, "void_twice", "the sale is already voided")]
    if (sold.box_id, sold.receipt_no, sold.total) != (box_id, void.receipt_no, total):
        out.append(violation(Reason.VOID_MISMATCH, "void_facts", "receipt, box or total differ"))
    return out
