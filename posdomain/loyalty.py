"""Loyalty engine (FR-401, FR-402): earn, redemption rules, refund reversal, FIFO expiry, tiers.

Pure and exact: points are integers, money is Decimal, nothing here reads a clock or a
database. Box and hub both call it, so the points a receipt prints are the points the hub
books. The rules come from the tenant's versioned `loyalty` config (`LoyaltyRulesBody`, the
schema the hub validates with) and are used only while the `loyalty_rules` flag is on.

Conventions (docs/CONTRACT.md "Loyalty"):

* Earn basis per line: `net` (line total without its tax: tax is never earned on) or
  `gross`, after the line's discounts. Deposit lines, excluded categories and excluded tax
  classes earn nothing. Exact points per line = basis x points_per_unit x category
  multiplier x tier multiplier; the sale earns floor(sum of the exact line points), and that
  total is split back to the lines by largest remainder, so line points add up exactly.
* Redemption: whole points, at least `min_balance` held, at most the balance, worth at most
  `max_share` of the basket total, and converting to whole minor units
  (`value = points x 10^exponent / points_per_unit`).
* Refund reversal is cumulative per line: after refunding q of Q sold units the line has lost
  floor(points x q / Q); the last unit back reverses the rest, so every refund of a line
  together reverses exactly what the line earned. A post-void reverses everything.
* Expiry consumes the oldest points first: credits are lots dated when earned, every debit
  uses up the oldest lots, a debit beyond all lots is a deficit the next credits pay off, and
  what is left of a lot older than the expiry period expires. Expiry never takes more than
  the positive balance, so a balance cannot collapse below what was really earned and kept.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from posdomain.allocation import allocate
from posdomain.errors import Reason, ValidationError

_DECIMAL = r"^\d{1,6}(\.\d{1,4})?$"
MAX_POINTS = 10**9  # a billion points on one row is an input error, not a purchase


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EarnBody(_Body):
    """How points are earned per currency unit of the basis."""

    points_per_unit: str = Field(pattern=_DECIMAL)
    basis: Literal["net", "gross"] = "net"
    category_multipliers: dict[str, str] = Field(default_factory=dict)
    excluded_categories: list[str] = Field(default_factory=list, max_length=200)
    excluded_tax_classes: list[str] = Field(default_factory=list, max_length=50)
    exclude_deposits: bool = True

    @model_validator(mode="after")
    def _multipliers(self) -> EarnBody:
        for code, value in self.category_multipliers.items():
            if not code or len(code) > 40 or not _is_decimal(value):
                raise ValueError(f"category multiplier {code!r}: {value!r} is not a decimal")
        return self


class RedeemBody(_Body):
    """Redemption rules: minimum balance, maximum share of the basket, points-to-money rate."""

    points_per_unit: str = Field(pattern=_DECIMAL)  # points worth one currency unit
    min_balance: int = Field(default=0, ge=0, le=MAX_POINTS)
    max_share: str = Field(default="1", pattern=r"^(0(\.\d{1,4})?|1(\.0{1,4})?)$")
    offline_cap_points: int = Field(default=0, ge=0, le=MAX_POINTS)  # per box while offline

    @model_validator(mode="after")
    def _rate(self) -> RedeemBody:
        if Decimal(self.points_per_unit) <= 0:
            raise ValueError("redeem.points_per_unit must be above 0")
        return self


class TierBody(_Body):
    """One tier: reached at `threshold` (money for spend, points for points), earns x multiplier."""

    name: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,23}$")
    threshold: str = Field(pattern=_DECIMAL)
    multiplier: str = Field(pattern=_DECIMAL)


class TiersBody(_Body):
    """Tier thresholds on rolling spend or points over a window of days."""

    basis: Literal["spend", "points"] = "spend"
    window_days: int = Field(default=365, ge=1, le=3660)
    levels: list[TierBody] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _ordered(self) -> TiersBody:
        names = [t.name for t in self.levels]
        if len(set(names)) != len(names):
            raise ValueError("tier names must be unique")
        thresholds = [Decimal(t.threshold) for t in self.levels]
        if thresholds != sorted(set(thresholds)):
            raise ValueError("tier thresholds must be strictly increasing")
        return self


class ExpiryBody(_Body):
    """Points expire this many months after they were earned (oldest first)."""

    months: int = Field(ge=1, le=120)


class LoyaltyRulesBody(_Body):
    """The tenant's `loyalty` config document (validated on the hub, parsed on both sides)."""

    earn: EarnBody
    redeem: RedeemBody
    tiers: TiersBody = Field(default_factory=TiersBody)
    expiry: ExpiryBody | None = None


def _is_decimal(value: str) -> bool:
    return bool(re.fullmatch(_DECIMAL, value))


@dataclass(frozen=True)
class Tier:
    """A parsed tier."""

    name: str
    threshold: Decimal
    multiplier: Decimal


