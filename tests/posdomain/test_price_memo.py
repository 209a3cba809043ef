"""Pricing (FR-301): the memo (issue 15) never answers from a stale entry: what a line is
priced from (quantity, the product's basket quantity for tiers, the price list, the currency
unit) is all in its key, and a full memo starts over; the basket's defaults. Written against
mutants of posdomain.pricing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from posdomain.pricing import BasketItem, PriceMemo, ProductPrice, WholesaleTier, price_basket

pytestmark = pytest.mark.req("FR-301")

D = Decimal
FLOUR = ProductPrice(
    "flour", D("2.00"), "baking", wholesale_tiers=(WholesaleTier(D(5), D("1.50")),)
)


def amounts(items: list[BasketItem], memo: PriceMemo, **kw: object) -> list[Decimal]:
    with_memo = price_basket(items, memo=memo, **kw)  # type: ignore[arg-type]
    assert with_memo == price_basket(items, **kw)  # type: ignore[arg-type]
    return [ln.amount for ln in with_memo.lines]


def test_a_memo_follows_quantity_tiers_price_list_and_currency_unit() -> None:
    memo = PriceMemo()
    assert amounts([BasketItem("1", FLOUR, D(1))], memo, price_list="wholesale") == [D("2.00")]
    assert amounts([BasketItem("1", FLOUR, D(2))], memo, price_list="wholesale") == [D("4.00")]
    # a second line of the same product reaches the tier for the first line too
    both = [BasketItem("1", FLOUR, D(2)), BasketItem("2", FLOUR, D(3))]
    assert amounts(both, memo, price_list="wholesale") == [D("3.00"), D("4.50")]
    assert amounts(both, memo, price_list="retail") == [D("4.00"), D("6.00")]
    # the same basket quantity split otherwise between the lines
    swapped = [BasketItem("1", FLOUR, D(3)), BasketItem("2", FLOUR, D(2))]
    assert amounts(swapped, memo, price_list="wholesale") == [D("4.50"), D("3.00")]
    yen = ProductPrice("rice", D("300"), "dry", unit="weight")
    assert amounts([BasketItem("1", yen, D("0.455"))], memo, exponent=0) == [D("137")]
    assert amounts([BasketItem("1", yen, D("0.455"))], memo, exponent=2) == [D("136.50")]


def test_a_full_memo_starts_over() -> None:
    memo = PriceMemo(limit=1)
    items = [BasketItem("1", FLOUR, D(1)), BasketItem("2", FLOUR, D(1))]
    assert amounts(items, memo) == [D("2.00"), D("2.00")]
    assert amounts(items, memo) == [D("2.00"), D("2.00")]
    assert len(memo.bases) == 1


def test_a_basket_is_retail_unless_told_and_names_each_lines_product() -> None:
    basket = price_basket([BasketItem("1", FLOUR, D(1))])
    assert basket.price_list == "retail"
    assert basket.lines[0].product_id == "flour"
    memo = PriceMemo()
    assert price_basket([BasketItem("1", FLOUR, D(1))], memo=memo).lines[0].product_id == "flour"


def test_promotions_are_rounded_in_the_baskets_currency_unit() -> None:
    from datetime import UTC, datetime

    from posdomain.policy import sign_policy

    body = {
        "policy_id": "ten", "policyVersion": 1, "effectiveFrom": "2024-01-01T00:00:00Z",
        "effectiveTo": None, "kind": "percent", "params": {"percent": "10"},
        "target": {"product_ids": ["tea"], "categories": []},
    }  # fmt: skip
    signed = {**body, "signature": sign_policy(body, "k")}
    tea = ProductPrice("tea", D("99"), "drinks")
    basket = price_basket(
        [BasketItem("1", tea, D(3))], advanced_discounts=True, policies=[signed],
        policy_key="k", now=datetime(2024, 6, 1, tzinfo=UTC), exponent=0,
    )  # fmt: skip
    assert basket.lines[0].discount_total == D("30")  # 10 % of 297 yen, in whole yen
    assert basket.total == D("267")
