"""Rule-based risk scores (FR-701): the rules are tenant configuration and are validated as
such; a subject's score is the sum of the weights of the rules that fired, capped at 100, and
each fired rule says why (posdomain.risk)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from posdomain.risk import MAX_SCORE, METRICS, RATIOS, RiskRule, RiskScoring, score

pytestmark = pytest.mark.req("FR-701")
D = Decimal


def rule(**fields: Any) -> dict[str, Any]:
    return {"id": "r1", "metric": "overrides", "subject": "cashier", "threshold": "3",
            "weight": 20, **fields}  # fmt: skip


def scoring(*rules: dict[str, Any], **fields: Any) -> RiskScoring:
    return RiskScoring.model_validate({"rules": list(rules), **fields})


def test_the_defaults_of_a_scoring_body() -> None:
    s = RiskScoring()
    assert (s.window_hours, s.business_open, s.business_close) == (168, "06:00", "22:00")
    assert (s.discount_threshold_percent, s.alert_score, s.rules) == (D(20), 50, [])
    r = RiskRule.model_validate(rule())
    assert (r.op, r.min_sales, r.threshold) == (">", 0, D(3))
    assert MAX_SCORE == 100
    assert set(RATIOS) == {"void_ratio", "refund_ratio"}
    assert METRICS["offline_minutes"] == ("box", "branch")


@pytest.mark.parametrize(
    "fields",
    [
        {"id": "Upper"},
        {"id": ""},
        {"id": "x" * 41},
        {"metric": "mood"},
        {"metric": "offline_minutes", "subject": "cashier"},
        {"subject": "tenant"},
        {"op": "<"},
        {"threshold": "-1"},
        {"threshold": "1000001"},
        {"weight": 0},
        {"weight": 101},
        {"min_sales": -1},
        {"min_sales": 100_001},
        {"metric": "void_ratio", "threshold": "1.01"},
        {"extra": 1},
    ],
)
def test_a_rule_that_makes_no_sense_is_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        RiskRule.model_validate(rule(**fields))


@pytest.mark.parametrize(
    "fields",
    [
        {"id": "a.b-c_9", "threshold": "0", "weight": 1, "min_sales": 0},
        {"id": "x" * 40, "threshold": "1000000", "weight": 100, "min_sales": 100_000},
        {"metric": "void_ratio", "threshold": "1", "op": ">="},
        {"metric": "offline_minutes", "subject": "box"},
        {"metric": "offline_minutes", "subject": "branch"},
    ],
)
def test_rules_at_their_bounds_are_accepted(fields: dict[str, Any]) -> None:
    RiskRule.model_validate(rule(**fields))


@pytest.mark.parametrize(
    "fields",
    [
        {"window_hours": 0},
        {"window_hours": 24 * 90 + 1},
        {"business_open": "24:00"},
        {"business_close": "7:00"},
        {"business_close": "07:60"},
        {"discount_threshold_percent": "0"},
        {"discount_threshold_percent": "100.01"},
        {"alert_score": 0},
        {"alert_score": 101},
        {"rules": [rule(id=f"r{n}") for n in range(51)]},
        {"rules": [rule(), rule(weight=5)]},
    ],
)
def test_a_scoring_body_that_makes_no_sense_is_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        RiskScoring.model_validate(fields)


def test_scoring_bodies_at_their_bounds_are_accepted() -> None:
    s = scoring(*[rule(id=f"r{n}") for n in range(50)], window_hours=24 * 90,
                business_open="00:00", business_close="23:59", alert_score=100,
                discount_threshold_percent="100")  # fmt: skip
    assert len(s.rules) == 50
    assert RiskScoring.model_validate({"window_hours": 1, "alert_score": 1}).window_hours == 1


def test_a_rule_fires_above_its_threshold_or_at_it_with_ge() -> None:
    above = scoring(rule())
    assert score(above, "cashier", {"overrides": D(3)}) == (0, [])
    total, fired = score(above, "cashier", {"overrides": D("3.5")})
    assert total == 20
    assert fired == [
        {"rule": "r1", "metric": "overrides", "value": "3.5", "op": ">", "threshold": "3",
         "weight": 20}
    ]  # fmt: skip
    at = scoring(rule(op=">="))
    assert score(at, "cashier", {"overrides": D(3)})[0] == 20
    assert score(at, "cashier", {"overrides": D("2.99")}) == (0, [])


def test_only_the_rules_of_the_subjects_kind_and_measured_metrics_count() -> None:
    s = scoring(rule(), rule(id="r2", subject="box", weight=30), rule(id="r3", metric="sales"))
    assert score(s, "box", {"overrides": D(9)})[0] == 30
    assert score(s, "cashier", {"overrides": D(9)})[0] == 20  # r3: sales not measured
    assert score(s, "branch", {"overrides": D(9)}) == (0, [])


def test_a_ratio_rule_needs_its_minimum_of_sales() -> None:
    s = scoring(rule(metric="void_ratio", threshold="0.1", min_sales=10))
    assert score(s, "cashier", {"void_ratio": D("0.5"), "sales": D(9)}) == (0, [])
    assert score(s, "cashier", {"void_ratio": D("0.5"), "sales": D(10)})[0] == 20
    assert score(s, "cashier", {"void_ratio": D("0.5")}) == (0, [])  # no sales measured: 0
    counts = scoring(rule(min_sales=10))  # only ratios need the minimum
    assert score(counts, "cashier", {"overrides": D(5), "sales": D(1)})[0] == 20
    no_minimum = scoring(rule(metric="refund_ratio", threshold="0.1"))
    assert score(no_minimum, "cashier", {"refund_ratio": D("0.2")})[0] == 20


def test_the_score_is_the_sum_of_the_fired_weights_capped_at_100() -> None:
    s = scoring(rule(weight=60), rule(id="r2", metric="no_sale_opens", weight=30))
    assert score(s, "cashier", {"overrides": D(4), "no_sale_opens": D(9)})[0] == 90
    s = scoring(rule(weight=60), rule(id="r2", metric="no_sale_opens", weight=50))
    total, fired = score(s, "cashier", {"overrides": D(4), "no_sale_opens": D(9)})
    assert total == 100
    assert [f["rule"] for f in fired] == ["r1", "r2"]


def test_without_a_sales_figure_a_ratio_rule_counts_no_sales() -> None:
    s = scoring(rule(metric="void_ratio", threshold="0.1", min_sales=1))
    assert score(s, "cashier", {"void_ratio": D("0.5")}) == (0, [])
    assert score(s, "cashier", {"void_ratio": D("0.5"), "sales": D(1)})[0] == 20


def test_a_skipped_rule_does_not_stop_the_rules_after_it() -> None:
    s = scoring(
        rule(id="few", metric="refund_ratio", threshold="0.1", min_sales=50, weight=40),
        rule(id="other", subject="box", weight=10),
        rule(id="unmeasured", metric="no_sale_opens", weight=5),
        rule(),
    )
    total, fired = score(s, "cashier", {"refund_ratio": D("0.9"), "sales": D(3),
                                        "overrides": D(4)})  # fmt: skip
    assert (total, [f["rule"] for f in fired]) == (20, ["r1"])
