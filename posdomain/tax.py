"""Tax engine (FR-302): inclusive and exclusive classes, line or document rounding, cash rounding.

Conventions (one per tenant config, both tested):

* ``level="line"``: each line's tax is rounded on its own (``rounding`` mode); a class's tax is
  the sum of its lines' rounded taxes.
* ``level="document"``: a class's tax is rounded once from the exact sum of its lines' taxes,
  then allocated back to the lines by largest remainder (ties: smallest line id).
* Inclusive class: the line amount is the gross; net = gross - tax. Exclusive class: the line
  amount is the net; gross = net + tax. A basket may mix both and several rates.
* The breakdown's rows satisfy net + tax == gross exactly, and the document total is the sum of
  the rows' gross, so the receipt always adds up. Line taxes sum exactly to their row's tax.
* Cash rounding (e.g. step 0.05) is a separate ``cash_rounding`` amount, never folded into a
  line or the tax; ``payable = total + cash_rounding``. It applies only to cash payments.
* Refunds (`refund_tax`) reverse per line, cumulatively: returning every unit of a line, in one
  refund or several, reverses exactly that line's original net, tax and gross; a refund that
  completes the return of the whole sale also reverses the original cash-rounding line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Literal

from posdomain.allocation import allocate
from posdomain.errors import Reason, ValidationError
from posdomain.money import ROUNDING_MODES, parse_money, quantum, round_money

Level = Literal["line", "document"]


@dataclass(frozen=True)
class TaxClass:
    """One configured tax class."""

    code: str
    rate: Decimal
    inclusive: bool = True


@dataclass(frozen=True)
class TaxConfig:
    """The CONTRACT config `tax` body, parsed."""

    classes: Mapping[str, TaxClass]
    rounding: str = "HALF_UP"
    level: Level = "document"
    cash_rounding: Decimal | None = None
    deposit_tax_class: str | None = None
    exponent: int = 2


@dataclass(frozen=True)
class TaxLine:
    """A priced line: its extended amount (gross if its class is inclusive, else net)."""

    line_id: str
    tax_class: str
    amount: Decimal
    qty: Decimal = Decimal(1)
    is_deposit: bool = False


@dataclass(frozen=True)
class LineTax:
    """One line's share: net + tax == gross."""

    line_id: str
    tax_class: str
    rate: Decimal
    qty: Decimal
    net: Decimal
    tax: Decimal
    gross: Decimal


@dataclass(frozen=True)
class TaxRow:
    """One receipt breakdown row (per tax class): net + tax == gross."""

    tax_class: str
    rate: Decimal
    inclusive: bool
    net: Decimal
    tax: Decimal
    gross: Decimal


@dataclass(frozen=True)
class TaxResult:
    """Lines, breakdown and totals of a sale (or, negated, of a refund)."""

    lines: tuple[LineTax, ...]
    breakdown: tuple[TaxRow, ...]
    net_total: Decimal
    tax_total: Decimal
    total: Decimal
    cash_rounding: Decimal
    payable: Decimal
    cash: bool
    config: TaxConfig


def _parse_rate(value: object, code: str) -> Decimal:
    rate = parse_money(value, exponent=6, field=f"tax.classes.{code}.rate")
    if rate < 0 or rate >= 10:
        raise ValidationError(f"tax class {code}: rate {rate} is out of range")
    return Decimal(str(value).strip())


def _parse_classes(raw: object) -> dict[str, TaxClass]:
    if not isinstance(raw, Mapping) or not raw:
        raise ValidationError("tax.classes must be a non-empty mapping")
    classes: dict[str, TaxClass] = {}
    for code, spec in raw.items():
        if not isinstance(spec, Mapping) or not isinstance(spec.get("inclusive", True), bool):
            raise ValidationError(f"tax class {code} must be {{rate, inclusive: bool}}")
        rate = _parse_rate(spec.get("rate"), str(code))
        classes[str(code)] = TaxClass(str(code), rate, bool(spec.get("inclusive", True)))
    return classes


def parse_tax_config(body: Mapping[str, Any], exponent: int = 2) -> TaxConfig:
    """A TaxConfig from the config down message's `tax` body (VALIDATION_FAILED if malformed)."""
    rounding, level = body.get("rounding", "HALF_UP"), body.get("level", "document")
    if rounding not in ROUNDING_MODES:
        raise ValidationError(f"unknown tax rounding {rounding!r}")
    if level not in ("line", "document"):
        raise ValidationError(f"unknown tax level {level!r}")
    classes = _parse_classes(body.get("classes"))
    raw_step = body.get("cash_rounding")
    step = None if raw_step is None else parse_money(raw_step, exponent, "tax.cash_rounding")
    if step is not None and step <= 0:
        raise ValidationError("tax.cash_rounding must be positive or null")
    deposit = body.get("deposit_tax_class")
    if deposit is not None and deposit not in classes:
        raise ValidationError(f"deposit_tax_class {deposit!r} is not a configured class")
    return TaxConfig(classes, str(rounding), level, step, deposit, exponent)


def _class_for(line: TaxLine, cfg: TaxConfig) -> TaxClass:
    code = cfg.deposit_tax_class if line.is_deposit and cfg.deposit_tax_class else line.tax_class
    if code not in cfg.classes:
        raise ValidationError(
            f"line {line.line_id} has unknown tax class {code!r}", details={"tax_class": code}
        )
    return cfg.classes[code]


def exact_tax(amount: Decimal, tax_class: TaxClass) -> Decimal:
    """Unrounded tax of a line amount (contained in it if inclusive, on top of it if not)."""
    if tax_class.inclusive:
        return amount * tax_class.rate / (1 + tax_class.rate)
    return amount * tax_class.rate


