"""Loyalty engine: earn with multipliers and exclusions, redemption rules, proportional
reversal, FIFO expiry that never collapses a balance, tiers (FR-401, FR-402)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posdomain.errors import Reason, ValidationError
from posdomain.loyalty import (
    EarnLine,
    Movement,
    add_months,
    check_redemption,
    earn,
    expiring_points,
    max_redeemable,
    open_lots,
    parse_rules,
    redemption_value_minor,
    refund_reversal,
    require_points,
    tier_for,
)

pytestmark = pytest.mark.req("FR-401")
D = Decimal
RULES_BODY = {
    "earn": {
        "points_per_unit": "1",
        "basis": "net",
        "category_multipliers": {"PRODUCE": "2"},
        "excluded_categories": ["TOBACCO"],
        "excluded_tax_classes": ["ZERO"],
        "exclude_deposits": True,
    },
    "redeem": {"points_per_unit": "100", "min_balance": 500, "max_share": "0.5"},
    "tiers": {
        "basis": "spend",
        "window_days": 365,
        "levels": [
            {"name": "SILVER", "threshold": "500", "multiplier": "1.25"},
            {"name": "GOLD", "threshold": "2000", "multiplier": "1.5"},
        ],
    },
    "expiry": {"months": 12},
}
RULES = parse_rules(RULES_BODY, version=3)


def line(no: int, total: str, tax: str = "0", **kw: object) -> EarnLine:
    return EarnLine(
        no,
        D(total),
        D(tax),
        str(kw.get("tax_class", "STD")),
        kw.get("category"),
        bool(kw.get("is_deposit", False)),
    )  # type: ignore[arg-type]


def test_earn_on_net_with_category_and_tier_multipliers_and_exclusions() -> None:
    lines = [
        line(1, "12.00", "2.00"),  # net 10 -> 10
        line(2, "5.25", "0.25", category="PRODUCE"),  # net 5 x2 -> 10
        line(3, "8.00", "1.33", category="TOBACCO"),  # excluded category
        line(4, "0.25", is_deposit=True),  # deposit
        line(5, "3.00", tax_class="ZERO"),  # excluded tax class
    ]
    assert earn(lines, RULES).total == 20
    gold = earn(lines, RULES, "GOLD")
    assert gold.total == 30
    assert gold.per_line == {1: 15, 2: 15}
    assert earn(lines, RULES, "UNKNOWN").total == 20  # a tier the rules do not name: x1


def test_small_lines_earn_together_not_each_rounded_down() -> None:
    lines = [line(n, "0.99") for n in range(1, 21)]  # 20 x 0.99 = 19.80
    result = earn(lines, RULES)
    assert result.total == 19
    assert sum(result.per_line.values()) == 19
    assert max(result.per_line.values()) == 1


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 100_000),
            st.integers(0, 2000),
            st.sampled_from([None, "PRODUCE", "TOBACCO", "DAIRY"]),
        ),
        min_size=1,
        max_size=25,
    ),
    st.sampled_from([None, "SILVER", "GOLD"]),
)
def test_line_points_always_add_up_to_the_floor_of_the_exact_sum(rows, tier) -> None:
    lines = [
        EarnLine(n, D(total) / 100, D(min(tax, total)) / 100, "STD", cat)
        for n, (total, tax, cat) in enumerate(rows, 1)
    ]
    result = earn(lines, RULES, tier)
    assert sum(result.per_line.values()) == result.total
    assert all(p > 0 for p in result.per_line.values())
    exact = sum(
        (ln.line_total - ln.tax) * RULES.category_multipliers.get(ln.category or "", D(1))
        for ln in lines
        if ln.category != "TOBACCO"
    ) * RULES.tier_multiplier(tier)
    assert result.total == int(exact)


def test_redemption_rules_min_balance_balance_share_and_whole_units() -> None:
    assert check_redemption(300, 1000, 1000, RULES, 2) == 300  # 300 points = 3.00
    with pytest.raises(ValidationError) as low:
        check_redemption(100, 400, 10_000, RULES, 2)
    assert low.value.reason == Reason.REDEMPTION_BELOW_MIN_BALANCE
    with pytest.raises(ValidationError) as over:
        check_redemption(1500, 1000, 10_000, RULES, 2)
    assert over.value.reason == Reason.REDEMPTION_EXCEEDS_BALANCE
    with pytest.raises(ValidationError) as share:
        check_redemption(600, 1000, 1000, RULES, 2)  # 6.00 of a 10.00 basket > 50 %
    assert share.value.reason == Reason.REDEMPTION_EXCEEDS_SHARE
    assert share.value.details["max_points"] == 500
    coarse = parse_rules({**RULES_BODY, "redeem": {"points_per_unit": "3"}})
    with pytest.raises(ValidationError) as whole:
        redemption_value_minor(1, coarse, 2)
    assert whole.value.reason == Reason.REDEMPTION_NOT_WHOLE
    assert redemption_value_minor(3, coarse, 2) == 100


@pytest.mark.parametrize("bad", [-1, 0, 1.5, "10", True, None, 10**12])
def test_points_must_be_positive_whole_numbers(bad: object) -> None:
    with pytest.raises(ValidationError) as err:
        require_points(bad)
    assert err.value.reason == Reason.INVALID_POINTS


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 100_000), st.integers(0, 5000))
def test_max_redeemable_is_always_accepted(balance: int, basket: int, min_balance: int) -> None:
    redeem = {"points_per_unit": "100", "max_share": "0.5", "min_balance": min_balance}
    rules = parse_rules({**RULES_BODY, "redeem": redeem})
    most = max_redeemable(balance, basket, rules, 2)
    if most:
        assert check_redemption(most, balance, basket, rules, 2) <= basket


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 5000),
    st.integers(1, 40),
    st.lists(st.integers(1, 10), min_size=1, max_size=10),
)
def test_partial_refunds_reverse_proportionally_and_in_full_at_the_end(earned, sold, parts):
    returned, reversed_total = 0, 0
    for part in parts:
        if returned >= sold:
            break
        returned = min(sold, returned + part)
        step = refund_reversal(earned, D(sold), D(returned), reversed_total)
        assert step >= 0
        reversed_total += step
        assert reversed_total <= earned
        assert reversed_total == (earned if returned == sold else earned * returned // sold)
    if returned == sold:
        assert reversed_total == earned


T0 = datetime(2025, 1, 31, 12, tzinfo=UTC)


def test_expiry_takes_the_oldest_points_first() -> None:
    moves = [
        Movement(T0, 100),
        Movement(T0 + timedelta(days=100), 50),
        Movement(T0 + timedelta(days=200), -120),  # uses 100 of the first lot, 20 of the second
    ]
    lots, deficit = open_lots(moves)
    assert [(lot.at, lot.points) for lot in lots] == [(T0 + timedelta(days=100), 30)]
    assert deficit == 0
    assert expiring_points(moves, add_months(T0, 12), 12) == 0  # the first lot is used up
    assert expiring_points(moves, add_months(T0 + timedelta(days=100), 12), 12) == 30
    assert add_months(T0, 1) == datetime(2025, 2, 28, 12, tzinfo=UTC)


def test_over_redemption_is_a_deficit_that_expiry_never_touches() -> None:
    moves = [Movement(T0, 100), Movement(T0 + timedelta(days=1), -150)]
    assert open_lots(moves) == ([], 50)
    later = [*moves, Movement(T0 + timedelta(days=2), 80)]  # pays the 50 back, 30 left
    assert open_lots(later)[0][0].points == 30
    assert expiring_points(later, T0 + timedelta(days=800), 12) == 30


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 720), st.integers(-300, 300)), max_size=40))
def test_expiry_never_exceeds_the_positive_balance_and_repeats_as_zero(rows) -> None:
    moves = [Movement(T0 + timedelta(days=d), p) for d, p in rows if p]
    now = T0 + timedelta(days=800)
    gone = expiring_points(moves, now, 12)
    balance = sum(m.points for m in moves)
    assert 0 <= gone <= max(balance, 0)
    after = [*moves, Movement(now, -gone)] if gone else moves
    assert expiring_points(after, now, 12) == 0


@pytest.mark.req("FR-402")
def test_tier_is_the_highest_threshold_reached() -> None:
    assert tier_for(D("499.99"), RULES) is None
    assert tier_for(D("500"), RULES) == "SILVER"
    assert tier_for(D("5000"), RULES) == "GOLD"


@pytest.mark.parametrize(
    "change",
    [
        {"earn": {"points_per_unit": "-1"}},
        {"earn": {"points_per_unit": "1", "category_multipliers": {"X": "abc"}}},
        {"redeem": {"points_per_unit": "0"}},
        {"redeem": {"points_per_unit": "100", "max_share": "1.5"}},
        {
            "tiers": {
                "levels": [
                    {"name": "A", "threshold": "9", "multiplier": "1"},
                    {"name": "B", "threshold": "1", "multiplier": "1"},
                ]
            }
        },
        {"expiry": {"months": 0}},
        {"surprise": 1},
    ],
)
def test_invalid_rules_are_refused(change: dict[str, object]) -> None:
    with pytest.raises(ValidationError) as err:
        parse_rules({**RULES_BODY, **change})
    assert err.value.reason == Reason.VALIDATION_FAILED


# Mutation survivors (docs/mutation.md): every rule field parsed, points at their bounds.


def test_every_rule_field_is_parsed() -> None:
    from posdomain.loyalty import LoyaltyRules, Tier, parse_rules

    body = {
        "earn": {"points_per_unit": "1.5", "basis": "gross",
                 "category_multipliers": {"deli": "2"}, "excluded_categories": ["tobacco"],
                 "excluded_tax_classes": ["DEP"], "exclude_deposits": False},
        "redeem": {"points_per_unit": "100", "min_balance": 50, "max_share": "0.5",
                   "offline_cap_points": 300},
        "tiers": {"basis": "points", "window_days": 90, "levels": [
            {"name": "SILVER", "threshold": "100", "multiplier": "1.25"},
            {"name": "GOLD", "threshold": "500", "multiplier": "1.5"}]},
        "expiry": {"months": 12},
    }  # fmt: skip
    assert parse_rules(body, 7) == LoyaltyRules(
        version=7, earn_rate=Decimal("1.5"), basis="gross",
        category_multipliers={"deli": Decimal(2)}, excluded_categories=frozenset({"tobacco"}),
        excluded_tax_classes=frozenset({"DEP"}), exclude_deposits=False,
        redeem_rate=Decimal(100), min_balance=50, max_share=Decimal("0.5"),
        offline_cap_points=300, tier_basis="points", tier_window_days=90,
        tiers=(Tier("SILVER", Decimal(100), Decimal("1.25")),
               Tier("GOLD", Decimal(500), Decimal("1.5"))),
        expiry_months=12,
    )  # fmt: skip
    minimal = parse_rules({"earn": {"points_per_unit": "1"}, "redeem": {"points_per_unit": "1"}})
    assert (minimal.version, minimal.expiry_months, minimal.tiers) == (0, None, ())
    assert (minimal.basis, minimal.exclude_deposits, minimal.tier_window_days) == ("net", True, 365)


def test_bad_rules_say_why() -> None:
    from posdomain.loyalty import parse_rules

    with pytest.raises(ValidationError) as err:
        parse_rules({"earn": {"points_per_unit": "x"}, "redeem": {"points_per_unit": "1"}})
    assert err.value.reason is Reason.VALIDATION_FAILED
    assert err.value.message.startswith("invalid loyalty rules: ")
    assert "points_per_unit" in err.value.message


def test_points_at_their_bounds() -> None:
    from posdomain.loyalty import MAX_POINTS, require_points

    assert require_points(1) == 1
    assert require_points(MAX_POINTS) == MAX_POINTS
    assert require_points(0, positive=False) == 0
    assert require_points(-MAX_POINTS, signed=True) == -MAX_POINTS
    assert require_points(5, signed=True) == 5
    assert require_points(1, signed=True) == 1
    for value, kw in ((0, {}), (MAX_POINTS + 1, {}), (-1, {"positive": False}),
                      (0, {"signed": True}), (-MAX_POINTS - 1, {"signed": True})):  # fmt: skip
        with pytest.raises(ValidationError) as err:
            require_points(value, **kw)  # type: ignore[arg-type]
        assert err.value.reason is Reason.INVALID_POINTS
        assert err.value.message == f"points {value} are out of range"
    for value in (1.0, True, "5"):
        with pytest.raises(ValidationError) as err:
            require_points(value)
        assert err.value.message == "points must be a whole number"


def _rules(**redeem: object) -> object:
    from posdomain.loyalty import parse_rules

    return parse_rules({"earn": {"points_per_unit": "1"},
                        "redeem": {"points_per_unit": "100", **redeem}})  # fmt: skip


@pytest.mark.req("FR-402")
def test_redemption_errors_carry_their_details_and_message() -> None:
    from posdomain.loyalty import check_redemption, redemption_value_minor

    rules = _rules(min_balance=50, max_share="0.5")
    with pytest.raises(ValidationError) as err:
        redemption_value_minor(3, _rules(), 0)  # 3 points at 100 per unit: 0.03 of a unit
    assert (err.value.reason, err.value.details) == (
        Reason.REDEMPTION_NOT_WHOLE, {"points_per_unit": "100"},
    )  # fmt: skip
    assert err.value.message == "3 points are not a whole number of minor units"
    with pytest.raises(ValidationError) as err:
        check_redemption(10, 49, 10_000, rules, 2)  # type: ignore[arg-type]
    assert err.value.details == {"balance": 49, "min_balance": 50}
    assert err.value.message == "a balance of at least 50 points is needed to redeem"
    with pytest.raises(ValidationError) as err:
        check_redemption(80, 60, 10_000, rules, 2)  # type: ignore[arg-type]
    assert err.value.details == {"balance": 60}
    assert err.value.message == "80 points is more than the balance of 60"
    with pytest.raises(ValidationError) as err:
        check_redemption(600, 1000, 1000, rules, 2)  # type: ignore[arg-type]
    assert err.value.reason is Reason.REDEMPTION_EXCEEDS_SHARE
    assert err.value.message == "points may pay at most 50 % of the basket"
    assert err.value.details == {"max_points": 500}


@pytest.mark.req("FR-402")
def test_max_redeemable_at_its_edges() -> None:
    from posdomain.loyalty import max_redeemable

    rules = _rules()  # 100 points = 1.00, up to the whole basket
    assert max_redeemable(1, 100, rules, 2) == 1  # one point = one cent
    assert max_redeemable(0, 100, rules, 2) == 0
    assert max_redeemable(500, 1, rules, 2) == 1
    assert max_redeemable(500, 0, rules, 2) == 0
    assert max_redeemable(250, 1000, rules, 0) == 200  # whole units only: 2 of 2.50
    assert max_redeemable(99, 1000, rules, 0) == 0
    assert max_redeemable(50, 100, _rules(min_balance=50), 2) == 50
    assert max_redeemable(49, 100, _rules(min_balance=50), 2) == 0
    assert max_redeemable(1000, 333, _rules(max_share="0.5"), 2) == 166


def test_nothing_is_reversed_without_points_a_sale_or_a_refund() -> None:
    from posdomain.loyalty import refund_reversal

    assert refund_reversal(10, Decimal(0), Decimal(1), 0) == 0
    assert refund_reversal(0, Decimal(2), Decimal(1), 0) == 0
    assert refund_reversal(-5, Decimal(2), Decimal(2), 0) == 0
    assert refund_reversal(10, Decimal(2), Decimal(0), 0) == 0
    assert refund_reversal(10, Decimal(2), Decimal(1), 0) == 5
    assert refund_reversal(10, Decimal(2), Decimal(2), 5) == 5


@pytest.mark.req("FR-401")
@pytest.mark.parametrize(
    ("at", "months", "expected"),
    [((2024, 3, 15), 1, (2024, 4, 15)), ((2024, 3, 31), 1, (2024, 4, 30)),
     ((2024, 1, 31), 1, (2024, 2, 29)), ((2023, 1, 31), 1, (2023, 2, 28)),
     ((2024, 11, 15), 3, (2025, 2, 15)), ((2024, 1, 30), 13, (2025, 2, 28)),
     ((2024, 5, 28), 1, (2024, 6, 28))],
)  # fmt: skip
def test_add_months_clamps_to_the_month(
    at: tuple[int, int, int], months: int, expected: tuple[int, int, int]
) -> None:
    from posdomain.loyalty import add_months

    got = add_months(datetime(*at, 10, 30, tzinfo=UTC), months)
    assert got == datetime(*expected, 10, 30, tzinfo=UTC)


@pytest.mark.req("FR-401")
def test_open_lots_pay_a_deficit_first() -> None:
    from posdomain.loyalty import Movement, open_lots

    t = [datetime(2024, 1, d, tzinfo=UTC) for d in range(1, 6)]
    assert open_lots([Movement(t[0], 1)]) == ([Movement(t[0], 1)], 0)
    assert open_lots([Movement(t[0], -5), Movement(t[1], 3), Movement(t[2], 4)]) == (
        [Movement(t[2], 2)], 0,
    )  # fmt: skip
    assert open_lots([Movement(t[0], -5), Movement(t[1], 5)]) == ([], 0)
    assert open_lots([Movement(t[0], -5), Movement(t[1], 2)]) == ([], 3)


@pytest.mark.req("FR-401")
def test_points_by_basis_rate_and_category() -> None:
    from posdomain.loyalty import EarnLine, line_points, parse_rules, window_start

    gross = parse_rules({"earn": {"points_per_unit": "2", "basis": "gross",
                                  "category_multipliers": {"XXXX": "3"}},
                         "redeem": {"points_per_unit": "1"}})  # fmt: skip
    line_ = EarnLine(1, Decimal("11.90"), Decimal("1.90"), "STD")
    assert line_points(line_, gross, None) == Decimal("23.80")  # gross, 2 per unit, no category
    net = parse_rules({"earn": {"points_per_unit": "2"}, "redeem": {"points_per_unit": "1"}})
    assert line_points(line_, net, None) == Decimal("20.00")
    now = datetime(2024, 6, 1, tzinfo=UTC)
    assert window_start(now, gross) == now - timedelta(days=365)


@pytest.mark.req("FR-402")
def test_max_redeemable_rounds_down_and_steps_one_point_at_a_time() -> None:
    from posdomain.loyalty import check_redemption, max_redeemable

    half = _rules(points_per_unit="50", max_share="0.5")  # 1 point = 2 cents
    assert max_redeemable(1000, 6, half, 2) == 1  # 3 cents may be paid: 1 point, not 2
    assert max_redeemable(251, 1000, _rules(), 0) == 200  # whole units: 251 -> 200
    with pytest.raises(ValidationError) as err:
        check_redemption(100, 1000, 100, _rules(max_share="0.75"), 2)  # type: ignore[arg-type]
    assert err.value.message == "points may pay at most 75 % of the basket"


# --- examples the mutation profile's 10 hypothesis examples did not reach (fifth round) ----

ONE_PER_UNIT = parse_rules({"earn": {"points_per_unit": "1"}, "redeem": {"points_per_unit": "100"}})


def test_a_sale_earning_exactly_one_point_earns_it() -> None:
    assert earn([line(1, "1.00")], ONE_PER_UNIT).total == 1
    assert earn([], ONE_PER_UNIT).total == 0


def test_only_lines_given_points_are_listed_per_line() -> None:
    got = earn([line(1, "0.60"), line(2, "0.60")], ONE_PER_UNIT)  # 1.2 exact: 1 point
    assert got.total == 1
    assert len(got.per_line) == 1
    assert sum(got.per_line.values()) == 1


def test_the_share_cap_rounds_down_never_to_even() -> None:
    half = parse_rules({"earn": {"points_per_unit": "1"},
                        "redeem": {"points_per_unit": "100", "max_share": "0.5"}})  # fmt: skip
    assert max_redeemable(10_000, 103, half, 2) == 51  # 51.5 minor units: 51, not 52


def test_a_balance_at_exactly_the_minimum_may_redeem() -> None:
    assert check_redemption(100, 500, 100_000, RULES, 2) == 100


def test_a_refund_takes_back_a_single_point_and_never_more_than_was_earned() -> None:
    assert refund_reversal(1, D("1"), D("1"), 0) == 1
    assert refund_reversal(10, D("2"), D("2"), 10) == 0, "all taken back already"


def test_a_year_or_two_later_is_the_same_day_of_a_later_year() -> None:
    jan = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
    assert add_months(jan, 12) == datetime(2027, 1, 15, 9, 30, tzinfo=UTC)
    assert add_months(jan, 25) == datetime(2028, 2, 15, 9, 30, tzinfo=UTC)


def test_redemptions_beyond_every_lot_add_up_as_one_deficit() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    lots, deficit = open_lots([Movement(t0, -3), Movement(t0 + timedelta(days=1), -4)])
    assert (lots, deficit) == ([], 7)
