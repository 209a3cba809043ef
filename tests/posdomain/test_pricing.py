"""Pricing engine: price lists, tiers, promotions, floors, overrides, fail-closed policies."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posdomain.errors import Reason, ValidationError
from posdomain.policy import sign_policy
from posdomain.pricing import (
    BasketItem,
    PricedBasket,
    PriceOverride,
    ProductPrice,
    WholesaleTier,
    check_floor,
    price_basket,
    product_price_from_wire,
)

pytestmark = pytest.mark.req("FR-301")

D = Decimal
KEY = b"policy-key"
NOW = datetime(2024, 6, 1, tzinfo=UTC)


def product(pid: str, price: str, category: str | None = "snacks", **kw: Any) -> ProductPrice:
    """A product priced `price`."""
    return ProductPrice(pid, D(price), category, **kw)


def policy(pid: str, kind: str, params: dict[str, Any], **target: list[str]) -> dict[str, Any]:
    """A signed, currently effective policy body."""
    body: dict[str, Any] = {
        "policy_id": pid, "policyVersion": 1, "effectiveFrom": "2024-01-01T00:00:00Z",
        "effectiveTo": None, "kind": kind, "params": params,
        "target": {"product_ids": target.get("products", []),
                   "categories": target.get("categories", [])},
    }  # fmt: skip
    return {**body, "signature": sign_policy(body, KEY)}


def price(items: list[BasketItem], *policies: dict[str, Any], **kw: Any) -> PricedBasket:
    """Price with advanced discounts on and the given policies."""
    kw.setdefault("advanced_discounts", True)
    return price_basket(items, policies=policies, policy_key=KEY, now=NOW, **kw)


def item(line_id: str, prod: ProductPrice, qty: str | int = 1) -> BasketItem:
    """A basket line."""
    return BasketItem(line_id, prod, D(qty))


def discounts(basket: PricedBasket) -> dict[str, str]:
    """Line id -> discount total, as strings."""
    return {ln.line_id: str(ln.discount_total) for ln in basket.lines}


CHIPS = product("chips", "0.99")
MULTIBUY_3_FOR_2 = policy("mb", "multibuy", {"qty": 3, "price": "2.00"}, products=["chips"])


def test_retail_price_and_weighed_line() -> None:
    apples = product("apples", "3.99", "fruit", unit="weight")
    basket = price_basket([item("1", CHIPS, 2), item("2", apples, "1.250")])
    assert [(str(ln.unit_price), str(ln.extended)) for ln in basket.lines] == [
        ("0.99", "1.98"),
        ("3.99", "4.99"),  # 4.9875 rounded HALF_UP
    ]
    assert (basket.subtotal, basket.discount_total, basket.total) == (D("6.97"), D(0), D("6.97"))


def test_wholesale_tiers_use_basket_quantity_of_the_product() -> None:
    tiers = (WholesaleTier(D(10), D("1.79")), WholesaleTier(D(50), D("1.59")))
    water = product("water", "1.99", wholesale_tiers=tiers)
    items = [item("1", water, 5), item("2", water, 7)]
    assert {str(ln.unit_price) for ln in price_basket(items, price_list="wholesale").lines} == {
        "1.79"
    }
    assert price_basket(items).lines[0].unit_price == D("1.99")
    assert price_basket([item("1", water, 9)], price_list="wholesale").total == D("17.91")
    big = price_basket([item("1", water, 50)], price_list="wholesale")
    assert big.lines[0].unit_price == D("1.59")


def test_product_from_wire_contract_shape() -> None:
    wire = {"id": "p1", "sku": "S1", "name": "Water", "barcodes": [], "category": None,
            "tax_class": "STD", "unit": "each", "price": "1.99",
            "wholesale_tiers": [{"min_qty": "50", "price": "1.59"},
                                {"min_qty": "10", "price": "1.79"}],
            "min_price": "1.50", "active": True, "version": 3}  # fmt: skip
    prod = product_price_from_wire(wire)
    assert [t.min_qty for t in prod.wholesale_tiers] == [D(10), D(50)]
    assert (prod.floor(), prod.category) == (D("1.50"), None)
    with pytest.raises(ValidationError):
        product_price_from_wire({**wire, "price": 1.99})


def test_multibuy_repeats_per_multiple() -> None:
    basket = price([item("1", CHIPS, 7)], MULTIBUY_3_FOR_2)
    assert basket.discount_total == D("1.94")
    assert basket.total == D("4.99")  # 2 x 2.00 + 1 x 0.99
    (alloc,) = basket.lines[0].discounts
    assert (alloc.policy_id, alloc.policy_version, alloc.kind) == ("mb", 1, "multibuy")
    assert basket.applied_policies == (("mb", 1),)


def test_multibuy_across_lines_spreads_discount_to_the_cent() -> None:
    basket = price([item("a", CHIPS, 1), item("b", CHIPS, 2)], MULTIBUY_3_FOR_2)
    assert discounts(basket) == {"a": "0.32", "b": "0.65"}
    assert basket.total == D("2.00")


def test_flag_off_ignores_every_policy() -> None:
    basket = price([item("1", CHIPS, 3)], MULTIBUY_3_FOR_2, {"junk": 1}, advanced_discounts=False)
    assert basket.discount_total == 0
    assert basket.rejected_policies == ()


def test_percent_and_amount_by_category_or_product() -> None:
    cheese = product("cheese", "4.99", "dairy")
    milk = product("milk", "1.19", "dairy")
    ten_percent = policy("pct", "percent", {"percent": "10"}, categories=["dairy"])
    basket = price([item("1", cheese), item("2", milk, 2), item("3", CHIPS)], ten_percent)
    assert discounts(basket) == {"1": "0.50", "2": "0.24", "3": "0.00"}  # 7.37 x 10 % = 0.74
    fifty_off = policy("amt", "amount", {"amount": "0.50"}, products=["milk"])
    assert discounts(price([item("1", milk, 2)], fifty_off)) == {"1": "1.00"}


def test_buy_two_get_cheapest_free_spread_proportionally() -> None:
    a, b, c = product("a", "3.00"), product("b", "2.00"), product("c", "1.00")
    bxgy = policy("b2g1", "bxgy", {"buy": 2, "get": 1}, categories=["snacks"])
    basket = price([item("1", a), item("2", b), item("3", c)], bxgy)
    assert basket.discount_total == D("1.00")
    assert discounts(basket) == {"1": "0.50", "2": "0.33", "3": "0.17"}


def test_mix_and_match_any_three_for_a_price() -> None:
    prods = [product(p, v, "cheese") for p, v in [("x", "2.50"), ("y", "2.00"), ("z", "1.80")]]
    extra = product("w", "1.00", "cheese")
    mm = policy("mm", "mix_match", {"qty": 3, "price": "5.00"}, categories=["cheese"])
    basket = price([item(p.product_id, p) for p in [*prods, extra]], mm)
    assert basket.discount_total == D("1.30")
    assert discounts(basket)["w"] == "0.00"


def test_best_for_customer_no_stacking() -> None:
    five_percent = policy("a-pct", "percent", {"percent": "5"}, products=["chips"])
    basket = price([item("1", CHIPS, 4)], five_percent, MULTIBUY_3_FOR_2)
    # multibuy takes 3 units (0.97 off), 5 % takes the one left (0.05 off)
    allocs = {d.policy_id: str(d.amount) for d in basket.lines[0].discounts}
    assert allocs == {"mb": "0.97", "a-pct": "0.05"}


def test_promotions_never_cross_the_floor() -> None:
    floored = product("chips", "0.99", min_price=D("0.80"))
    basket = price([item("1", floored, 3)], MULTIBUY_3_FOR_2)
    line = basket.lines[0]
    assert (line.floor_amount, line.amount, line.discount_total) == (
        D("2.40"),
        D("2.40"),
        D("0.57"),
    )
    costed = product("chips", "0.99", cost=D("0.70"))
    assert price([item("1", costed, 3)], MULTIBUY_3_FOR_2).total == D("2.10")


def test_supervisor_override_may_cross_the_floor_and_gets_no_promotion() -> None:
    floored = product("chips", "0.99", min_price=D("0.80"))
    override = PriceOverride("1", D("0.10"), approver_id="sup-7", reason_code="DAMAGED")
    basket = price([item("1", floored, 3)], MULTIBUY_3_FOR_2, overrides=[override])
    assert (basket.lines[0].unit_price, basket.total, basket.lines[0].override) == (
        D("0.10"), D("0.30"), override,
    )  # fmt: skip
    check_floor(floored, D("0.10"), override)
    with pytest.raises(ValidationError) as err:
        check_floor(floored, D("0.79"))
    assert err.value.reason is Reason.PRICE_BELOW_FLOOR
    check_floor(floored, D("0.80"))


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        (PriceOverride("1", D("0.10"), "", "DAMAGED"), Reason.REASON_REQUIRED),
        (PriceOverride("1", D("0.10"), "sup", " "), Reason.REASON_REQUIRED),
        (PriceOverride("1", D("-1"), "sup", "X"), Reason.INVALID_MONEY),
        (PriceOverride("9", D("0.10"), "sup", "X"), Reason.LINE_NOT_FOUND),
    ],
)
def test_bad_overrides_are_refused(override: PriceOverride, reason: Reason) -> None:
    with pytest.raises(ValidationError) as err:
        price([item("1", CHIPS)], overrides=[override])
    assert err.value.reason is reason


def test_unverifiable_or_expired_policies_never_execute_and_are_reported() -> None:
    forged = {**MULTIBUY_3_FOR_2, "params": {"qty": 3, "price": "0.01"}}
    expired = policy("old", "percent", {"percent": "50"}, products=["chips"])
    expired = {**expired, "effectiveTo": "2024-02-01T00:00:00Z"}
    expired["signature"] = sign_policy(expired, KEY)
    basket = price([item("1", CHIPS, 3)], forged, expired)
    assert basket.discount_total == 0
    assert [(r.policy_id, r.reason) for r in basket.rejected_policies] == [
        ("mb", Reason.POLICY_UNVERIFIABLE),
        ("old", Reason.POLICY_EXPIRED),
    ]


@pytest.mark.parametrize("key", [b"", ""])
def test_without_a_key_no_policy_executes_not_even_one_signed_with_the_empty_key(
    key: bytes | str,
) -> None:
    """Issue 14: price_basket's default key is empty; HMAC accepts an empty key, so a policy
    "signed" with it must still be refused (fail closed), with a stable reason code."""
    import hashlib
    import hmac

    from posdomain.canonical import canonical_json
    from posdomain.policy import NO_POLICY_KEY

    raw = {k: v for k, v in MULTIBUY_3_FOR_2.items() if k != "signature"}
    forged = {**raw, "signature": hmac.new(b"", canonical_json(raw), hashlib.sha256).hexdigest()}
    items = [item("1", CHIPS, 3)]
    for basket in (
        price_basket(items, advanced_discounts=True, policies=[forged], now=NOW),
        price_basket(items, advanced_discounts=True, policies=[forged], policy_key=key, now=NOW),
    ):
        assert basket.discount_total == 0
        assert basket.applied_policies == ()
        assert [(r.policy_id, r.reason, r.message) for r in basket.rejected_policies] == [
            ("mb", Reason.POLICY_UNVERIFIABLE, NO_POLICY_KEY)
        ]
    assert price(items, MULTIBUY_3_FOR_2).discount_total > 0  # the tenant key still verifies


def test_only_the_latest_policy_version_runs() -> None:
    v2 = policy("mb", "multibuy", {"qty": 3, "price": "2.50"}, products=["chips"])
    v2 = {**v2, "policyVersion": 2}
    v2["signature"] = sign_policy(v2, KEY)
    basket = price([item("1", CHIPS, 3)], MULTIBUY_3_FOR_2, v2)
    assert basket.applied_policies == (("mb", 2),)
    assert basket.total == D("2.50")


@pytest.mark.parametrize(
    "items",
    [
        [item("1", CHIPS, 0)],
        [item("1", CHIPS, "1.5")],
        [item("1", CHIPS), item("1", CHIPS)],
    ],
)
def test_bad_basket_lines_are_refused(items: list[BasketItem]) -> None:
    with pytest.raises(ValidationError):
        price_basket(items)


# --- properties -------------------------------------------------------------------------

CATALOG = [
    product("p0", "0.99", "snacks", min_price=D("0.70")),
    product("p1", "2.49", "snacks"),
    product("p2", "1.19", "dairy", cost=D("0.90")),
    product("p3", "4.99", "dairy"),
    product("p4", "3.49", "fruit", unit="weight"),
]
POLICIES = [
    policy("mb", "multibuy", {"qty": 3, "price": "2.00"}, products=["p0", "p1"]),
    policy("pct", "percent", {"percent": "15"}, categories=["dairy", "fruit"]),
    policy("amt", "amount", {"amount": "0.30"}, products=["p1", "p4"]),
    policy("bxgy", "bxgy", {"buy": 2, "get": 1}, categories=["snacks", "dairy"]),
    policy("mm", "mix_match", {"qty": 2, "price": "5.00"}, categories=["dairy"]),
]


@st.composite
def baskets(draw: st.DrawFn) -> list[BasketItem]:
    """Random baskets over the small catalog."""
    n = draw(st.integers(min_value=1, max_value=7))
    items = []
    for i in range(n):
        prod = draw(st.sampled_from(CATALOG))
        if prod.unit == "weight":
            qty = D(draw(st.integers(min_value=1, max_value=5000))) / 1000
        else:
            qty = D(draw(st.integers(min_value=1, max_value=8)))
        items.append(BasketItem(f"L{i}", prod, qty))
    return items


@settings(max_examples=120, deadline=None)
@given(baskets(), st.sets(st.integers(min_value=0, max_value=len(POLICIES) - 1)), st.integers())
def test_pricing_properties(items: list[BasketItem], chosen: set[int], seed: int) -> None:
    policies = [POLICIES[i] for i in sorted(chosen)]
    basket = price(items, *policies)
    assert sum(ln.discount_total for ln in basket.lines) == basket.discount_total
    assert basket.subtotal - basket.discount_total == basket.total
    for ln in basket.lines:
        assert sum(d.amount for d in ln.discounts) == ln.discount_total
        assert ln.amount >= ln.floor_amount
        assert ln.discount_total >= 0
    shuffled = list(items)
    random.Random(seed).shuffle(shuffled)
    other = price(shuffled, *reversed(policies))
    by_id = {ln.line_id: ln for ln in other.lines}
    assert all(ln == by_id[ln.line_id] for ln in basket.lines)
    assert (other.total, other.applied_policies) == (basket.total, basket.applied_policies)


@pytest.mark.req("FR-301")
def test_manual_percent_discount_is_taken_off_the_line_amount() -> None:
    milk = ProductPrice("p", Decimal("5.75"))
    override = PriceOverride("1", Decimal("5.75"), "s-sup", "STAFF", percent=Decimal(18))
    basket = price_basket([BasketItem("1", milk, Decimal(5))], overrides=[override])
    line = basket.lines[0]
    assert (line.extended, line.discount_total, line.amount) == (
        Decimal("28.75"),
        Decimal("5.17"),
        Decimal("23.58"),
    )
    assert line.discounts[0].kind == "manual"


@pytest.mark.req("FR-301")
def test_manual_percent_discount_is_on_the_wholesale_tier_price() -> None:
    tiered = ProductPrice(
        "p", Decimal("1.99"), wholesale_tiers=(WholesaleTier(Decimal(10), Decimal("1.50")),)
    )
    override = PriceOverride("1", Decimal("1.99"), "s-sup", "STAFF", percent=Decimal(10))
    basket = price_basket(
        [BasketItem("1", tiered, Decimal(10))], price_list="wholesale", overrides=[override]
    )
    assert (basket.lines[0].unit_price, basket.lines[0].amount) == (
        Decimal("1.50"),
        Decimal("13.50"),
    )


@pytest.mark.req("FR-301")
def test_percent_promotion_rounds_the_line_amount_not_the_discount() -> None:
    # 5 x 5.75 = 28.75 at 18 % off: 82 % is 23.575 -> 23.58; the discount is what is left
    pct = policy("pct18", "percent", {"percent": "18"}, products=["m"])
    basket = price([item("1", product("m", "5.75"), 5)], pct)
    assert (basket.lines[0].amount, basket.discount_total) == (D("23.58"), D("5.17"))
