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


def found(body: dict[str, Any], ctx: Context = CTX) -> list[dict[str, str]]:
    """Every broken rule of an X report in full: what the reconciliation shows."""
    return [v.as_dict() for v in check_snapshot(ShiftSnapshot.model_validate(body), ctx)]


def changed(*changes: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    body = copy.deepcopy(good())
    for change in changes:
        change(body)
    return body


def rule(reason: str, name: str, message: str) -> dict[str, str]:
    return {"reason": reason, "rule": name, "message": message}


def empty_shift() -> dict[str, Any]:
    """An X report printed right after opening: the float, nothing sold."""
    body = good()
    body["cash"] = {name: "0.00" for name in body["cash"]} | {
        "opening_float": "100.00", "expected": "100.00"
    }  # fmt: skip
    body["tenders"] = [{"kind": "cash", "opening_float": "100.00", "expected": "100.00"}]
    body["sales"] = body["refunds"] = body["voids"] = {"count": 0, "total": "0.00"}
    body["tax"], body["net_total"], body["net_total_minor"] = [], "0.00", 0
    body["as_of"] = body["opened_at"]
    return body


FULL = {
    "expected cash off": (
        [_set("cash.expected", "45.84")],
        [
            rule("TOTALS_MISMATCH", "expected_cash", "expected 45.84 != 45.83"),
            rule("TENDER_MISMATCH", "cash_row", "cash row expected 45.83 != cash.expected 45.84"),
        ],
    ),
    "cash row off": (
        [_set("tenders.0.expected", "45.80")],
        [rule("TENDER_MISMATCH", "cash_row", "cash row expected 45.80 != cash.expected 45.83")],
    ),
    "cash row float off": (
        [_set("tenders.0.opening_float", "90.00")],
        [
            rule(
                "TENDER_MISMATCH",
                "cash_row",
                "cash row opening float 90.00 != cash.opening_float 100.00",
            )
        ],
    ),
    "drop negative": (
        [_set("cash.drops", "-50.00")],
        [
            rule("INVALID_MONEY", "drawer_sign", "cash.drops is negative"),
            rule("TOTALS_MISMATCH", "expected_cash", "expected 45.83 != 145.83"),
        ],
    ),
    "deposit not taken off": (
        [_set("cash.deposits", "20.00")],
        [rule("TOTALS_MISMATCH", "expected_cash", "expected 45.83 != 25.83")],
    ),
    "unknown tender": (
        [_set("tenders.1.kind", "voucher")],
        [rule("UNKNOWN_TENDER", "tender_rows", "tender rows ['cash', 'voucher']")],
    ),
    "card twice": (
        [_set("tenders", [*good()["tenders"], good()["tenders"][1]])],
        [rule("UNKNOWN_TENDER", "tender_rows", "tender rows ['cash', 'card', 'card']")],
    ),
    "net total off": (
        [_set("net_total", "12.00"), _set("net_total_minor", 1200)],
        [
            rule("TOTALS_MISMATCH", "net_total", "net total 12.00 != 13.92 - 1.99"),
            rule("TAX_MISMATCH", "tax_rows", "Σ gross 11.93 != 12.00"),
        ],
    ),
    "minor off": (
        [_set("net_total_minor", 1194)],
        [rule("TOTALS_MISMATCH", "net_total_minor", "net_total_minor != net_total")],
    ),
    "tax row off": (
        [_set("tax.0.tax", "2.00")],
        [rule("TAX_MISMATCH", "tax_row", "STD 0.20: 9.94 + 2.00 != 11.93")],
    ),
    "voids negative": (
        [_set("voids.total", "-2.50")],
        [rule("INVALID_MONEY", "count_sign", "a total is negative")],
    ),
    "other currency": (
        [_set("currency", "USD"), _set("as_of", "2001-01-01T00:00:00+00:00")],
        [rule("CURRENCY_MISMATCH", "currency", "USD/2 is not the tenant's")],  # nothing more
    ),
    "other exponent": (
        [_set("exponent", 3)],
        [rule("CURRENCY_MISMATCH", "currency", "EUR/3 is not the tenant's")],
    ),
    "backwards": (
        [_set("opened_at", (NOW + timedelta(hours=1)).isoformat())],
        [rule("TIMESTAMP_OUT_OF_RANGE", "as_of", "as_of before opened_at")],
    ),
    "far future and backwards": (
        [_set("opened_at", (NOW + timedelta(days=9)).isoformat())],
        [
            rule(
                "TIMESTAMP_OUT_OF_RANGE",
                "time",
                "2026-06-10T12:00:00+00:00 is outside "
                "2026-05-31T12:00:00+00:00 .. 2026-06-02T12:00:00+00:00",
            ),
            rule("TIMESTAMP_OUT_OF_RANGE", "as_of", "as_of before opened_at"),
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(FULL))
def test_each_broken_rule_says_what_it_found(case: str) -> None:
    changes, want = FULL[case]
    assert found(changed(*changes)) == want


@pytest.mark.parametrize("total", ["sales.total", "refunds.total"])
def test_a_negative_count_total_is_refused(total: str) -> None:
    got = found(changed(_set(total, "-1.00")))
    assert rule("INVALID_MONEY", "count_sign", "a total is negative") in got


MONEY_FIELDS = {
    **{f"cash.{name}": f"cash.{name}" for name in good()["cash"]},
    "cash.deposits": "cash.deposits",
    "tenders.0.expected": "tenders.cash.expected",
    "tenders.1.expected": "tenders.card.expected",
    "tenders.0.opening_float": "tenders.cash.opening_float",
    "sales.total": "sales.total",
    "refunds.total": "refunds.total",
    "voids.total": "voids.total",
    "net_total": "net_total",
    "tax.0.net": "tax.net",
    "tax.0.tax": "tax.tax",
    "tax.0.gross": "tax.gross",
}


@pytest.mark.parametrize("path", sorted(MONEY_FIELDS))
def test_unreadable_money_names_its_field(path: str) -> None:
    name = MONEY_FIELDS[path]
    assert found(changed(_set(path, "9.9x"))) == [
        rule("INVALID_MONEY", "money", f"{name}: {name} is not a number: '9.9x'")
    ]


def test_a_shift_with_nothing_sold_yet_adds_up() -> None:
    # zero totals are not negative, an X printed at the opening instant is not backwards
    assert found(empty_shift()) == []


def test_a_bank_deposit_from_the_drawer_lowers_the_expected_cash() -> None:
    body = changed(
        _set("cash.deposits", "20.00"),
        _set("cash.expected", "25.83"),
        _set("tenders.0.expected", "25.83"),
    )
    assert found(body) == []


def test_several_tax_rows_add_up_to_the_net_total() -> None:
    rows = [
        {"tax_class": "STD", "rate": "0.20", "net": "4.97", "tax": "0.99", "gross": "5.96"},
        {"tax_class": "RED", "rate": "0.10", "net": "5.43", "tax": "0.54", "gross": "5.97"},
    ]
    assert found(changed(_set("tax", rows))) == []
    rows[1]["gross"], rows[1]["net"] = "5.98", "5.44"
    assert found(changed(_set("tax", rows))) == [
        rule("TAX_MISMATCH", "tax_rows", "Σ gross 11.94 != 11.93")
    ]


def three_decimals() -> dict[str, Any]:
    """A shift in a 3-decimal currency: 100.000 float, one cash sale of 9.925."""
    body = empty_shift()
    body["currency"], body["exponent"] = "KWD", 3
    body["cash"] |= {"opening_float": "100.000", "cash_sales": "9.925", "expected": "109.925"}
    body["tenders"] = [{"kind": "cash", "opening_float": "100.000", "expected": "109.925"}]
    body["sales"] = {"count": 1, "total": "9.925"}
    body["net_total"], body["net_total_minor"] = "9.925", 9925
    return body


def test_the_snapshots_exponent_reads_its_money_or_else_the_tenants() -> None:
    anyone = Context(None, None, CTX.earliest, CTX.latest)
    assert found(three_decimals(), anyone) == []
    kwd = Context("KWD", 3, CTX.earliest, CTX.latest)
    old_box = three_decimals() | {"exponent": None}  # a box before the exponent was sent
    assert found(old_box, kwd) == []
    assert found(changed(_set("exponent", None))) == []
    # neither the snapshot nor the tenant says: cents
    assert found(old_box, anyone) == [
        rule(
            "INVALID_MONEY",
            "money",
            "cash.cash_sales: cash.cash_sales has more than 2 decimals",
        )
    ]


def test_an_old_boxs_snapshot_in_a_zero_decimal_currency_is_read_in_whole_units() -> None:
    # fails on the old `ctx.exponent or 2`: a JPY tenant's exponent 0 was read as 2
    body = empty_shift() | {"currency": "JPY", "exponent": None}
    body["cash"] |= {"opening_float": "10000", "cash_sales": "1500", "expected": "11500"}
    body["tenders"] = [{"kind": "cash", "opening_float": "10000", "expected": "11500"}]
    body["sales"] = {"count": 1, "total": "1500"}
    body["net_total"], body["net_total_minor"] = "1500", 1500
    jpy = Context("JPY", 0, CTX.earliest, CTX.latest)
    assert found(body, jpy) == []
    body["sales"]["total"] = body["net_total"] = "1500.5"
    assert [v["reason"] for v in found(body, jpy)] == ["INVALID_MONEY"]


def void_found(change: dict[str, Any]) -> list[dict[str, str]]:
    body = LineVoided.model_validate({**line_void(), **change})
    return [v.as_dict() for v in check_line_void(body, CTX)]


@pytest.mark.parametrize(
    ("change", "want"),
    [
        ({"exponent": 3}, rule("CURRENCY_MISMATCH", "exponent", "exponent 3")),
        ({"voided_lines": [3]}, rule("LINE_ARITHMETIC", "voided_lines", "line 2 not listed")),
        ({"qty": "two"}, rule("INVALID_QUANTITY", "qty", "qty is not a number")),
        (
            {"value": "3.2x"},
            rule("INVALID_MONEY", "money", "value: value is not a number: '3.2x'"),
        ),
    ],
)
def test_a_line_voids_broken_rule_says_what_it_found(
    change: dict[str, Any], want: dict[str, str]
) -> None:
    assert void_found(change) == [want]


def test_a_no_sale_with_an_unknown_reason_names_it() -> None:
    base = {"no_sale_id": "nosale:1", "cashier_id": "u-1", "opened_at": NOW.isoformat()}
    for code in ("TILL_CHECK", "OTHER"):
        assert check_no_sale(NoSaleOpened.model_validate({**base, "reason_code": code}), CTX) == []
    odd = NoSaleOpened.model_validate({**base, "reason_code": "BECAUSE"})
    assert [v.as_dict() for v in check_no_sale(odd, CTX)] == [
        rule("VALIDATION_FAILED", "reason_code", "unknown 'BECAUSE'")
    ]
    late = NoSaleOpened.model_validate({**base, "opened_at": "2001-01-01T00:00:00+00:00"})
    assert [v.rule for v in check_no_sale(late, CTX)] == ["time"]


def test_the_cash_row_is_checked_wherever_it_stands() -> None:
    body = changed(_set("tenders.0.expected", "45.80"), _set("tenders.0.opening_float", "90.00"))
    body["tenders"].reverse()  # card first
    assert found(body) == [
        rule("TENDER_MISMATCH", "cash_row", "cash row expected 45.80 != cash.expected 45.83"),
        rule(
            "TENDER_MISMATCH",
            "cash_row",
            "cash row opening float 90.00 != cash.opening_float 100.00",
        ),
    ]


def test_an_old_boxs_snapshot_in_another_currency_is_refused_in_the_tenants_exponent() -> None:
    body = changed(_set("currency", "USD"), _set("exponent", None))
    assert found(body) == [rule("CURRENCY_MISMATCH", "currency", "USD/2 is not the tenant's")]
