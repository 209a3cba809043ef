"""Repricing a basket after every scan with a memo (issue 15) is the whole-basket computation.

Random baskets are rung step by step (lines added, voided, their quantity changed, manual
prices and percent discounts set and dropped, deposits and exchange returns, products
repriced mid-basket, price list, tender and tax config switched); after every step the
answer of `price_sale(inputs, memo=m)` -- one memo kept over the whole run, as the till keeps
one per request thread -- must equal a fresh `price_sale(inputs)` field for field and digit for
digit (`repr`, so 2 and 2.000 differ), or both must refuse with the same error. The same
property run against deliberately broken memos must find a counterexample.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from posdomain import pricing, tax_engine
from posdomain.errors import PosError
from posdomain.policy import sign_policy
from posdomain.pricing import PriceOverride, ProductPrice, WholesaleTier
from posdomain.sale_pricing import SaleInputs, SaleLineInput, SaleMemo, price_sale
from posdomain.tax import TaxConfig, parse_tax_config

pytestmark = pytest.mark.req("FR-301", "FR-302")

D = Decimal
KEY = "policy-key"
NOW = datetime(2024, 6, 1, tzinfo=UTC)
CLASSES: dict[str, Any] = {
    "STD": {"rate": "0.19"},
    "RED": {"rate": "0.07"},
    "NET": {"rate": "0.10", "inclusive": False},
    "ON": {"inclusive": False, "taxes": [
        {"code": "GST", "name": "GST", "rate": "0.05"},
        {"code": "QST", "name": "QST", "rate": "0.09975", "on": ["GST"]},
        {"code": "BTL", "name": "Container levy", "per_unit": "0.10"}]},
    "ECO": {"taxes": [
        {"code": "ECOTAX", "name": "Ecotax", "per_unit": "0.50"},
        {"code": "VAT21", "rate": "0.21", "on": ["ECOTAX"]}]},
    "EX": {"exempt": True},
}  # fmt: skip
TAXES: tuple[TaxConfig, ...] = (
    parse_tax_config({"classes": CLASSES, "level": "line", "cash_rounding": "0.05",
                      "deposit_tax_class": "RED"}),
    parse_tax_config({"classes": CLASSES, "level": "document", "rounding": "HALF_EVEN"}),
    parse_tax_config({"classes": CLASSES, "level": "line", "rounding": "DOWN",
                      "cash_rounding": "0.10", "cash_rounding_mode": "UP"}),
)  # fmt: skip
CLASS_CODES = tuple(CLASSES)


def _policy(pid: str, kind: str, params: dict[str, Any], **target: list[str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "policy_id": pid, "policyVersion": 1, "effectiveFrom": "2024-01-01T00:00:00Z",
        "effectiveTo": None, "kind": kind, "params": params,
        "target": {"product_ids": target.get("products", []),
                   "categories": target.get("categories", [])},
    }  # fmt: skip
    return {**body, "signature": sign_policy(body, KEY)}


POLICIES = (
    _policy("a-multi", "multibuy", {"qty": 3, "price": "2.00"}, products=["p0", "p1"]),
    _policy("b-mix", "mix_match", {"qty": 2, "price": "3.00"}, categories=["snacks"]),
    _policy("c-bxgy", "bxgy", {"buy": 2, "get": 1}, categories=["deli"]),
    _policy("d-pct", "percent", {"percent": "15"}, categories=["home"]),
    _policy("e-amt", "amount", {"amount": "0.30"}, products=["p3", "p5"]),
    {**_policy("f-forged", "percent", {"percent": "90"}, categories=["snacks"]), "signature": "0"},
)
CATEGORIES = ("snacks", "deli", "home", None)

money = st.integers(min_value=0, max_value=4000).map(lambda c: D(c).scaleb(-2))
tier = st.builds(WholesaleTier, st.integers(2, 6).map(D), money)
tiers = st.lists(tier, max_size=2, unique_by=lambda t: t.min_qty).map(tuple)
products = st.builds(
    ProductPrice,
    product_id=st.sampled_from([f"p{i}" for i in range(6)]),
    price=money,
    category=st.sampled_from(CATEGORIES),
    unit=st.sampled_from(["each", "each", "weight"]),
    wholesale_tiers=tiers,
    min_price=st.one_of(st.none(), money),
    cost=st.one_of(st.none(), money),
)
each_qty = st.sampled_from(["1", "2", "3", "5", "2.0", "1.00"]).map(D)
weight_qty = st.integers(1, 5000).map(lambda m: D(m).scaleb(-3))


@st.composite
def add_step(draw: st.DrawFn) -> tuple[Any, ...]:
    """A line to add: product slot, quantity, how it is sold, class, deposit, label price."""
    slot = draw(st.integers(0, 3))
    weighed = draw(st.booleans())
    qty = draw(weight_qty if weighed else each_qty)
    label = draw(st.one_of(st.none(), st.none(), money))
    return ("add", slot, qty, weighed, draw(st.sampled_from(CLASS_CODES)),
            draw(st.booleans()), label)  # fmt: skip


actions = st.lists(
    st.one_of(
        add_step(),
        add_step(),
        st.tuples(st.just("deposit_back"), st.integers(0, 5), st.integers(1, 3).map(D)),
        st.tuples(st.just("exchange_back"), st.integers(0, 5), money),
        st.tuples(st.just("void"), st.integers(0, 40)),
        st.tuples(st.just("qty"), st.integers(0, 40), each_qty),
        st.tuples(st.just("manual_price"), st.integers(0, 40), money),
        st.tuples(st.just("manual_percent"), st.integers(0, 40), st.integers(1, 100).map(D)),
        st.tuples(st.just("drop_manual"), st.integers(0, 40)),
        st.tuples(st.just("reprice"), st.integers(0, 3), products),
        st.tuples(st.just("same_product_new_object"), st.integers(0, 5)),
        st.tuples(st.just("price_list"), st.sampled_from(["retail", "wholesale"])),
        st.tuples(st.just("cash"), st.booleans()),
        st.tuples(st.just("tax"), st.integers(0, len(TAXES) - 1)),
        st.tuples(st.just("promotions"), st.booleans(), st.booleans()),
        st.tuples(st.just("kind"), st.sampled_from(["open", "sale"])),
    ),
    min_size=1,
    max_size=25,
)
# a script starts on either price list (wholesale tiers otherwise only show up late)
steps = st.builds(
    lambda first, rest: [("price_list", first), *rest],
    st.sampled_from(["retail", "wholesale"]),
    actions,
)


@dataclass
class Basket:
    """The state a till holds between scans (products are the till's kept objects)."""

    catalog: list[ProductPrice]
    lines: list[SaleLineInput]
    overrides: dict[str, PriceOverride]
    next_id: int = 1
    price_list: str = "retail"
    cash: bool = True
    tax: int = 0
    advanced: bool = True
    keyed: bool = True
    kind: str = "open"

    def inputs(self) -> SaleInputs:
        """What the till would hand the engine now."""
        return SaleInputs(
            lines=tuple(self.lines),
            price_list="wholesale" if self.price_list == "wholesale" else "retail",
            tax=TAXES[self.tax],
            exponent=2,
            now=NOW,
            cash=self.cash,
            overrides=tuple(self.overrides[ln.line_id] for ln in self.lines
                            if ln.line_id in self.overrides),
            advanced_discounts=self.advanced,
            policies=POLICIES,
            policy_key=KEY if self.keyed else None,
            kind="sale" if self.kind == "sale" else "open",
        )  # fmt: skip


def _new_id(b: Basket) -> str:
    b.next_id += 1
    return str(b.next_id - 1)


def _pick(b: Basket, n: int) -> int | None:
    return n % len(b.lines) if b.lines else None


def apply(b: Basket, step: tuple[Any, ...]) -> None:
    """One till action on the basket."""
    kind = step[0]
    if kind == "add":
        _, slot, qty, weighed, tax_class, deposit, label = step
        product = b.catalog[slot]
        unit: Literal["each", "weight"] = "weight" if weighed else "each"
        b.lines.append(SaleLineInput(_new_id(b), product, qty, unit, tax_class, deposit, label))
    elif kind == "deposit_back":
        _, slot, qty = step
        b.lines.append(SaleLineInput(_new_id(b), b.catalog[slot], qty, "each", "RED", True,
                                     returned=True))  # fmt: skip
    elif kind == "exchange_back":
        _, slot, paid = step
        back = SaleLineInput(_new_id(b), b.catalog[slot], D(1), "each", "STD", label_price=paid,
                             returned=True, return_of="s1:1")  # fmt: skip
        b.lines.append(back)
    elif kind in ("void", "qty", "manual_price", "manual_percent", "drop_manual"):
        at = _pick(b, step[1])
        if at is None:
            return
        line = b.lines[at]
        if kind == "void":
            del b.lines[at]
            b.overrides.pop(line.line_id, None)
        elif kind == "qty":
            b.lines[at] = replace(line, qty=step[2])
        elif kind == "manual_price":
            b.overrides[line.line_id] = PriceOverride(line.line_id, step[2], "sup", "DAMAGED")
        elif kind == "manual_percent":
            b.overrides[line.line_id] = PriceOverride(
                line.line_id, D(0), "sup", "LOYAL", percent=step[2]
            )
        else:
            b.overrides.pop(line.line_id, None)
    elif kind in ("reprice", "same_product_new_object"):
        slot = step[1]
        old = b.catalog[slot]
        new = step[2] if kind == "reprice" else replace(old)
        b.catalog[slot] = new
        b.lines = [replace(ln, product=new) if ln.product is old else ln for ln in b.lines]
    elif kind == "price_list":
        b.price_list = step[1]
    elif kind == "cash":
        b.cash = step[1]
    elif kind == "tax":
        b.tax = step[1]
    elif kind == "promotions":
        b.advanced, b.keyed = step[1], step[2]
    elif kind == "kind":
        b.kind = step[1]


def outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    """The exact answer of a pricing call, or the refusal (type, reason, message, details)."""
    try:
        return ("priced", repr(call()))
    except PosError as err:
        return ("refused", type(err).__name__, err.reason, err.message, err.details)


def first_disagreement(script: list[tuple[Any, ...]]) -> int | None:
    """Ring `script` with one memo over the run; the first step where memo and a fresh
    whole-basket price_sale disagree (None: they never do)."""
    tiered = (WholesaleTier(D(2), D("0.99")), WholesaleTier(D(4), D("0.89")))
    catalog = [
        ProductPrice(f"p{i}", D(f"{1 + i}.49"), CATEGORIES[i % 4], wholesale_tiers=tiered)
        for i in range(6)
    ]
    basket = Basket(catalog, [], {})
    memo = SaleMemo()
    for n, step in enumerate(script):
        apply(basket, step)
        inputs = basket.inputs()
        kept = outcome(partial(price_sale, inputs, memo=memo))
        if kept != outcome(partial(price_sale, inputs)):
            return n
    return None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_memo_pricing_is_the_whole_basket_pricing_after_every_step(
    script: list[tuple[Any, ...]],
) -> None:
    """Promotions, mix&match, tiers, weighed lines, deposits/returns, compound taxes and
    levies, manual prices, voids and qty changes: the memo never changes a digit."""
    assert first_disagreement(script) is None


def test_a_basket_rung_up_reuses_what_it_priced_before() -> None:
    """The memo is used at all: the second pricing of an unchanged basket reuses every line."""
    memo = SaleMemo()
    catalog = [ProductPrice(f"p{i}", D("1.99")) for i in range(3)]
    lines = tuple(SaleLineInput(str(i), catalog[i], D(1), "each", "STD") for i in range(3))
    inputs = SaleInputs(lines, "retail", TAXES[0], 2, NOW, True)
    first = price_sale(inputs, memo=memo)
    again = price_sale(inputs, memo=memo)
    assert all(
        a.tax is b.tax and a.priced is b.priced
        for a, b in zip(first.lines, again.lines, strict=True)
    )
    assert repr(again) == repr(price_sale(inputs))


def _no_amount(line: tax_engine.TaxLine) -> tax_engine.LineKey:
    return (line.line_id, line.tax_class, line.is_deposit, "", str(line.qty))


def _by_value(line: tax_engine.TaxLine) -> Any:
    return (line.line_id, line.tax_class, line.is_deposit, line.amount, line.qty)


def _no_basket_qty(it: pricing.BasketItem, _qty: Decimal, price_list: str, exp: int) -> Any:
    return (it.line_id, id(it.product), str(it.qty), price_list, "", exp)


def _no_product(it: pricing.BasketItem, qty: Decimal, price_list: str, exp: int) -> Any:
    return (it.line_id, 0, str(it.qty), price_list, str(qty), exp)


@pytest.mark.parametrize(
    ("module", "name", "broken"),
    [
        (tax_engine, "_line_key", _no_amount),  # a line's tax kept whatever its amount
        (tax_engine, "_line_key", _by_value),  # 2 and 2.0 taken as the same input
        (pricing, "_base_key", _no_basket_qty),  # a tier reached by another line missed
        (pricing, "_base_key", _no_product),  # the product checked by id only: a price change
    ],
)
def test_the_property_catches_a_broken_memo(
    monkeypatch: pytest.MonkeyPatch, module: Any, name: str, broken: Any
) -> None:
    """The check above is not vacuous: each deliberately broken memo key is caught."""
    monkeypatch.setattr(module, name, broken)
    if broken is _no_product:
        monkeypatch.setattr(pricing.PriceMemo, "get", lambda self, key, _p: self.bases.get(key))
    found = find(
        steps,
        lambda script: first_disagreement(script) is not None,
        settings=settings(
            max_examples=1000, deadline=None, database=None, phases=(Phase.generate,)
        ),
    )
    assert first_disagreement(found) is not None
