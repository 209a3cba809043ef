"""Tax (FR-302): the public names of the tax engine, and refunds that reverse it exactly.

The config lives in `posdomain.tax_config` (classes of several taxes, compound taxes, levies,
exempt classes, rounding modes), the computation in `posdomain.tax_engine`; this module keeps
the names every caller imports (`compute_tax`, `parse_tax_config`, `TaxLine`, ...).

Refunds (`refund_tax`) reverse per line and per tax code, cumulatively: returning every unit
of a line, in one refund or several, reverses exactly that line's original net, tax and gross
(and each of its taxes); a refund that completes the return of the whole sale also reverses
the original cash-rounding line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from posdomain.errors import Reason, ValidationError
from posdomain.money import quantum, round_money
from posdomain.tax_config import Level, TaxClass, TaxComponent, TaxConfig, parse_tax_config
from posdomain.tax_engine import (
    LineTax,
    PartTax,
    TaxLine,
    TaxResult,
    TaxRow,
    assemble,
    cash_rounding_adjustment,
    compute_tax,
    exact_tax,
)

__all__ = [
    "Level",
    "LineTax",
    "PartTax",
    "TaxClass",
    "TaxComponent",
    "TaxConfig",
    "TaxLine",
    "TaxResult",
    "TaxRow",
    "cash_rounding_adjustment",
    "compute_tax",
    "exact_tax",
    "parse_tax_config",
    "refund_tax",
]


def _returned_part(line: LineTax, qty: Decimal, exponent: int, mode: str) -> LineTax:
    """Net/tax/gross of the first `qty` units of a sold line (the exact line when all);
    each tax code's share is scaled and rounded on its own, the line's tax is their sum."""
    if qty == line.qty:
        return line
    zero = Decimal(0).quantize(quantum(exponent))
    parts = tuple(
        PartTax(p.code, p.rate, p.per_unit, round_money(p.tax * qty / line.qty, exponent, mode))
        for p in line.parts
    )
    if qty == 0:
        parts = tuple(PartTax(p.code, p.rate, p.per_unit, zero) for p in line.parts)
        return LineTax(line.line_id, line.tax_class, line.rate, qty, zero, zero, zero, parts)
    gross = round_money(line.gross * qty / line.qty, exponent, mode)
    if parts:
        tax = sum((p.tax for p in parts), zero)
    else:
        tax = round_money(line.tax * qty / line.qty, exponent, mode)
    return LineTax(line.line_id, line.tax_class, line.rate, qty, gross - tax, tax, gross, parts)


def _cumulative(original: TaxResult, returned: Mapping[str, Decimal]) -> list[LineTax]:
    cfg = original.config
    parts = []
    for line in original.lines:
        qty = returned.get(line.line_id, Decimal(0))
        if line.qty < 0 and qty == 0:  # a line the customer returned: nothing to refund
            parts.append(_returned_part(line, Decimal(0), cfg.exponent, cfg.rounding))
            continue
        if qty < 0 or qty > line.qty:
            raise ValidationError(
                f"line {line.line_id}: cannot return {qty} of {line.qty}",
                Reason.REFUND_EXCEEDS_SALE,
                {"line_id": line.line_id},
            )
        parts.append(_returned_part(line, qty, cfg.exponent, cfg.rounding))
    return parts


def _payout(original: TaxResult, parts: Sequence[LineTax], cash: bool) -> Decimal:
    """What the customer has received back once `parts` are returned (cumulative)."""
    gross = sum((p.gross for p in parts), Decimal(0))
    if original.cash and all(p.qty == ln.qty for p, ln in zip(parts, original.lines, strict=True)):
        return original.payable
    return gross + (cash_rounding_adjustment(gross, original.config) if cash else 0)


def _difference(before: LineTax, after: LineTax) -> LineTax:
    """`before` - `after` of the cumulative returned parts of one line (negative money)."""
    parts = tuple(
        PartTax(b.code, b.rate, b.per_unit, b.tax - a.tax)
        for b, a in zip(before.parts, after.parts, strict=True)
    )
    return LineTax(
        before.line_id,
        before.tax_class,
        before.rate,
        before.qty - after.qty,
        before.net - after.net,
        before.tax - after.tax,
        before.gross - after.gross,
        parts,
    )


def refund_tax(
    original: TaxResult,
    returned: Mapping[str, Decimal],
    *,
    previously_returned: Mapping[str, Decimal] | None = None,
    cash: bool | None = None,
) -> TaxResult:
    """The (negative) tax result of returning `returned` qty per line id of a sale.

    Cumulative over `previously_returned`, so all refunds of a sale sum exactly to its full
    reversal; the last one reverses the original cash-rounding line. `cash` defaults to the
    sale's tender kind.
    """
    known = {ln.line_id for ln in original.lines}
    unknown = sorted(set(returned) - known)
    if unknown:
        raise ValidationError(
            f"no such sale line: {unknown[0]}", Reason.LINE_NOT_FOUND, {"line_id": unknown[0]}
        )
    before = dict(previously_returned or {})
    after = {k: before.get(k, Decimal(0)) + returned.get(k, Decimal(0)) for k in known}
    parts_before, parts_after = _cumulative(original, before), _cumulative(original, after)
    cash = original.cash if cash is None else cash
    lines = tuple(
        _difference(b, a) for b, a in zip(parts_before, parts_after, strict=True) if a.qty != b.qty
    )
    payout = _payout(original, parts_after, cash) - _payout(original, parts_before, cash)
    gross = -sum((ln.gross for ln in lines), Decimal(0))
    return assemble(lines, original.config, cash, -(payout - gross))
