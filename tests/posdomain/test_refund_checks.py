"""The hub's rules for refunds and post-voids as pure functions (FR-303: trust nothing): a
refund the box builds from its sale passes, and each broken rule comes back with its reason
code and rule name (posdomain.refund_checks, called by hub/sync/rules.py)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from posdomain.payloads import RefundCompleted, SaleVoided
from posdomain.refund_checks import SoldSale, check_refund, check_void
from posdomain.sale_checks import Context
from posdomain.tax import TaxResult, refund_tax
from posdomain.tax_wire import breakdown_json, line_taxes_json
from tests.posdomain.test_mixed_documents import COLA, CTX, NOW, SHIRT, line, sale

pytestmark = pytest.mark.req("FR-303")
D = Decimal
Change = Callable[[dict[str, Any]], None]


def refund_wire(result: TaxResult, products: dict[str, str]) -> dict[str, Any]:
    """The refund.completed payload the box sends for `result` (appliance/till/refunds.py
    `_payload`), paid out in cash."""
    lines = [
        {
            "line_no": n, "sale_line_no": int(ln.line_id), "product_id": products[ln.line_id],
            "sku": "S", "name": "N", "qty": str(-ln.qty), "line_total": str(ln.gross),
            "tax_class": ln.tax_class, "tax_rate": str(ln.rate), "tax": str(ln.tax),
            "taxes": line_taxes_json(ln, result.config),
        }
        for n, ln in enumerate(result.lines, start=1)
    ]  # fmt: skip
    return {
        "refund_id": "r-1", "receipt_no": 7, "sale_id": "s-1", "original_receipt_no": 1,
        "with_receipt": True, "cashier_id": "c", "approver_id": "m", "reason_code": "DEFECTIVE",
        "currency": "CAD", "exponent": 2, "lines": lines,
        "tax_total": str(result.tax_total), "total": str(result.total),
        "cash_rounding": str(result.cash_rounding), "payable": str(result.payable),
        "tax_breakdown": breakdown_json(result.breakdown),
        "tenders": [{"kind": "cash", "amount": str(result.payable)}],
        "completed_at": NOW.isoformat(),
    }  # fmt: skip


def _good() -> dict[str, Any]:
    """Two of six colas (GST + PST + container fee, exclusive) and the shirt (19 % inclusive)
    back: -23.53, paid out -23.55 after cash rounding."""
    priced = sale(line("1", COLA, "6", "BEV"), line("2", SHIRT, "1", "STD"))
    return refund_wire(refund_tax(priced.tax, {"1": D(2), "2": D(1)}), {"1": "cola", "2": "shirt"})


GOOD = _good()


def found(payload: dict[str, Any], ctx: Context = CTX) -> list[tuple[str, str]]:
    """(reason, rule) of every broken rule."""
    out = check_refund(RefundCompleted.model_validate(payload), ctx)
    assert all(isinstance(v.message, str) and v.message for v in out)  # shown beside the code
    return [(str(v.reason), v.rule) for v in out]


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


def _both(*changes: Change) -> Change:
    def apply(p: dict[str, Any]) -> None:
        for change in changes:
            change(p)

    return apply


CASES: dict[str, tuple[Change, list[tuple[str, str]]]] = {
    "qty not a number": (_line(0, qty="x"), [("INVALID_QUANTITY", "qty")]),
    "qty zero": (_line(0, qty="0"), [("INVALID_QUANTITY", "qty")]),
    "qty negative": (_line(0, qty="-2"), [("INVALID_QUANTITY", "qty")]),
    "positive line total": (_line(1, line_total="19.99"), [("INVALID_MONEY", "refund_line")]),
    "positive line tax": (_line(1, tax="3.19"), [("INVALID_MONEY", "refund_line")]),
    "a cent positive line total": (
        _line(1, line_total="0.01", tax="0.00"),
        [("INVALID_MONEY", "refund_line")],
    ),
    "a cent positive line tax": (_line(1, tax="0.01"), [("INVALID_MONEY", "refund_line")]),
    "tax beyond the line total": (
        _line(1, tax="-20.00"),
        [("INVALID_MONEY", "refund_line")],
    ),
    "bad line money": (_line(1, line_total="-19.999"), [("INVALID_MONEY", "money")]),
    "rate not a number": (_line(1, tax_rate="x"), [("TAX_MISMATCH", "rate")]),
    "line tax off (single rate)": (_line(1, tax="-3.25"), [("TAX_MISMATCH", "line_tax")]),
    "part off": (_part(0, "PST", tax="-0.25"), [("TAX_MISMATCH", "line_taxes")]),
    "parts off, their sum right": (
        _both(_part(0, "PST", tax="-0.31"), _part(0, "GST", tax="-0.05")),
        [("TAX_MISMATCH", "line_tax")],
    ),
    "total not the lines' sum": (
        _both(
            _top(total="-23.00", payable="-23.02"),
            _top(tenders=[{"kind": "cash", "amount": "-23.02"}]),
        ),
        [("TOTALS_MISMATCH", "total")],
    ),
    "positive total": (_top(total="23.53"), [("MALFORMED_MESSAGE", "refund_sign")]),
    "tax total not the lines' tax": (_top(tax_total="-3.70"), [("TAX_MISMATCH", "tax_total")]),
    "breakdown row off": (
        _row("STD", tax="-3.20", net="-16.79"),
        [("TAX_MISMATCH", "breakdown")],
    ),
    "payable not total + rounding": (
        _both(_top(payable="-23.50"), _top(tenders=[{"kind": "cash", "amount": "-23.50"}])),
        [("TOTALS_MISMATCH", "payable"), ("TENDER_MISMATCH", "tenders")],
    ),
    "rounding over half a coin": (
        _top(cash_rounding="-0.51"),
        [("TOTALS_MISMATCH", "cash_rounding")],
    ),
    "paid out less than the payable": (
        _top(tenders=[{"kind": "cash", "amount": "-23.50"}]),
        [("TENDER_MISMATCH", "tenders")],
    ),
    "paid out more than the payable": (
        _top(tenders=[{"kind": "cash", "amount": "-23.60"}]),
        [("TENDER_MISMATCH", "tenders")],
    ),
    "a positive tender": (
        _top(tenders=[{"kind": "cash", "amount": "23.55"}]),
        [("INVALID_MONEY", "tender_sign")],
    ),
    "unknown tender": (
        _top(tenders=[{"kind": "voucher", "amount": "-23.55"}]),
        [("UNKNOWN_TENDER", "tender_kind")],
    ),
    "card without its reference": (
        _top(tenders=[{"kind": "card", "amount": "-23.55"}]),
        [("VALIDATION_FAILED", "card_reference")],
    ),
    "line number twice": (_line(1, line_no=1), [("DUPLICATE_LINE_NO", "line_no")]),
    "other currency": (_top(currency="EUR"), [("CURRENCY_MISMATCH", "currency")]),
    "other exponent": (
        _top(exponent=3),
        [("CURRENCY_MISMATCH", "exponent")],
    ),
    "completed in the future": (
        _top(completed_at=(NOW + timedelta(days=2)).isoformat()),
        [("TIMESTAMP_OUT_OF_RANGE", "time")],
    ),
}


def test_a_refund_the_box_builds_from_its_sale_passes() -> None:
    assert GOOD["total"] == "-23.53"
    assert GOOD["payable"] == "-23.55"
    assert found(GOOD) == []


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_broken_rule_has_its_reason_and_rule(case: str) -> None:
    change, want = CASES[case]
    payload = copy.deepcopy(GOOD)
    change(payload)
    assert found(payload) == want


def test_a_broken_value_keeps_the_document_level_violations_before_it() -> None:
    payload = copy.deepcopy(GOOD)
    _both(_top(currency="EUR"), _line(0, qty="x"))(payload)
    assert found(payload) == [("CURRENCY_MISMATCH", "currency"), ("INVALID_QUANTITY", "qty")]
    positive = copy.deepcopy(GOOD)
    _both(_top(currency="EUR"), _top(total="1.00"))(positive)
    assert found(positive) == [
        ("CURRENCY_MISMATCH", "currency"),
        ("MALFORMED_MESSAGE", "refund_sign"),
    ]


def test_a_refund_of_nothing_but_rounding_is_not_positive() -> None:
    """A zero total is allowed through the sign rule (only a positive one is refused)."""
    payload = copy.deepcopy(GOOD)
    _both(_top(total="0.00"))(payload)
    assert ("MALFORMED_MESSAGE", "refund_sign") not in found(payload)


def test_without_a_payable_the_tenders_must_pay_out_total_plus_rounding() -> None:
    payload = {**copy.deepcopy(GOOD), "payable": None}
    assert found(payload) == []
    payload["cash_rounding"] = "0.00"
    assert found(payload) == [("TENDER_MISMATCH", "tenders")]


def test_card_and_points_pay_out_beside_cash() -> None:
    payload = copy.deepcopy(GOOD)
    payload["tenders"] = [
        {"kind": "card", "amount": "-20.00", "reference": "TRM-991"},
        {"kind": "points", "amount": "-3.55", "points": 355},
    ]
    assert found(payload) == []


def test_products_the_hub_does_not_know_may_come_back_by_weight() -> None:
    """A product not in the hub's catalog is read as weighed: a 3-decimal qty passes."""
    payload = copy.deepcopy(GOOD)
    payload["lines"][1].update(qty="1.5", product_id="gone")
    assert found(payload) == []
    by_item = Context(CTX.currency, CTX.exponent, CTX.earliest, CTX.latest, {"gone": "each"})
    assert found(payload, by_item) == [("INVALID_QUANTITY", "qty_unit")]
    weighed = Context(CTX.currency, CTX.exponent, CTX.earliest, CTX.latest, {"cola": "weight"})
    assert found(copy.deepcopy(payload), weighed) == []


