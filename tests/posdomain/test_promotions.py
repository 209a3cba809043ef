"""Promotion evaluation (FR-301): which units a promotion takes, and in which currency unit it
is split. Written against mutants of posdomain.promotions that survived (`just mutate`)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.posdomain.test_pricing import item, policy, price, product

pytestmark = pytest.mark.req("FR-301")

D = Decimal


def test_weighed_lines_take_no_buy_x_get_y() -> None:
    cheese = product("cheese", "12.90", "deli", unit="weight")
    b1g1 = policy("bx", "bxgy", {"buy": 1, "get": 1}, categories=["deli"])
    assert price([item("1", cheese, "0.5"), item("2", cheese, "0.4")], b1g1).discount_total == 0


def test_a_deal_that_saves_nothing_leaves_its_units_to_other_promotions() -> None:
    # 2 for 2.00: the two 1.50 save 1.00; the two 1.00 would save nothing as a deal and get
    # their 10 % instead
    dear, cheap = product("dear", "1.50"), product("cheap", "1.00")
    mix = policy("a-mix", "mix_match", {"qty": 2, "price": "2.00"}, categories=["snacks"])
    ten = policy("b-pct", "percent", {"percent": "10"}, products=["cheap"])
    basket = price([item("1", dear, 2), item("2", cheap, 2)], mix, ten)
    assert {ln.line_id: ln.discount_total for ln in basket.lines} == {
        "1": D("1.00"),
        "2": D("0.20"),
    }


def test_every_unit_of_every_deal_is_taken_once() -> None:
    # two groups of 3 for 2.00 (1.94 off) beat 10 % of six (0.59); no unit of either group
    # also takes the 10 %
    chips = product("chips", "0.99")
    mb = policy("a-mb", "multibuy", {"qty": 3, "price": "2.00"}, products=["chips"])
    ten = policy("b-pct", "percent", {"percent": "10"}, products=["chips"])
    basket = price([item("1", chips, 6)], mb, ten)
    assert (basket.discount_total, basket.applied_policies) == (D("1.94"), (("a-mb", 1),))
    mix = policy("a-mix", "mix_match", {"qty": 3, "price": "2.00"}, categories=["snacks"])
    assert price([item("1", chips, 3), item("2", chips, 3)], mix, ten).discount_total == D("1.94")


@pytest.mark.parametrize(
    ("exponent", "shares"), [(0, ["33", "32", "32"]), (3, ["32.334", "32.333", "32.333"])]
)
def test_a_deal_over_several_lines_is_split_in_the_currency_unit(
    exponent: int, shares: list[str]
) -> None:
    # 3 for 200 over three lines of 99 (JPY-like, 0 decimals; KWD-like, 3): 97 off
    yen = product("yen", "99")
    mb = policy("mb", "multibuy", {"qty": 3, "price": "200"}, products=["yen"])
    lines = [item(str(i), yen, 1) for i in (1, 2, 3)]
    basket = price(lines, mb, exponent=exponent)
    assert [str(ln.discount_total) for ln in basket.lines] == shares


@pytest.mark.parametrize(
    ("unit", "exponent", "shares"), [("69", 0, ["4", "3"]), ("0.617", 3, ["0.031", "0.031"])]
)
def test_a_percentage_promotion_is_rounded_in_the_currency_unit(
    unit: str, exponent: int, shares: list[str]
) -> None:
    # 0 decimals: 138 x 95 % = 131.1 -> 131, 7 off, split 4 / 3; 3 decimals: 1.234 x 95 % =
    # 1.1723 -> 1.172, 0.062 off (in cents it would be 1.17 and 0.064)
    snack = product("snack", unit)
    pct = policy("pct", "percent", {"percent": "5"}, products=["snack"])
    basket = price([item("1", snack, 1), item("2", snack, 1)], pct, exponent=exponent)
    assert [str(ln.discount_total) for ln in basket.lines] == shares


def test_a_promotion_is_not_shown_on_a_line_it_gives_nothing() -> None:
    # the first product sells at its floor: 10 % off both lines reaches only the second
    floor, other = product("floor", "2.00", min_price=D("2.00")), product("other", "2.00")
    pct = policy("pct", "percent", {"percent": "10"}, products=["floor", "other"])
    basket = price([item("1", floor, 2), item("2", other, 1)], pct)
    assert [len(ln.discounts) for ln in basket.lines] == [0, 1]
    assert basket.discount_total == D("0.20")
    assert price([item("1", floor, 2)], pct).applied_policies == ()


def test_a_second_promotion_on_a_line_gets_only_the_room_the_first_left() -> None:
    """3 x 5.00 with a floor of 3.50 a unit: 4.50 may come off. 2 for 6.00 takes two units
    (4.00 off); 20 % of the third unit (1.00) gets only the 0.50 left above the floor."""
    prod = product("p", "5.00", min_price=D("3.50"))
    mb = policy("a-mb", "multibuy", {"qty": 2, "price": "6.00"}, products=["p"])
    pct = policy("b-pct", "percent", {"percent": "20"}, products=["p"])
    (line,) = price([item("1", prod, 3)], mb, pct).lines
    assert [(d.policy_id, d.amount) for d in line.discounts] == [
        ("a-mb", D("4.00")),
        ("b-pct", D("0.50")),
    ]
    assert line.amount == line.floor_amount == D("10.50")
