"""Benchmark: `csops health` with the usage in a local PostgreSQL (the aggregation pushed down,
per-account rows back) against `csops health` over the CSV files. Runs alternate, on one
machine; the server is started in a temporary folder and stopped at the end.

    python -m pip install -e ".[bench,warehouse-postgres]"
    python benchmarks/warehouse_postgres.py                # 100,000 accounts, ~10 M events
    python benchmarks/warehouse_postgres.py --data benchmarks/data/big --rounds 3

Needs PostgreSQL's initdb and pg_ctl (PATH or /usr/lib/postgresql/*/bin); as root the server
runs as nobody.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from health_vs_duckdb import AS_OF, HERE, compile_csops, ensure_data, timed

TABLE = "usage_events"


def server_binaries() -> Path:
    found = shutil.which("initdb")
    for initdb in ([found] if found else []) + sorted(
            glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True):
        if Path(initdb).with_name("pg_ctl").exists():
            return Path(initdb).parent
    sys.exit("no PostgreSQL server binaries (initdb, pg_ctl): apt-get install postgresql")


class Server:
    """A throw-away PostgreSQL server on a free local port, trust authentication."""

    def __init__(self):
        self.binaries = server_binaries()
        self.base = Path(tempfile.mkdtemp(prefix="csops-bench-pg-"))
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root
            import pwd

            nobody = pwd.getpwnam("nobody")
            os.chown(self.base, nobody.pw_uid, nobody.pw_gid)
            self.as_user = ["runuser", "-u", "nobody", "--"]
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.data = self.base / "data"
        self.url = f"postgres://csops@127.0.0.1:{self.port}/csops"

    def run(self, *command: str) -> None:
        subprocess.run([*self.as_user, *command], check=True, capture_output=True,
                       cwd=self.base)

    def __enter__(self) -> Server:
        import psycopg

        self.run(str(self.binaries / "initdb"), "-D", str(self.data), "-A", "trust", "-U",
                 "csops", "-E", "UTF8", "--no-sync", "--no-locale")
        self.run(str(self.binaries / "pg_ctl"), "-D", str(self.data), "-l",
                 str(self.base / "server.log"), "-w", "-o",
                 f"-k {self.base} -p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off "
                 "-c shared_buffers=512MB -c work_mem=256MB", "start")
        with psycopg.connect(host="127.0.0.1", port=self.port, user="csops",
                             dbname="postgres", autocommit=True) as connection:
            connection.execute("CREATE DATABASE csops")
        return self

    def __exit__(self, *exc) -> None:
        self.run(str(self.binaries / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w",
                 "stop")
        shutil.rmtree(self.base, ignore_errors=True)

    def load(self, usage_csv: Path) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="csops", dbname="csops",
                             options="-c TimeZone=UTC", autocommit=True) as connection:
            connection.execute(f"CREATE TABLE {TABLE} (account_id text, timestamp timestamptz, "
                               "user_id text, feature text, business_unit text)")
            with connection.cursor() as cursor, cursor.copy(
                    f"COPY {TABLE} FROM STDIN WITH (FORMAT csv, HEADER true)") as writer, \
                    usage_csv.open("rb") as source:
                while block := source.read(1 << 22):
                    writer.write(block)
            connection.execute(f"ANALYZE {TABLE}")


def warehouse_folder(data: Path, url: str, target: Path) -> Path:
    from csops_cli.config import default_config_text

    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name in ("accounts.csv", "contracts.csv", "activities.csv", "team.csv"):
        if (data / name).exists():
            os.symlink(data / name, target / name)
    (target / "playbooks.yaml").write_text(
        default_config_text() + f"\nsources:\n  usage:\n    warehouse: {url}\n"
        f"    table: {TABLE}\n", encoding="utf-8")
    return target


def rows_transferred(folder: Path) -> tuple[int, int]:
    """Queries run and rows brought back for one health run's signals (as_of and 7 days
    earlier, the previous score)."""
    import pandas as pd

    from csops_cli.config import parse_config
    from csops_cli.loading import load_exports
    from csops_cli.signals import build_signals_at
    from csops_cli.usage import warehouse

    counts = [0, 0]
    run = warehouse.WarehouseUsage._run

    def counted(self, expression):
        result = run(self, expression)
        counts[0] += 1
        counts[1] += result.num_rows
        return result

    warehouse.WarehouseUsage._run = counted
    config = parse_config((folder / "playbooks.yaml").read_text(encoding="utf-8"))
    exports = load_exports(folder, config)
    as_of = pd.Timestamp(AS_OF)
    build_signals_at(exports, config, [as_of, as_of - pd.Timedelta(days=7)])
    return counts[0], counts[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_900_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", type=Path, default=HERE / "data" / "big")
    args = parser.parse_args()
    if not (args.data / "usage.csv").exists():
        ensure_data(args.data, args.accounts, args.events)
    compile_csops()
    size = (args.data / "usage.csv").stat().st_size
    print(f"data: {args.data} (usage.csv {size / 1e6:,.0f} MB)")
    with Server() as server:
        start = time.perf_counter()
        server.load(args.data / "usage.csv")
        print(f"COPY into PostgreSQL: {time.perf_counter() - start:.1f} s")
        folder = warehouse_folder(args.data, server.url, HERE / "data" / "warehouse")
        queries, rows = rows_transferred(folder)
        print(f"signals for 2 dates: {queries} queries, {rows:,} rows transferred")
        command = [sys.executable, "-m", "csops_cli", "health", "--no-save", "--format", "csv",
                   "--as-of", AS_OF, "--quiet"]
        times: dict[str, list[float]] = {"csv": [], "postgres": []}
        for round_number in range(1, args.rounds + 1):
            order = ["csv", "postgres"] if round_number % 2 else ["postgres", "csv"]
            for name in order:
                target = args.data if name == "csv" else folder
                elapsed, peak = timed([*command[:4], str(target), *command[4:]])
                times[name].append(elapsed)
                print(f"  round {round_number}: {name:9} {elapsed:6.2f} s, peak "
                      f"{peak / 2**20:,.0f} MiB")
    csv, postgres = (statistics.median(times[name]) for name in ("csv", "postgres"))
    print(f"health: CSV files median {csv:.2f} s, PostgreSQL median {postgres:.2f} s, "
          f"ratio {postgres / csv:.2f}")


if __name__ == "__main__":
    main()