def _line_taxes(members: Sequence[TaxLine], tc: TaxClass, cfg: TaxConfig) -> list[Decimal]:
    exact = [exact_tax(m.amount, tc) for m in members]
    if cfg.level == "line":
        return [round_money(t, cfg.exponent, cfg.rounding) for t in exact]
    class_tax = round_money(sum(exact, Decimal(0)), cfg.exponent, cfg.rounding)
    return allocate(class_tax, exact, [m.line_id for m in members], cfg.exponent)


def _line_result(line: TaxLine, tc: TaxClass, tax: Decimal) -> LineTax:
    if tc.inclusive:
        return LineTax(
            line.line_id, tc.code, tc.rate, line.qty, line.amount - tax, tax, line.amount
        )
    return LineTax(line.line_id, tc.code, tc.rate, line.qty, line.amount, tax, line.amount + tax)


def _validate_lines(lines: Sequence[TaxLine], exponent: int) -> None:
    ids = [ln.line_id for ln in lines]
    if len(set(ids)) != len(ids):
        raise ValidationError("line ids must be unique")
    for ln in lines:
        if ln.amount < 0 or ln.amount != ln.amount.quantize(quantum(exponent)):
            raise ValidationError(
                f"line {ln.line_id}: amount must be non-negative whole minor units",
                Reason.INVALID_MONEY,
            )
        if ln.qty <= 0:
            raise ValidationError(f"line {ln.line_id}: qty must be positive")


def cash_rounding_adjustment(amount: Decimal, cfg: TaxConfig) -> Decimal:
    """What cash rounding adds to `amount` (0 with no step), rounded to the nearest step."""
    if cfg.cash_rounding is None:
        return Decimal(0).quantize(quantum(cfg.exponent))
    steps = (amount / cfg.cash_rounding).quantize(Decimal(1), ROUNDING_MODES[cfg.rounding])
    return (steps * cfg.cash_rounding - amount).quantize(quantum(cfg.exponent))


def _breakdown(lines: Sequence[LineTax], cfg: TaxConfig) -> tuple[TaxRow, ...]:
    zero = Decimal(0).quantize(quantum(cfg.exponent))
    rows = []
    for code in sorted({ln.tax_class for ln in lines}):
        tc, members = cfg.classes[code], [ln for ln in lines if ln.tax_class == code]
        net = sum((m.net for m in members), zero)
        tax = sum((m.tax for m in members), zero)
        rows.append(TaxRow(code, tc.rate, tc.inclusive, net, tax, net + tax))
    return tuple(rows)


def _assemble(
    lines: tuple[LineTax, ...], cfg: TaxConfig, cash: bool, rounding: Decimal
) -> TaxResult:
    zero = Decimal(0).quantize(quantum(cfg.exponent))
    breakdown = _breakdown(lines, cfg)
    total = sum((row.gross for row in breakdown), zero)
    return TaxResult(
        lines=lines,
        breakdown=breakdown,
        net_total=sum((row.net for row in breakdown), zero),
        tax_total=sum((row.tax for row in breakdown), zero),
        total=total,
        cash_rounding=rounding,
        payable=total + rounding,
        cash=cash,
        config=cfg,
    )


def compute_tax(lines: Sequence[TaxLine], cfg: TaxConfig, *, cash: bool = False) -> TaxResult:
    """Tax per line and class, the breakdown and totals; `cash` adds the cash-rounding line."""
    _validate_lines(lines, cfg.exponent)
    lines = [replace(ln, amount=ln.amount.quantize(quantum(cfg.exponent))) for ln in lines]
    by_class: dict[str, list[TaxLine]] = {}
    for ln in lines:
        by_class.setdefault(_class_for(ln, cfg).code, []).append(ln)
    result: dict[str, LineTax] = {}
    for code, members in by_class.items():
        tc = cfg.classes[code]
        for member, tax in zip(members, _line_taxes(members, tc, cfg), strict=True):
            result[member.line_id] = _line_result(member, tc, tax)
    taxed = tuple(result[ln.line_id] for ln in lines)
    provisional = _assemble(taxed, cfg, cash, Decimal(0))
    rounding = cash_rounding_adjustment(provisional.total, cfg) if cash else Decimal(0)
    return _assemble(taxed, cfg, cash, rounding.quantize(quantum(cfg.exponent)))


def _returned_part(line: LineTax, qty: Decimal, exponent: int, mode: str) -> LineTax:
    """Net/tax/gross of the first `qty` units of a sold line (the exact line when all)."""
    if qty == line.qty:
        return line
    zero = Decimal(0).quantize(quantum(exponent))
    if qty == 0:
        return LineTax(line.line_id, line.tax_class, line.rate, qty, zero, zero, zero)
    gross = round_money(line.gross * qty / line.qty, exponent, mode)
    tax = round_money(line.tax * qty / line.qty, exponent, mode)
    return LineTax(line.line_id, line.tax_class, line.rate, qty, gross - tax, tax, gross)


def _cumulative(original: TaxResult, returned: Mapping[str, Decimal]) -> list[LineTax]:
    cfg = original.config
    parts = []
    for line in original.lines:
        qty = returned.get(line.line_id, Decimal(0))
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
        LineTax(b.line_id, b.tax_class, b.rate, b.qty - a.qty, b.net - a.net, b.tax - a.tax,
                b.gross - a.gross)
        for b, a in zip(parts_before, parts_after, strict=True)
        if a.qty != b.qty
    )  # fmt: skip
    payout = _payout(original, parts_after, cash) - _payout(original, parts_before, cash)
    gross = -sum((ln.gross for ln in lines), Decimal(0))
    return _assemble(lines, original.config, cash, -(payout - gross))
