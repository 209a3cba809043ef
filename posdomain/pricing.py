"""Pricing engine (FR-301): price lists, quantity tiers, promotions, floors and overrides.

* Retail price = the product's `price` (the hub already resolved the branch override).
  Wholesale = the highest `wholesale_tiers` entry whose `min_qty` <= the product's quantity
  summed over the basket, else the retail price.
* Promotions run only with `advanced_discounts` on, and only from policies that verify
  (`posdomain.policy`, fail closed); rejections come back for the caller to audit. See
  `posdomain.promotions` for precedence (greedy best-for-customer, no stacking).
* Price floor per unit: `min_price` if set, else `cost` if set, else 0 (never above the list
  price). Promotions never take a line below `floor x qty`; only a supervisor
  `PriceOverride` (approver id + reason code) may, and an overridden line gets no promotion.
* Line extended price = unit price x qty rounded HALF_UP to the currency unit (weighed lines);
  `amount` = extended - discounts is what goes to the tax engine as the line amount.

Order of operations (docs/pricing-and-tax.md):
1. list unit price: retail, or the wholesale tier reached by the product's basket quantity;
2. a supervisor price override replaces it (the line leaves promotions);
3. extended = unit price x qty, rounded once;
4. promotions (flag on, verified policies) on lines without a manual price, greedy;
5. a manual percent discount (`PriceOverride.percent`) applies to the line amount at the price
   actually charged (the tier price on wholesale): amount = round(extended x (100 - p) / 100),
   the discount is extended - amount (5 x 5.75 at 18 % off = 23.58, not 5 x 4.72 = 23.60);
   a discounted line gets no promotion;
6. tax on the amount (`posdomain.tax`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_CEILING, Decimal
from typing import Any, Literal

from posdomain.errors import Reason, ValidationError
from posdomain.money import parse_money, quantum, round_money
from posdomain.policy import Policy, PolicyRejection, verify_policies
from posdomain.promotions import (
    DiscountAllocation,  # re-export
    PromoLine,
    apply_promotions,
)

PriceList = Literal["retail", "wholesale"]


@dataclass(frozen=True)
class WholesaleTier:
    """Wholesale unit price from `min_qty` (basket quantity of the product) upwards."""

    min_qty: Decimal
    price: Decimal


@dataclass(frozen=True)
class ProductPrice:
    """The pricing view of a catalog product."""

    product_id: str
    price: Decimal
    category: str | None = None
    unit: Literal["each", "weight"] = "each"
    wholesale_tiers: tuple[WholesaleTier, ...] = ()
    min_price: Decimal | None = None
    cost: Decimal | None = None

    def floor(self) -> Decimal:
        """The unit price promotions may not go below (min_price, else cost, else 0)."""
        for candidate in (self.min_price, self.cost):
            if candidate is not None:
                return candidate
        return Decimal(0)


@dataclass(frozen=True)
class BasketItem:
    """One basket line to price (line ids unique within the basket)."""

    line_id: str
    product: ProductPrice
    qty: Decimal


@dataclass(frozen=True)
class PriceOverride:
    """A supervisor-approved unit price for one line (may cross the floor), or with `percent`
    a manual percent discount on the line amount at its list price (`unit_price` ignored)."""

    line_id: str
    unit_price: Decimal
    approver_id: str
    reason_code: str
    percent: Decimal | None = None


MANUAL_DISCOUNT = "manual-discount"  # the policy id a manual percent discount carries


def percent_off(extended: Decimal, percent: Decimal, exponent: int = 2) -> Decimal:
    """The discount of `percent` on a line amount: extended - round(extended x (1 - p))."""
    return extended - round_money(extended * (100 - percent) / 100, exponent)


@dataclass(frozen=True)
class PricedLine:
    """A priced line: `amount` = `extended` - `discount_total`, never below `floor_amount`."""

    line_id: str
    product_id: str
    qty: Decimal
    unit_price: Decimal
    extended: Decimal
    discounts: tuple[DiscountAllocation, ...]
    discount_total: Decimal
    amount: Decimal
    floor_amount: Decimal
    override: PriceOverride | None


@dataclass(frozen=True)
class PricedBasket:
    """Priced lines (input order), totals, and which policies applied or were rejected."""

    lines: tuple[PricedLine, ...]
    price_list: PriceList
    subtotal: Decimal
    discount_total: Decimal
    total: Decimal
    applied_policies: tuple[tuple[str, int], ...]
    rejected_policies: tuple[PolicyRejection, ...]


def _optional_money(body: Mapping[str, Any], key: str, exponent: int) -> Decimal | None:
    value = body.get(key)
    return None if value is None else parse_money(value, exponent, key)


def product_price_from_wire(body: Mapping[str, Any], exponent: int = 2) -> ProductPrice:
    """A ProductPrice from a CONTRACT catalog product (optional `min_price`, `cost`)."""
    tiers = tuple(
        WholesaleTier(Decimal(str(t["min_qty"])), parse_money(t["price"], exponent, "tier"))
        for t in body.get("wholesale_tiers") or []
    )
    unit = body.get("unit", "each")
    if unit not in ("each", "weight"):
        raise ValidationError(f"unknown unit {unit!r}")
    return ProductPrice(
        product_id=str(body["id"]),
        price=parse_money(body["price"], exponent, "price"),
        category=body.get("category"),
        unit=unit,
        wholesale_tiers=tuple(sorted(tiers, key=lambda t: t.min_qty)),
        min_price=_optional_money(body, "min_price", exponent),
        cost=_optional_money(body, "cost", exponent),
    )


def base_unit_price(product: ProductPrice, basket_qty: Decimal, price_list: PriceList) -> Decimal:
    """The list unit price for `basket_qty` of the product on `price_list`."""
    price = product.price
    if price_list == "wholesale":
        for tier in sorted(product.wholesale_tiers, key=lambda t: t.min_qty):
            if basket_qty >= tier.min_qty:
                price = tier.price
    return price


def check_floor(
    product: ProductPrice, unit_price: Decimal, override: PriceOverride | None = None
) -> None:
    """Raise PRICE_BELOW_FLOOR for a manual price under the floor without a supervisor override."""
    if override is not None:
        _check_override(override)
        return
    if unit_price < product.floor():
        raise ValidationError(
            f"{unit_price} is below the floor {product.floor()} of {product.product_id}",
            Reason.PRICE_BELOW_FLOOR,
            {"product_id": product.product_id, "floor": str(product.floor())},
        )


def _check_override(override: PriceOverride) -> None:
    if not override.approver_id.strip() or not override.reason_code.strip():
        raise ValidationError(
            "a price override needs an approver and a reason code", Reason.REASON_REQUIRED
        )
    if override.unit_price < 0:
        raise ValidationError("an override price cannot be negative", Reason.INVALID_MONEY)
    if override.percent is not None and not 0 < override.percent <= 100:
        raise ValidationError("a discount is more than 0 and at most 100 %", Reason.OUT_OF_RANGE)


def _validate(items: Sequence[BasketItem], overrides: Mapping[str, PriceOverride]) -> None:
    ids = [it.line_id for it in items]
    if len(set(ids)) != len(ids):
        raise ValidationError("line ids must be unique")
    for it in items:
        if it.qty <= 0 or (it.product.unit == "each" and it.qty != it.qty.to_integral_value()):
            raise ValidationError(f"line {it.line_id}: bad quantity {it.qty}")
    for line_id, override in overrides.items():
        if line_id not in ids:
            raise ValidationError(f"no line {line_id}", Reason.LINE_NOT_FOUND)
        _check_override(override)


@dataclass(frozen=True)
class _Base:
    item: BasketItem
    unit_price: Decimal
    extended: Decimal
    floor_amount: Decimal
    override: PriceOverride | None
    plain: PricedLine | None = None  # the line priced without discounts (kept in a memo)


BaseKey = tuple[str, int, str, str, str, int]


class PriceMemo:
    """Per-line pricing of earlier `price_basket` calls (issue 15: a basket repriced after
    every scan). A line's list price, extended price and floor depend on the line itself, its
    product, the price list and the product's quantity over the whole basket (tiers); the
    memo keeps them (and the priced line when no discount touched it) keyed by all of these,
    the product by identity and checked on every hit. A line with a manual price or a
    discount is priced afresh; promotions and totals are always worked out again."""

    def __init__(self, limit: int = 8192) -> None:
        self.limit = limit
        self.bases: dict[BaseKey, _Base] = {}

    def get(self, key: BaseKey, product: ProductPrice) -> _Base | None:
        """The kept pricing of a line (only if made from this very product object)."""
        found = self.bases.get(key)
        if found is None or found.item.product is not product:
            return None
        return found

    def put(self, key: BaseKey, base: _Base, exponent: int) -> _Base:
        """Keep a line's base with its priced form without discounts."""
        if len(self.bases) >= self.limit:
            self.bases = {}
        kept = self.bases[key] = replace(base, plain=_priced(base, [], exponent))
        return kept


