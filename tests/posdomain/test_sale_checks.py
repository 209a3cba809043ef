"""The hub's ingest rules as pure functions (FR-303): a sale that adds up passes, and each
broken rule comes back with its reason code and rule name (posdomain.sale_checks)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import timedelta
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
