"""Forecast backtest for `just bench` (FR-P7-1006): the seasonal method against the naive
"same hour last week" baseline on generated hourly sales with weekly seasonality.

For each noise level, 20 seeded series: four weeks of history, then the next week (168
hours) forecast both ways and compared with what came; prints the mean absolute error (sales
per hour) of each and how much smaller the seasonal one is. Then the same on a branch whose
shape follows its local clock (Europe/Brussels), the week after the autumn clock change, with
refunds: the local-hour method net of refunds (what the hub runs) against the old UTC-hour
gross method and the naive baseline, in takings per hour. Pure Python, no database.
"""

from __future__ import annotations

import argparse
import statistics

from hub.demo.forecast_bench import backtests, local_backtest


def main() -> None:
    """Print the backtest figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--series", type=int, default=20)
    args = ap.parse_args()
    print("hub: forecast backtest, 1 week ahead after 4 weeks of hourly history")
    print("  noise  MAE seasonal  MAE naive  seasonal better by")
    for noise in (0.1, 0.2, 0.35, 0.5):
        runs = backtests(range(args.series), noise)
        seasonal = statistics.mean(r.mae_seasonal for r in runs)
        naive = statistics.mean(r.mae_naive for r in runs)
        print(f"  {noise:5.2f}  {seasonal:12.3f}  {naive:9.3f}  {1 - seasonal / naive:17.1%}")
    print("hub: forecast backtest of net takings per hour, Brussels branch, the week after the")
    print("     autumn clock change, 4 weeks of history, refunds ~6 % of takings")
    print("  noise  MAE local net  MAE UTC gross (old)  MAE naive  local better than old / naive")
    for noise in (0.1, 0.2, 0.35, 0.5):
        local = [local_backtest(seed, noise) for seed in range(args.series)]
        ours = statistics.mean(r.mae_local_net for r in local)
        old = statistics.mean(r.mae_utc_gross for r in local)
        base = statistics.mean(r.mae_naive for r in local)
        print(
            f"  {noise:5.2f}  {ours:13.2f}  {old:19.2f}  {base:9.2f}"
            f"  {1 - ours / old:14.1%} / {1 - ours / base:.1%}"
        )


if __name__ == "__main__":
    main()
