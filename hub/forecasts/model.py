"""The forecasting maths, pure functions over plain numbers (FR-P7-1005..1008).

A simple seasonal method, chosen over a library: grocery sales repeat by hour of the week,
so the forecast of an hour is the mean of the same hour of the week over the last `weeks`
weeks (a seasonal average). It needs no fitting, has nothing to diverge, and beats the naive
"same hour last week" baseline whenever the weekly shape repeats under noise, because it
averages the noise of several weeks away; `backtest` measures that on any series and
`scripts/bench_forecast.py` prints it on generated data (docs/integrations.md, Forecasts).
statsmodels' Holt-Winters was considered: heavier (scipy), slower per series, and on hourly
data with a 168-hour season it needs long histories to fit; not worth it here.

Hours are the branch's local wall-clock hours (DST-correct): history is keyed by naive local
hours, so "the same hour a week earlier" is the same wall-clock hour, 167 or 169 real hours
back across a clock change; the forecast walks real (UTC) hours forward and names each by its
local hour, so the hour that does not exist in spring is never forecast and the hour that
happens twice in autumn is forecast twice (`local_targets`), its history averaged over its
two occurrences (`per_occurrence`).

Anomaly scores are robust z-scores: the distance of today's value from the median of the
subject's own history, in units of the median absolute deviation (scaled to a standard
deviation), so one past outlier does not hide the next.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

WEEK_H = 24 * 7
MAD_TO_SD = 1.4826
UNUSUAL = 3.0  # robust z-score from which a day is flagged


def hour_of(at: datetime) -> datetime:
    """The start of the hour `at` falls in."""
    return at.replace(minute=0, second=0, microsecond=0)


def ambiguous(local: datetime, zone: ZoneInfo) -> bool:
    """True if the naive local hour happens twice in `zone` (the autumn clock change)."""
    first = local.replace(tzinfo=zone, fold=0).utcoffset()
    return first != local.replace(tzinfo=zone, fold=1).utcoffset()


def per_occurrence(history: Mapping[datetime, float], zone: ZoneInfo) -> dict[datetime, float]:
    """Naive-local-hour history with an hour that happened twice counted per occurrence."""
    return {at: v / 2 if ambiguous(at, zone) else v for at, v in history.items()}


def local_targets(start: datetime, hours: int, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """(aware local hour, naive local hour) of the `hours` real hours from the local hour
    after `start` (a UTC instant) in `zone`."""
    local = start.astimezone(zone)
    first = (local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)).astimezone(UTC)
    out = []
    for n in range(hours):
        at = (first + timedelta(hours=n)).astimezone(zone)
        out.append((at, at.replace(tzinfo=None, fold=0)))
    return out


def seasonal_at(
    history: Mapping[datetime, float], targets: Sequence[datetime], first: datetime, weeks: int
) -> list[float]:
    """Per target hour, the mean of the same hour of the week in the `weeks` weeks before
    (only hours before `first`; an hour without sales counts as 0)."""
    out = []
    for at in targets:
        past = [history.get(b, 0.0) for b in (at - timedelta(weeks=k) for k in range(1, weeks + 1))
                if b < first]  # fmt: skip
        out.append(sum(past) / len(past) if past else 0.0)
    return out


def seasonal_forecast(
    history: Mapping[datetime, float], start: datetime, hours: int, weeks: int = 4
) -> list[tuple[datetime, float]]:
    """(hour, forecast) for `hours` hours from `start`: the mean of the same hour of the week
    in the `weeks` weeks before `start` (an hour without sales counts as 0)."""
    first = hour_of(start)
    targets = [first + timedelta(hours=n) for n in range(hours)]
    return list(zip(targets, seasonal_at(history, targets, first, weeks), strict=True))


def naive_forecast(
    history: Mapping[datetime, float], start: datetime, hours: int
) -> list[tuple[datetime, float]]:
    """The baseline: each hour as it was the same hour a week earlier."""
    first = hour_of(start)
    return [
        (
            first + timedelta(hours=n),
            history.get(first + timedelta(hours=n) - timedelta(weeks=1), 0.0),
        )
        for n in range(hours)
    ]


@dataclass(frozen=True)
class Backtest:
    """Mean absolute error of the seasonal method and of the naive baseline."""

    hours: int
    mae_seasonal: float
    mae_naive: float

    @property
    def improvement(self) -> float:
        """How much smaller the seasonal error is (0.25 = 25 % smaller)."""
        return 1 - self.mae_seasonal / self.mae_naive if self.mae_naive else 0.0


def backtest(
    history: Mapping[datetime, float], start: datetime, hours: int, weeks: int = 4
) -> Backtest:
    """Forecast `hours` from `start` with only the data before it; compare with what came."""
    known = {k: v for k, v in history.items() if k < hour_of(start)}
    seasonal = seasonal_forecast(known, start, hours, weeks)
    naive = naive_forecast(known, start, hours)

    def mae(pred: list[tuple[datetime, float]]) -> float:
        return sum(abs(history.get(at, 0.0) - v) for at, v in pred) / max(1, len(pred))

    return Backtest(hours, mae(seasonal), mae(naive))


def days_of_cover(on_hand: float, daily_demand: float) -> float | None:
    """Days the stock lasts at the daily demand (None: no demand, it does not run out)."""
    if daily_demand <= 0:
        return None
    return max(0.0, on_hand) / daily_demand


@dataclass(frozen=True)
class Suggestion:
    """What to order for one product at one branch, and why."""

    order_qty: float
    reason: str


def reorder_suggestion(
    on_hand: float,
    daily_demand: float,
    lead_time_days: float,
    safety_days: float,
    reorder_point: float | None,
) -> Suggestion | None:
    """An order bringing stock up to cover lead time plus safety days, if stock at arrival
    falls under the reorder point (or runs out); None when nothing needs ordering."""
    if daily_demand <= 0 and (reorder_point is None or on_hand >= reorder_point):
        return None
    at_arrival = on_hand - daily_demand * lead_time_days
    floor = reorder_point if reorder_point is not None else 0.0
    if at_arrival > floor:
        return None
    target = daily_demand * (lead_time_days + safety_days) + floor
    qty = math.ceil(max(0.0, target - on_hand))
    if qty <= 0:
        return None
    why = (
        f"on hand {on_hand:g} minus {lead_time_days:g} days of demand ({daily_demand:.2f}/day) "
        f"is {at_arrival:.2f}, at or under the reorder point {floor:g}"
    )
    return Suggestion(float(qty), why)


@dataclass(frozen=True)
class Score:
    """A subject's day against its own history."""

    value: float
    median: float
    score: float
    unusual: bool
    history_days: int


def anomaly_score(today: float, history: Sequence[float], min_days: int = 7) -> Score | None:
    """Robust z-score of `today` against `history` (None with too little history)."""
    if len(history) < min_days:
        return None
    median = statistics.median(history)
    mad = statistics.median([abs(h - median) for h in history]) * MAD_TO_SD
    spread = mad or (statistics.pstdev(history) or max(1.0, abs(median) * 0.1))
    score = (today - median) / spread
    return Score(today, median, round(score, 2), abs(score) >= UNUSUAL, len(history))
