"""Pricing engine edges (FR-301): the catalog wire form, override limits, currencies with 0
decimals, floors of weighed lines. Written against mutants of posdomain.pricing that
survived (`just mutate`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from posdomain.errors import Reason, ValidationError
from posdomain.pricing import MANUAL_DISCOUNT, PriceOverride, check_floor, product_price_from_wire
from tests.posdomain.test_pricing import item, policy, price, product

pytestmark = pytest.mark.req("FR-301")

D = Decimal
WIRE: dict[str, Any] = {"id": "p1", "price": "2.49", "category": "deli", "unit": "weight",
                        "min_price": "1.50", "cost": "1.20",
                        "wholesale_tiers": [{"min_qty": "10", "price": "1.99"}]}  # fmt: skip


def test_a_catalog_product_keeps_every_field_of_its_wire_form() -> None:
    prod = product_price_from_wire(WIRE)
    assert (prod.product_id, prod.price, prod.category, prod.unit) == (
        "p1",
        D("2.49"),
        "deli",
        "weight",
    )
    assert (prod.min_price, prod.cost, prod.wholesale_tiers[0].price) == (
        D("1.50"),
        D("1.20"),
        D("1.99"),
    )
    bare = product_price_from_wire({"id": 7, "price": "1.00"})
    assert (bare.product_id, bare.unit, bare.category, bare.cost, bare.min_price) == (
        "7", "each", None, None, None,
    )  # fmt: skip
    assert product_price_from_wire({"id": "y", "price": "100"}, exponent=0).price == D(100)


@pytest.mark.parametrize(
    ("change", "field"),
    [({"price": "2.499"}, "price"), ({"cost": "x"}, "cost"), ({"min_price": 1.5}, "min_price"),
     ({"wholesale_tiers": [{"min_qty": "10", "price": "1.999"}]}, "tier")],
)  # fmt: skip
def test_a_bad_amount_in_a_catalog_product_names_its_field(
    change: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as err:
        product_price_from_wire({**WIRE, **change})
    assert (err.value.reason, err.value.details) == (Reason.INVALID_MONEY, {"field": field})


def test_a_catalog_product_sells_by_each_or_by_weight_only() -> None:
    with pytest.raises(ValidationError) as err:
        product_price_from_wire({**WIRE, "unit": "litre"})
    assert "litre" in str(err.value)


def test_a_price_below_the_floor_says_which_product_and_which_floor() -> None:
    with pytest.raises(ValidationError) as err:
        check_floor(product("chips", "0.99", min_price=D("0.80")), D("0.79"))
    assert err.value.details == {"product_id": "chips", "floor": "0.80"}


def test_a_supervisor_may_give_an_item_away_and_discount_any_share_up_to_all_of_it() -> None:
    chips = product("chips", "0.99")
    free = PriceOverride("1", D("0"), "sup", "GOODWILL")
    assert price([item("1", chips, 2)], overrides=[free]).total == 0
    for percent, total in (("100", "0.00"), ("0.5", "1.97")):
        manual = PriceOverride("1", D(0), "sup", "LOYAL", percent=D(percent))
        assert price([item("1", chips, 2)], overrides=[manual]).total == D(total)
    for percent in ("0", "100.01", "-5"):
        manual = PriceOverride("1", D(0), "sup", "LOYAL", percent=D(percent))
        with pytest.raises(ValidationError) as err:
            price([item("1", chips, 2)], overrides=[manual])
        assert err.value.reason is Reason.OUT_OF_RANGE, percent


def test_a_manual_discount_is_labelled_and_rounded_in_the_currency_unit() -> None:
    # 5 x 75 at 18 % off in a 0-decimal currency: 375 x 82 % = 307.5 -> 308, 67 off
    yen = product("yen", "75")
    manual = PriceOverride("1", D(0), "sup", "LOYAL", percent=D(18))
    basket = price([item("1", yen, 5)], overrides=[manual], exponent=0)
    (alloc,) = basket.lines[0].discounts
    assert (alloc.policy_id, alloc.policy_version, alloc.kind, str(alloc.amount)) == (
        MANUAL_DISCOUNT, 0, "manual", "67",
    )  # fmt: skip
    assert basket.applied_policies == ((MANUAL_DISCOUNT, 0),)


def test_a_weighed_line_is_rounded_in_the_currency_unit() -> None:
    cheese = product("cheese", "999", "deli", unit="weight")
    basket = price([item("1", cheese, "0.3335")], exponent=0)  # 333.1665
    assert (str(basket.lines[0].extended), str(basket.total)) == ("333", "333")


def test_the_floor_of_a_weighed_line_rounds_up() -> None:
    # floor 1.99/kg x 0.333 kg = 0.66267 -> 0.67 = the line itself: 90 % off takes nothing
    cheese = product("cheese", "2.00", "deli", unit="weight", min_price=D("1.99"))
    pct = policy("pct", "percent", {"percent": "90"}, categories=["deli"])
    basket = price([item("1", cheese, "0.333")], pct)
    assert (basket.lines[0].floor_amount, basket.discount_total) == (D("0.67"), 0)


def test_a_basket_says_its_price_list_and_totals_in_the_currency_unit() -> None:
    assert (
        price([item("1", product("chips", "0.99"), 1)], price_list="wholesale").price_list
        == "wholesale"
    )
    empty = price([])
    assert [str(v) for v in (empty.subtotal, empty.discount_total, empty.total)] == ["0.00"] * 3
    assert str(price([], exponent=0).total) == "0"