def _base_key(it: BasketItem, basket_qty: Decimal, price_list: str, exponent: int) -> BaseKey:
    """Decimals as written: equal values with other digits would print differently."""
    return (it.line_id, id(it.product), str(it.qty), price_list, str(basket_qty), exponent)


def _base_lines(
    items: Sequence[BasketItem],
    price_list: PriceList,
    overrides: Mapping[str, PriceOverride],
    exponent: int,
    memo: PriceMemo | None = None,
) -> list[_Base]:
    qty_of: dict[str, Decimal] = {}
    for it in items:
        qty_of[it.product.product_id] = qty_of.get(it.product.product_id, Decimal(0)) + it.qty
    bases = []
    for it in items:
        override = overrides.get(it.line_id)
        if memo is not None and override is None:
            key = _base_key(it, qty_of[it.product.product_id], price_list, exponent)
            found = memo.get(key, it.product)
            if found is None:
                base = _one_base(it, qty_of[it.product.product_id], price_list, None, exponent)
                found = memo.put(key, base, exponent)
            bases.append(found)
            continue
        bases.append(_one_base(it, qty_of[it.product.product_id], price_list, override, exponent))
    return bases


def _one_base(
    it: BasketItem,
    basket_qty: Decimal,
    price_list: PriceList,
    override: PriceOverride | None,
    exponent: int,
) -> _Base:
    """One line's list unit price (tier by the basket quantity), extended price and floor."""
    listed = base_unit_price(it.product, basket_qty, price_list)
    unit = override.unit_price if override and override.percent is None else listed
    extended = round_money(unit * it.qty, exponent)
    floor = (min(it.product.floor(), listed) * it.qty).quantize(
        quantum(exponent), rounding=ROUND_CEILING
    )
    return _Base(it, unit, extended, min(floor, extended), override)


