"""Benchmark: `csops health` in a terminal (a table of the worst 25 accounts and the footer)
against `csops health --format csv` (every account), end to end, both in a pseudo-terminal of
80 columns, on 20,000 generated accounts. Runs alternate so that a noisy machine slows them
alike; the medians and their ratio are printed. The contract: the table takes no more than
1.2 x the time of the CSV.

    python benchmarks/terminal_vs_csv.py                    # 20,000 accounts, 5 rounds
    python benchmarks/terminal_vs_csv.py --accounts 5000 --rounds 3

The data set is written by `csops sample` to benchmarks/data/terminal_vs_csv/ (ignored by
git) and reused.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import statistics
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent / "src"
AS_OF = "2026-11-20"


def sample(accounts: int) -> Path:
    folder = HERE / "data" / "terminal_vs_csv" / f"{accounts}"
    if not (folder / "usage.csv").exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "csops_cli", "sample", str(folder), "--accounts",
                        str(accounts), "--as-of", AS_OF, "--force", "-q"],
                       env=environment(), check=True)
    return folder


def environment() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(SOURCE)}
    env.pop("COLUMNS", None)  # the terminal's own width
    return env


def in_terminal(arguments: list[str], columns: int = 80) -> tuple[float, bytes]:
    """Run csops with stdout and stderr on a pseudo-terminal of ``columns`` columns, reading
    everything it prints; the wall time and the output."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "csops_cli", *arguments],
                               stdin=subprocess.DEVNULL, stdout=follower, stderr=follower,
                               env=environment(), close_fds=True)
    os.close(follower)
    output = bytearray()
    while True:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the child closed the terminal
                chunk = b""
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    process.wait()
    elapsed = time.perf_counter() - started
    os.close(leader)
    if process.returncode != 0:
        raise SystemExit(f"csops {' '.join(arguments)} failed:\n{output.decode(errors='replace')}")
    return elapsed, bytes(output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    folder = sample(options.accounts)
    common = ["health", str(folder), "--as-of", AS_OF, "--no-save", "-q"]
    runs = {"table": common, "csv": [*common, "--format", "csv"]}
    in_terminal(runs["csv"])  # warm the file cache and the parsed-exports cache alike
    times: dict[str, list[float]] = {name: [] for name in runs}
    lines: dict[str, int] = {}
    for _ in range(options.rounds):
        for name, arguments in runs.items():
            elapsed, output = in_terminal(arguments)
            times[name].append(elapsed)
            lines[name] = output.count(b"\n")
    table, csv = (statistics.median(times[name]) for name in ("table", "csv"))
    print(f"{options.accounts:,} accounts, {options.rounds} rounds, 80-column pseudo-terminal")
    print(f"table: median {table:.2f} s ({lines['table']:,} lines printed)")
    print(f"csv:   median {csv:.2f} s ({lines['csv']:,} lines printed)")
    print(f"table / csv: {table / csv:.2f} (contract: <= 1.20)")


if __name__ == "__main__":
    main()