UNITS = Context(CTX.currency, CTX.exponent, CTX.earliest, CTX.latest, {"cola": "each"})


def test_a_whole_quantity_of_a_product_sold_per_item_passes() -> None:
    assert found(GOOD, UNITS) == []
    payload = copy.deepcopy(GOOD)
    payload["lines"][0]["qty"] = "2.5"
    assert found(payload, UNITS) == [("INVALID_QUANTITY", "qty_unit")]


def _single(total: str, tax: str, rate: str, inclusive: bool | None) -> dict[str, Any]:
    """A one-line refund without tax parts (a stored sale the till rebuilds, FR-302)."""
    net = D(total) - D(tax)
    rows = (
        []
        if inclusive is None
        else [
            {"tax_class": "X", "name": "X", "rate": rate, "inclusive": inclusive,
             "net": str(net), "tax": tax, "gross": total}
        ]
    )  # fmt: skip
    return {
        **copy.deepcopy(GOOD),
        "lines": [
            {"line_no": 1, "product_id": "p", "qty": "1", "line_total": total,
             "tax_class": "X", "tax_rate": rate, "tax": tax, "taxes": []}
        ],
        "tax_total": tax, "total": total, "cash_rounding": "0.00", "payable": total,
        "tax_breakdown": rows, "tenders": [{"kind": "cash", "amount": total}],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("total", "tax", "ok", "rate"),
    [
        ("-10.70", "-0.70", True, "0.07"),  # exclusive 7 % of 10.00
        (
            "-10.72",
            "-0.72",
            True,
            "0.07",
        ),  # within 3 minor units: scaled rounding of a partial refund
        ("-10.70", "-0.72", True, "0.07"),  # inclusive 7 % of 10.70 is 0.70: 2 units off
        ("-10.70", "-0.73", False, "0.07"),  # 3 units off is too far
        ("-10.70", "-0.67", False, "0.07"),
        ("-10.74", "-0.74", False, "0.07"),
        ("-10.00", "-0.65", True, "0.07"),  # inclusive 7 % of 10.00 is 0.654
        ("-10.00", "-0.63", True, "0.07"),
        ("-10.00", "-0.62", False, "0.07"),
        ("-10.00", "0.00", False, "0.07"),
        ("-10.00", "-10.00", False, "0.07"),
        ("-10.00", "-10.00", False, "0.5"),  # 50 % of (total + tax) would be 10.00: not a rule
    ],
)
def test_a_line_without_parts_is_the_rates_tax_either_way(
    total: str, tax: str, ok: bool, rate: str
) -> None:
    want = [] if ok else [("TAX_MISMATCH", "line_tax")]
    assert found(_single(total, tax, rate, None)) == want


