"""Benchmark: `csops health` on 100 million usage events against DuckDB SQL over the same
files, in alternating rounds: medians of wall time and peak memory.

    python benchmarks/events_100m.py                 # builds benchmarks/data/big100m/ once
    python benchmarks/events_100m.py --rounds 3 --source benchmarks/data/big

The 100 M file is the 10.9 M-event usage export's data rows repeated ten times under its one
header (every event, and so every user, ten times over); the other exports are linked from the
source folder. The source folder is made by health_vs_duckdb.py (`csops sample`) when missing.
Everything under benchmarks/data/ is ignored by git.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from health_vs_duckdb import AS_OF, alternate, compile_csops, ensure_data

HERE = Path(__file__).resolve().parent
COPY_BYTES = 64 << 20


def build(source: Path, folder: Path, repeats: int) -> None:
    """``folder``'s usage.csv: ``source``'s header once, then its data rows ``repeats``
    times; every other CSV linked (or copied where links are not possible)."""
    marker = folder / f".made-{repeats}"
    if marker.exists():
        return
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"building {folder} ({repeats} x the events of {source}) ...", flush=True)
    for path in source.glob("*.csv"):
        if path.name == "usage.csv":
            continue
        try:
            os.link(path, folder / path.name)
        except OSError:
            shutil.copyfile(path, folder / path.name)
    with (source / "usage.csv").open("rb") as events, \
            (folder / "usage.csv").open("wb") as out:
        out.write(events.readline())
        body = events.tell()
        for _ in range(repeats):
            events.seek(body)
            last = b"\n"
            while block := events.read(COPY_BYTES):
                out.write(block)
                last = block[-1:]
            if last != b"\n":
                out.write(b"\n")
    marker.touch()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=HERE / "data" / "big",
                        help="the 10.9 M-event folder (made when missing)")
    parser.add_argument("--data", type=Path, default=HERE / "data" / "big100m")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()

    if not (args.source / "usage.csv").exists():
        ensure_data(args.source, 100_000, 10_900_000)
    compile_csops()
    build(args.source, args.data, args.repeats)
    if args.build_only:
        return
    size = sum(p.stat().st_size for p in args.data.glob("*.csv"))
    print(f"data: {args.data} ({size / 1e9:,.1f} GB of CSV)")
    # each run on an empty history folder, so the cache beside it is cold (and written), as
    # for the first command of a session
    work = Path(tempfile.mkdtemp(prefix="csops-100m-"))
    csops = [sys.executable, "-m", "csops_cli", "health", str(args.data), "--no-save",
             "--format", "csv", "--as-of", AS_OF, "--quiet", "--history",
             str(work / "history.db")]
    duck = [sys.executable, str(HERE / "duckdb_signals.py"), str(args.data), AS_OF, "/dev/null"]
    times, memory = alternate({"csops": csops, "duckdb": duck}, args.rounds,
                              before=lambda: shutil.rmtree(work / "cache", ignore_errors=True))
    csops_median = statistics.median(times["csops"])
    duck_median = statistics.median(times["duckdb"])
    print(f"health at {args.repeats} x: csops median {csops_median:.2f} s, DuckDB median "
          f"{duck_median:.2f} s, ratio csops/DuckDB {csops_median / duck_median:.2f}")
    print(f"peak memory: csops median {statistics.median(memory['csops']) / 2**20:,.0f} MiB, "
          f"max {max(memory['csops']) / 2**20:,.0f} MiB (DuckDB median "
          f"{statistics.median(memory['duckdb']) / 2**20:,.0f} MiB)")


if __name__ == "__main__":
    main()