@dataclass(frozen=True)
class LoyaltyRules:
    """Parsed rules: every number an exact Decimal or int."""

    version: int
    earn_rate: Decimal
    basis: str
    category_multipliers: dict[str, Decimal]
    excluded_categories: frozenset[str]
    excluded_tax_classes: frozenset[str]
    exclude_deposits: bool
    redeem_rate: Decimal
    min_balance: int
    max_share: Decimal
    offline_cap_points: int
    tier_basis: str
    tier_window_days: int
    tiers: tuple[Tier, ...]
    expiry_months: int | None

    def tier_multiplier(self, tier: str | None) -> Decimal:
        """Earn multiplier of a tier (1 for no tier or a tier these rules do not name)."""
        for t in self.tiers:
            if t.name == tier:
                return t.multiplier
        return Decimal(1)


def parse_rules(body: dict[str, object], version: int = 0) -> LoyaltyRules:
    """LoyaltyRules from a config body (ValidationError VALIDATION_FAILED if it is not valid)."""
    try:
        doc = LoyaltyRulesBody.model_validate(body)
    except ValueError as err:  # pydantic's ValidationError is a ValueError
        raise ValidationError(f"invalid loyalty rules: {err}", Reason.VALIDATION_FAILED) from err
    e, r = doc.earn, doc.redeem
    return LoyaltyRules(
        version=version,
        earn_rate=Decimal(e.points_per_unit),
        basis=e.basis,
        category_multipliers={k: Decimal(v) for k, v in e.category_multipliers.items()},
        excluded_categories=frozenset(e.excluded_categories),
        excluded_tax_classes=frozenset(e.excluded_tax_classes),
        exclude_deposits=e.exclude_deposits,
        redeem_rate=Decimal(r.points_per_unit),
        min_balance=r.min_balance,
        max_share=Decimal(r.max_share),
        offline_cap_points=r.offline_cap_points,
        tier_basis=doc.tiers.basis,
        tier_window_days=doc.tiers.window_days,
        tiers=tuple(
            Tier(t.name, Decimal(t.threshold), Decimal(t.multiplier)) for t in doc.tiers.levels
        ),
        expiry_months=doc.expiry.months if doc.expiry else None,
    )


# --- earning -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EarnLine:
    """What earning needs of one priced sale line (money in currency units, after discounts)."""

    line_no: int
    line_total: Decimal  # what the customer pays for the line (tax included when inclusive)
    tax: Decimal
    tax_class: str
    category: str | None = None
    is_deposit: bool = False


@dataclass(frozen=True)
class Earned:
    """Points of a sale: the total and each earning line's share (they add up exactly)."""

    total: int
    per_line: dict[int, int] = field(default_factory=dict)


def _excluded(line: EarnLine, rules: LoyaltyRules) -> bool:
    return (
        (rules.exclude_deposits and line.is_deposit)
        or (line.category is not None and line.category in rules.excluded_categories)
        or line.tax_class in rules.excluded_tax_classes
    )


def line_points(line: EarnLine, rules: LoyaltyRules, tier: str | None) -> Decimal:
    """Exact (fractional) points one line earns; 0 for an excluded or negative line."""
    if _excluded(line, rules):
        return Decimal(0)
    basis = line.line_total - line.tax if rules.basis == "net" else line.line_total
    if basis <= 0:
        return Decimal(0)
    multiplier = rules.category_multipliers.get(line.category or "", Decimal(1))
    return basis * rules.earn_rate * multiplier * rules.tier_multiplier(tier)


def earn(lines: Sequence[EarnLine], rules: LoyaltyRules, tier: str | None = None) -> Earned:
    """Points a priced sale earns: floor of the exact sum, split to lines by largest remainder."""
    exact = {ln.line_no: line_points(ln, rules, tier) for ln in lines}
    earning = {no: pts for no, pts in exact.items() if pts > 0}
    total = int(sum(earning.values(), Decimal(0)).to_integral_value(rounding=ROUND_FLOOR))
    if total == 0:
        return Earned(0, {})
    nos = sorted(earning)
    parts = allocate(Decimal(total), [earning[n] for n in nos], [f"{n:09d}" for n in nos], 0)
    return Earned(total, {n: int(p) for n, p in zip(nos, parts, strict=True) if p > 0})


# --- redemption --------------------------------------------------------------------------


def require_points(points: object, *, positive: bool = True, signed: bool = False) -> int:
    """A whole number of points (never a float, bool or fraction) within range."""
    if isinstance(points, bool) or not isinstance(points, int):
        raise ValidationError("points must be a whole number", Reason.INVALID_POINTS)
    low = -MAX_POINTS if signed else (1 if positive else 0)
    if not low <= points <= MAX_POINTS or (signed and points == 0):
        raise ValidationError(f"points {points} are out of range", Reason.INVALID_POINTS)
    return points


def redemption_value_minor(points: int, rules: LoyaltyRules, exponent: int) -> int:
    """Money value of `points` in minor units (REDEMPTION_NOT_WHOLE if it is not whole)."""
    value = Decimal(points) * Decimal(10) ** exponent / rules.redeem_rate
    if value != value.to_integral_value():
        raise ValidationError(
            f"{points} points are not a whole number of minor units",
            Reason.REDEMPTION_NOT_WHOLE,
            {"points_per_unit": str(rules.redeem_rate)},
        )
    return int(value)


