"""The hub's rules for a bank deposit (`drawer.bank_deposit`, REP-T-05, FR-303): a sane one
passes, each broken rule is named with its stable reason code and what it found."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from posdomain.payloads import BankDeposit
from posdomain.sale_checks import Context
from posdomain.shift_checks import MAX_DEPOSIT_MINOR, check_bank_deposit

pytestmark = pytest.mark.req("FR-303", "FR-600")
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
CTX = Context("EUR", 2, NOW - timedelta(days=1), NOW + timedelta(days=1))


def deposit(**over: Any) -> BankDeposit:
    body: dict[str, Any] = {
        "deposit_id": "dep-1", "amount": "120.50", "currency": "EUR", "exponent": 2,
        "slip_no": "BAG-0042", "business_day": "2026-06-01", "cashier_id": "u-1",
        "approver_id": "u-2", "reason_code": "BANK_DEPOSIT", "shift_id": "sh-1",
        "deposited_at": NOW.isoformat(),
    }  # fmt: skip
    body.update(over)
    return BankDeposit.model_validate(body)


def found(body: BankDeposit, ctx: Context = CTX) -> list[dict[str, str]]:
    return [v.as_dict() for v in check_bank_deposit(body, ctx)]


def rule(reason: str, name: str, message: str) -> dict[str, str]:
    return {"reason": reason, "rule": name, "message": message}


@pytest.mark.parametrize(
    "over",
    [
        {},
        {"reason_code": None},  # from the safe, no override asked
        {"reason_code": "OTHER", "shift_id": None},
        {"amount": "0.01"},  # the smallest deposit
        {"business_day": "2026-05-31"},  # yesterday's takings (or a branch west of UTC)
        {"business_day": "2026-05-30"},  # yesterday's, booked the next morning west of UTC
        {"business_day": "2026-06-02"},  # a branch east of UTC, already tomorrow there
    ],
)
def test_a_sane_deposit_passes(over: dict[str, Any]) -> None:
    assert found(deposit(**over)) == []


def test_the_largest_deposit_one_event_may_carry_passes() -> None:
    assert MAX_DEPOSIT_MINOR == 10**12
    assert found(deposit(amount="10000000000.00")) == []
    assert found(deposit(amount="1000000000000", currency="JPY", exponent=0),
                 Context("JPY", 0, CTX.earliest, CTX.latest)) == []  # fmt: skip


@pytest.mark.parametrize(
    ("over", "want"),
    [
        ({"amount": "0.00"}, [rule("INVALID_MONEY", "deposit_range", "amount 0.00 out of range")]),
        (
            {"amount": "-5.00"},
            [rule("INVALID_MONEY", "deposit_range", "amount -5.00 out of range")],
        ),
        (
            {"amount": "1.005"},
            [rule("INVALID_MONEY", "money", "amount: amount has more than 2 decimals")],
        ),
        (
            {"amount": "10000000000.01"},
            [rule("INVALID_MONEY", "money", "amount: amount is out of range")],
        ),
        ({"currency": "USD"}, [rule("CURRENCY_MISMATCH", "currency", "USD/2 is not the tenant's")]),
        (
            {"exponent": 3, "amount": "1.000"},
            [rule("CURRENCY_MISMATCH", "currency", "EUR/3 is not the tenant's")],
        ),
        (
            {"business_day": "2026-05-29"},
            [
                rule(
                    "DEPOSIT_DAY_OUT_OF_RANGE",
                    "business_day",
                    "business day 2026-05-29 is not the day of its time (2026-06-01)",
                )
            ],
        ),
        (
            {"business_day": "2026-06-03"},
            [
                rule(
                    "DEPOSIT_DAY_OUT_OF_RANGE",
                    "business_day",
                    "business day 2026-06-03 is not the day of its time (2026-06-01)",
                )
            ],
        ),
        (
            {"business_day": "2026-02-30"},
            [rule("DEPOSIT_DAY_OUT_OF_RANGE", "business_day", "not a date")],
        ),
        (
            {"reason_code": "BRIBE"},
            [rule("VALIDATION_FAILED", "reason_code", "unknown 'BRIBE'")],
        ),
        (
            {"deposited_at": "2026-06-03T12:00:01+00:00", "business_day": "2026-06-03"},
            [
                rule(
                    "TIMESTAMP_OUT_OF_RANGE",
                    "time",
                    "2026-06-03T12:00:01+00:00 is outside "
                    "2026-05-31T12:00:00+00:00 .. 2026-06-02T12:00:00+00:00",
                )
            ],
        ),
    ],
)
def test_each_broken_rule_says_what_it_found(
    over: dict[str, Any], want: list[dict[str, str]]
) -> None:
    assert found(deposit(**over)) == want


def test_a_deposit_in_another_currency_is_refused_before_anything_else() -> None:
    # its amount, day and time mean nothing in the tenant's money: one answer only
    odd = deposit(currency="USD", amount="abc", business_day="2020-01-01", reason_code="X")
    assert found(odd) == [rule("CURRENCY_MISMATCH", "currency", "USD/2 is not the tenant's")]
    assert found(odd, Context(None, None, CTX.earliest, CTX.latest)) == [
        rule(
            "DEPOSIT_DAY_OUT_OF_RANGE",
            "business_day",
            "business day 2020-01-01 is not the day of its time (2026-06-01)",
        ),
        rule("VALIDATION_FAILED", "reason_code", "unknown 'X'"),
        rule("INVALID_MONEY", "money", "amount: amount is not a number: 'abc'"),
    ]


def test_every_broken_rule_is_named_at_once() -> None:
    got = found(deposit(amount="0.00", business_day="2026-05-01", reason_code="BRIBE"))
    assert [(v["reason"], v["rule"]) for v in got] == [
        ("DEPOSIT_DAY_OUT_OF_RANGE", "business_day"),
        ("VALIDATION_FAILED", "reason_code"),
        ("INVALID_MONEY", "deposit_range"),
    ]
