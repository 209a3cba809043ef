"""Tax configuration (FR-302): classes of one or more taxes, parsed and validated once.

The `tax` config body (docs/pricing-and-tax.md has the full shape)::

    {"rounding": "HALF_UP", "level": "document", "cash_rounding": "0.05",
     "cash_rounding_mode": "HALF_UP", "deposit_tax_class": "DEP",
     "classes": {
        "DE19": {"rate": "0.19", "inclusive": true},          # one tax named after the class
        "ON":   {"inclusive": false, "taxes": [
                    {"code": "GST", "name": "GST", "rate": "0.05"},
                    {"code": "QST", "name": "QST", "rate": "0.09975", "on": ["GST"]},
                    {"code": "BTL", "name": "Container levy", "per_unit": "0.10"}]},
        "EXEMPT": {"exempt": true}}}

* A rate is a fraction (0.19 = 19 %) from 0 to 1 with at most 6 decimals (8.875 % = 0.08875).
* `per_unit` is a fixed levy per unit of quantity (per item, per litre, per container).
* `on` makes a tax compound: its base is the net plus the listed taxes of the same class
  (`"compound": true` = on every percentage tax listed before it). Loops are refused.
* A tax code means one tax everywhere: the same rate (or levy) and the same inclusive flag in
  every class that lists it, so the receipt's breakdown has one row per code.
* Refused, nothing stored: a class without taxes that is not `exempt` (TAX_CLASS_NO_RATES), a
  rate below 0 or above 100 % (TAX_RATE_OUT_OF_RANGE), a compound loop (TAX_COMPOUND_LOOP),
  anything else malformed (VALIDATION_FAILED).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, NoReturn

from posdomain.errors import Reason, ValidationError
from posdomain.money import ROUNDING_MODES, parse_money

Level = Literal["line", "document"]
MAX_TAXES_PER_CLASS = 8
RATE_DECIMALS = 6


@dataclass(frozen=True)
class TaxComponent:
    """One tax of a class: a percentage `rate` (of the net, plus `on` taxes) or a levy."""

    code: str
    name: str = ""
    rate: Decimal = Decimal(0)
    per_unit: Decimal | None = None
    on: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """What a receipt prints for this tax."""
        return self.name or self.code


@dataclass(frozen=True)
class TaxClass:
    """One configured tax class; `components` in computation order (one tax if not given)."""

    code: str
    rate: Decimal
    inclusive: bool = True
    components: tuple[TaxComponent, ...] = ()
    exempt: bool = False

    @property
    def parts(self) -> tuple[TaxComponent, ...]:
        """The class's taxes; a single-rate class is one tax coded like the class."""
        return self.components or (TaxComponent(self.code, self.code, self.rate),)


@dataclass(frozen=True)
class TaxConfig:
    """The CONTRACT config `tax` body, parsed."""

    classes: Mapping[str, TaxClass]
    rounding: str = "HALF_UP"
    level: Level = "document"
    cash_rounding: Decimal | None = None
    deposit_tax_class: str | None = None
    exponent: int = 2
    cash_rounding_mode: str | None = None
    components: Mapping[str, TaxComponent] = field(default_factory=dict)

    @property
    def cash_mode(self) -> str:
        """The rounding mode of the cash-rounding line (the tax mode unless set)."""
        return self.cash_rounding_mode or self.rounding


def _invalid(message: str, reason: Reason = Reason.VALIDATION_FAILED, **details: str) -> NoReturn:
    raise ValidationError(message, reason, dict(details))


def parse_rate(value: object, where: str) -> Decimal:
    """A rate fraction in [0, 1] with at most 6 decimals (TAX_RATE_OUT_OF_RANGE outside)."""
    if isinstance(value, (bool, float)) or value is None:
        _invalid(f"{where}: rate must be a decimal string", field=where)
    try:
        rate = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        _invalid(f"{where}: rate {value!r} is not a number", field=where)
    if not rate.is_finite() or rate.adjusted() > 3:
        _invalid(f"{where}: rate {value!r} is out of range", Reason.TAX_RATE_OUT_OF_RANGE)
    if rate < 0 or rate > 1:
        _invalid(
            f"{where}: rate {rate} is outside 0 .. 1 (0 % .. 100 %)",
            Reason.TAX_RATE_OUT_OF_RANGE,
            field=where,
        )
    if rate != rate.quantize(Decimal(1).scaleb(-RATE_DECIMALS)):
        _invalid(f"{where}: rate {rate} has more than {RATE_DECIMALS} decimals", field=where)
    return rate


def _component(spec: object, cls: str, before: Sequence[TaxComponent], exp: int) -> TaxComponent:
    if not isinstance(spec, Mapping) or not isinstance(spec.get("code"), str):
        _invalid(f"tax class {cls}: each tax needs a code", tax_class=cls)
    code, where = str(spec["code"]).strip(), f"tax.classes.{cls}.{spec.get('code')}"
    if not code or len(code) > 16:
        _invalid(f"{where}: code must be 1..16 characters", tax_class=cls)
    name = spec.get("name", "")
    if not isinstance(name, str) or len(name) > 40:
        _invalid(f"{where}: name must be text of at most 40 characters", tax_class=cls)
    on = spec.get("on", [])
    if spec.get("compound") is True:
        on = [c.code for c in before if c.per_unit is None]
    if not isinstance(on, list) or not all(isinstance(c, str) for c in on):
        _invalid(f"{where}: 'on' must be a list of tax codes", tax_class=cls)
    if "per_unit" in spec and spec["per_unit"] is not None:
        levy = parse_money(spec["per_unit"], exp + 3, f"{where}.per_unit")
        if levy < 0 or "rate" in spec or on:
            _invalid(f"{where}: a levy is a non-negative amount, without rate or 'on'")
        return TaxComponent(code, name, Decimal(0), levy, ())
    return TaxComponent(code, name, parse_rate(spec.get("rate"), where), None, tuple(on))


