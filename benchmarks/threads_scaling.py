"""Benchmark: the usage reader and the tally with one thread against every core (or the
counts given), alternating rounds in one process, medians. Shows what `CSOPS_THREADS` buys.

    python benchmarks/threads_scaling.py                   # 100,000 accounts, ~10 M events
    python benchmarks/threads_scaling.py --threads 1,2,4,8 --rounds 5

Reading is `load_exports` (the usage export dominates it; the other exports load beside it);
the signal table is `build_signals_at` at one as_of (the usage tally, with the contract and
activity signals beside it and the pandas work that joins them); the tally is the usage
aggregation alone, at the same as_of. The data set is shared with health_vs_duckdb.py.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
from pathlib import Path

from health_vs_duckdb import AS_OF, HERE, ensure_data

from csops_cli.config import load_config
from csops_cli.dates import day_number
from csops_cli.loading import load_exports
from csops_cli.loading.events import account_index
from csops_cli.pipeline import parse_as_of
from csops_cli.signals import _contract_rows, _onboarding_start, build_signals_at
from csops_cli.threads import VARIABLE, thread_count
from csops_cli.usage import UsageQuery, backend_for


def measure(data: Path, threads: int) -> tuple[float, float, float]:
    """Seconds to read the exports, to build the signal table and to tally the usage alone,
    with ``threads`` threads."""
    os.environ[VARIABLE] = str(threads)
    _, config = load_config(None, data)
    start = time.perf_counter()
    exports = load_exports(data, config)
    read = time.perf_counter() - start
    as_of = parse_as_of(AS_OF)
    start = time.perf_counter()
    build_signals_at(exports, config, [as_of])  # exports read without a cache: none is used
    table = time.perf_counter() - start
    ids = account_index(exports.accounts.frame)
    onboarding = _onboarding_start(_contract_rows(exports.contracts.frame, ids), len(ids))
    query = UsageQuery.from_config(config, ids, (day_number(as_of),), onboarding)
    backend = backend_for(exports.usage, ids)
    start = time.perf_counter()
    backend.aggregate(query)
    tally = time.perf_counter() - start
    del exports, backend
    gc.collect()
    return read, table, tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_900_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", default=None,
                        help="comma-separated thread counts (default: 1 and every core)")
    parser.add_argument("--data", type=Path, default=HERE / "data" / "big")
    args = parser.parse_args()
    ensure_data(args.data, args.accounts, args.events)
    os.environ.pop(VARIABLE, None)
    counts = ([int(text) for text in args.threads.split(",")] if args.threads
              else sorted({1, thread_count()}))
    print(f"data: {args.data}; cores this process may use: {len(os.sched_getaffinity(0))}")
    names = ("read", "signal table", "tally")
    times: dict[int, list[tuple[float, ...]]] = {count: [] for count in counts}
    for round_number in range(args.rounds):
        order = counts if round_number % 2 == 0 else counts[::-1]
        for count in order:
            seconds = measure(args.data, count)
            times[count].append(seconds)
            print(f"  round {round_number + 1}: {count} thread(s): " + ", ".join(
                f"{name} {value:5.2f} s" for name, value in zip(names, seconds, strict=True)))
    base = [statistics.median(run[i] for run in times[counts[0]]) for i in range(len(names))]
    for count in counts:
        medians = [statistics.median(run[i] for run in times[count]) for i in range(len(names))]
        print(f"{count} thread(s) medians: " + ", ".join(
            f"{name} {value:5.2f} s ({first / value:.2f} x)"
            for name, value, first in zip(names, medians, base, strict=True)))


if __name__ == "__main__":
    main()
