"""One sale priced in one call: the engines composed (pricing, overrides, promotions, tax)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from posdomain.errors import Reason
from posdomain.policy import sign_policy
from posdomain.pricing import BasketItem, PriceOverride, ProductPrice, price_basket
from posdomain.sale_pricing import SaleInputs, SaleLineInput, price_sale
from posdomain.tax import TaxLine, compute_tax, parse_tax_config

pytestmark = pytest.mark.req("FR-301", "FR-302")

D = Decimal
KEY = "policy-key"
NOW = datetime(2024, 6, 1, tzinfo=UTC)
TAX = parse_tax_config(
    {
        "classes": {"STD": {"rate": "0.20"}, "RED": {"rate": "0.07"}, "NET": {"rate": "0.10",
                    "inclusive": False}},
        "cash_rounding": "0.05",
        "deposit_tax_class": "RED",
    }
)  # fmt: skip
CHIPS = ProductPrice("chips", D("0.99"), "snacks")
CHEESE = ProductPrice("cheese", D("12.90"), "deli", unit="weight")
MUG = ProductPrice("mug", D("4.00"), "home")
BOTTLE = ProductPrice("deposit", D("0.25"))


def policy(pid: str, kind: str, params: dict[str, Any], products: list[str]) -> dict[str, Any]:
    """A signed, currently effective policy body."""
    body: dict[str, Any] = {
        "policy_id": pid, "policyVersion": 3, "effectiveFrom": "2024-01-01T00:00:00Z",
        "effectiveTo": None, "kind": kind, "params": params,
        "target": {"product_ids": products, "categories": []},
    }  # fmt: skip
    return {**body, "signature": sign_policy(body, KEY)}


MULTIBUY = policy("mb", "multibuy", {"qty": 3, "price": "2.00"}, ["chips"])


def line(line_id: str, product: ProductPrice, qty: str, **kw: Any) -> SaleLineInput:
    """A sale line of `product` (each unless told, tax class STD unless told)."""
    kw.setdefault("unit", product.unit)
    kw.setdefault("tax_class", "STD")
    return SaleLineInput(line_id, product, D(qty), **kw)


def inputs(*lines: SaleLineInput, **kw: Any) -> SaleInputs:
    """Inputs of a card sale now, retail, exponent 2, promotions off unless told."""
    kw.setdefault("cash", False)
    return SaleInputs(lines, price_list="retail", tax=TAX, exponent=2, now=NOW, **kw)


MIXED = (
    line("1", CHIPS, "3"),
    line("2", CHEESE, "0.455", tax_class="RED"),
    line("3", MUG, "1", tax_class="NET"),
    line("4", BOTTLE, "3", is_deposit=True),
)


def test_the_one_call_equals_the_engines_run_one_after_the_other() -> None:
    override = PriceOverride("3", D("3.50"), "sup-1", "DAMAGED")
    sale = price_sale(
        inputs(*MIXED, cash=True, overrides=(override,), advanced_discounts=True,
               policies=(MULTIBUY,), policy_key=KEY)
    )  # fmt: skip
    priced = price_basket(
        [BasketItem(ln.line_id, ln.product, ln.qty) for ln in MIXED],
        advanced_discounts=True, policies=[MULTIBUY], policy_key=KEY, now=NOW,
        overrides=[override],
    )  # fmt: skip
    taxed = compute_tax(
        [TaxLine(pl.line_id, ln.tax_class, pl.amount, ln.qty, ln.is_deposit)
         for ln, pl in zip(MIXED, priced.lines, strict=True)],
        TAX, cash=True,
    )  # fmt: skip
    assert (sale.pricing, sale.tax, sale.rejections) == (priced, taxed, ())
    assert [(ln.line_id, ln.qty, ln.unit_price) for ln in sale.lines] == [
        ("1", D(3), D("0.99")), ("2", D("0.455"), D("12.90")), ("3", D(1), D("3.50")),
        ("4", D(3), D("0.25")),
    ]  # fmt: skip
    assert [ln.priced for ln in sale.lines] == list(priced.lines)
    assert [ln.tax for ln in sale.lines] == list(taxed.lines)
    assert sale.pricing.discount_total == D("0.97")  # 3 chips for 2.00


def test_price_labels_charge_the_printed_price() -> None:
    sale = price_sale(
        inputs(
            line("1", CHEESE, "0.512", label_price=D("6.60")),
            line("2", MUG, "1", unit="each", label_price=D("2.10")),
        )
    )
    weighed, each = sale.lines
    assert (weighed.priced.extended, weighed.unit_price) == (D("6.60"), D("12.90"))  # per kg
    assert (each.priced.extended, each.unit_price) == (D("2.10"), D("2.10"))
    assert weighed.qty == D("0.512")
    assert sale.tax.total == D("8.70")


def test_promotions_need_the_flag_and_a_key_and_fail_closed_without_one() -> None:
    chips = (line("1", CHIPS, "3"),)
    off = price_sale(inputs(*chips, policies=(MULTIBUY,), policy_key=KEY))
    assert (off.pricing.discount_total, off.rejections) == (D("0.00"), ())
    on = price_sale(inputs(*chips, advanced_discounts=True, policies=(MULTIBUY,), policy_key=KEY))
    assert on.pricing.applied_policies == (("mb", 3),)
    keyless = price_sale(inputs(*chips, advanced_discounts=True, policies=(MULTIBUY,)))
    assert keyless.pricing.discount_total == D("0.00")
    assert [(r.policy_id, r.policy_version, r.reason) for r in keyless.rejections] == [
        ("mb", 3, Reason.POLICY_UNVERIFIABLE)
    ]
    tampered = {**MULTIBUY, "params": {"qty": 3, "price": "0.01"}}
    refused = price_sale(
        inputs(*chips, advanced_discounts=True, policies=(tampered,), policy_key=KEY)
    )
    assert refused.pricing.discount_total == D("0.00")
    assert [r.policy_id for r in refused.rejections] == ["mb"]


def test_an_empty_policy_key_is_no_key() -> None:
    """Issue 14: a box whose config carries `policy_key: ""` verifies no policy, not even one
    "signed" with the empty key; every policy is POLICY_UNVERIFIABLE."""
    import hashlib
    import hmac

    from posdomain.canonical import canonical_json

    raw = {k: v for k, v in MULTIBUY.items() if k != "signature"}
    forged = {**raw, "signature": hmac.new(b"", canonical_json(raw), hashlib.sha256).hexdigest()}
    chips = (line("1", CHIPS, "3"),)
    sale = price_sale(inputs(*chips, advanced_discounts=True, policies=(forged,), policy_key=""))
    assert sale.pricing.discount_total == D("0.00")
    assert [(r.policy_id, r.reason) for r in sale.rejections] == [
        ("mb", Reason.POLICY_UNVERIFIABLE)
    ]


def test_cash_rounding_only_for_cash() -> None:
    chips = (line("1", CHIPS, "3"),)
    card, cash = price_sale(inputs(*chips)), price_sale(inputs(*chips, cash=True))
    assert (card.tax.total, card.tax.cash_rounding, card.tax.payable) == (
        D("2.97"), D("0.00"), D("2.97"),
    )  # fmt: skip
    assert (cash.tax.cash_rounding, cash.tax.payable) == (D("-0.02"), D("2.95"))


# Mutation survivors (docs/mutation.md): what a price-label line and a returned line carry.

DELI_10 = policy("deli10", "percent", {"percent": "10"}, [])
DELI_10 = {
    **{k: v for k, v in DELI_10.items() if k != "signature"},
    "target": {"product_ids": [], "categories": ["deli"]},
}
DELI_10 = {**DELI_10, "signature": sign_policy(DELI_10, KEY)}


def test_a_price_label_line_keeps_its_product_and_category_for_promotions() -> None:
    label = line("1", CHEESE, "0.512", label_price=D("6.60"))
    sale = price_sale(inputs(label, advanced_discounts=True, policies=(DELI_10,), policy_key=KEY))
    (priced,) = sale.lines
    assert priced.priced.product_id == "cheese"
    assert priced.priced.discount_total == D("0.66")  # the deli category's 10 %
    assert sale.pricing.applied_policies == (("deli10", 3),)


def test_a_price_label_line_is_one_weighed_unit_outside_count_based_deals() -> None:
    # 2 bags of chips at the shelf and one sold by a price label: not 3 for the multibuy
    lines = (line("1", CHIPS, "2"), line("2", CHIPS, "1", label_price=D("0.99")))
    sale = price_sale(inputs(*lines, advanced_discounts=True, policies=(MULTIBUY,), policy_key=KEY))
    assert sale.pricing.discount_total == D("0.00")
    three = price_sale(
        inputs(line("1", CHIPS, "3"), advanced_discounts=True, policies=(MULTIBUY,), policy_key=KEY)
    )
    assert three.pricing.discount_total == D("0.97")


@pytest.mark.parametrize(("per_kg", "shown"), [("0.00", "6.60"), ("0.50", "0.50"), ("1", "1")])
def test_a_label_on_a_weighed_product_shows_its_price_per_kg_when_it_has_one(
    per_kg: str, shown: str
) -> None:
    loose = ProductPrice("loose", D(per_kg), "deli", unit="weight")
    sale = price_sale(inputs(line("1", loose, "0.512", label_price=D("6.60"))))
    assert sale.lines[0].unit_price == D(shown)
    assert sale.lines[0].priced.extended == D("6.60")


def test_without_a_key_each_policy_is_named_in_its_rejection() -> None:
    from posdomain.sale_pricing import NO_KEY

    odd = [{"kind": "multibuy"}, {**MULTIBUY, "policyVersion": "3"}, "junk", MULTIBUY]
    sale = price_sale(inputs(line("1", CHIPS, "3"), advanced_discounts=True, policies=tuple(odd)))
    assert [(r.policy_id, r.policy_version, r.message) for r in sale.rejections] == [
        ("", None, NO_KEY), ("mb", None, NO_KEY), ("mb", 3, NO_KEY),
    ]  # fmt: skip
    assert NO_KEY == "no policy key configured on this box"


def test_a_returned_line_is_its_list_price_line_negated() -> None:
    guarded = ProductPrice("mug", D("4.00"), "home", min_price=D("3.00"))
    sale = price_sale(
        inputs(line("1", CHIPS, "3"), line("2", guarded, "2", returned=True, return_of="R1:1"))
    )
    back = sale.lines[1].priced
    assert (back.qty, back.extended, back.amount, back.floor_amount) == (
        D(-2), D("-8.00"), D("-8.00"), D("-6.00"),
    )  # fmt: skip
    assert back.discount_total == 0
    assert back.unit_price == D("4.00")
    assert sale.lines[1].qty == D(-2)


def test_the_price_list_and_the_currency_unit_reach_both_sides() -> None:
    from posdomain.pricing import WholesaleTier

    tiered = ProductPrice(
        "flour", D("2.00"), "baking", wholesale_tiers=(WholesaleTier(D(5), D("1.50")),)
    )
    wholesale = price_sale(
        SaleInputs((line("1", tiered, "6"),), "wholesale", TAX, 2, NOW, cash=False)
    )
    assert wholesale.lines[0].priced.unit_price == D("1.50")
    assert wholesale.pricing.price_list == "wholesale"

    yen = parse_tax_config({"classes": {"STD": {"rate": "0.08"}}}, 0)
    fish = ProductPrice("fish", D("1290"), "deli", unit="weight")
    sale = price_sale(
        SaleInputs(
            (line("1", fish, "0.455"), line("2", fish, "0.333", returned=True, return_of="R9:1")),
            price_list="retail", tax=yen, exponent=0, now=NOW, cash=False,
        )
    )  # fmt: skip
    sold, back = sale.lines
    assert sold.priced.extended == D("587")  # 586.95 in whole yen
    assert back.priced.extended == D("-430")  # 429.57
    assert sale.pricing.total == D("157")
    assert sale.pricing.subtotal == D("157")
    assert sale.tax.total == D("157")


def empties(qty: str) -> SaleLineInput:
    return line("2", BOTTLE, qty, is_deposit=True, returned=True, tax_class="RED")


def test_empties_that_balance_the_sale_exactly_or_partly_are_accepted() -> None:
    # the hub's rule is the same (sale_checks: returns without their sale may not make the
    # unmatched gross negative)
    even = price_sale(inputs(line("1", MUG, "1"), empties("16")))
    assert even.tax.total == D("0.00")
    half = price_sale(inputs(line("1", MUG, "1"), empties("14")))
    assert half.tax.total == D("0.50")
