"""Benchmark: `csops health` end to end against DuckDB SQL over the same CSV files, and
`csops --help` against an empty Typer app. Runs alternate, in one process tree, on one machine,
so the ratios hold on a shared, noisy machine.

    python -m pip install -e ".[bench]"
    python benchmarks/health_vs_duckdb.py                 # 100,000 accounts, ~10 M events
    python benchmarks/health_vs_duckdb.py --accounts 20000 --events 2000000 --rounds 3
    python benchmarks/health_vs_duckdb.py --weekly        # last week's snapshot is stored

By default csops runs with an empty history store, as on its first run: it then rebuilds the
previous score a week earlier, so its signals are built at two dates while the DuckDB query
builds them at one. With `--weekly` the store holds the snapshot of a week before (made once,
untimed), as on every later Monday: one date each.

The data set is made by `csops sample` into benchmarks/data/ (ignored by git) and reused.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
AS_OF = "2026-11-20"


def timed(command: list[str], stdout=subprocess.DEVNULL) -> tuple[float, int]:
    """Wall time in seconds and peak resident memory in bytes of one child process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{process.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss * 1024


def compile_csops() -> None:
    """Compile csops' modules to bytecode first, as `pip install` does. From a source
    checkout with PYTHONDONTWRITEBYTECODE set, every timed run would otherwise compile all of
    csops' source again (about 0.08 s a command), which no installed copy does."""
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("csops_cli")
    for folder in spec.submodule_search_locations or []:
        compileall.compile_dir(folder, quiet=1)


def ensure_data(folder: Path, accounts: int, events: int) -> None:
    marker = folder / f".made-{accounts}-{events}"
    if marker.exists():
        return
    shutil.rmtree(folder, ignore_errors=True)
    print(f"generating {accounts:,} accounts and {events:,} usage events into {folder} ...")
    subprocess.run([sys.executable, "-m", "csops_cli", "sample", str(folder), "--accounts",
                    str(accounts), "--events", str(events), "--seed", "1", "--as-of", AS_OF],
                   check=True)
    marker.touch()


def alternate(commands: dict[str, list[str]], rounds: int,
              before: Callable[[], None] | None = None
              ) -> tuple[dict[str, list[float]], dict[str, list[int]]]:
    """Run the commands in turn, the order reversed every other round; the seconds and peak
    memory of each run by name. ``before`` runs before each run (e.g. to empty a cache)."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    memory: dict[str, list[int]] = {name: [] for name in commands}
    for round_number in range(rounds):
        order = list(commands.items())
        if round_number % 2:
            order.reverse()
        for name, command in order:
            if before is not None:
                before()
            seconds, peak = timed(command)
            times[name].append(seconds)
            memory[name].append(peak)
            print(f"  round {round_number + 1}: {name:6} {seconds:6.2f} s, "
                  f"peak {peak / 2**20:,.0f} MiB", flush=True)
    return times, memory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    # events drawn; those after an account churned (about 8 %) are dropped: ~10 M remain
    parser.add_argument("--events", type=int, default=10_900_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--help-rounds", type=int, default=20)
    parser.add_argument("--data", type=Path, default=HERE / "data" / "big")
    parser.add_argument("--weekly", action="store_true",
                        help="store last week's snapshot first, as on every later Monday")
    args = parser.parse_args()

    ensure_data(args.data, args.accounts, args.events)
    compile_csops()
    size = sum(p.stat().st_size for p in args.data.glob("*.csv"))
    print(f"data: {args.data} ({size / 1e6:,.0f} MB of CSV)")
    history = Path(tempfile.mkdtemp(prefix="csops-bench-")) / "history.db"
    csops = [sys.executable, "-m", "csops_cli", "health", str(args.data), "--no-save",
             "--format", "csv", "--as-of", AS_OF, "--quiet", "--history", str(history)]
    if args.weekly:
        week_before = (date.fromisoformat(AS_OF) - timedelta(days=7)).isoformat()
        subprocess.run([*csops[:5], "--as-of", week_before, "--quiet", "--history",
                        str(history)], check=True, stdout=subprocess.DEVNULL)
        print(f"history: the snapshot of {week_before} stored")
    else:
        print("history: empty (the previous score is rebuilt a week earlier)")
    duck = [sys.executable, str(HERE / "duckdb_signals.py"), str(args.data), AS_OF, "/dev/null"]
    # every csops run parses afresh (DuckDB keeps nothing between runs either)
    times, memory = alternate({"csops": csops, "duckdb": duck}, args.rounds,
                              before=lambda: shutil.rmtree(history.parent / "cache",
                                                           ignore_errors=True))
    csops_median = statistics.median(times["csops"])
    duck_median = statistics.median(times["duckdb"])
    print(f"health: csops median {csops_median:.2f} s, DuckDB median {duck_median:.2f} s, "
          f"ratio csops/DuckDB {csops_median / duck_median:.2f}")
    print(f"csops peak memory {max(memory['csops']) / 2**20:,.0f} MiB "
          f"(DuckDB {max(memory['duckdb']) / 2**20:,.0f} MiB)")

    help_times: dict[str, list[float]] = {"csops": [], "typer": []}
    commands = {"csops": [shutil.which("csops") or "csops", "--help"],
                "typer": [sys.executable, str(HERE / "empty_typer.py"), "--help"]}
    for round_number in range(args.help_rounds):
        for name in (("csops", "typer") if round_number % 2 else ("typer", "csops")):
            help_times[name].append(timed(commands[name])[0])
    csops_help = statistics.median(help_times["csops"])
    typer_help = statistics.median(help_times["typer"])
    print(f"--help: csops median {csops_help * 1000:.0f} ms, empty Typer app "
          f"{typer_help * 1000:.0f} ms, ratio {csops_help / typer_help:.2f}")


if __name__ == "__main__":
    main()
