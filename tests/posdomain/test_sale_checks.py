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