def max_redeemable(balance: int, basket_minor: int, rules: LoyaltyRules, exponent: int) -> int:
    """The most points a basket may take now (0 below the minimum balance)."""
    if balance < max(rules.min_balance, 1) or basket_minor <= 0:
        return 0
    cap_minor = (Decimal(basket_minor) * rules.max_share).to_integral_value(rounding=ROUND_FLOOR)
    by_share = cap_minor * rules.redeem_rate / Decimal(10) ** exponent
    most = min(balance, int(by_share.to_integral_value(rounding=ROUND_FLOOR)))
    while most > 0:  # round down to points that convert to whole minor units
        try:
            redemption_value_minor(most, rules, exponent)
            return most
        except ValidationError:
            most -= 1
    return 0


def check_redemption(
    points: int, balance: int, basket_minor: int, rules: LoyaltyRules, exponent: int
) -> int:
    """Validate a redemption against the rules; return its value in minor units."""
    require_points(points)
    if balance < rules.min_balance:
        raise ValidationError(
            f"a balance of at least {rules.min_balance} points is needed to redeem",
            Reason.REDEMPTION_BELOW_MIN_BALANCE,
            {"balance": balance, "min_balance": rules.min_balance},
        )
    if points > balance:
        raise ValidationError(
            f"{points} points is more than the balance of {balance}",
            Reason.REDEMPTION_EXCEEDS_BALANCE,
            {"balance": balance},
        )
    value = redemption_value_minor(points, rules, exponent)
    if Decimal(value) > Decimal(basket_minor) * rules.max_share:
        raise ValidationError(
            f"points may pay at most {rules.max_share * 100:.0f} % of the basket",
            Reason.REDEMPTION_EXCEEDS_SHARE,
            {"max_points": max_redeemable(balance, basket_minor, rules, exponent)},
        )
    return value


# --- reversal ----------------------------------------------------------------------------


def refund_reversal(
    line_earned: int, sold_qty: Decimal, refunded_qty_total: Decimal, reversed_before: int
) -> int:
    """Points to take back now for a line whose refunded quantity (this refund included) is
    `refunded_qty_total` of `sold_qty`; `reversed_before` = what earlier refunds took back."""
    if line_earned <= 0 or sold_qty <= 0 or refunded_qty_total <= 0:
        return 0
    if refunded_qty_total >= sold_qty:
        target = line_earned
    else:
        target = int(
            (Decimal(line_earned) * refunded_qty_total / sold_qty).to_integral_value(ROUND_FLOOR)
        )
    return max(0, min(target, line_earned) - reversed_before)


# --- expiry (oldest points first) --------------------------------------------------------


@dataclass(frozen=True)
class Movement:
    """One ledger row as expiry sees it: when it happened and its signed points."""

    at: datetime
    points: int


def add_months(at: datetime, months: int) -> datetime:
    """`at` plus whole calendar months (the day clamped to the target month's length)."""
    month0 = at.month - 1 + months
    year, month = at.year + month0 // 12, month0 % 12 + 1
    for day in range(at.day, 27, -1):
        try:
            return at.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return at.replace(year=year, month=month, day=min(at.day, 28))


@dataclass
class _Lot:
    at: datetime
    left: int


def open_lots(movements: Iterable[Movement]) -> tuple[list[Movement], int]:
    """FIFO lots left after every movement (in time order) and the unpaid deficit."""
    lots: deque[_Lot] = deque()
    deficit = 0
    for mv in sorted(movements, key=lambda m: m.at):
        if mv.points > 0:
            paid = min(deficit, mv.points)
            deficit -= paid
            if mv.points > paid:
                lots.append(_Lot(mv.at, mv.points - paid))
            continue
        debit = -mv.points
        while debit and lots:
            used = min(debit, lots[0].left)
            lots[0].left -= used
            debit -= used
            if lots[0].left == 0:
                lots.popleft()
        deficit += debit
    return [Movement(lot.at, lot.left) for lot in lots], deficit


def expiring_points(movements: Iterable[Movement], now: datetime, months: int) -> int:
    """Points that expire at `now`: what is left of lots earned `months` or more ago."""
    lots, _deficit = open_lots(movements)
    return sum(lot.points for lot in lots if add_months(lot.at, months) <= now)


# --- tiers -------------------------------------------------------------------------------


def tier_for(value: Decimal, rules: LoyaltyRules) -> str | None:
    """The highest tier whose threshold `value` (rolling spend or points) reaches."""
    reached = [t for t in rules.tiers if value >= t.threshold]
    return reached[-1].name if reached else None


def window_start(now: datetime, rules: LoyaltyRules) -> datetime:
    """Start of the rolling tier window ending at `now`."""
    return now - timedelta(days=rules.tier_window_days)
