"""Promotion evaluation for the pricing engine (FR-301, flag `advanced_discounts`).

Precedence: **greedy best-for-customer, no stacking**. Each countable unit takes part in
at most one promotion. Every round evaluates each not-yet-applied verified policy on the units
still free, applies the one giving the largest discount (ties: smallest policy_id), marks its
units used, and repeats until nothing saves money. Deterministic and independent of line
order; not guaranteed globally optimal. Only the highest verified version of a policy_id is
considered.

* multibuy (`qty` for `price`): per product, repeats per multiple; leftover units pay regular.
* mix_match (`qty` for `price`): any `qty` targeted units across products, dearest first.
* bxgy (`buy`, `get`): per `buy+get` targeted units the cheapest `get` units are free.
* percent / amount: off each free targeted unit (a weighed line counts as one unit).

A promotion's discount is spread over the lines whose units it used, weighted by their regular
value (largest remainder, to the cent), then capped so no line goes below its price floor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from posdomain.allocation import allocate
from posdomain.money import quantum, round_money
from posdomain.policy import VerifiedPolicy

Unit = tuple[Decimal, str]  # (regular unit value, line_id)


@dataclass(frozen=True)
class PromoLine:
    """What promotions see of a basket line."""

    line_id: str
    product_id: str
    category: str | None
    unit_value: Decimal  # one countable unit's price, or a weighed line's whole extended price
    units: int  # countable units (1 for a weighed line, 0 if excluded, e.g. price override)
    countable: bool


@dataclass(frozen=True)
class DiscountAllocation:
    """One policy's share of discount on one line."""

    policy_id: str
    policy_version: int
    kind: str
    amount: Decimal


@dataclass(frozen=True)
class _Proposal:
    policy: VerifiedPolicy
    consumed: dict[str, int]
    discounts: dict[str, Decimal]

    @property
    def value(self) -> Decimal:
        """Total discount this proposal gives."""
        return sum(self.discounts.values(), Decimal(0))


def _eligible(
    policy: VerifiedPolicy, lines: Sequence[PromoLine], free: Mapping[str, int]
) -> list[PromoLine]:
    countable_only = policy.kind in ("multibuy", "mix_match", "bxgy")
    return [
        ln
        for ln in lines
        if free[ln.line_id] > 0
        and policy.target.matches(ln.product_id, ln.category)
        and (ln.countable or not countable_only)
    ]


def _units(lines: Sequence[PromoLine], free: Mapping[str, int]) -> list[Unit]:
    return [(ln.unit_value, ln.line_id) for ln in lines for _ in range(free[ln.line_id])]


def _groups(units: list[Unit], size: int, price: Decimal) -> tuple[list[Unit], Decimal]:
    """Take groups of `size` from dearest units down while a group costs more than `price`."""
    units = sorted(units, key=lambda u: (-u[0], u[1]))
    used: list[Unit] = []
    saving = Decimal(0)
    for start in range(0, len(units) - size + 1, size):
        group = units[start : start + size]
        group_saving = sum((u[0] for u in group), Decimal(0)) - price
        if group_saving <= 0:
            break
        used += group
        saving += group_saving
    return used, saving


def _bxgy(units: list[Unit], buy: int, get: int) -> tuple[list[Unit], Decimal]:
    units = sorted(units, key=lambda u: (u[0], u[1]))
    groups = len(units) // (buy + get)
    free_units = units[: groups * get]
    return units[: groups * (buy + get)], sum((u[0] for u in free_units), Decimal(0))


def _count_based(
    policy: VerifiedPolicy, eligible: list[PromoLine], free: Mapping[str, int]
) -> tuple[list[Unit], Decimal]:
    params = policy.params
    if policy.kind == "bxgy":
        return _bxgy(_units(eligible, free), params.buy, params.get)
    if policy.kind == "mix_match":
        return _groups(_units(eligible, free), params.qty, params.price)
    used: list[Unit] = []
    saving = Decimal(0)
    for product_id in sorted({ln.product_id for ln in eligible}):
        same = [ln for ln in eligible if ln.product_id == product_id]
        product_used, product_saving = _groups(_units(same, free), params.qty, params.price)
        used += product_used
        saving += product_saving
    return used, saving


