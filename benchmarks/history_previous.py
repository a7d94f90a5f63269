"""Benchmark: reading each account's previous snapshot (what `health` compares with) from a
history store holding a year of weekly snapshots: every snapshot grouped in a schema 4 store
(no index by account: how csops read it before), the same in a schema 5 store (as csops still
does when no accounts are given), and the look-up of the exports' accounts (the latest date
whole, then a seek per missing account). Rounds alternate; medians.

    python benchmarks/history_previous.py                    # 100,000 accounts, 52 weeks
    python benchmarks/history_previous.py --weeks 1

Run from the project root with csops installed. The store is written into a temporary folder.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from csops_cli.history import History


def snapshot(ids: pd.Index, rng: np.random.Generator) -> pd.DataFrame:
    """Scores of the paying accounts of one week (about 88 % of them, as in the sample)."""
    paying = ids[rng.random(len(ids)) < 0.88]
    frame = pd.DataFrame({"health_score": rng.uniform(0, 100, len(paying))},
                         index=pd.Index(paying, name="account_id"))
    frame["health_band"] = np.where(frame["health_score"] >= 70, "green", "yellow")
    for column in ("usage_score", "relationship_score", "commercial_score", "arr"):
        frame[column] = rng.uniform(0, 100, len(paying))
    frame["partial"] = False
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    rng = np.random.default_rng(7)
    ids = pd.Index([f"A{number:06d}" for number in range(args.accounts)])
    folder = Path(tempfile.mkdtemp(prefix="csops-history-"))
    try:
        history = History(folder / "history.db", "benchmark")
        as_of = pd.Timestamp("2026-11-20")
        started = time.perf_counter()
        for week in range(args.weeks, 0, -1):
            history.save(as_of - pd.Timedelta(weeks=week), snapshot(ids, rng))
        size = (folder / "history.db").stat().st_size
        print(f"store: {args.weeks} weekly snapshots of {args.accounts:,} accounts, "
              f"{size / 2**20:,.0f} MiB, written in {time.perf_counter() - started:.1f} s")
        shutil.copy(folder / "history.db", folder / "schema4.db")
        with sqlite3.connect(folder / "schema4.db") as connection:
            connection.execute("DROP INDEX snapshots_by_account")
            connection.execute("PRAGMA user_version = 4")
        connection.close()
        from csops_cli.config_diff import ReadOnlyHistory  # reads schema 4 as it is

        before = ReadOnlyHistory(folder / "schema4.db", "benchmark")
        times: dict[str, list[float]] = {"schema 4": [], "grouped": [], "look-up": []}
        runs = {"schema 4": lambda: before.previous(as_of),
                "grouped": lambda: history.previous(as_of),
                "look-up": lambda: history.previous(as_of, ids)}
        results = {}
        for round_number in range(args.rounds):
            order = list(runs) if round_number % 2 == 0 else list(runs)[::-1]
            for name in order:
                started = time.perf_counter()
                results[name] = runs[name]()
                times[name].append(time.perf_counter() - started)
        grouped, looked_up = results["schema 4"].sort_index(), results["look-up"].sort_index()
        assert grouped[grouped.index.isin(ids)].equals(looked_up), "different rows"
        print(f"previous snapshot of {len(looked_up):,} accounts, medians of {args.rounds}:")
        names = {"schema 4": "grouped, schema 4 (before)", "grouped": "grouped, schema 5",
                 "look-up": "look-up of the accounts"}
        for name, values in times.items():
            print(f"  {names[name]:27} {statistics.median(values):6.3f} s")
        ratio = statistics.median(times["look-up"]) / statistics.median(times["schema 4"])
        print(f"  look-up / before {ratio:.2f}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
