"""Generated hourly sales with weekly seasonality, for the forecast backtest (tests and
`just bench`): a weekly shape (opening hours, busy evenings, Saturdays) times Gaussian noise;
and a branch whose shape follows its local clock across the autumn clock change, with refunds,
to measure the local-hour method net of refunds against the old UTC-hour gross one."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

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


ZONE = ZoneInfo("Europe/Brussels")
AUTUMN_WEEK = datetime(2026, 10, 26, tzinfo=ZONE)  # the first Monday after the clock change
BASKET = 20.0  # mean takings per sale
REFUND_SHARE = 0.06  # of takings, refunded in the same hour


@dataclass(frozen=True)
class LocalBacktest:
    """MAE (takings per hour, net of refunds) of the local-hour method, of the old UTC-hour
    gross method, and of the naive same-local-hour-last-week baseline."""

    mae_local_net: float
    mae_utc_gross: float
    mae_naive: float


def branch_series(
    weeks: int, seed: int, noise: float
) -> tuple[dict[datetime, float], dict[datetime, float], dict[datetime, float]]:
    """(net takings per UTC hour, gross takings per UTC hour, net per naive local hour) of a
    Brussels branch whose weekly shape follows its local clock, `weeks` weeks before the
    autumn week and that week itself; refunds a noisy share of each hour's takings."""
    rnd = random.Random(seed)
    first = (AUTUMN_WEEK - timedelta(weeks=weeks)).astimezone(UTC)
    end = (AUTUMN_WEEK + timedelta(weeks=1)).astimezone(UTC)
    net: dict[datetime, float] = {}
    gross: dict[datetime, float] = {}
    local: dict[datetime, float] = {}
    at = first
    while at < end:
        lt = at.astimezone(ZONE)
        shape = 2 + 10 * (8 <= lt.hour <= 20) + 8 * (17 <= lt.hour <= 19) + 6 * (lt.weekday() == 5)
        sold = max(0.0, shape * rnd.gauss(1, noise)) * BASKET
        refunded = sold * max(0.0, rnd.gauss(REFUND_SHARE, REFUND_SHARE))
        gross[at], net[at] = sold, sold - refunded
        key = lt.replace(tzinfo=None, fold=0)
        local[key] = local.get(key, 0.0) + sold - refunded
        at += timedelta(hours=1)
    return net, gross, local


def local_backtest(seed: int, noise: float, weeks: int = 4) -> LocalBacktest:
    """The autumn week forecast from `weeks` weeks of history, three ways, against its net
    takings per real hour."""
    net, gross, local = branch_series(weeks, seed, noise)
    start = AUTUMN_WEEK.astimezone(UTC)
    cut = AUTUMN_WEEK.replace(tzinfo=None)
    history = model.per_occurrence({k: v for k, v in local.items() if k < cut}, ZONE)
    targets = model.local_targets(start - timedelta(minutes=30), model.WEEK_H, ZONE)
    naive_keys = [n for _a, n in targets]
    first = naive_keys[0]
    ours = model.seasonal_at(history, naive_keys, first, weeks)
    naive = model.seasonal_at(history, naive_keys, first, 1)
    known = {k: v for k, v in gross.items() if k < start}
    old = dict(model.seasonal_forecast(known, start, model.WEEK_H, weeks))
    truth = [net[a.astimezone(UTC)] for a, _n in targets]

    def mae(pred: list[float]) -> float:
        return sum(abs(t - p) for t, p in zip(truth, pred, strict=True)) / len(truth)

    utc = [old[a.astimezone(UTC)] for a, _n in targets]
    return LocalBacktest(mae(ours), mae(utc), mae(naive))