def test_a_zero_rated_line_refunds_no_tax() -> None:
    assert found(_single("-5.00", "0.00", "0", True)) == []
    assert found(_single("-5.00", "-0.02", "0", True)) == []
    assert found(_single("-5.00", "-0.03", "0", True)) == [("TAX_MISMATCH", "line_tax")]


def test_a_line_without_parts_passes_if_it_fits_the_inclusive_reading_alone() -> None:
    """At 50 %, 15.00 inclusive holds 5.00 tax; 5.02 is 2 units off inclusive, 3 exclusive."""
    assert found(_single("-15.00", "-5.02", "0.5", None)) == []
    assert found(_single("-15.00", "-5.03", "0.5", None)) == [("TAX_MISMATCH", "line_tax")]


def _two_halves(inclusive: bool | None) -> dict[str, Any]:
    """20.00 back of a class with two 50 % taxes included (10.00 net, 5.00 + 5.00), one tax
    2 minor units off: within the 3 units a partial refund may scale the rounding when read
    inclusive (base 20.00), 3 units off when read exclusive (base 20.00 - 10.02)."""
    parts = [
        {"code": "A", "rate": "0.5", "per_unit": None, "on": [], "tax": "-5.02"},
        {"code": "B", "rate": "0.5", "per_unit": None, "on": [], "tax": "-5.00"},
    ]
    rows = [
        {"tax_class": code, "name": code, "rate": "0.5", "per_unit": None,
         "inclusive": inclusive, "net": "-9.98", "tax": tax, "gross": str(D("-9.98") + D(tax))}
        for code, tax in (("A", "-5.02"), ("B", "-5.00"))
    ]  # fmt: skip
    return {
        **copy.deepcopy(GOOD),
        "lines": [
            {"line_no": 1, "product_id": "p", "qty": "1", "line_total": "-20.00",
             "tax_class": "HALF", "tax_rate": "1", "tax": "-10.02", "taxes": parts}
        ],
        "tax_total": "-10.02", "total": "-20.00", "cash_rounding": "0.00", "payable": "-20.00",
        "tax_breakdown": [] if inclusive is None else rows,
        "tenders": [{"kind": "cash", "amount": "-20.00"}],
    }  # fmt: skip


