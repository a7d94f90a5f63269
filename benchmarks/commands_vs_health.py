"""Benchmark: each command of a Monday session (`plays --dry-run`, `renewals`, `metrics`,
`audit`) against one `csops health` run on the same data, alternating, on one machine; plays
also with last week's snapshot in the history store. The target: no single command above
1.3 x one health run.

    python benchmarks/commands_vs_health.py                 # 100,000 accounts, ~10 M events
    python benchmarks/commands_vs_health.py --events 1090000 --rounds 3

The data set is made by `csops sample` into benchmarks/data/ (ignored by git) and reused,
shared with health_vs_duckdb.py when the default size is asked for.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

from health_vs_duckdb import AS_OF, HERE, compile_csops, ensure_data, timed

ACCOUNTS, EVENTS = 100_000, 10_900_000
TARGET = 1.3


def commands(data: Path, history: Path, stored: Path) -> dict[str, list[str]]:
    csops = [sys.executable, "-m", "csops_cli"]
    # every run parses the exports afresh: the bar is one command on a cold cache
    common = [str(data), "--as-of", AS_OF, "--quiet", "--no-cache"]
    kept = ["--history", str(history)]  # an empty history, never the one of the data folder
    return {
        "health": [*csops, "health", *common, *kept, "--no-save", "--format", "csv"],
        "plays": [*csops, "plays", *common, *kept, "--dry-run", "--format", "csv"],
        # a later Monday: last week's snapshot is in the history store
        "plays+snapshot": [*csops, "plays", *common, "--history", str(stored), "--dry-run",
                           "--format", "csv"],
        "renewals": [*csops, "renewals", *common, *kept, "--format", "csv"],
        "metrics": [*csops, "metrics", *common, "--format", "json"],
        "audit": [*csops, "audit", *common, "--format", "json"],
    }


def last_weeks_snapshot(data: Path, stored: Path) -> None:
    """A history store holding the snapshot a health run saved a week before AS_OF."""
    week_before = (date.fromisoformat(AS_OF) - timedelta(days=7)).isoformat()
    subprocess.run([sys.executable, "-m", "csops_cli", "health", str(data), "--as-of",
                    week_before, "--quiet", "--history", str(stored), "--format", "csv"],
                   stdout=subprocess.DEVNULL, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=ACCOUNTS)
    parser.add_argument("--events", type=int, default=EVENTS)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()

    default_size = (args.accounts, args.events) == (ACCOUNTS, EVENTS)
    data = args.data or HERE / "data" / ("big" if default_size
                                         else f"{args.accounts}-{args.events}")
    ensure_data(data, args.accounts, args.events)
    compile_csops()
    print(f"data: {data}")
    times: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        stored = Path(folder) / "stored.db"
        last_weeks_snapshot(data, stored)
        runs = commands(data, Path(folder) / "history.db", stored)
        for round_number in range(args.rounds):
            # health between every other command, in an order that turns each round
            others = [name for name in runs if name != "health"]
            shift = round_number % len(others)
            order = others[shift:] + others[:shift]
            if round_number % 2:
                order.reverse()
            for name in (["health", *order] if round_number % 2 == 0 else [*order, "health"]):
                seconds, peak = timed(runs[name])
                times.setdefault(name, []).append(seconds)
                print(f"  round {round_number + 1}: {name:8} {seconds:6.2f} s, "
                      f"peak {peak / 2**20:,.0f} MiB")
    health = statistics.median(times["health"])
    print(f"health median {health:.2f} s")
    for name, seconds in times.items():
        if name == "health":
            continue
        median = statistics.median(seconds)
        verdict = "ok" if median / health <= TARGET else "over"
        print(f"{name:8} median {median:6.2f} s, ratio to health {median / health:.2f} "
              f"(target <= {TARGET}: {verdict})")


if __name__ == "__main__":
    main()
