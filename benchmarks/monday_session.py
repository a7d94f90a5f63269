"""Benchmark: a Monday session (`health`, `plays --dry-run`, `renewals`, `metrics`, `audit` in
a row on the same exports, the parsed-export cache empty at the start) against one `health`
run on an empty cache. Rounds alternate which comes first; medians are reported.

    python benchmarks/monday_session.py                   # 100,000 accounts, ~10 M events
    python benchmarks/monday_session.py --events 1000000 --rounds 3
    python benchmarks/monday_session.py --session health,renewals,forecast

The data set is made by `csops sample` into benchmarks/data/ (ignored by git) and reused, as
by health_vs_duckdb.py.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from health_vs_duckdb import AS_OF, HERE, compile_csops, ensure_data, timed

SESSION = [("health", "--no-save"), ("plays", "--dry-run"), ("renewals",), ("metrics",),
           ("audit",)]
OPTIONS = {"health": ("--no-save",), "plays": ("--dry-run",), "forecast": ("--no-save",)}


def command(name: str, options: tuple[str, ...], data: Path) -> list[str]:
    # metrics and audit keep no history: every command uses the default store's cache
    # (.csops/cache in the working folder)
    return [sys.executable, "-m", "csops_cli", name, str(data), *options, "--as-of", AS_OF,
            "--format", "csv", "--out", "-", "--quiet"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_900_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", type=Path, default=None,
                        help="exports to use (default: benchmarks/data/ made by csops sample)")
    parser.add_argument("--session", default=None,
                        help="other commands in a row, e.g. health,renewals,forecast "
                             "(default: the Monday five)")
    args = parser.parse_args()
    session_commands = SESSION if args.session is None else [
        (name, *OPTIONS.get(name, ())) for name in args.session.split(",")]

    data = args.data or HERE / "data" / f"monday-{args.accounts}-{args.events}"
    if args.data is None:
        ensure_data(data, args.accounts, args.events)
    compile_csops()
    size = sum(p.stat().st_size for p in data.glob("*.csv"))
    print(f"data: {data} ({size / 1e6:,.0f} MB of CSV)")
    work = Path(tempfile.mkdtemp(prefix="csops-monday-"))
    os.chdir(work)  # the history store and the cache land here
    cache = work / ".csops" / "cache"
    single: list[float] = []
    sessions: list[float] = []
    steps: dict[str, list[float]] = {name: [] for name, *_ in session_commands}
    peaks: list[int] = []

    def cold_health() -> None:
        shutil.rmtree(cache, ignore_errors=True)
        seconds, peak = timed(command("health", ("--no-save",), data))
        single.append(seconds)
        peaks.append(peak)
        print(f"    health alone, cold cache  {seconds:6.2f} s, peak {peak / 2**20:,.0f} MiB")

    def session() -> None:
        shutil.rmtree(cache, ignore_errors=True)
        total = 0.0
        for name, *options in session_commands:
            seconds, peak = timed(command(name, tuple(options), data))
            steps[name].append(seconds)
            peaks.append(peak)
            total += seconds
            print(f"    {name:9} {seconds:6.2f} s, peak {peak / 2**20:,.0f} MiB")
        sessions.append(total)
        print(f"    session   {total:6.2f} s")

    try:
        for round_number in range(args.rounds):
            print(f"  round {round_number + 1}")
            order = [cold_health, session] if round_number % 2 == 0 else [session, cold_health]
            for run in order:
                run()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    health = statistics.median(single)
    monday = statistics.median(sessions)
    print(f"\nmedians over {args.rounds} rounds:")
    print(f"  health alone (cold cache) {health:6.2f} s")
    for name, times in steps.items():
        median = statistics.median(times)
        print(f"  {name:25} {median:6.2f} s  {median / health:5.2f} x health")
    label = "Monday session" if args.session is None else "session"
    print(f"  {label:25} {monday:6.2f} s  {monday / health:5.2f} x health")
    print(f"  peak memory               {max(peaks) / 2**20:,.0f} MiB")


if __name__ == "__main__":
    main()
