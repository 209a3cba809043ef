"""Tax engine (FR-302): several taxes per line, compound taxes, levies, exact to the unit.

Conventions (one per tenant config, all tested; docs/pricing-and-tax.md):

* Each line's exact tax per component (`exact_parts`): a percentage tax is `rate x (net + the
  exact taxes it is 'on')`; a levy is `per_unit x qty`. Inclusive: the line amount is the
  gross and net = (gross - levies) / (1 + combined rate); exclusive: the amount is the net.
* ``level="line"``: each line's component taxes are rounded on their own (``rounding`` mode).
  ``level="document"``: each component's tax is rounded once from the exact sum over the
  document, then allocated back to the lines by largest remainder (ties: smallest line id).
* A line's tax is the sum of its components; inclusive net = gross - tax, exclusive gross =
  net + tax. The breakdown has one row per tax code: its tax is the sum of the lines' shares
  of that tax, its net the net of the lines it is levied on (0 for levies). So the rows' taxes
  sum exactly to the tax total and net total + tax total = total = the lines' gross.
* A document may hold returned lines (negative qty and amount: returned empties, the return
  half of an exchange). They are taxed as their own side with the same rules and negated, so
  rounding never crosses sides; the breakdown rows add both sides, `return_breakdown` shows
  the return side alone.
* Cash rounding (step e.g. 0.05, mode `cash_rounding_mode`) is a separate `cash_rounding`
  amount, never folded into a line or the tax; ``payable = total + cash_rounding``.

Repricing a basket after every scan (issue 15): a `TaxMemo` passed to `compute_tax` keeps what
depends on one line alone -- that its inputs are valid, its exact tax per component and, at
``level="line"``, its whole rounded `LineTax` -- keyed by every input it is made from (line id,
class, deposit flag, amount and quantity as written, the config object; at
``level="document"`` the LineTax also by the line's allocated shares). Everything that
depends on several lines (ids unique, document-level rounding and its allocation, the
breakdown, totals, cash rounding) is computed again on every call, so a result with a memo is
the one without it, field for field and digit for digit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from posdomain.allocation import allocate
from posdomain.errors import Reason, ValidationError
from posdomain.money import ROUNDING_MODES, quantum, round_money
from posdomain.tax_config import TaxClass, TaxComponent, TaxConfig


@dataclass(frozen=True)
class TaxLine:
    """A priced line: its extended amount (gross if its class is inclusive, else net).

    A returned line (empties, an exchange's return) has a negative qty and amount."""

    line_id: str
    tax_class: str
    amount: Decimal
    qty: Decimal = Decimal(1)
    is_deposit: bool = False


@dataclass(frozen=True)
class PartTax:
    """One tax component's share of one line."""

    code: str
    rate: Decimal
    per_unit: Decimal | None
    tax: Decimal


@dataclass(frozen=True)
class LineTax:
    """One line's share: net + tax == gross; `parts` per tax code (empty: one, the class)."""

    line_id: str
    tax_class: str
    rate: Decimal
    qty: Decimal
    net: Decimal
    tax: Decimal
    gross: Decimal
    parts: tuple[PartTax, ...] = ()

    def taxes(self) -> tuple[PartTax, ...]:
        """The line's tax per code (a line without parts: one part coded like its class)."""
        return self.parts or (PartTax(self.tax_class, self.rate, None, self.tax),)


@dataclass(frozen=True)
class TaxRow:
    """One receipt breakdown row per tax code: net + tax == gross (levies: net 0)."""

    tax_class: str  # the tax code (the class code for a single-rate class)
    rate: Decimal
    inclusive: bool
    net: Decimal
    tax: Decimal
    gross: Decimal
    name: str = ""
    per_unit: Decimal | None = None


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
    return_breakdown: tuple[TaxRow, ...] = ()


def _linear(parts: Sequence[TaxComponent], qty: Decimal) -> list[tuple[Decimal, Decimal]]:
    """Each component's tax as (a, b) with tax = a x net + b, in computation order."""
    form: dict[str, tuple[Decimal, Decimal]] = {}
    for c in parts:
        if c.per_unit is not None:
            form[c.code] = (Decimal(0), c.per_unit * qty)
            continue
        a_on = sum((form[o][0] for o in c.on), Decimal(0))
        b_on = sum((form[o][1] for o in c.on), Decimal(0))
        form[c.code] = (c.rate * (1 + a_on), c.rate * b_on)
    return [form[c.code] for c in parts]


def exact_parts(amount: Decimal, qty: Decimal, tc: TaxClass) -> tuple[Decimal, list[Decimal]]:
    """The exact net and the unrounded tax per component of a line amount."""
    coeffs = _linear(tc.parts, qty)
    if tc.inclusive:
        levies = sum((b for _, b in coeffs), Decimal(0))
        net = (amount - levies) / (1 + sum((a for a, _ in coeffs), Decimal(0)))
    else:
        net = amount
    return net, [a * net + b for a, b in coeffs]


def exact_tax(amount: Decimal, tax_class: TaxClass, qty: Decimal = Decimal(1)) -> Decimal:
    """Unrounded tax of a line amount (contained in it if inclusive, on top of it if not)."""
    return sum(exact_parts(amount, qty, tax_class)[1], Decimal(0))


LineKey = tuple[str, str, bool, str, str]


def _line_key(line: TaxLine) -> LineKey:
    """Everything one line's own tax is made from; Decimals as written (2 and 2.000 are equal
    but print differently, and a result keeps its inputs' digits)."""
    return (line.line_id, line.tax_class, line.is_deposit, str(line.amount), str(line.qty))


class TaxMemo:
    """Per-line results of earlier `compute_tax` calls under one config (see module doc).

    Bounded: past `limit` entries it starts again empty. Bound to the config object it was
    last used with; another config object empties it first."""

    def __init__(self, limit: int = 8192) -> None:
        self.limit = limit
        self.config: TaxConfig | None = None
        self.valid: set[tuple[str, bool, str, str]] = set()
        self.exact: dict[tuple[str, bool, str, str], list[Decimal]] = {}
        self.lines: dict[LineKey, LineTax] = {}
        self.shared: dict[tuple[LineKey, tuple[str, ...]], LineTax] = {}

    def bind(self, cfg: TaxConfig) -> None:
        """Use this memo for `cfg` (emptied if it held another config or is full)."""
        full = max(len(self.valid), len(self.exact), len(self.lines), len(self.shared))
        if cfg is not self.config or full >= self.limit:
            self.config = cfg
            self.valid, self.exact, self.lines, self.shared = set(), {}, {}, {}


def class_for(line: TaxLine, cfg: TaxConfig) -> TaxClass:
    """The class a line is taxed in (deposit lines: the deposit class if configured)."""
    code = cfg.deposit_tax_class if line.is_deposit and cfg.deposit_tax_class else line.tax_class
    if code not in cfg.classes:
        raise ValidationError(
            f"line {line.line_id} has unknown tax class {code!r}",
            Reason.UNKNOWN_TAX_CLASS,
            {"tax_class": code},
        )
    return cfg.classes[code]


def _validate_lines(lines: Sequence[TaxLine], cfg: TaxConfig, memo: TaxMemo | None) -> None:
    ids = [ln.line_id for ln in lines]
    if len(set(ids)) != len(ids):
        raise ValidationError("line ids must be unique")
    for ln in lines:
        key = (ln.tax_class, ln.is_deposit, str(ln.amount), str(ln.qty))
        if memo is not None and key in memo.valid:
            continue
        _validate_line(ln, cfg)
        if memo is not None:
            memo.valid.add(key)


def _validate_line(ln: TaxLine, cfg: TaxConfig) -> None:
    """One line's own checks (money in minor units with the qty's sign, a known class,
    an inclusive amount not below its levies)."""
    if ln.amount != ln.amount.quantize(quantum(cfg.exponent)) or ln.amount * ln.qty < 0:
        raise ValidationError(
            f"line {ln.line_id}: amount must be whole minor units with the qty's sign",
            Reason.INVALID_MONEY,
        )
    if ln.qty == 0:
        raise ValidationError(f"line {ln.line_id}: qty must not be 0")
    tc = class_for(ln, cfg)
    if tc.inclusive and exact_parts(abs(ln.amount), abs(ln.qty), tc)[0] < 0:
        raise ValidationError(
            f"line {ln.line_id}: amount {ln.amount} is less than its levies",
            Reason.INVALID_MONEY,
        )


def _rounded_parts(
    lines: Sequence[TaxLine], exact: Mapping[str, list[Decimal]], cfg: TaxConfig
) -> dict[str, list[Decimal]]:
    """Rounded component taxes per line: each on its own, or per code over the document."""
    if cfg.level == "line":
        return {
            k: [round_money(t, cfg.exponent, cfg.rounding) for t in v] for k, v in exact.items()
        }
    slots: dict[str, list[tuple[str, int]]] = {}
    for ln in lines:
        for i, part in enumerate(class_for(ln, cfg).parts):
            slots.setdefault(part.code, []).append((ln.line_id, i))
    out = {k: [Decimal(0)] * len(v) for k, v in exact.items()}
    for members in slots.values():
        weights = [exact[lid][i] for lid, i in members]
        rounded = round_money(sum(weights, Decimal(0)), cfg.exponent, cfg.rounding)
        keys = [lid for lid, _ in members]
        for (lid, i), share in zip(
            members, allocate(rounded, weights, keys, cfg.exponent), strict=True
        ):
            out[lid][i] = share
    return out


def _exact(ln: TaxLine, cfg: TaxConfig, memo: TaxMemo | None) -> list[Decimal]:
    """The unrounded tax per component of one line (kept in the memo; never mutated)."""
    if memo is None:
        return exact_parts(ln.amount, ln.qty, class_for(ln, cfg))[1]
    key = (ln.tax_class, ln.is_deposit, str(ln.amount), str(ln.qty))
    found = memo.exact.get(key)
    if found is None:
        found = memo.exact[key] = exact_parts(ln.amount, ln.qty, class_for(ln, cfg))[1]
    return found


def _one_side(lines: Sequence[TaxLine], cfg: TaxConfig, memo: TaxMemo | None) -> list[LineTax]:
    """Tax of lines with non-negative amounts and positive quantities."""
    if memo is not None and cfg.level == "line":
        # each line is rounded on its own: its LineTax depends on nothing else
        out = []
        for ln in lines:
            key = _line_key(ln)
            found = memo.lines.get(key)
            if found is None:
                found = memo.lines[key] = _one_side([ln], cfg, None)[0]
            out.append(found)
        return out
    exact = {ln.line_id: _exact(ln, cfg, memo) for ln in lines}
    rounded = _rounded_parts(lines, exact, cfg)
    if memo is None:
        return [_line_tax(ln, cfg, rounded[ln.line_id]) for ln in lines]
    out = []
    for ln in lines:
        # document level: a line's shares depend on the others, its LineTax only on them
        taxes = rounded[ln.line_id]
        shared = (_line_key(ln), tuple(str(t) for t in taxes))
        found = memo.shared.get(shared)
        if found is None:
            found = memo.shared[shared] = _line_tax(ln, cfg, taxes)
        out.append(found)
    return out


def _line_tax(ln: TaxLine, cfg: TaxConfig, taxes: list[Decimal]) -> LineTax:
    """One line's LineTax from its rounded tax per component."""
    tc = class_for(ln, cfg)
    parts = tuple(
        PartTax(c.code, c.rate, c.per_unit, t) for c, t in zip(tc.parts, taxes, strict=True)
    )
    tax = sum(taxes, Decimal(0)).quantize(quantum(cfg.exponent))
    net, gross = (ln.amount - tax, ln.amount) if tc.inclusive else (ln.amount, ln.amount + tax)
    return LineTax(ln.line_id, tc.code, tc.rate, ln.qty, net, tax, gross, parts)


def _negated(line: LineTax) -> LineTax:
    parts = tuple(replace(p, tax=-p.tax) for p in line.parts)
    return replace(
        line, qty=-line.qty, net=-line.net, tax=-line.tax, gross=-line.gross, parts=parts
    )


def breakdown(lines: Sequence[LineTax], cfg: TaxConfig) -> tuple[TaxRow, ...]:
    """One row per tax code: the lines' tax of that code and the net it is levied on."""
    zero = Decimal(0).quantize(quantum(cfg.exponent))
    sums: dict[str, tuple[Decimal, Decimal, bool, PartTax]] = {}
    for ln in lines:
        inclusive = cfg.classes[ln.tax_class].inclusive if ln.tax_class in cfg.classes else True
        for part in ln.taxes():
            net, tax, _, _ = sums.get(part.code, (zero, zero, inclusive, part))
            base = zero if part.per_unit is not None else ln.net
            sums[part.code] = (net + base, tax + part.tax, inclusive, part)
    rows = []
    for code in sorted(sums):
        net, tax, inclusive, part = sums[code]
        known = cfg.components.get(code)
        name = known.label if known is not None else code
        rows.append(TaxRow(code, part.rate, inclusive, net, tax, net + tax, name, part.per_unit))
    return tuple(rows)


def cash_rounding_adjustment(amount: Decimal, cfg: TaxConfig) -> Decimal:
    """What cash rounding adds to `amount` (0 with no step), to a multiple of the step."""
    if cfg.cash_rounding is None:
        return Decimal(0).quantize(quantum(cfg.exponent))
    steps = (amount / cfg.cash_rounding).quantize(Decimal(1), ROUNDING_MODES[cfg.cash_mode])
    return (steps * cfg.cash_rounding - amount).quantize(quantum(cfg.exponent))


def assemble(
    lines: tuple[LineTax, ...], cfg: TaxConfig, cash: bool, rounding: Decimal
) -> TaxResult:
    """Totals and breakdown of taxed lines with a given cash-rounding amount."""
    zero = Decimal(0).quantize(quantum(cfg.exponent))
    net = sum((ln.net for ln in lines), zero)
    tax = sum((ln.tax for ln in lines), zero)
    returned = [ln for ln in lines if ln.qty < 0]
    return TaxResult(
        lines=lines,
        breakdown=breakdown(lines, cfg),
        net_total=net,
        tax_total=tax,
        total=net + tax,
        cash_rounding=rounding.quantize(quantum(cfg.exponent)),
        payable=net + tax + rounding,
        cash=cash,
        config=cfg,
        return_breakdown=breakdown(returned, cfg) if returned else (),
    )


def compute_tax(
    lines: Sequence[TaxLine], cfg: TaxConfig, *, cash: bool = False, memo: TaxMemo | None = None
) -> TaxResult:
    """Tax per line and code, the breakdown and totals; `cash` adds the cash-rounding line.
    With `memo`, what depends on one line alone is reused from earlier calls (module doc)."""
    if memo is not None:
        memo.bind(cfg)
    _validate_lines(lines, cfg, memo)
    step = quantum(cfg.exponent)
    lines = [
        ln
        if ln.amount.as_tuple().exponent == -cfg.exponent
        else replace(ln, amount=ln.amount.quantize(step))
        for ln in lines
    ]
    sold = [ln for ln in lines if ln.qty > 0]
    back = [replace(ln, amount=-ln.amount, qty=-ln.qty) for ln in lines if ln.qty < 0]
    taxed = {t.line_id: t for t in _one_side(sold, cfg, memo)}
    taxed.update({t.line_id: _negated(t) for t in _one_side(back, cfg, memo)})
    ordered = tuple(taxed[ln.line_id] for ln in lines)
    if not cash:
        return assemble(ordered, cfg, cash, Decimal(0))
    # the total `assemble` would give (net + tax of the lines), without its breakdown
    zero = Decimal(0).quantize(quantum(cfg.exponent))
    total = sum((ln.net for ln in ordered), zero) + sum((ln.tax for ln in ordered), zero)
    rounding = cash_rounding_adjustment(total, cfg)
    return assemble(ordered, cfg, cash, rounding)
