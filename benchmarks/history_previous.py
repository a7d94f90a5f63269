"""Benchmark: reading each account's previous snapshot (what `health` compares with) from a
history store holding a year of weekly snapshots: every snapshot grouped (how csops read it
before, and still does when no accounts are given) against the look-up of the exports'
accounts (the latest date whole, then a seek per missing account). Rounds alternate; medians.

    python benchmarks/history_previous.py                    # 100,000 accounts, 52 weeks
    python benchmarks/history_previous.py --weeks 1

Run from the project root with csops installed. The store is written into a temporary folder.
"""

from __future__ import annotations

import argparse
import shutil
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
        times: dict[str, list[float]] = {"grouped": [], "look-up": []}
        runs = {"grouped": lambda: history.previous(as_of),
                "look-up": lambda: history.previous(as_of, ids)}
        results = {}
        for round_number in range(args.rounds):
            order = list(runs) if round_number % 2 == 0 else list(runs)[::-1]
            for name in order:
                started = time.perf_counter()
                results[name] = runs[name]()
                times[name].append(time.perf_counter() - started)
        grouped, looked_up = results["grouped"].sort_index(), results["look-up"].sort_index()
        assert grouped[grouped.index.isin(ids)].equals(looked_up), "different rows"
        print(f"previous snapshot of {len(looked_up):,} accounts, medians of {args.rounds}:")
        for name, values in times.items():
            print(f"  {name:8} {statistics.median(values):6.3f} s")
        ratio = statistics.median(times["look-up"]) / statistics.median(times["grouped"])
        print(f"  look-up / grouped {ratio:.2f}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
