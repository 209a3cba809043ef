"""The line rules of a sale as the hub's ingest runs them (FR-303; posdomain.line_checks and
the readers of posdomain.doc_checks): weighed and item lines, units, line money named when
unreadable, quantities, rates and levies at their bounds, multi-tax lines, returned lines."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from posdomain.doc_checks import (
    MAX_QTY,
    Broken,
    Context,
    check_times,
    parse_rate,
    parse_rate_amount,
    quantity,
)
from posdomain.payloads import SaleCompleted
from posdomain.sale_checks import check_sale
from posdomain.sale_pricing import SaleInputs, price_sale
from posdomain.tax import parse_tax_config
from tests.posdomain.test_mixed_documents import BASE_CTX, COLA, EMPTY, NOW, line, sale, wire
from tests.posdomain.test_sale_checks import _good, found

pytestmark = pytest.mark.req("FR-303")


WEIGHED_CTX = Context(
    "CAD", 2, NOW - timedelta(days=1), NOW + timedelta(days=1), {"cola": "weight"}
)


def _rules(payload: dict[str, Any], ctx: Context = BASE_CTX) -> set[str]:
    return {rule for _, rule in found(payload, ctx)}


@pytest.mark.parametrize(
    ("qty", "extended", "ok"),
    [("6.003", "8.94", True),  # 8.94447: within half a gram at 1.49/kg
     ("6.003", "8.95", True),  # 0.0055 off: still within 1.49 x 0.0005 + 0.005
     ("6", "8.95", False),  # 0.01 off
     ("6", "9.94", False)],
)  # fmt: skip
def test_a_weighed_line_may_be_off_by_half_a_gram_and_half_a_cent(
    qty: str, extended: str, ok: bool
) -> None:
    payload = copy.deepcopy(_good())
    payload["lines"][0].update(unit="weight", qty=qty, extended=extended)
    assert ("extended" not in _rules(payload, WEIGHED_CTX)) is ok


def test_an_item_line_must_be_exact_to_the_cent() -> None:
    payload = copy.deepcopy(_good())
    payload["lines"][1]["extended"] = "20.00"  # 1 x 19.99
    assert "extended" in _rules(payload)


def test_the_context_unit_wins_and_a_line_unit_is_kept_without_one() -> None:
    payload = copy.deepcopy(_good())
    payload["lines"][0].update(unit="each", qty="6.003", extended="8.94")
    assert "qty_unit" not in _rules(payload, WEIGHED_CTX)  # the catalog sells cola by weight
    payload["lines"][0]["unit"] = "weight"
    assert "qty_unit" not in _rules(payload)  # no catalog unit: the line's own
    assert "qty" not in _rules(payload)


@pytest.mark.parametrize("field", ["net", "tax", "gross"])
def test_unreadable_breakdown_money_names_the_breakdown(field: str) -> None:
    payload = copy.deepcopy(_good())
    payload["tax_breakdown"][0][field] = "0.001"
    got = check_sale(SaleCompleted.model_validate(payload), BASE_CTX)
    assert ("money", "tax_breakdown: tax_breakdown has more than 2 decimals") in [
        (v.rule, v.message) for v in got
    ]


def test_cash_rounding_up_to_fifty_units_and_named_when_unreadable() -> None:
    payload = copy.deepcopy(_good())
    total = Decimal(payload["total"])
    payload.update(cash_rounding="0.50", payable=str(total + Decimal("0.50")))
    payload["change"] = str(Decimal("50.00") - total - Decimal("0.50"))
    assert "cash_rounding" not in _rules(payload)
    payload["cash_rounding"] = "0.001"
    got = check_sale(SaleCompleted.model_validate(payload), BASE_CTX)
    assert ("money", "cash_rounding: cash_rounding has more than 2 decimals") in [
        (v.rule, v.message) for v in got
    ]


def test_weighed_quantities_below_one_and_free_items_have_no_wrong_sign() -> None:
    payload = copy.deepcopy(_good())
    payload["lines"][0].update(unit="weight", qty="0.455", extended="0.68")
    assert "negative" not in _rules(payload, WEIGHED_CTX)
    payload = copy.deepcopy(_good())
    payload["lines"][1].update(unit_price="0.00", extended="0.00", line_total="0.00", tax="0.00")
    assert "negative" not in _rules(payload)


def test_empties_outweighing_the_sale_by_less_than_one_unit_are_refused() -> None:
    priced = sale(
        line("1", COLA, "1", "BEV"),
        line("2", EMPTY, "9", "DEP", is_deposit=True, returned=True),
        kind="open",  # the till shows it; paying would refuse it
    )
    assert Decimal("-1") < priced.tax.total < 0
    got = check_sale(SaleCompleted.model_validate(wire(priced)), BASE_CTX)
    assert {
        "reason": "UNMATCHED_RETURN",
        "rule": "returns",
        "message": "returns without a matching sale",
    } in [v.as_dict() for v in got]


@pytest.mark.parametrize("empties", ["50", "48"])
def test_empties_balancing_the_sale_exactly_or_partly_are_accepted(empties: str) -> None:
    from tests.posdomain.test_mixed_documents import CAP

    priced = sale(
        line("1", CAP, "1", "STD"),
        line("2", EMPTY, empties, "DEP", is_deposit=True, returned=True),
    )
    assert priced.tax.total in (Decimal("0.00"), Decimal("0.50"))
    payload = wire(priced)
    if priced.tax.payable == 0:
        payload["tenders"] = []  # nothing to pay
    assert found(payload) == []


def test_a_line_without_extended_is_qty_times_price_rounded() -> None:
    payload = copy.deepcopy(_good())
    del payload["lines"][1]["extended"]
    assert found(payload) == []
    payload = copy.deepcopy(_good())
    payload["lines"][0].update(unit="weight", qty="6.003")
    del payload["lines"][0]["extended"]  # 8.94447 -> 8.94, what the line was taxed on
    assert "extended" not in _rules(payload, WEIGHED_CTX)
    assert "line_tax" not in _rules(payload, WEIGHED_CTX)


def test_a_line_is_weighed_by_its_own_unit_or_the_catalogs() -> None:
    payload = copy.deepcopy(_good())
    payload["lines"][0].update(unit="weight", qty="6.003", extended="8.95")
    assert "extended" not in _rules(payload)  # the line says weight, no catalog unit
    payload["lines"][0]["unit"] = "each"
    assert "extended" not in _rules(payload, WEIGHED_CTX)  # the catalog says weight


@pytest.mark.parametrize(
    ("index", "field", "name"),
    [(1, "unit_price", "line 2 unit_price"), (1, "extended", "extended"),
     (1, "tax", "tax"), (1, "line_total", "line_total")],
)  # fmt: skip
def test_unreadable_line_money_names_its_field(index: int, field: str, name: str) -> None:
    payload = copy.deepcopy(_good())
    payload["lines"][index][field] = "1.001"
    got = check_sale(SaleCompleted.model_validate(payload), BASE_CTX)
    assert (
        "money",
        f"{name}: {name} has more than 2 decimals",
    ) in [(v.rule, v.message) for v in got]


def test_an_unreadable_discount_is_named() -> None:
    payload = copy.deepcopy(_good())
    payload["lines"][1]["discounts"] = [{"policy_id": "p", "amount": "0.001"}]
    got = check_sale(SaleCompleted.model_validate(payload), BASE_CTX)
    assert ("money", "discount: discount has more than 2 decimals") in [
        (v.rule, v.message) for v in got
    ]


def _broken(call: Callable[[], object]) -> tuple[str, str, str]:
    with pytest.raises(Broken) as err:
        call()
    v = err.value.violation
    return str(v.reason), v.rule, v.message


def test_quantities_at_their_bounds_and_signed_returns() -> None:
    assert quantity("0.001", "qty") == Decimal("0.001")
    assert quantity(str(MAX_QTY), "qty") == MAX_QTY
    assert quantity("-0.455", "qty", signed=True) == Decimal("-0.455")
    assert quantity("-1", "qty", signed=True) == Decimal(-1)
    assert quantity("0.5", "qty", signed=True) == Decimal("0.5")
    for value in ("0", "-1", "1000000.001", "0.0001"):
        reason, rule, _ = _broken(lambda v=value: quantity(v, "line 3 qty"))
        assert (reason, rule) == ("INVALID_QUANTITY", "qty")
    assert _broken(lambda: quantity("-0.0001", "line 3 qty", signed=True)) == (
        "INVALID_QUANTITY", "qty", "line 3 qty must be > 0 with at most 3 decimals",
    )  # fmt: skip
    assert _broken(lambda: quantity("-2", "line 3 qty", signed=False))[2] == (
        "line 3 qty must be > 0 with at most 3 decimals"
    )


def test_rates_and_levies_at_their_bounds() -> None:
    assert parse_rate("0", "r") == 0
    assert parse_rate("9.999999", "r") == Decimal("9.999999")
    assert _broken(lambda: parse_rate("NaN", "line 1 tax_rate"))[2] == (
        "line 1 tax_rate is out of range"
    )
    assert parse_rate_amount("0", "l") == 0
    assert parse_rate_amount(str(MAX_QTY), "l") == MAX_QTY
    for bad in ("-0.01", "1000000.01", "0.0000001"):
        assert _broken(lambda v=bad: parse_rate_amount(v, "line 1"))[1] == "levy"


def test_times_on_the_window_edges_are_inside() -> None:
    ctx = BASE_CTX
    assert check_times([ctx.earliest, ctx.latest], ctx) == []


def test_a_compound_tax_line_passes_and_its_parts_money_is_named() -> None:
    from posdomain.sale_pricing import SaleInputs, price_sale
    from posdomain.tax import parse_tax_config
    from tests.posdomain.test_mixed_documents import CAP

    qc = parse_tax_config(
        {"cash_rounding": "0.05", "classes": {"QC": {"inclusive": False, "taxes": [
            {"code": "GST", "rate": "0.05"},
            {"code": "QST", "rate": "0.09975", "on": ["GST"]}]}}}
    )  # fmt: skip
    priced = price_sale(SaleInputs((line("1", CAP, "2", "QC"),), "retail", qc, 2, NOW, True))
    payload = wire(priced)
    assert payload["lines"][0]["taxes"][1]["on"] == ["GST"]
    assert found(payload) == []
    payload["lines"][0]["taxes"][0]["tax"] = "0.001"
    got = check_sale(SaleCompleted.model_validate(payload), BASE_CTX)
    assert ("money", "line 1 tax: line 1 tax has more than 2 decimals") in [
        (v.rule, v.message) for v in got
    ]


def test_an_unreadable_payable_is_named() -> None:
    payload = copy.deepcopy(_good())
    payload["payable"] = "0.001"
    got = check_sale(SaleCompleted.model_validate(payload), BASE_CTX)
    assert ("money", "payable: payable has more than 2 decimals") in [
        (v.rule, v.message) for v in got
    ]


def test_a_line_without_a_unit_is_sold_per_item() -> None:
    payload = copy.deepcopy(_good())
    payload["lines"][1]["unit"] = None
    assert found(payload) == []
    payload["lines"][1].update(qty="1.5", extended="29.99")
    assert "qty_unit" in _rules(payload)


def test_a_weighed_multi_tax_line_below_one_kg_passes() -> None:
    from posdomain.pricing import ProductPrice
    from posdomain.sale_pricing import SaleLineInput

    loose = ProductPrice("cola", Decimal("1.49"), unit="weight")
    weighed = SaleLineInput("1", loose, Decimal("0.455"), "weight", "BEV")
    payload = wire(sale(weighed))
    assert len(payload["lines"][0]["taxes"]) == 3
    assert found(payload, WEIGHED_CTX) == []


def test_an_unreadable_part_rate_names_its_line() -> None:
    payload = copy.deepcopy(_good())
    payload["lines"][0]["taxes"][0]["rate"] = "x"
    got = check_sale(SaleCompleted.model_validate(payload), BASE_CTX)
    assert [(v.rule, v.message) for v in got] == [("rate", "line 1 is not a number")]


# Mutation survivors of the third round (docs/mutation.md, branch mutmoney)


def test_a_weighed_line_exactly_half_a_gram_and_half_a_cent_off_passes() -> None:
    """The tolerance is inclusive: 1.003 kg x 2.00 = 2.006, written 2.00: 0.006 off, which is
    2.00 x 0.0005 + 0.005 exactly."""
    payload = copy.deepcopy(_good())
    payload["lines"][0].update(unit="weight", qty="1.003", unit_price="2.00", extended="2.00")
    assert "extended" not in _rules(payload, WEIGHED_CTX)
    payload["lines"][0]["extended"] = "1.99"  # 0.016 off
    assert "extended" in _rules(payload, WEIGHED_CTX)


def test_a_line_is_read_in_the_form_its_class_row_says() -> None:
    """The breakdown says STD is inclusive: a STD line written exclusive (tax on top) is
    refused for its line total, not re-read as an exclusive line."""
    payload = copy.deepcopy(_good())
    payload["lines"][1]["line_total"] = "23.18"  # 19.99 + 3.19
    assert ("LINE_ARITHMETIC", "line_total") in found(payload)


def test_unreadable_line_totals_count_as_nothing_toward_the_returns() -> None:
    """Both sold lines' totals unreadable: what is left is the returned empties, so the sale
    is also refused for returns without a matching sale (each unreadable line does not stop
    the sum)."""
    payload = copy.deepcopy(_good())
    payload["lines"][0]["line_total"] = "x"
    payload["lines"][1]["line_total"] = "y"
    assert found(payload) == [("UNMATCHED_RETURN", "returns"), ("INVALID_MONEY", "money")]


def test_a_line_written_weighed_is_weighed_even_if_the_catalog_sells_it_per_item() -> None:
    """Either unit saying weight gives the half-gram tolerance: 1 x 20.00 written 20.01 (0.01
    off, within 20.00 x 0.0005 + 0.005) passes on a line that says weight, though the catalog
    says each; as an item line it is refused."""
    per_item = Context("CAD", 2, NOW - timedelta(days=1), NOW + timedelta(days=1), {"cola": "each"})
    payload = copy.deepcopy(_good())
    payload["lines"][0].update(unit="weight", qty="1", unit_price="20.00", extended="20.01")
    assert "extended" not in _rules(payload, per_item)
    payload["lines"][0]["unit"] = "each"
    assert "extended" in _rules(payload, per_item)


def test_a_missing_extended_rounds_half_up() -> None:
    """0.500 kg x 0.25 = 0.125: the line was taxed on 0.13 (half up), not 0.12."""
    payload = copy.deepcopy(_good())
    payload["lines"][1].update(unit="weight", qty="0.500", unit_price="0.25")
    payload["lines"][1].update(line_total="0.13", tax="0.02")
    del payload["lines"][1]["extended"]
    rules = _rules(payload)
    assert not {"extended", "line_total", "line_tax"} & rules


@pytest.mark.parametrize(("total", "tax"), [("1.00", "0.16"), ("1.19", "0.19")])
def test_a_line_of_a_class_without_a_row_may_be_inclusive_or_exclusive(
    total: str, tax: str
) -> None:
    """No breakdown row says how class ZZ is taxed: 1.00 at 19 % may be 1.00 including 0.16
    or 1.00 + 0.19; both forms are tried (the breakdown rule reports the missing row)."""
    payload = copy.deepcopy(_good())
    payload["lines"][1].update(tax_class="ZZ", unit_price="1.00", extended="1.00")
    payload["lines"][1].update(line_total=total, tax=tax)
    rules = _rules(payload)
    assert not {"extended", "line_total", "line_tax"} & rules
    assert "breakdown" in rules


def test_an_inclusive_multi_tax_line_passes() -> None:
    """A compound class whose prices include its taxes: 6 x 1.49 = 8.94 holds a 0.60 levy and
    5 % + 7 % of (8.94 - 0.60) / 1.12 = 7.45 (0.37 and 0.52); each part is checked
    against the inclusive exact tax of the line total."""
    taxes = [
        {"code": "GST", "name": "GST", "rate": "0.05"},
        {"code": "PST", "name": "PST", "rate": "0.07"},
        {"code": "CRF", "name": "Container fee", "per_unit": "0.10"},
    ]
    cfg = parse_tax_config({"classes": {"BEV": {"inclusive": True, "taxes": taxes}}})
    priced = price_sale(SaleInputs((line("1", COLA, "6", "BEV"),), "retail", cfg, 2, NOW, True))
    assert [p.tax for p in priced.lines[0].tax.parts] == [
        Decimal("0.37"),
        Decimal("0.52"),
        Decimal("0.60"),
    ]
    assert found(wire(priced)) == []


def test_a_returned_line_without_extended_has_no_wrong_sign() -> None:
    """The returned empties without `extended`: qty x price is taken, nothing of the wrong
    sign is made up for the missing field."""
    payload = copy.deepcopy(_good())
    del payload["lines"][2]["extended"]
    assert found(payload) == []


def test_a_discount_may_take_the_whole_line() -> None:
    """19.99 with 19.99 off: the line totals 0.00 and is no broken arithmetic."""
    payload = copy.deepcopy(_good())
    payload["lines"][1].update(
        discounts=[{"policy_id": "free", "amount": "19.99"}], line_total="0.00", tax="0.00"
    )
    assert not {"extended", "line_total", "line_tax"} & _rules(payload)
    payload["lines"][1]["discounts"][0]["amount"] = "20.00"
    assert "extended" in _rules(payload)


def test_a_card_short_of_the_total_without_rounding_is_a_tender_sum_not_a_cash_rule() -> None:
    payload = copy.deepcopy(_good())
    total = Decimal(payload["total"])  # 29.61, a card sale: no cash rounding
    payload.update(cash_rounding="0.00", payable=str(total), change="0.00")
    payload["tenders"] = [{"kind": "card", "amount": str(total - 1), "reference": "T-1"}]
    assert found(payload) == [("TENDER_MISMATCH", "tenders")]


def test_a_card_over_a_small_total_is_over_the_total() -> None:
    """A card of 0.50 on 0.40 pays more than the total whatever else is wrong with the sale."""
    payload = copy.deepcopy(_good())
    payload.update(total="0.40", cash_rounding="0.00", payable="0.40", change="0.00")
    payload["tenders"] = [{"kind": "card", "amount": "0.50", "reference": "T-1"}]
    assert ("TENDER_MISMATCH", "tender_split") in found(payload)
    assert ("TENDER_MISMATCH", "tenders") not in found(payload)
