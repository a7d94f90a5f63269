"""Benchmark: `csops backtest` over 12 monthly dates against one `csops health` run, on the
same data (100,000 accounts, ~10 M usage events), alternating, on one machine. The target:
the backtest within 3 x one health run, since the usage is read once for every date.

    python benchmarks/backtest_vs_health.py                 # 100,000 accounts, ~10 M events
    python benchmarks/backtest_vs_health.py --accounts 10000 --events 1000000 --rounds 3

The data set is made by `csops sample` into benchmarks/data/ (ignored by git) and reused,
shared with health_vs_duckdb.py.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import pandas as pd
from health_vs_duckdb import AS_OF, HERE, compile_csops, ensure_data, timed

DATES = 12
EVERY_DAYS = 30
HORIZON_DAYS = 90  # the shortest horizon: the last date is as_of minus it


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_900_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--data", type=Path, default=HERE / "data" / "big")
    args = parser.parse_args()

    ensure_data(args.data, args.accounts, args.events)
    compile_csops()
    last = pd.Timestamp(AS_OF) - pd.Timedelta(days=HORIZON_DAYS)
    since = last - pd.Timedelta(days=EVERY_DAYS * (DATES - 1))
    common = [str(args.data), "--as-of", AS_OF, "--quiet"]
    commands = {
        "health": [sys.executable, "-m", "csops_cli", "health", *common, "--no-save",
                   "--format", "csv"],
        "backtest": [sys.executable, "-m", "csops_cli", "backtest", *common, "--since",
                     f"{since:%Y-%m-%d}", "--every", str(EVERY_DAYS), "--format", "json"],
    }
    print(f"data: {args.data}; backtest: {DATES} dates every {EVERY_DAYS} days from "
          f"{since:%Y-%m-%d}, horizons 90 and 180 days")
    times: dict[str, list[float]] = {name: [] for name in commands}
    for round_number in range(args.rounds):
        order = list(commands.items())
        if round_number % 2:
            order.reverse()
        for name, command in order:
            seconds, peak = timed(command)
            times[name].append(seconds)
            print(f"  round {round_number + 1}: {name:8} {seconds:6.2f} s, "
                  f"peak {peak / 2**20:,.0f} MiB")
    health = statistics.median(times["health"])
    backtest = statistics.median(times["backtest"])
    print(f"health median {health:.2f} s, backtest median {backtest:.2f} s, "
          f"ratio backtest/health {backtest / health:.2f} (target <= 3)")


if __name__ == "__main__":
    main()
