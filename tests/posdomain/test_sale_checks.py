"""The hub's ingest rules as pure functions (FR-303): a sale that adds up passes, and each
broken rule comes back with its reason code and rule name (posdomain.sale_checks)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from posdomain.errors import Reason
from posdomain.payloads import SaleCompleted
from posdomain.sale_checks import Context, check_sale, violation
from posdomain.sale_pricing import SaleInputs, price_sale
from posdomain.tax import parse_tax_config
from tests.posdomain.test_mixed_documents import (
    BASE_CTX,
    COLA,
    EMPTY,
    NOW,
    SHIRT,
    line,
    sale,
    wire,
)

pytestmark = pytest.mark.req("FR-303")
Change = Callable[[dict[str, Any]], None]


def _good() -> dict[str, Any]:
    priced = sale(
        line("1", COLA, "6", "BEV"),
        line("2", SHIRT, "1", "STD"),
        line("3", EMPTY, "4", "DEP", is_deposit=True, returned=True),
    )
    return wire(priced, tendered="50.00")


def found(payload: dict[str, Any], ctx: Context = BASE_CTX) -> list[tuple[str, str]]:
    """(reason, rule) of every broken rule."""
    return [(str(v.reason), v.rule) for v in check_sale(SaleCompleted.model_validate(payload), ctx)]


def _line(n: int, **fields: Any) -> Change:
    return lambda p: p["lines"][n].update(fields)


def _top(**fields: Any) -> Change:
    return lambda p: p.update(fields)


def _part(n: int, code: str, **fields: Any) -> Change:
    def apply(p: dict[str, Any]) -> None:
        for part in p["lines"][n]["taxes"]:
            if part["code"] == code:
                part.update(fields)

    return apply


def _row(code: str, **fields: Any) -> Change:
    def apply(p: dict[str, Any]) -> None:
        for row in p["tax_breakdown"]:
            if row["tax_class"] == code:
                row.update(fields)

    return apply


CASES: dict[str, tuple[Change, list[tuple[str, str]]]] = {
    "qty not a number": (_line(0, qty="x"), [("INVALID_QUANTITY", "qty")]),
    "qty four decimals": (_line(0, qty="6.0001"), [("INVALID_QUANTITY", "qty")]),
    "qty over the maximum": (_line(0, qty="1000001"), [("INVALID_QUANTITY", "qty")]),
    "fractional each": (_line(0, qty="5.5", unit="each"), [("INVALID_QUANTITY", "qty_unit")]),
    "extended off": (_line(0, extended="8.95"), [("LINE_ARITHMETIC", "extended")]),
    "line total off": (_line(1, line_total="19.98"), [("LINE_ARITHMETIC", "line_total")]),
    "line tax off": (_line(1, tax="3.21", line_total="19.99"), [("TAX_MISMATCH", "line_tax")]),
    "rate not a number": (_line(1, tax_rate="x"), [("TAX_MISMATCH", "rate")]),
    "rate 10": (_line(1, tax_rate="10"), [("TAX_MISMATCH", "rate")]),
    "part tax off": (_part(0, "PST", tax="0.64"), [("TAX_MISMATCH", "line_taxes")]),
    "parts off, sum right": (
        lambda p: (_part(0, "PST", tax="0.66")(p), _part(0, "GST", tax="0.42")(p)),
        [("TAX_MISMATCH", "line_tax")],
    ),
    "part on a later code": (_part(0, "GST", on=["PST"]), [("TAX_MISMATCH", "line_taxes")]),
    "levy not a number": (_part(0, "CRF", per_unit="x"), [("TAX_MISMATCH", "levy")]),
    "levy negative": (_part(0, "CRF", per_unit="-0.10"), [("TAX_MISMATCH", "levy")]),
    "negative price": (_line(1, unit_price="-19.99"), [("INVALID_MONEY", "negative")]),
    "returned with discount": (
        _line(2, discounts=[{"policy_id": "x", "amount": "-0.10"}]),
        [("LINE_ARITHMETIC", "returned_discount")],
    ),
    "bad money": (_line(1, line_total="1.234"), [("INVALID_MONEY", "money")]),
    "subtotal off": (_top(subtotal="1.00"), [("TOTALS_MISMATCH", "subtotal")]),
    "discount total off": (_top(discount_total="1.00"), [("TOTALS_MISMATCH", "discount_total")]),
    "tax total off": (_top(tax_total="1.00"), [("TAX_MISMATCH", "tax_total")]),
    "row tax off": (_row("GST", tax="0.46", gross="9.40"), [("TAX_MISMATCH", "breakdown")]),
    "row net + tax != gross": (_row("GST", gross="9.41"), [("TAX_MISMATCH", "breakdown")]),
    "row missing": (
        lambda p: p.update(tax_breakdown=p["tax_breakdown"][1:]),
        [("TAX_MISMATCH", "breakdown")],
    ),
    "row twice": (
        lambda p: p["tax_breakdown"].append(p["tax_breakdown"][0]),
        [("TAX_MISMATCH", "breakdown")],
    ),
    "rounding too large": (_top(cash_rounding="0.51"), [("TOTALS_MISMATCH", "cash_rounding")]),
    "payable off": (_top(payable="1.00"), [("TOTALS_MISMATCH", "payable")]),
    "unknown tender": (
        _top(tenders=[{"kind": "voucher", "amount": "50.00"}]),
        [("UNKNOWN_TENDER", "tender_kind")],
    ),
    "negative tender": (
        _top(tenders=[{"kind": "cash", "amount": "-50.00"}]),
        [("INVALID_MONEY", "tender_sign")],
    ),
    "card without reference": (
        _top(tenders=[{"kind": "card", "amount": "1.00"}, {"kind": "cash", "amount": "49.00"}]),
        [("VALIDATION_FAILED", "card_reference")],
    ),
    "card number as reference": (
        _top(
            tenders=[
                {"kind": "card", "amount": "1.00", "reference": "4111 1111 1111 1111"},
                {"kind": "cash", "amount": "49.00"},
            ]
        ),
        [("VALIDATION_FAILED", "card_reference")],
    ),
    "negative change": (_top(change="-1.00"), [("INVALID_MONEY", "change")]),
    "change more than tendered": (_top(change="60.00"), [("TENDER_MISMATCH", "tender_split")]),
    "tenders short": (_top(change="1.00"), [("TENDER_MISMATCH", "tenders")]),
    "line number twice": (_line(1, line_no=1), [("DUPLICATE_LINE_NO", "line_no")]),
    "deposit of no line": (
        _line(2, deposit_for_line=9),
        [("VALIDATION_FAILED", "deposit_for_line")],
    ),
    "foreign currency": (_top(currency="EUR"), [("CURRENCY_MISMATCH", "currency")]),
    "other exponent": (_top(exponent=3), [("CURRENCY_MISMATCH", "exponent")]),
}


def test_a_mixed_sale_that_adds_up_passes() -> None:
    assert found(_good()) == []


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_broken_rule_has_its_reason_and_rule(case: str) -> None:
    change, expected = CASES[case]
    payload = copy.deepcopy(_good())
    change(payload)
    got = found(payload)
    for want in expected:
        assert want in got, got


def test_times_outside_the_window_are_refused() -> None:
    late = copy.deepcopy(_good())
    late["completed_at"] = (NOW + timedelta(days=2)).isoformat()
    assert ("TIMESTAMP_OUT_OF_RANGE", "time") in found(late)
    early = copy.deepcopy(_good())
    early["completed_at"] = (NOW - timedelta(days=2)).isoformat()
    assert ("TIMESTAMP_OUT_OF_RANGE", "time") in found(early)
    assert found(_good()) == []


def test_weighed_lines_within_half_a_gram() -> None:
    ctx = Context("CAD", 2, NOW - timedelta(days=1), NOW + timedelta(days=1), {"cola": "weight"})
    payload = copy.deepcopy(_good())
    payload["lines"][0]["unit"] = "weight"
    assert found(payload, ctx) == []


def test_violation_keeps_reason_rule_and_message() -> None:
    v = violation(Reason.TAX_MISMATCH, "line_tax", "m")
    assert v.as_dict() == {"reason": "TAX_MISMATCH", "rule": "line_tax", "message": "m"}


# Mutation survivors (docs/mutation.md): reconciliation shows each violation's message beside
# its reason and rule, so every case's full answer is pinned, message included.
MESSAGES: dict[str, list[tuple[str, str, str]]] = {
    "bad money": [("INVALID_MONEY", "money", "line_total: line_total has more than 2 decimals")],
    "card number as reference": [
        (
            "VALIDATION_FAILED",
            "card_reference",
            "a card tender needs the terminal reference, never a PAN",
        )
    ],
    "card without reference": [
        (
            "VALIDATION_FAILED",
            "card_reference",
            "a card tender needs the terminal reference, never a PAN",
        )
    ],
    "change more than tendered": [
        ("TENDER_MISMATCH", "tender_split", "card over total or change > cash")
    ],
    "deposit of no line": [("VALIDATION_FAILED", "deposit_for_line", "deposit of no such line")],
    "discount total off": [("TOTALS_MISMATCH", "discount_total", "discounts do not add up")],
    "extended off": [("LINE_ARITHMETIC", "extended", "line 1: 6 x 1.49 is not 8.95 - 0")],
    "foreign currency": [("CURRENCY_MISMATCH", "currency", "EUR is not CAD")],
    "fractional each": [("INVALID_QUANTITY", "qty_unit", "line 1: cola is sold per item, not 5.5")],
    "levy negative": [("TAX_MISMATCH", "levy", "line 1: levy out of range")],
    "levy not a number": [("TAX_MISMATCH", "levy", "line 1: levy is not a number")],
    "line number twice": [("DUPLICATE_LINE_NO", "line_no", "a line number is used twice")],
    "line tax off": [("TAX_MISMATCH", "line_tax", "line 2: tax 3.21 is not 0.19 of 19.99")],
    "line total off": [
        ("LINE_ARITHMETIC", "line_total", "line 2: line total 19.98 is not 19.99 (+ tax)")
    ],
    "negative change": [("INVALID_MONEY", "change", "change is negative")],
    "negative price": [("INVALID_MONEY", "negative", "line 2: money of the wrong sign")],
    "negative tender": [("INVALID_MONEY", "tender_sign", "a tender has the wrong sign")],
    "other exponent": [
        ("CURRENCY_MISMATCH", "exponent", "exponent 3"),
        ("TAX_MISMATCH", "line_tax", "line 1: GST 0.450 is not 0.44700"),
    ],
    "part on a later code": [
        ("TAX_MISMATCH", "line_taxes", "line 1: taxes out of order or repeated")
    ],
    "part tax off": [("TAX_MISMATCH", "line_taxes", "line 1: its taxes do not add up to 1.68")],
    "parts off, sum right": [("TAX_MISMATCH", "line_tax", "line 1: GST 0.42 is not 0.4470")],
    "payable off": [("TOTALS_MISMATCH", "payable", "payable is not total + rounding")],
    "qty four decimals": [
        ("INVALID_QUANTITY", "qty", "line 1 qty must be > 0 with at most 3 decimals")
    ],
    "qty not a number": [("INVALID_QUANTITY", "qty", "line 1 qty is not a number")],
    "qty over the maximum": [
        ("INVALID_QUANTITY", "qty", "line 1 qty must be > 0 with at most 3 decimals")
    ],
    "rate 10": [("TAX_MISMATCH", "rate", "line 2 tax_rate is out of range")],
    "rate not a number": [("TAX_MISMATCH", "rate", "line 2 tax_rate is not a number")],
    "returned with discount": [
        ("LINE_ARITHMETIC", "returned_discount", "line 3: a return has none")
    ],
    "rounding too large": [("TOTALS_MISMATCH", "cash_rounding", "cash rounding 0.51")],
    "row missing": [("TAX_MISMATCH", "breakdown", "a taxed class has no breakdown row")],
    "row net + tax != gross": [("TAX_MISMATCH", "breakdown", "tax row GST is wrong")],
    "row tax off": [("TAX_MISMATCH", "breakdown", "tax row GST != lines")],
    "row twice": [("TAX_MISMATCH", "breakdown", "tax row CRF is wrong")],
    "subtotal off": [("TOTALS_MISMATCH", "subtotal", "subtotal is not the lines' sum")],
    "tax total off": [("TAX_MISMATCH", "tax_total", "tax total is not the lines' tax")],
    "tenders short": [("TENDER_MISMATCH", "tenders", "tenders 50.00 - change 1.00 is not 29.60")],
    "unknown tender": [("UNKNOWN_TENDER", "tender_kind", "unknown tender 'voucher'")],
}


@pytest.mark.parametrize("case", sorted(MESSAGES))
def test_each_broken_rule_says_what_it_found(case: str) -> None:
    payload = copy.deepcopy(_good())
    CASES[case][0](payload)
    got = check_sale(SaleCompleted.model_validate(payload), BASE_CTX)
    assert [(str(v.reason), v.rule, v.message) for v in got] == MESSAGES[case]


@pytest.mark.parametrize("field", ["subtotal", "discount_total", "tax_total", "total", "change"])
def test_unreadable_top_level_money_names_its_field(field: str) -> None:
    payload = copy.deepcopy(_good())
    payload[field] = "1.001"
    got = check_sale(SaleCompleted.model_validate(payload), BASE_CTX)
    assert [(str(v.reason), v.rule, v.message) for v in got] == [
        ("INVALID_MONEY", "money", f"{field}: {field} has more than 2 decimals")
    ]


def test_a_wrong_total_is_named_with_its_value() -> None:
    payload = copy.deepcopy(_good())
    payload["total"] = "1.00"
    got = check_sale(SaleCompleted.model_validate(payload), BASE_CTX)
    assert got[0].as_dict() == {
        "reason": "TOTALS_MISMATCH",
        "rule": "total",
        "message": "total 1.00 is not the lines' sum",
    }


def test_change_without_cash_is_refused_even_without_rounding() -> None:
    payload = copy.deepcopy(_good())
    total = payload["total"]  # a card sale: no cash rounding
    payload.update(cash_rounding="0.00", payable=total, change="0.00")
    payload["tenders"] = [{"kind": "card", "amount": total, "reference": "T-1"}]
    assert found(payload) == []
    payload["change"] = "1.00"
    payload["tenders"] = [{"kind": "card", "amount": total, "reference": "T-1"}]
    got = check_sale(SaleCompleted.model_validate(payload), BASE_CTX)
    assert [v.as_dict() for v in got] == [
        {"reason": "TENDER_MISMATCH", "rule": "cash_only",
         "message": "change or rounding without cash"}
    ]  # fmt: skip


def test_a_sale_split_between_card_and_cash_adds_both() -> None:
    payload = copy.deepcopy(_good())
    payable = Decimal(payload["payable"])
    payload["tenders"] = [
        {"kind": "card", "amount": "10.00", "reference": "T-1"},
        {"kind": "cash", "amount": "30.00"},
    ]
    payload["change"] = str(Decimal("40.00") - payable)
    assert found(payload) == []
    payload["change"] = "0.00"
    got = check_sale(SaleCompleted.model_validate(payload), BASE_CTX)
    assert [v.as_dict() for v in got] == [
        {"reason": "TENDER_MISMATCH", "rule": "tenders",
         "message": f"tenders 40.00 - change 0.00 is not {payable}"}
    ]  # fmt: skip


def _tendered(*tenders: dict[str, str], change: str = "0.00", **top: str) -> list[dict[str, str]]:
    payload = copy.deepcopy(_good())
    payload.update(tenders=list(tenders), change=change, **top)
    return [v.as_dict() for v in check_sale(SaleCompleted.model_validate(payload), BASE_CTX)]


def test_several_tenders_of_a_kind_add_up() -> None:
    payable = Decimal(_good()["payable"])
    cash = [{"kind": "cash", "amount": "10.00"}, {"kind": "cash", "amount": str(payable - 10)}]
    assert _tendered(*cash) == []
    total = Decimal(_good()["total"])  # by card: no cash rounding
    card = [
        {"kind": "card", "amount": "10.00", "reference": "T-1"},
        {"kind": "card", "amount": str(total - 10), "reference": "T-2"},
    ]
    assert _tendered(*card, cash_rounding="0.00", payable=str(total)) == []


def test_a_zero_tender_and_an_unreadable_one_are_refused() -> None:
    zero = _tendered({"kind": "cash", "amount": "0.00"}, {"kind": "cash", "amount": "50.00"},
                     change="20.40")  # fmt: skip
    assert zero == [
        {"reason": "INVALID_MONEY", "rule": "tender_sign", "message": "a tender has the wrong sign"}
    ]
    (bad,) = _tendered({"kind": "cash", "amount": "50.001"})
    assert (bad["rule"], bad["message"]) == ("money", "tender: tender has more than 2 decimals")


@pytest.mark.parametrize("ref", ["4111-1111-1111-1111", "4111 1111-1111 1111"])
def test_a_card_number_with_dashes_is_no_terminal_reference(ref: str) -> None:
    got = _tendered({"kind": "card", "amount": "1.00", "reference": ref},
                    {"kind": "cash", "amount": "49.00"}, change="20.40")  # fmt: skip
    assert [(v["rule"], v["message"]) for v in got] == [
        ("card_reference", "a card tender needs the terminal reference, never a PAN")
    ]


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
    from posdomain.sale_checks import Broken

    with pytest.raises(Broken) as err:
        call()
    v = err.value.violation
    return str(v.reason), v.rule, v.message


def test_quantities_at_their_bounds_and_signed_returns() -> None:
    from posdomain.sale_checks import MAX_QTY, quantity

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
    from posdomain.sale_checks import MAX_QTY, parse_rate, parse_rate_amount

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
    from posdomain.sale_checks import check_times

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
