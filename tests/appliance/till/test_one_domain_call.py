"""A sale crosses from the box into the domain once: inputs gathered, one `price_sale` call."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from appliance.till import pricing
from posdomain import sale_pricing
from posdomain.sale_pricing import PricedSale, SaleInputs
from tests.appliance.till.test_basket import BREAD, MILK, add
from tests.appliance.till.test_checkout import pay

pytestmark = pytest.mark.req("FR-300", "FR-301")
APPLIANCE = Path(__file__).resolve().parents[3] / "appliance"
ENGINE_MODULES = ("posdomain.pricing", "posdomain.tax")


class Counted:
    """Records each call of a real function and passes it through (nothing is faked)."""

    def __init__(self, real: Callable[..., object]) -> None:
        self.real = real
        self.calls: list[tuple[object, ...]] = []
        self.results: list[object] = []

    def __call__(self, *args: object, **kwargs: object) -> object:
        self.calls.append(args)
        self.results.append(self.real(*args, **kwargs))
        return self.results[-1]


@pytest.fixture
def crossings(monkeypatch: pytest.MonkeyPatch) -> dict[str, Counted]:
    """Count the box's domain call and the engine runs behind it."""
    counted = {
        "price_sale": Counted(pricing.price_sale),
        "price_basket": Counted(sale_pricing.price_basket),
        "compute_tax": Counted(sale_pricing.compute_tax),
    }
    monkeypatch.setattr(pricing, "price_sale", counted["price_sale"])
    monkeypatch.setattr(sale_pricing, "price_basket", counted["price_basket"])
    monkeypatch.setattr(sale_pricing, "compute_tax", counted["compute_tax"])
    return counted


def _reset(counted: dict[str, Counted]) -> None:
    for one in counted.values():
        one.calls.clear()
        one.results.clear()


@pytest.mark.usefixtures("shift_open")
def test_pay_prices_the_sale_in_one_domain_call(
    cashier: FlaskClient, crossings: dict[str, Counted]
) -> None:
    add(cashier, MILK)
    add(cashier, BREAD, 2)
    _reset(crossings)
    resp = pay(cashier, "10.00")
    assert resp.status_code == 200, resp.get_json()
    assert {name: len(c.calls) for name, c in crossings.items()} == {
        "price_sale": 1,
        "price_basket": 1,
        "compute_tax": 1,
    }
    [(inputs,)] = crossings["price_sale"].calls
    assert isinstance(inputs, SaleInputs)
    assert [(ln.line_id, str(ln.qty)) for ln in inputs.lines] == [("1", "1"), ("2", "2")]
    assert inputs.cash is False  # cash rounding is settled on the cash part of the tenders


def test_each_scan_reprices_the_basket_in_one_domain_call(
    cashier: FlaskClient, crossings: dict[str, Counted]
) -> None:
    add(cashier, MILK)
    assert len(crossings["price_sale"].calls) == 1
    basket = add(cashier, BREAD)
    assert len(crossings["price_sale"].calls) == 2
    assert len(crossings["price_basket"].calls) == len(crossings["compute_tax"].calls) == 2
    result = crossings["price_sale"].results[-1]
    assert isinstance(result, PricedSale)
    assert basket["total"] == str(result.tax.total)
    assert [line["line_total"] for line in basket["lines"]] == [
        str(line.tax.gross) for line in result.lines
    ]


def _posdomain_names(path: Path) -> set[str]:
    """`module.name` for every name a box module imports from the pricing and tax engines."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and node.module in ("posdomain.pricing", "posdomain.tax")
        for alias in node.names
    }


def test_no_box_module_runs_the_pricing_engines_itself() -> None:
    """Only posdomain.sale_pricing runs price_basket and compute_tax for a sale; the refund
    path rebuilds its sale's tax (compute_tax/refund_tax) and is the one other user."""
    engines = {"posdomain.pricing.price_basket", "posdomain.tax.compute_tax"}
    users = {
        str(path.relative_to(APPLIANCE)): sorted(_posdomain_names(path) & engines)
        for path in APPLIANCE.rglob("*.py")
        if _posdomain_names(path) & engines
    }
    assert users == {"till/refunds.py": ["posdomain.tax.compute_tax"]}
