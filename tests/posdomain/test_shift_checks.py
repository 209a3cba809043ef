"""The hub's rules for an X report snapshot (`shift.snapshot`, REP-T-03, FR-303): one that
adds up passes, each broken formula is refused with its stable reason code."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError as PydanticValidationError

from posdomain.payloads import LineVoided, NoSaleOpened, ShiftSnapshot
from posdomain.sale_checks import Context
from posdomain.shift_checks import check_line_void, check_no_sale, check_snapshot

pytestmark = pytest.mark.req("FR-303", "FR-600")
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
CTX = Context("EUR", 2, NOW - timedelta(days=1), NOW + timedelta(days=1))


def good() -> dict[str, Any]:
    """A busy shift's X: float 100, cash sales 9.92, a cash refund 1.99, change 7.08, a
    paid-out 5, a drop 50, rounding -0.02 -> expected 45.83; card 4.00."""
    return {
        "kind": "X", "shift_id": "sh-1", "shift_kind": "counted", "till": "Till 1",
        "cashier_id": "u-1", "opened_at": (NOW - timedelta(hours=2)).isoformat(),
        "as_of": NOW.isoformat(), "currency": "EUR", "exponent": 2,
        "cash": {"opening_float": "100.00", "cash_sales": "9.92", "cash_refunds": "1.99",
                 "change_given": "7.08", "paid_outs": "5.00", "drops": "50.00",
                 "cash_rounding": "-0.02", "expected": "45.83"},
        "tenders": [
            {"kind": "cash", "opening_float": "100.00", "expected": "45.83", "counted": None,
             "difference": None},
            {"kind": "card", "opening_float": "0.00", "expected": "4.00", "counted": None,
             "difference": None},
        ],
        "sales": {"count": 3, "total": "13.92"}, "refunds": {"count": 1, "total": "1.99"},
        "voids": {"count": 1, "total": "2.50"}, "no_sale_opens": 1, "overrides": 3,
        "refused_sales": 0,
        "tax": [{"tax_class": "STD", "rate": "0.20", "net": "9.94", "tax": "1.99",
                 "gross": "11.93"}],
        "net_total": "11.93", "net_total_minor": 1193, "grand_total": "11.93",
    }  # fmt: skip


def reasons(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (str(v.reason), v.rule) for v in check_snapshot(ShiftSnapshot.model_validate(body), CTX)
    ]


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(body: dict[str, Any]) -> None:
        *head, last = path.split(".")
        node: Any = body
        for name in head:
            node = node[int(name)] if name.isdigit() else node[name]
        node[last] = value

    return apply


CASES = {
    "expected cash off": (_set("cash.expected", "45.84"), ("TOTALS_MISMATCH", "expected_cash")),
    "cash row off": (_set("tenders.0.expected", "45.80"), ("TENDER_MISMATCH", "cash_row")),
    "drop negative": (_set("cash.drops", "-50.00"), ("INVALID_MONEY", "drawer_sign")),
    "net total off": (_set("net_total", "12.00"), ("TOTALS_MISMATCH", "net_total")),
    "minor off": (_set("net_total_minor", 1194), ("TOTALS_MISMATCH", "net_total_minor")),
    "tax row off": (_set("tax.0.tax", "2.00"), ("TAX_MISMATCH", "tax_row")),
    "unknown tender": (_set("tenders.1.kind", "voucher"), ("UNKNOWN_TENDER", "tender_rows")),
    "bad money": (_set("cash.cash_sales", "9.9x"), ("INVALID_MONEY", "money")),
    "other currency": (_set("currency", "USD"), ("CURRENCY_MISMATCH", "currency")),
    "backwards": (
        _set("opened_at", (NOW + timedelta(hours=1)).isoformat()),
        ("TIMESTAMP_OUT_OF_RANGE", "as_of"),
    ),
    "far future": (
        _set("as_of", (NOW + timedelta(days=9)).isoformat()),
        ("TIMESTAMP_OUT_OF_RANGE", "time"),
    ),
}


def test_an_x_report_that_adds_up_passes() -> None:
    assert reasons(good()) == []


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_broken_formula_has_its_reason(case: str) -> None:
    change, want = CASES[case]
    body = copy.deepcopy(good())
    change(body)
    assert want in reasons(body)


def test_a_counted_x_report_is_malformed() -> None:
    body = good()
    body["tenders"][0]["counted"] = "45.83"  # an X report counts nothing
    with pytest.raises(PydanticValidationError, match="counted"):
        ShiftSnapshot.model_validate(body)


def line_void() -> dict[str, Any]:
    return {
        "line_void_id": "lv-1", "basket_id": "7", "line_no": 2, "voided_lines": [2, 3],
        "product_id": "p-1", "sku": "S1", "name": "Cola", "qty": "2", "value": "3.23",
        "exponent": 2, "cashier_id": "u-1", "shift_id": "sh-1", "voided_at": NOW.isoformat(),
    }  # fmt: skip


def void_reasons(body: dict[str, Any]) -> list[tuple[str, str]]:
    found = check_line_void(LineVoided.model_validate(body), CTX)
    return [(str(v.reason), v.rule) for v in found]


@pytest.mark.parametrize(
    ("change", "want"),
    [
        ({}, []),
        ({"value": "-0.25"}, []),  # a returned empty taken off the basket
        ({"qty": "0"}, [("INVALID_QUANTITY", "qty")]),
        ({"qty": "1.0005"}, [("INVALID_QUANTITY", "qty")]),
        ({"value": "1.234"}, [("INVALID_MONEY", "money")]),
        ({"exponent": 3}, [("CURRENCY_MISMATCH", "exponent")]),
        ({"voided_lines": [3]}, [("LINE_ARITHMETIC", "voided_lines")]),
        ({"voided_at": "2019-01-01T00:00:00+00:00"}, [("TIMESTAMP_OUT_OF_RANGE", "time")]),
    ],
)
def test_line_void_rules(change: dict[str, Any], want: list[tuple[str, str]]) -> None:
    assert void_reasons({**line_void(), **change}) == want


def test_no_sale_rules() -> None:
    base = {"no_sale_id": "nosale:1", "cashier_id": "u-1", "opened_at": NOW.isoformat()}
    assert check_no_sale(NoSaleOpened.model_validate(base), CTX) == []
    odd = NoSaleOpened.model_validate({**base, "reason_code": "BECAUSE"})
    assert [str(v.reason) for v in check_no_sale(odd, CTX)] == ["VALIDATION_FAILED"]