def _spread(
    total: Decimal, used: list[Unit], exponent: int
) -> tuple[dict[str, int], dict[str, Decimal]]:
    consumed: dict[str, int] = {}
    value: dict[str, Decimal] = {}
    for unit_value, line_id in used:
        consumed[line_id] = consumed.get(line_id, 0) + 1
        value[line_id] = value.get(line_id, Decimal(0)) + unit_value
    keys = sorted(value)
    shares = allocate(total, [value[k] for k in keys], keys, exponent)
    return consumed, dict(zip(keys, shares, strict=True))


def _per_line(
    policy: VerifiedPolicy, eligible: list[PromoLine], free: Mapping[str, int], exponent: int
) -> tuple[dict[str, int], dict[str, Decimal]]:
    consumed = {ln.line_id: free[ln.line_id] for ln in eligible}
    base = {ln.line_id: ln.unit_value * free[ln.line_id] for ln in eligible}
    if policy.kind == "amount":
        return consumed, {
            k: min(policy.params.amount * consumed[k], base[k]).quantize(quantum(exponent))
            for k in base
        }
    # percent of the line amount: the amount is rounded, the discount is what is taken off
    whole = sum(base.values(), Decimal(0))
    total = whole - round_money(whole * (100 - policy.params.percent) / 100, exponent)
    keys = sorted(base)
    return consumed, dict(
        zip(keys, allocate(total, [base[k] for k in keys], keys, exponent), strict=True)
    )


def _propose(
    policy: VerifiedPolicy,
    lines: Sequence[PromoLine],
    free: Mapping[str, int],
    headroom: Mapping[str, Decimal],
    exponent: int,
) -> _Proposal:
    eligible = _eligible(policy, lines, free)
    if policy.kind in ("percent", "amount"):
        consumed, discounts = _per_line(policy, eligible, free, exponent)
    else:
        used, saving = _count_based(policy, eligible, free)
        consumed, discounts = _spread(saving.quantize(quantum(exponent)), used, exponent)
    capped = {k: max(min(v, headroom[k]), Decimal(0)) for k, v in discounts.items()}
    return _Proposal(policy, consumed, {k: v for k, v in capped.items() if v > 0})


def _latest(policies: Sequence[VerifiedPolicy]) -> list[VerifiedPolicy]:
    latest: dict[str, VerifiedPolicy] = {}
    for p in policies:
        if p.policy_id not in latest or p.policy_version > latest[p.policy_id].policy_version:
            latest[p.policy_id] = p
    return [latest[k] for k in sorted(latest)]


def apply_promotions(
    policies: Sequence[VerifiedPolicy],
    lines: Sequence[PromoLine],
    headroom: Mapping[str, Decimal],
    exponent: int = 2,
) -> dict[str, list[DiscountAllocation]]:
    """Discount allocations per line id from verified policies (greedy best-for-customer)."""
    free = {ln.line_id: ln.units for ln in lines}
    room = dict(headroom)
    result: dict[str, list[DiscountAllocation]] = {ln.line_id: [] for ln in lines}
    pending = _latest(policies)
    while pending:
        proposals = [_propose(p, lines, free, room, exponent) for p in pending]
        # max() keeps the first of equals and `pending` is sorted by policy_id: ties are stable
        best = max(proposals, key=lambda pr: pr.value)
        if best.value <= 0:
            break
        pending.remove(best.policy)
        for line_id, units in best.consumed.items():
            free[line_id] -= units
        for line_id, amount in sorted(best.discounts.items()):
            room[line_id] -= amount
            p = best.policy
            result[line_id].append(
                DiscountAllocation(p.policy_id, p.policy_version, p.kind, amount)
            )
    return result