def _ordered(components: list[TaxComponent], cls: str) -> tuple[TaxComponent, ...]:
    """Components so that every tax comes after the taxes its base includes (loops refused)."""
    by_code = {c.code: c for c in components}
    if len(by_code) != len(components):
        _invalid(f"tax class {cls}: a tax code is listed twice", tax_class=cls)
    for c in components:
        missing = [o for o in c.on if o not in by_code]
        if missing:
            _invalid(f"tax class {cls}: {c.code} is on unknown tax {missing[0]}", tax_class=cls)
    done: list[TaxComponent] = []
    pending = list(components)
    while pending:
        ready = [c for c in pending if all(by_code[o] in done for o in c.on)]
        if not ready:
            loop = ", ".join(sorted(c.code for c in pending))
            _invalid(
                f"tax class {cls}: compound taxes {loop} are computed on each other",
                Reason.TAX_COMPOUND_LOOP,
                tax_class=cls,
            )
        done.append(ready[0])
        pending.remove(ready[0])
    return tuple(done)


def _tax_class(code: str, spec: object, exp: int) -> TaxClass:
    if not isinstance(spec, Mapping) or not isinstance(spec.get("inclusive", True), bool):
        _invalid(f"tax class {code} must be {{rate | taxes | exempt, inclusive: bool}}")
    inclusive = bool(spec.get("inclusive", True))
    if spec.get("exempt") is True:
        if spec.get("taxes") or spec.get("rate") not in (None, "0", 0):
            _invalid(f"tax class {code}: an exempt class carries no tax", tax_class=code)
        return TaxClass(code, Decimal(0), inclusive, (TaxComponent(code, code),), exempt=True)
    if "taxes" not in spec:
        if spec.get("rate") is None:
            _invalid(f"tax class {code} has no rates", Reason.TAX_CLASS_NO_RATES, tax_class=code)
        return TaxClass(code, parse_rate(spec.get("rate"), f"tax.classes.{code}"), inclusive)
    raw = spec.get("taxes")
    if not isinstance(raw, list) or not raw:
        _invalid(f"tax class {code} has no rates", Reason.TAX_CLASS_NO_RATES, tax_class=code)
    if len(raw) > MAX_TAXES_PER_CLASS or "rate" in spec:
        _invalid(f"tax class {code}: at most {MAX_TAXES_PER_CLASS} taxes, and no own rate")
    parts: list[TaxComponent] = []
    for item in raw:
        parts.append(_component(item, code, parts, exp))
    ordered = _ordered(parts, code)
    simple = sum((c.rate for c in ordered), Decimal(0))
    return TaxClass(code, simple, inclusive, ordered)


def _component_index(classes: Mapping[str, TaxClass]) -> dict[str, TaxComponent]:
    """Every tax code once; the same code must mean the same tax in every class."""
    seen: dict[str, tuple[TaxComponent, bool]] = {}
    for tc in classes.values():
        for part in tc.parts:
            key = (part.rate, part.per_unit)
            if part.code in seen and (
                (seen[part.code][0].rate, seen[part.code][0].per_unit) != key
                or seen[part.code][1] != tc.inclusive
            ):
                _invalid(f"tax {part.code} has different rates or inclusive flags in two classes")
            seen.setdefault(part.code, (part, tc.inclusive))
    return {code: part for code, (part, _) in seen.items()}


def _parse_classes(raw: object, exp: int) -> dict[str, TaxClass]:
    if not isinstance(raw, Mapping) or not raw:
        _invalid("tax.classes must be a non-empty mapping", Reason.TAX_CLASS_NO_RATES)
    return {str(code): _tax_class(str(code), spec, exp) for code, spec in raw.items()}


def _mode(body: Mapping[str, Any], key: str, default: str | None) -> str | None:
    mode = body.get(key, default)
    if mode is not None and mode not in ROUNDING_MODES:
        _invalid(f"unknown {key} mode {mode!r}", field=key)
    return None if mode is None else str(mode)


def parse_tax_config(body: Mapping[str, Any], exponent: int = 2) -> TaxConfig:
    """A TaxConfig from the config body; a bad one raises ValidationError with its reason."""
    if not isinstance(body, Mapping):
        _invalid("the tax config must be an object")
    rounding = _mode(body, "rounding", "HALF_UP") or "HALF_UP"
    cash_mode = _mode(body, "cash_rounding_mode", None)
    level = body.get("level", "document")
    if level not in ("line", "document"):
        _invalid(f"unknown tax level {level!r}", field="level")
    classes = _parse_classes(body.get("classes"), exponent)
    raw_step = body.get("cash_rounding")
    step = None if raw_step is None else parse_money(raw_step, exponent, "tax.cash_rounding")
    if step is not None and step <= 0:
        _invalid("tax.cash_rounding must be positive or null", field="cash_rounding")
    deposit = body.get("deposit_tax_class")
    if deposit is not None and deposit not in classes:
        _invalid(f"deposit_tax_class {deposit!r} is not a configured class")
    index = _component_index(classes)
    return TaxConfig(classes, rounding, level, step, deposit, exponent, cash_mode, index)
