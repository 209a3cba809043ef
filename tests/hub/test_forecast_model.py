"""The forecasting maths (FR-P7-1005..1008) on generated data: the seasonal method against the
naive same-hour-last-week baseline, days of cover, reorder suggestions, anomaly scores."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub.demo.forecast_bench import START, local_backtest, weekly_series
from hub.forecasts import model


@pytest.mark.req("FR-P7-1006")
def test_seasonal_forecast_beats_the_naive_baseline_on_weekly_data():
    series = weekly_series(6)
    result = model.backtest(series, START + timedelta(weeks=5), model.WEEK_H, weeks=4)
    assert result.mae_seasonal < result.mae_naive
    assert result.improvement > 0.15


@pytest.mark.req("FR-P7-1006")
def test_seasonal_forecast_is_the_mean_of_the_same_hour_of_the_week():
    at = START + timedelta(weeks=4, hours=10)
    history = {at - timedelta(weeks=k): float(k) for k in range(1, 5)}  # 1, 2, 3, 4
    ((hour, value),) = model.seasonal_forecast(history, at, 1, weeks=4)
    assert hour == at
    assert value == 2.5
    assert model.naive_forecast(history, at, 1) == [(at, 1.0)]
    assert model.seasonal_forecast({}, at, 2) == [(at, 0.0), (at + timedelta(hours=1), 0.0)]


@pytest.mark.req("FR-P7-1005", "FR-P7-1008")
def test_days_of_cover_and_reorder_suggestions():
    assert model.days_of_cover(10, 2.5) == 4
    assert model.days_of_cover(10, 0) is None
    assert model.days_of_cover(-3, 1) == 0
    s = model.reorder_suggestion(on_hand=5, daily_demand=2, lead_time_days=2, safety_days=1,
                                 reorder_point=2)  # fmt: skip
    assert s is not None
    assert s.order_qty == 3  # 2 x (2 + 1) + 2 - 5
    assert model.reorder_suggestion(50, 2, 2, 1, 2) is None
    assert model.reorder_suggestion(5, 0, 2, 1, None) is None
    idle = model.reorder_suggestion(1, 0, 2, 1, 4)  # below its point without sales
    assert idle is not None
    assert idle.order_qty == 3


@pytest.mark.req("FR-P7-1007")
def test_anomaly_scores_flag_a_day_far_from_its_own_history():
    history = [100, 104, 98, 101, 97, 103, 99, 102, 500]  # one old outlier does not hide
    odd = model.anomaly_score(400, history)
    usual = model.anomaly_score(101, history)
    assert odd is not None
    assert usual is not None
    assert odd.unusual
    assert odd.score > 3
    assert not usual.unusual
    assert model.anomaly_score(400, [100, 100]) is None  # too little history
    flat = model.anomaly_score(100, [100] * 10)
    assert flat is not None
    assert not flat.unusual


WRITES = {"insert", "insert_many", "update", "delete", "create", "save", "execute_sql",
          "bump", "record", "tenant_tx", "platform_tx", "atomic"}  # fmt: skip
WRITING_MODULES = ("hub.governance", "hub.alerting", "hub.integrations.events")


@pytest.mark.req("FR-P7-1005", "FR-P7-1006", "FR-P7-1007", "FR-P7-1008")
def test_the_forecast_area_calls_nothing_that_writes():
    area = Path(model.__file__).parent
    found = []
    for path in sorted(area.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            name = node.attr if isinstance(node, ast.Attribute) else None
            name = node.id if isinstance(node, ast.Name) else name
            if name in WRITES:
                found.append(f"{path.name}:{node.lineno} {name}")
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(WRITING_MODULES):
                found.append(f"{path.name}:{node.lineno} imports {node.module}")
    assert found == []


@pytest.mark.req("FR-P7-1006", "NFR-007")
def test_local_hours_skip_the_spring_hour_and_repeat_the_autumn_one():
    zone = ZoneInfo("Europe/Brussels")
    spring = model.local_targets(datetime(2026, 3, 29, 0, 30, tzinfo=UTC), 3, zone)
    assert [a.isoformat() for a, _n in spring] == [
        "2026-03-29T03:00:00+02:00",  # 02:00 does not exist that night
        "2026-03-29T04:00:00+02:00",
        "2026-03-29T05:00:00+02:00",
    ]
    autumn = model.local_targets(datetime(2026, 10, 24, 23, 30, tzinfo=UTC), 3, zone)
    assert [n.hour for _a, n in autumn] == [2, 2, 3]  # 02:00 CEST, then 02:00 CET
    history = {datetime(2026, 10, 25, 2): 10.0, datetime(2026, 10, 25, 3): 4.0}
    assert model.per_occurrence(history, zone) == {
        datetime(2026, 10, 25, 2): 5.0,
        datetime(2026, 10, 25, 3): 4.0,
    }
    week_later = [datetime(2026, 11, 1, 2)]  # the same wall-clock hour, 169 real hours later
    assert model.seasonal_at(history, week_later, datetime(2026, 11, 1), 1) == [10.0]


@pytest.mark.req("FR-P7-1006")
def test_local_net_forecast_beats_the_old_utc_gross_one_after_the_clock_change():
    result = local_backtest(3, 0.2)
    assert result.mae_local_net < result.mae_naive
    assert result.mae_local_net < result.mae_utc_gross
