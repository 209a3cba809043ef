"""One document with sales and returns (FR-302, FR-303; issue 14 item 3): returned empties
and an exchange in one basket, tax per side, a net total the hub's rules accept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from posdomain.errors import Reason, ValidationError
from posdomain.payloads import SaleCompleted
from posdomain.pricing import ProductPrice
from posdomain.sale_checks import Context, check_sale
from posdomain.sale_pricing import PricedSale, SaleInputs, SaleLineInput, price_sale
from posdomain.tax import parse_tax_config, refund_tax
from posdomain.tax_wire import breakdown_json, line_taxes_json

pytestmark = pytest.mark.req("FR-302", "FR-303")

D = Decimal
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
TAX = parse_tax_config(
    {
        "rounding": "HALF_UP",
        "cash_rounding": "0.05",
        "classes": {
            "BEV": {
                "inclusive": False,
                "taxes": [
                    {"code": "GST", "name": "GST", "rate": "0.05"},
                    {"code": "PST", "name": "PST", "rate": "0.07"},
                    {"code": "CRF", "name": "Container fee", "per_unit": "0.10"},
                ],
            },
            "STD": {"rate": "0.19"},
            "DEP": {"exempt": True},
        },
    }
)
COLA = ProductPrice("cola", D("1.49"))
EMPTY = ProductPrice("empty", D("0.25"))
SHIRT = ProductPrice("shirt", D("19.99"))
CAP = ProductPrice("cap", D("12.50"))


def line(lid: str, product: ProductPrice, qty: str, cls: str, **kw: Any) -> SaleLineInput:
    """A line sold (or, `returned=True`, taken back) per item."""
    return SaleLineInput(lid, product, D(qty), "each", cls, **kw)


def sale(*lines: SaleLineInput, kind: str = "sale", cash: bool = True) -> PricedSale:
    """Price a cash sale of these lines now."""
    inputs = SaleInputs(lines, "retail", TAX, 2, NOW, cash, kind=kind)  # type: ignore[arg-type]
    return price_sale(inputs)


def wire(priced: PricedSale, tendered: str | None = None) -> dict[str, Any]:
    """The sale.completed payload a box would send for this priced sale (cash)."""
    tax = priced.tax
    pay = D(tendered) if tendered is not None else tax.payable
    lines = []
    for n, ln in enumerate(priced.lines, start=1):
        lines.append(
            {
                "line_no": n, "product_id": ln.priced.product_id, "sku": "S", "name": "N",
                "qty": str(ln.qty), "unit": "each", "unit_price": str(ln.unit_price),
                "extended": str(ln.priced.extended),
                "discounts": [{"policy_id": d.policy_id, "amount": str(d.amount)}
                              for d in ln.priced.discounts],
                "line_total": str(ln.tax.gross), "tax_class": ln.tax.tax_class,
                "tax_rate": str(ln.tax.rate), "tax": str(ln.tax.tax),
                "taxes": line_taxes_json(ln.tax, tax.config),
            }
        )  # fmt: skip
    return {
        "sale_id": "s-1", "receipt_no": 1, "cashier_id": "c", "cashier_name": "C",
        "currency": "CAD", "exponent": 2, "lines": lines,
        "subtotal": str(priced.pricing.subtotal),
        "discount_total": str(priced.pricing.discount_total),
        "tax_total": str(tax.tax_total), "total": str(tax.total),
        "cash_rounding": str(tax.cash_rounding), "payable": str(tax.payable),
        "tax_breakdown": breakdown_json(tax.breakdown),
        "tenders": [{"kind": "cash", "amount": str(pay)}], "change": str(pay - tax.payable),
        "completed_at": NOW.isoformat(),
    }  # fmt: skip


CTX = Context("CAD", 2, NOW - timedelta(days=1), NOW + timedelta(days=1))
BASE_CTX = CTX


def reasons(payload: dict[str, Any]) -> list[str]:
    """The reasons the hub's rules give for this payload."""
    return [str(v.reason) for v in check_sale(SaleCompleted.model_validate(payload), CTX)]


def test_returned_empties_beside_a_sale_net_out_with_tax_on_each_side() -> None:
    priced = sale(line("1", COLA, "6", "BEV"), line("2", EMPTY, "4", "DEP", is_deposit=True,
                                                     returned=True))  # fmt: skip
    cola, empties = priced.lines
    assert (cola.qty, cola.tax.gross) == (D(6), D("10.62"))  # 8.94 + 0.45 + 0.63 + 0.60
    assert (empties.qty, empties.tax.gross, empties.tax.tax) == (D(-4), D("-1.00"), D("0.00"))
    assert priced.tax.total == cola.tax.gross + empties.tax.gross
    assert priced.tax.payable % D("0.05") == 0
    assert {r.tax_class: str(r.net) for r in priced.tax.return_breakdown} == {"DEP": "-1.00"}
    assert reasons(wire(priced)) == []


