"""Tax engine edges (FR-302): what each line and breakdown row says about its rate and
inclusiveness, weighed quantities, empty documents. Written against mutants of
posdomain.tax_engine that survived (`just mutate`)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from posdomain.errors import Reason, ValidationError
from posdomain.tax import TaxLine, compute_tax, parse_tax_config, refund_tax

pytestmark = pytest.mark.req("FR-302")

D = Decimal
CFG = parse_tax_config(
    {"classes": {"STD": {"rate": "0.08875", "inclusive": False}, "INC": {"rate": "0.19"}}}
)


def test_each_line_and_row_carries_its_rate_and_whether_it_is_inclusive() -> None:
    sale = compute_tax([TaxLine("1", "STD", D("10.00")), TaxLine("2", "INC", D("11.90"))], CFG)
    assert [(p.code, p.rate) for ln in sale.lines for p in ln.parts] == [
        ("STD", D("0.08875")),
        ("INC", D("0.19")),
    ]
    rows = {r.tax_class: (r.rate, r.inclusive, r.net, r.tax) for r in sale.breakdown}
    assert rows == {
        "STD": (D("0.08875"), False, D("10.00"), D("0.89")),
        "INC": (D("0.19"), True, D("10.00"), D("1.90")),
    }


def test_a_stored_line_without_parts_is_one_tax_of_its_class() -> None:
    # the till rebuilds a sold single-rate line without parts (appliance/till/refunds.py)
    sale = compute_tax([TaxLine("1", "STD", D("10.00"))], CFG)
    stored = replace(sale.lines[0], parts=())
    (part,) = stored.taxes()
    assert (part.code, part.rate, part.per_unit, part.tax) == ("STD", D("0.08875"), None, D("0.89"))


def test_a_weighed_sale_is_no_return() -> None:
    sale = compute_tax([TaxLine("1", "INC", D("3.45"), D("0.455"))], CFG)
    assert sale.return_breakdown == ()
    back = refund_tax(sale, {"1": D("0.455")})
    assert [r.tax for r in back.return_breakdown] == [-sale.tax_total]


def test_an_empty_document_totals_zero_in_the_currency_unit() -> None:
    empty = compute_tax([], CFG)
    assert [str(v) for v in (empty.net_total, empty.tax_total, empty.total, empty.payable)] == [
        "0.00"
    ] * 4


def test_a_line_of_an_unknown_class_names_the_class() -> None:
    with pytest.raises(ValidationError) as err:
        compute_tax([TaxLine("1", "NOPE", D("1.00"))], CFG)
    assert (err.value.reason, err.value.details) == (
        Reason.UNKNOWN_TAX_CLASS,
        {"tax_class": "NOPE"},
    )


def test_cash_rounding_applies_only_to_a_cash_sale() -> None:
    cfg = parse_tax_config({"cash_rounding": "0.05", "classes": {"INC": {"rate": "0.19"}}})
    card = compute_tax([TaxLine("1", "INC", D("1.03"))], cfg)
    assert (card.cash, card.cash_rounding, card.payable) == (False, D("0.00"), D("1.03"))
    cash = compute_tax([TaxLine("1", "INC", D("1.03"))], cfg, cash=True)
    assert (cash.cash_rounding, cash.payable) == (D("0.02"), D("1.05"))


MULTI = parse_tax_config(
    {
        "cash_rounding": "0.05",
        "classes": {
            "ON": {
                "inclusive": False,
                "taxes": [
                    {"code": "GST", "name": "GST", "rate": "0.05"},
                    {"code": "QST", "name": "QST", "rate": "0.09975", "on": ["GST"]},
                    {"code": "BTL", "name": "Container levy", "per_unit": "0.10"},
                ],
            },
        },
    }
)


def test_a_partial_refund_keeps_each_taxs_rate_levy_class_and_rate() -> None:
    sale = compute_tax([TaxLine("1", "ON", D("2.99"), D(3))], MULTI)
    sold = sale.lines[0]
    for back in (
        refund_tax(sale, {"1": D(1)}),  # the first unit (scaled parts)
        refund_tax(sale, {"1": D(1)}, previously_returned={"1": D(1)}),  # a difference
    ):
        (line,) = back.lines
        assert (line.tax_class, line.rate) == (sold.tax_class, sold.rate)
        assert [(p.code, p.rate, p.per_unit) for p in line.parts] == [
            (p.code, p.rate, p.per_unit) for p in sold.parts
        ]
        assert [p.per_unit for p in line.parts] == [None, None, D("0.10")]
        assert line.qty == D(-1)


def test_card_refunds_completing_a_cash_sale_pay_back_exactly_what_was_paid() -> None:
    sale = compute_tax([TaxLine("1", "ON", D("3.01"), D(3))], MULTI, cash=True)
    assert (sale.total, sale.cash_rounding, sale.payable) == (D("3.78"), D("0.02"), D("3.80"))
    part = refund_tax(sale, {"1": D(1)}, cash=False)
    rest = refund_tax(sale, {"1": D(2)}, previously_returned={"1": D(1)}, cash=False)
    assert part.cash_rounding == 0
    # the last refund completes the return: together they pay back what the customer paid
    assert part.payable + rest.payable == -sale.payable
    assert part.total + rest.total == -sale.total


def test_a_partial_refund_of_a_stored_line_without_parts_scales_its_tax() -> None:
    sale = compute_tax([TaxLine("1", "STD", D("10.00"), D(3))], CFG)
    stored = replace(sale, lines=(replace(sale.lines[0], parts=()),))
    (line,) = refund_tax(stored, {"1": D(2)}).lines
    assert (line.qty, line.gross, line.tax, line.net) == (D(-2), D("-7.26"), D("-0.59"), D("-6.67"))
    assert (line.tax_class, line.rate) == ("STD", D("0.08875"))


def test_a_returned_line_of_the_sale_cannot_be_refunded_again() -> None:
    # returned empties are a negative line of the sale: nothing of it goes back once more
    sale = compute_tax(
        [TaxLine("1", "STD", D("10.00"), D(3)), TaxLine("2", "INC", D("-0.25"), D(-1))], CFG
    )
    for qty in (D(1), D(-1)):
        with pytest.raises(ValidationError) as err:
            refund_tax(sale, {"2": qty})
        assert err.value.reason is Reason.REFUND_EXCEEDS_SALE
        assert err.value.details == {"line_id": "2"}
        assert err.value.message == f"line 2: cannot return {qty} of -1"
    back = refund_tax(sale, {"1": D(3)})
    assert [ln.line_id for ln in back.lines] == ["1"]


def test_lines_after_returned_empties_are_refunded_and_unknown_lines_named() -> None:
    sale = compute_tax(
        [TaxLine("1", "INC", D("-0.25"), D(-1)), TaxLine("2", "STD", D("10.00"), D(2))], CFG
    )
    back = refund_tax(sale, {"2": D(1)})
    assert [(ln.line_id, ln.qty) for ln in back.lines] == [("2", D(-1))]
    assert back.cash is False
    with pytest.raises(ValidationError) as err:
        refund_tax(sale, {"9": D(1), "8": D(1)})
    assert err.value.reason is Reason.LINE_NOT_FOUND
    assert err.value.details == {"line_id": "8"}
    assert err.value.message == "no such sale line: 8"


def test_returned_empties_take_no_part_in_the_cash_rounding_of_a_refund() -> None:
    cfg = parse_tax_config({"cash_rounding": "0.05", "classes": {"INC": {"rate": "0.19"}}})
    sale = compute_tax(
        [TaxLine("1", "INC", D("10.02")), TaxLine("2", "INC", D("-0.02"), D(-1))], cfg, cash=True
    )
    back = refund_tax(sale, {"1": D(1)})
    assert back.cash is True
    assert (back.total, back.cash_rounding, back.payable) == (D("-10.02"), D("0.02"), D("-10.00"))
    card = refund_tax(sale, {"1": D(1)}, cash=False)
    assert card.cash is False
    assert card.cash_rounding == 0