def test_multi_tax_lines_are_read_inclusive_or_exclusive_as_their_rows_say() -> None:
    assert found(_two_halves(True)) == []
    assert found(_two_halves(None)) == []  # no rows: its parts are read as inclusive
    assert found(_two_halves(False)) == [("TAX_MISMATCH", "line_tax")]


# --- post-voids --------------------------------------------------------------------------

VOID = {
    "sale_id": "s-1", "receipt_no": 12, "cashier_id": "c", "approver_id": "m",
    "reason_code": "WRONG_ITEM", "exponent": 2, "total": "23.55",
    "voided_at": NOW.isoformat(),
}  # fmt: skip
SOLD = SoldSale("box-1", 12, D("23.55"), voided=False)


def voids(
    sold: SoldSale | None, box_id: str = "box-1", ctx: Context = CTX, **fields: Any
) -> list[tuple[str, str]]:
    out = check_void(SaleVoided.model_validate({**VOID, **fields}), sold, box_id, ctx)
    assert all(isinstance(v.message, str) and v.message for v in out)
    return [(str(v.reason), v.rule) for v in out]


def test_a_void_of_a_stored_sale_of_the_same_box_passes() -> None:
    assert voids(SOLD) == []
    assert voids(SOLD, total="23.555") == [("INVALID_MONEY", "money")]


@pytest.mark.parametrize(
    ("sold", "box_id", "fields", "want"),
    [
        (None, "box-1", {}, [("VOID_MISMATCH", "void_target")]),
        (SoldSale("box-1", 12, D("23.55"), True), "box-1", {}, [("VOID_MISMATCH", "void_twice")]),
        (SOLD, "box-2", {}, [("VOID_MISMATCH", "void_facts")]),
        (SOLD, "box-1", {"receipt_no": 13}, [("VOID_MISMATCH", "void_facts")]),
        (SOLD, "box-1", {"total": "23.50"}, [("VOID_MISMATCH", "void_facts")]),
        (SOLD, "box-1", {"total": "x"}, [("INVALID_MONEY", "money")]),
        (None, "box-1", {"total": "x"}, [("INVALID_MONEY", "money")]),
    ],
    ids=[
        "no-sale",
        "voided-twice",
        "other-box",
        "other-receipt",
        "other-total",
        "bad-money",
        "bad-money-first",
    ],
)
def test_a_void_that_names_the_wrong_sale_is_refused(
    sold: SoldSale | None, box_id: str, fields: dict[str, Any], want: list[tuple[str, str]]
) -> None:
    assert voids(sold, box_id, **fields) == want


