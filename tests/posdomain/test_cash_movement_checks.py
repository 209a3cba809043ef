"""The hub's rules for a drop or paid-out (`drawer.cash_movement`, REP-T-05, FR-303): a sane
one passes, each broken rule is named with its stable reason code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError as PydanticValidationError

from posdomain.payloads import CashMovement
from posdomain.sale_checks import Context
from posdomain.shift_checks import check_cash_movement

pytestmark = pytest.mark.req("FR-303", "FR-600")
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
CTX = Context("EUR", 2, NOW - timedelta(days=1), NOW + timedelta(days=1))


def move(**over: Any) -> CashMovement:
    body: dict[str, Any] = {
        "movement_id": "mv-1", "kind": "paid_out", "amount": "12.40", "currency": "EUR",
        "exponent": 2, "reason_code": "SUPPLIER_PAYMENT", "shift_id": "sh-1",
        "cashier_id": "u-1", "business_day": "2026-06-01", "note": "milkman",
        "moved_at": NOW.isoformat(),
    }  # fmt: skip
    body.update(over)
    return CashMovement.model_validate(body)


def reasons(body: CashMovement) -> list[str]:
    return [v.reason.value for v in check_cash_movement(body, CTX)]


def test_a_sane_paid_out_and_drop_pass():
    assert reasons(move()) == []
    assert reasons(move(kind="drop", reason_code=None, amount="200.00")) == []
    assert reasons(move(kind="drop", reason_code="SAFE")) == []  # a drop needs no reason
    # the branch's local date may be a day either side of the UTC date
    assert reasons(move(business_day="2026-05-31")) == []
    assert reasons(move(business_day="2026-06-02")) == []


@pytest.mark.parametrize(
    ("over", "reason"),
    [
        ({"reason_code": None}, "REASON_REQUIRED"),  # a paid-out says why
        ({"reason_code": "BRIBE"}, "REASON_REQUIRED"),
        ({"amount": "0.00"}, "INVALID_MONEY"),
        ({"amount": "-5.00"}, "INVALID_MONEY"),
        ({"amount": "1.005"}, "INVALID_MONEY"),
        ({"amount": "99999999999999.00"}, "INVALID_MONEY"),
        ({"currency": "USD"}, "CURRENCY_MISMATCH"),
        ({"exponent": 3, "amount": "12.400"}, "CURRENCY_MISMATCH"),
        ({"business_day": "2026-05-29"}, "DEPOSIT_DAY_OUT_OF_RANGE"),
        ({"business_day": "2026-06-03"}, "DEPOSIT_DAY_OUT_OF_RANGE"),
        ({"business_day": "2026-02-30"}, "DEPOSIT_DAY_OUT_OF_RANGE"),
        (
            {"moved_at": "2001-01-01T00:00:00+00:00", "business_day": "2001-01-01"},
            "TIMESTAMP_OUT_OF_RANGE",
        ),
    ],
)
def test_each_broken_rule_has_its_reason(over, reason):
    assert reasons(move(**over)) == [reason]


@pytest.mark.parametrize(
    "over",
    [{"kind": "refund"}, {"amount": 12.4}, {"shift_id": None}, {"business_day": "1.6.2026"}],
)
def test_a_malformed_movement_does_not_parse(over):
    with pytest.raises(PydanticValidationError):
        move(**over)


def found(body: CashMovement) -> list[dict[str, str]]:
    return [v.as_dict() for v in check_cash_movement(body, CTX)]


def test_the_smallest_and_the_largest_movement_pass():
    assert reasons(move(amount="0.01")) == []
    assert reasons(move(kind="drop", reason_code=None, amount="10000000000.00")) == []


def test_a_movement_belongs_to_the_day_of_its_time_not_the_day_before_yesterday():
    # unlike a bank deposit, nothing is booked the next morning: one day either side only
    assert found(move(business_day="2026-05-30")) == [
        {
            "reason": "DEPOSIT_DAY_OUT_OF_RANGE",
            "rule": "business_day",
            "message": "business day 2026-05-30 is not the day of its time (2026-06-01)",
        }
    ]


@pytest.mark.parametrize(
    ("over", "want"),
    [
        (
            {"reason_code": None},
            ("REASON_REQUIRED", "reason_code", "a paid-out needs a reason code"),
        ),
        ({"amount": "0.00"}, ("INVALID_MONEY", "amount", "amount 0.00 out of range")),
        ({"amount": "-5.00"}, ("INVALID_MONEY", "amount", "amount -5.00 out of range")),
        ({"amount": "5.0x"}, ("INVALID_MONEY", "money", "amount: amount is not a number: '5.0x'")),
        ({"currency": "USD"}, ("CURRENCY_MISMATCH", "currency", "USD/2 is not the tenant's")),
        (
            {"business_day": "2026-02-30"},
            ("DEPOSIT_DAY_OUT_OF_RANGE", "business_day", "not a date"),
        ),
    ],
)
def test_each_broken_rule_says_what_it_found(over, want):
    reason, rule, message = want
    assert found(move(**over)) == [{"reason": reason, "rule": rule, "message": message}]


def test_an_unreadable_amount_is_named_beside_the_other_broken_rules():
    got = found(move(amount="x", reason_code=None, business_day="2026-05-01"))
    assert [(v["reason"], v["rule"]) for v in got] == [
        ("DEPOSIT_DAY_OUT_OF_RANGE", "business_day"),
        ("REASON_REQUIRED", "reason_code"),
        ("INVALID_MONEY", "money"),
    ]
