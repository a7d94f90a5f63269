"""Benchmark: the usage reader and the tally with one thread against every core (or the
counts given), alternating rounds in one process, medians. Shows what `CSOPS_THREADS` buys.

    python benchmarks/threads_scaling.py                   # 100,000 accounts, ~10 M events
    python benchmarks/threads_scaling.py --threads 1,2,4,8 --rounds 5

Reading is `load_exports` (the usage export dominates it; the other exports load beside it);
the tally is `build_signals_at` at one as_of (the usage aggregation and the contract and
activity signals beside it). The data set is shared with health_vs_duckdb.py.
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
from csops_cli.loading import load_exports
from csops_cli.pipeline import parse_as_of
from csops_cli.signals import build_signals_at
from csops_cli.threads import VARIABLE, thread_count


def measure(data: Path, threads: int) -> tuple[float, float]:
    os.environ[VARIABLE] = str(threads)
    _, config = load_config(None, data)
    start = time.perf_counter()
    exports = load_exports(data, config)
    read = time.perf_counter() - start
    start = time.perf_counter()
    build_signals_at(exports, config, [parse_as_of(AS_OF)])
    tally = time.perf_counter() - start
    del exports
    gc.collect()
    return read, tally


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
    times: dict[int, list[tuple[float, float]]] = {count: [] for count in counts}
    for round_number in range(args.rounds):
        order = counts if round_number % 2 == 0 else counts[::-1]
        for count in order:
            read, tally = measure(args.data, count)
            times[count].append((read, tally))
            print(f"  round {round_number + 1}: {count} thread(s): read {read:6.2f} s, "
                  f"tally {tally:6.2f} s")
    base_read = statistics.median(read for read, _ in times[counts[0]])
    base_tally = statistics.median(tally for _, tally in times[counts[0]])
    for count in counts:
        read = statistics.median(r for r, _ in times[count])
        tally = statistics.median(t for _, t in times[count])
        print(f"{count} thread(s): read median {read:5.2f} s ({base_read / read:.2f} x), "
              f"tally median {tally:5.2f} s ({base_tally / tally:.2f} x)")


if __name__ == "__main__":
    main()