def test_a_refused_void_says_why() -> None:
    body = SaleVoided.model_validate({**VOID, "total": "x"})
    (bad,) = check_void(body, SOLD, "box-1", CTX)
    assert bad.message.startswith("total: ")
    body = SaleVoided.model_validate(VOID)
    twice = SoldSale("box-1", 12, D("23.55"), True)
    other = SoldSale("box-2", 12, D("23.55"), False)
    messages = [check_void(body, s, "box-1", CTX)[0].message for s in (None, twice, other)]
    assert messages == [
        "no such sale on the hub",
        "the sale is already voided",
        "receipt, box or total differ",
    ]


def test_a_void_keeps_its_window_and_exponent_violations() -> None:
    late = (NOW + timedelta(days=2)).isoformat()
    assert voids(SOLD, voided_at=late) == [("TIMESTAMP_OUT_OF_RANGE", "time")]
    assert voids(None, voided_at=late) == [
        ("TIMESTAMP_OUT_OF_RANGE", "time"),
        ("VOID_MISMATCH", "void_target"),
    ]
    twice = SoldSale("box-1", 12, D("23.55"), True)
    assert voids(twice, voided_at=late) == [
        ("TIMESTAMP_OUT_OF_RANGE", "time"),
        ("VOID_MISMATCH", "void_twice"),
    ]
    assert voids(SOLD, "box-2", voided_at=late) == [
        ("TIMESTAMP_OUT_OF_RANGE", "time"),
        ("VOID_MISMATCH", "void_facts"),
    ]
    assert voids(SOLD, total="x", voided_at=late) == [
        ("TIMESTAMP_OUT_OF_RANGE", "time"),
        ("INVALID_MONEY", "money"),
    ]
    other = Context("CAD", 3, CTX.earliest, CTX.latest)
    assert voids(SoldSale("box-1", 12, D("23.550"), False), ctx=other, exponent=3,
                 total="23.550") == []  # fmt: skip
    assert voids(SOLD, ctx=other) == [("CURRENCY_MISMATCH", "exponent")]


def test_a_line_given_back_for_nothing_is_not_positive() -> None:
    """A zero line (a free item returned) passes the sign rule; only a positive one fails."""
    payload = copy.deepcopy(GOOD)
    payload["lines"].append(
        {"line_no": 3, "product_id": "bag", "qty": "1", "line_total": "0.00",
         "tax_class": "STD", "tax_rate": "0.19", "tax": "0.00", "taxes": []}
    )  # fmt: skip
    assert found(payload) == []


def _messages(payload: dict[str, Any]) -> list[str]:
    refund = RefundCompleted.model_validate(payload)
    return [v.message for v in check_refund(refund, CTX)]


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (_line(1, qty="x"), "line 2 qty"),
        (_line(1, line_total="-1.234"), "line_total: "),
        (_line(1, tax="-0.001"), "tax: "),
        (_line(1, tax_rate="x"), "line 2 tax_rate"),
        (_line(1, line_total="1.00"), "line 2: sign"),
        (_part(0, "PST", tax="-0.25"), "line 1: "),
        (_top(total="-23.531"), "total: "),
        (_top(tax_total="-3.751"), "tax_total: "),
        (_top(payable="-23.551"), "payable: "),
    ],
)
def test_a_refused_line_says_where_in_its_message(change: Change, where: str) -> None:
    """Reconciliation shows the message beside the reason: it names the line and field."""
    payload = copy.deepcopy(GOOD)
    change(payload)
    (message,) = _messages(payload)
    assert message.startswith(where)


def test_a_fractional_quantity_message_names_line_and_quantity() -> None:
    payload = copy.deepcopy(GOOD)
    payload["lines"][0]["qty"] = "2.5"
    refund = RefundCompleted.model_validate(payload)
    assert [v.message for v in check_refund(refund, UNITS)] == ["line 1: 2.5"]
