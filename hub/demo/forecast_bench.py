"""Generated hourly sales with weekly seasonality, for the forecast backtest (tests and
`just bench`): a weekly shape (opening hours, busy evenings, Saturdays) times Gaussian noise."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hub.forecasts import model

START = datetime(2026, 6, 1, tzinfo=UTC)  # a Monday


def weekly_series(weeks: int, seed: int = 7, noise: float = 0.35) -> dict[datetime, float]:
    """`weeks` weeks of hourly sales counts from START (seeded: the same every run)."""
    rnd = random.Random(seed)
    out = {}
    for h in range(weeks * model.WEEK_H):
        at = START + timedelta(hours=h)
        shape = 2 + 10 * (8 <= at.hour <= 20) + 8 * (17 <= at.hour <= 19) + 6 * (at.weekday() == 5)
        out[at] = max(0.0, shape * rnd.gauss(1, noise))
    return out


def backtests(seeds: range, noise: float, weeks: int = 4) -> list[model.Backtest]:
    """One week forecast after `weeks` weeks of history, per seed."""
    start = START + timedelta(weeks=weeks)
    return [
        model.backtest(weekly_series(weeks + 1, seed, noise), start, model.WEEK_H, weeks)
        for seed in seeds
    ]
