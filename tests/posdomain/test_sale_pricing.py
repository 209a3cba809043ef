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
