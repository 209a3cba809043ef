"""Tests written to kill mutants that survived the domain tests (issue 14 item 6): each case
below let a wrong program pass before (mutmut over posdomain/, `just mutate`)."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from posdomain.audit_chain import sign_checkpoint
from posdomain.barcodes import price_check_digit
from posdomain.pricing import PriceOverride, price_basket
from posdomain.tax import TaxLine, compute_tax, parse_tax_config, refund_tax
from tests.posdomain.test_pricing import KEY, NOW, discounts, item, policy, price, product

D = Decimal


def _two_minus(d: int) -> int:
    """GS1 '2-' weighting: units digit minus tens digit of 2 x d (mod 10)."""
    p = 2 * d
    return (p % 10 - p // 10) % 10


def _five_plus(d: int) -> int:
    p = 5 * d
    return (p % 10 + p // 10) % 10


def _five_minus(d: int) -> int:
    p = 5 * d
    return (p % 10 - p // 10) % 10


@pytest.mark.req("FR-300")
@given(st.integers(0, 99_999))
def test_five_digit_price_check_digit_follows_the_gs1_weightings(value: int) -> None:
    # GS1 General Specifications 7.9.3: weights 5+, 2-, 5-, 5+, 2-; the check digit is the
    # digit whose 5- product is the complement of the sum to 10
    digits = [int(c) for c in f"{value:05d}"]
    weights = (_five_plus, _two_minus, _five_minus, _five_plus, _two_minus)
    total = sum(w(d) for w, d in zip(weights, digits, strict=True))
    complement = (10 - total % 10) % 10
    expected = next(c for c in range(10) if _five_minus(c) == complement)
    assert price_check_digit(f"{value:05d}") == str(expected)


@pytest.mark.req("FR-300")
@given(st.integers(0, 9_999))
def test_four_digit_price_check_digit_follows_the_gs1_weightings(value: int) -> None:
    digits = [int(c) for c in f"{value:04d}"]
    total = _two_minus(digits[0]) + _two_minus(digits[1]) + (3 * digits[2]) % 10
    total += _five_minus(digits[3])
    assert price_check_digit(f"{value:04d}") == str(total * 3 % 10)


@pytest.mark.req("FR-301")
def test_an_overridden_line_takes_no_promotion() -> None:
    chips = product("chips", "0.99")
    mb = policy("mb", "multibuy", {"qty": 3, "price": "2.00"}, products=["chips"])
    override = PriceOverride("1", D("0.99"), "s-sup", "PRICE_MATCH")
    basket = price([item("1", chips, 3)], mb, overrides=[override])
    assert discounts(basket) == {"1": "0.00"}
    # a per-unit promotion would take even one unit of it: none of its units may count
    ten = policy("pct", "percent", {"percent": "10"}, products=["chips"])
    one = PriceOverride("1", D("5.00"), "s-sup", "PRICE_MATCH")
    assert price([item("1", chips, 1)], ten, overrides=[one]).discount_total == 0


@pytest.mark.req("FR-301")
def test_promotions_are_off_unless_the_flag_is_on() -> None:
    mb = policy("mb", "multibuy", {"qty": 3, "price": "2.00"}, products=["chips"])
    basket = price_basket(
        [item("1", product("chips", "0.99"), 3)], policies=[mb], policy_key=KEY, now=NOW
    )
    assert basket.discount_total == 0


@pytest.mark.req("FR-301")
def test_weighed_lines_take_no_count_based_promotion() -> None:
    cheese = product("cheese", "12.90", "deli", unit="weight")
    mix = policy("mm", "mix_match", {"qty": 2, "price": "1.00"}, categories=["deli"])
    multi = policy("mb", "multibuy", {"qty": 2, "price": "1.00"}, products=["cheese"])
    basket = price([item("1", cheese, "0.5"), item("2", cheese, "0.5")], mix, multi)
    assert basket.discount_total == 0
    ten = policy("pct", "percent", {"percent": "10"}, categories=["deli"])
    # 6.45 x 90 % = 5.805 -> 5.81: the amount is rounded, the discount is what is taken off
    assert price([item("1", cheese, "0.5")], ten).discount_total == D("0.64")


@pytest.mark.req("FR-301")
def test_a_multibuy_counts_one_product_never_two() -> None:
    a, b = product("a", "0.99"), product("b", "0.99")
    mb = policy("mb", "multibuy", {"qty": 3, "price": "2.00"}, products=["a", "b"])
    assert price([item("1", a, 2), item("2", b, 1)], mb).discount_total == 0
    assert price([item("1", a, 3), item("2", b, 1)], mb).discount_total == D("0.97")
    # a third product: pooling "every other product" would find two groups of three
    c = product("c", "0.99")
    mbc = policy("mb", "multibuy", {"qty": 3, "price": "2.00"}, products=["a", "b", "c"])
    three = [item("1", a, 3), item("2", b, 1), item("3", c, 1)]
    assert price(three, mbc).discount_total == D("0.97")


@pytest.mark.req("FR-301")
def test_a_leftover_partial_group_pays_the_regular_price() -> None:
    mb = policy("mb", "multibuy", {"qty": 3, "price": "2.00"}, products=["chips"])
    basket = price([item("1", product("chips", "0.99"), 5)], mb)
    assert (basket.discount_total, basket.total) == (D("0.97"), D("3.98"))  # 2.00 + 2 x 0.99
    # dearer units: the two left over (3.00) cost more than a deal's 2.00 and still pay 3.00
    dear = product("chips", "1.50")
    for qty, total in ((5, "5.00"), (4, "3.50"), (2, "3.00"), (7, "5.50")):
        assert price([item("1", dear, qty)], mb).total == D(total), qty
    mix = policy("mm", "mix_match", {"qty": 3, "price": "2.00"}, categories=["snacks"])
    assert price([item("1", dear, 5)], mix).total == D("5.00")


@pytest.mark.req("FR-302")
@pytest.mark.parametrize(("mode", "gross"), [("HALF_EVEN", "-0.12"), ("HALF_UP", "-0.13")])
def test_a_partial_refund_rounds_with_the_configured_mode(mode: str, gross: str) -> None:
    cfg = parse_tax_config({"rounding": mode, "classes": {"Z": {"rate": "0"}}})
    sale = compute_tax([TaxLine("1", "Z", D("0.25"), D(2))], cfg)
    back = refund_tax(sale, {"1": D(1)})  # half of 0.25 is 0.125
    assert str(back.lines[0].gross) == gross
    rest = refund_tax(sale, {"1": D(1)}, previously_returned={"1": D(1)})
    assert back.total + rest.total == -sale.total


@pytest.mark.req("FR-302")
@pytest.mark.parametrize(("mode", "tax"), [("HALF_EVEN", "-0.12"), ("HALF_UP", "-0.13")])
def test_a_partial_refund_rounds_each_tax_with_the_configured_mode(mode: str, tax: str) -> None:
    # 2 x 1.25 + 10 % = 0.25 tax; returning one is 0.125 of tax
    cfg = parse_tax_config(
        {"rounding": mode, "classes": {"T": {"rate": "0.10", "inclusive": False}}}
    )
    sale = compute_tax([TaxLine("1", "T", D("2.50"), D(2))], cfg)
    back = refund_tax(sale, {"1": D(1)})
    assert (str(back.lines[0].tax), str(back.tax_total)) == (tax, tax)
    # the till rebuilds a sold single-rate line without parts (appliance/till/refunds.py)
    stored = replace(sale, lines=tuple(replace(ln, parts=()) for ln in sale.lines))
    assert str(refund_tax(stored, {"1": D(1)}).lines[0].tax) == tax
    rest = refund_tax(stored, {"1": D(1)}, previously_returned={"1": D(1)})
    assert rest.tax_total + D(tax) == -sale.tax_total


@pytest.mark.req("FR-302")
def test_a_rate_with_more_than_two_decimals_is_kept_exactly() -> None:
    cfg = parse_tax_config({"classes": {"NYC": {"rate": "0.08875", "inclusive": False}}})
    assert compute_tax([TaxLine("1", "NYC", D("10.00"))], cfg).tax_total == D("0.89")
    assert compute_tax([TaxLine("1", "NYC", D("4.00"))], cfg).tax_total == D("0.36")  # 0.355


@pytest.mark.req("FR-802")
def test_the_signed_checkpoint_covers_chain_count_and_head_by_name() -> None:
    head = "ab" * 32
    body = json.dumps(
        {"chain": "box", "entries": 3, "head_hash": head}, sort_keys=True, separators=(",", ":")
    ).encode()
    expected = hmac.new(b"key-1", body, hashlib.sha256).hexdigest()
    assert sign_checkpoint(b"key-1", "box", 3, head) == expected
