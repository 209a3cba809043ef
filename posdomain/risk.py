"""Rule-based risk scoring (FR-701): the rules are tenant configuration, this is only the math.

A tenant's `risk` config body carries `scoring` (RiskScoring): a window, business hours, a
discount threshold and a list of rules. Each rule names one metric the hub measures from
synced data, a subject kind (cashier, box, branch), a threshold and a weight. A subject's
score is the sum of the weights of the rules that fired (capped at 100); each fired rule is
reported with its figure, so a score always says why.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SubjectKind = Literal["cashier", "box", "branch"]
# metric → the subject kinds it is measured for
METRICS: dict[str, tuple[str, ...]] = {
    "sales": ("cashier", "box", "branch"),
    "void_ratio": ("cashier", "box", "branch"),
    "refund_ratio": ("cashier", "box", "branch"),
    "no_sale_opens": ("cashier", "box", "branch"),
    "overrides": ("cashier", "box", "branch"),
    "discounts_over_threshold": ("cashier", "box", "branch"),
    "after_hours_sales": ("cashier", "box", "branch"),
    "offline_minutes": ("box", "branch"),
}
RATIOS = ("void_ratio", "refund_ratio")
MAX_SCORE = 100


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RiskRule(_Strict):
    """One rule: fires when the subject's metric is above (or at) the threshold."""

    id: str = Field(pattern=r"^[a-z0-9_.-]{1,40}$")
    metric: str
    subject: SubjectKind
    op: Literal[">", ">="] = ">"
    threshold: Decimal = Field(ge=0, le=1_000_000)
    weight: int = Field(ge=1, le=100)
    # ratios say little over a handful of sales: a ratio rule needs this many sales
    min_sales: int = Field(default=0, ge=0, le=100_000)

    @model_validator(mode="after")
    def _known_metric(self) -> RiskRule:
        kinds = METRICS.get(self.metric)
        if kinds is None:
            raise ValueError(f"unknown metric {self.metric!r}; known: {sorted(METRICS)}")
        if self.subject not in kinds:
            raise ValueError(f"metric {self.metric} is not measured per {self.subject}")
        if self.metric in RATIOS and self.threshold > 1:
            raise ValueError("a ratio threshold lies between 0 and 1")
        return self


class RiskScoring(_Strict):
    """The scoring part of the `risk` config body."""

    window_hours: int = Field(default=24 * 7, ge=1, le=24 * 90)
    business_open: str = Field(default="06:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    business_close: str = Field(default="22:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    discount_threshold_percent: Decimal = Field(default=Decimal(20), gt=0, le=100)
    alert_score: int = Field(default=50, ge=1, le=MAX_SCORE)
    rules: list[RiskRule] = Field(default_factory=list, max_length=50)

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: list[RiskRule]) -> list[RiskRule]:
        ids = [r.id for r in rules]
        if len(ids) != len(set(ids)):
            raise ValueError("rule ids must be unique")
        return rules


def _fires(rule: RiskRule, value: Decimal) -> bool:
    return value > rule.threshold if rule.op == ">" else value >= rule.threshold


def score(
    scoring: RiskScoring, subject: str, figures: dict[str, Decimal]
) -> tuple[int, list[dict[str, Any]]]:
    """(score, fired rules with their figures) of one subject from its measured figures."""
    fired: list[dict[str, Any]] = []
    sales = figures.get("sales", Decimal(0))
    for rule in scoring.rules:
        if rule.subject != subject or rule.metric not in figures:
            continue
        if rule.metric in RATIOS and sales < rule.min_sales:
            continue
        value = figures[rule.metric]
        if _fires(rule, value):
            fired.append(
                {
                    "rule": rule.id,
                    "metric": rule.metric,
                    "value": str(value),
                    "op": rule.op,
                    "threshold": str(rule.threshold),
                    "weight": rule.weight,
                }
            )
    return min(MAX_SCORE, sum(int(f["weight"]) for f in fired)), fired