def test_an_exchange_returns_one_item_and_buys_another_in_one_document() -> None:
    lines = (line("1", SHIRT, "1", "STD", returned=True, return_of="R41:1"),
             line("2", CAP, "1", "STD"))  # fmt: skip
    priced = sale(*lines)  # pays out money: a matched return may make the net negative
    back, cap = priced.lines
    assert (back.tax.gross, back.tax.tax) == (D("-19.99"), D("-3.19"))
    assert (cap.tax.gross, cap.tax.tax) == (D("12.50"), D("2.00"))
    row = priced.tax.breakdown[0]
    assert (row.tax_class, row.tax, row.gross) == ("STD", D("-1.19"), D("-7.49"))
    assert sale(*lines, kind="return").tax.total == priced.tax.total


def test_an_exchange_of_equal_or_more_value_is_a_sale() -> None:
    priced = sale(
        line("1", CAP, "1", "STD", returned=True, return_of="R41:2"), line("2", SHIRT, "1", "STD")
    )
    assert priced.tax.total == D("7.49")
    assert priced.tax.tax_total == D("3.19") - D("2.00")
    assert reasons(wire(priced)) == []


@pytest.mark.parametrize(
    "lines",
    [
        (line("1", EMPTY, "4", "DEP", is_deposit=True, returned=True),),
        (line("1", SHIRT, "1", "STD", returned=True), line("2", CAP, "2", "STD")),
        (line("1", COLA, "1", "BEV"), line("2", EMPTY, "9", "DEP", is_deposit=True, returned=True)),
    ],
    ids=["empties-alone", "return-without-its-sale", "empties-outweigh-the-sale"],
)
def test_unmatched_returns_in_a_sale_basket_are_refused(lines: tuple[SaleLineInput, ...]) -> None:
    with pytest.raises(ValidationError) as err:
        sale(*lines)
    assert err.value.reason == Reason.UNMATCHED_RETURN
    assert err.value.details == {"line_id": next(ln.line_id for ln in lines if ln.returned)}
    assert err.value.message in (
        "returned empties without a sale: use a deposit return",
        "line 1: a returned item needs its sale",
        "the returned empties (-0.49) outweigh the sale: use a deposit return",
    )


def test_a_return_basket_may_hold_empties_alone() -> None:
    priced = sale(line("1", EMPTY, "4", "DEP", is_deposit=True, returned=True), kind="return")
    assert priced.tax.total == D("-1.00")


def test_refunding_the_sold_side_of_a_mixed_document_reverses_its_tax_exactly() -> None:
    priced = sale(line("1", COLA, "6", "BEV"), line("2", EMPTY, "4", "DEP", is_deposit=True,
                                                     returned=True))  # fmt: skip
    first = refund_tax(priced.tax, {"1": D(2)})
    rest = refund_tax(priced.tax, {"1": D(4)}, previously_returned={"1": D(2)})
    for code in ("GST", "PST", "CRF"):
        back = [p.tax for r in (first, rest) for ln in r.lines for p in ln.parts if p.code == code]
        sold = [p.tax for p in priced.tax.lines[0].parts if p.code == code]
        assert -sum(back, D(0)) == sum(sold, D(0))


def test_hub_rules_refuse_nonsense_in_mixed_documents() -> None:
    priced = sale(line("1", COLA, "6", "BEV"), line("2", EMPTY, "4", "DEP", is_deposit=True,
                                                     returned=True))  # fmt: skip
    good = wire(priced)
    wrong_sign = {**good, "lines": [good["lines"][0], {**good["lines"][1], "line_total": "1.00",
                                                       "extended": "1.00"}]}  # fmt: skip
    assert "INVALID_MONEY" in reasons(wrong_sign)
    only_returns = {**good, "lines": [good["lines"][1]]}
    assert "UNMATCHED_RETURN" in reasons(only_returns)
    taxes = [{**t, "tax": str(D(t["tax"]) + D("0.05"))} if t["code"] == "PST" else t
             for t in good["lines"][0]["taxes"]]  # fmt: skip
    bad_part = {**good, "lines": [{**good["lines"][0], "taxes": taxes}, good["lines"][1]]}
    assert "TAX_MISMATCH" in reasons(bad_part)
    with_discount = {**good, "lines": [good["lines"][0], {**good["lines"][1], "discounts": [
        {"policy_id": "x", "amount": "-0.10"}]}]}  # fmt: skip
    assert reasons(with_discount) != []