def _promo_line(base: _Base) -> PromoLine:
    it = base.item
    countable = it.product.unit == "each"
    units = 0 if base.override else (int(it.qty) if countable else 1)
    value = base.unit_price if countable else base.extended
    return PromoLine(
        it.line_id, it.product.product_id, it.product.category, value, units, countable
    )


def _discounts(
    bases: list[_Base],
    policies: Sequence[Policy | Mapping[str, Any]],
    policy_key: bytes | str,
    now: datetime | None,
    exponent: int,
) -> tuple[dict[str, list[DiscountAllocation]], list[PolicyRejection]]:
    if not policies:
        return {}, []
    if now is None:
        raise ValueError("now is required to verify policies")
    verified, rejected = verify_policies(policies, policy_key, now)
    headroom = {b.item.line_id: b.extended - b.floor_amount for b in bases}
    lines = [_promo_line(b) for b in bases]
    return apply_promotions(verified, lines, headroom, exponent), rejected


def price_basket(
    items: Sequence[BasketItem],
    *,
    price_list: PriceList = "retail",
    advanced_discounts: bool = False,
    policies: Sequence[Policy | Mapping[str, Any]] = (),
    policy_key: bytes | str = b"",
    now: datetime | None = None,
    overrides: Sequence[PriceOverride] = (),
    exponent: int = 2,
    memo: PriceMemo | None = None,
) -> PricedBasket:
    """Price a basket: list prices, tiers, overrides and (flag on) verified promotions;
    `memo` reuses what depends on one line alone from earlier calls (`PriceMemo`)."""
    by_line = {o.line_id: o for o in overrides}
    _validate(items, by_line)
    bases = _base_lines(items, price_list, by_line, exponent, memo)
    active = policies if advanced_discounts else ()
    allocations, rejected = _discounts(bases, active, policy_key, now, exponent)
    for b in bases:
        if b.override is not None and b.override.percent is not None:
            off = percent_off(b.extended, b.override.percent, exponent)
            allocations[b.item.line_id] = [DiscountAllocation(MANUAL_DISCOUNT, 0, "manual", off)]
    lines = tuple(_line(b, allocations.get(b.item.line_id), exponent, memo) for b in bases)
    zero = Decimal(0).quantize(quantum(exponent))
    applied = sorted({(d.policy_id, d.policy_version) for ln in lines for d in ln.discounts})
    return PricedBasket(
        lines=lines,
        price_list=price_list,
        subtotal=sum((ln.extended for ln in lines), zero),
        discount_total=sum((ln.discount_total for ln in lines), zero),
        total=sum((ln.amount for ln in lines), zero),
        applied_policies=tuple(applied),
        rejected_policies=tuple(rejected),
    )


def _line(
    base: _Base, discounts: list[DiscountAllocation] | None, exponent: int, memo: PriceMemo | None
) -> PricedLine:
    """The priced line; one no discount touched comes from the memo when it holds it."""
    if memo is not None and not discounts and base.plain is not None:
        return base.plain
    return _priced(base, discounts or [], exponent)


def _priced(base: _Base, discounts: list[DiscountAllocation], exponent: int) -> PricedLine:
    total = sum((d.amount for d in discounts), Decimal(0)).quantize(quantum(exponent))
    return PricedLine(
        line_id=base.item.line_id,
        product_id=base.item.product.product_id,
        qty=base.item.qty,
        unit_price=base.unit_price,
        extended=base.extended,
        discounts=tuple(discounts),
        discount_total=total,
        amount=base.extended - total,
        floor_amount=base.floor_amount,
        override=base.override,
    )
