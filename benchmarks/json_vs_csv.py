"""Benchmark: reading the same usage events as CSV, as Mixpanel JSON lines and as an
Amplitude-style zip of gzipped JSON lines, each into a RawFile (`loading.files.read_file`, as
the usage table reads it: ids as codes, times typed by the reader). Runs alternate between the
three formats so that a noisy machine slows them alike; medians and ratios to CSV are printed,
for the wall time and for the CPU time of all threads (what a read costs whatever else runs).

    python benchmarks/json_vs_csv.py                        # 1,000,000 events, 5 rounds
    python benchmarks/json_vs_csv.py --events 200000 --rounds 3

A gzipped copy of the CSV is timed too, for context: the zip pays for inflating its members,
which a plain CSV does not.

The files are written to benchmarks/data/json_vs_csv/ (ignored by git) and reused.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import statistics
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from csops_cli.loading.files import read_file  # noqa: E402

START = 1_795_132_800  # 2026-11-20 00:00 UTC
FEATURES = ["login", "report_view", "export", "dashboard", "invite", "search", "api_call"]


def events(count: int, seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "time": np.sort(START - rng.integers(0, 90 * 86_400, count)),
        "user": rng.integers(0, 50_000, count),
        "company": rng.integers(0, 2_000, count),
        "feature": rng.integers(0, len(FEATURES), count),
    }


def write_csv(path: Path, data: dict[str, np.ndarray]) -> None:
    with path.open("w") as out:
        out.write("account_id,timestamp,user_id,feature\n")
        for time_, user, company, feature in zip(data["time"].tolist(), data["user"].tolist(),
                                                 data["company"].tolist(),
                                                 data["feature"].tolist(), strict=True):
            out.write(f"A{company:04},{time_},u{user},{FEATURES[feature]}\n")


def mixpanel_lines(data: dict[str, np.ndarray], rows: slice) -> str:
    return "".join(
        json.dumps({"event": FEATURES[feature], "properties": {
            "time": time_, "distinct_id": f"u{user}", "company_id": f"A{company:04}"}})
        + "\n"
        for time_, user, company, feature in zip(
            data["time"][rows].tolist(), data["user"][rows].tolist(),
            data["company"][rows].tolist(), data["feature"][rows].tolist(), strict=True))


def amplitude_lines(data: dict[str, np.ndarray], rows: slice) -> str:
    def stamp(seconds: int) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S.000000", time.gmtime(seconds))

    return "".join(
        json.dumps({"event_time": stamp(time_), "user_id": f"u{user}",
                    "event_type": FEATURES[feature], "groups": {"company": [f"A{company:04}"]}})
        + "\n"
        for time_, user, company, feature in zip(
            data["time"][rows].tolist(), data["user"][rows].tolist(),
            data["company"][rows].tolist(), data["feature"][rows].tolist(), strict=True))


def write_zip(path: Path, data: dict[str, np.ndarray], parts: int = 24) -> None:
    """One gzipped JSON lines member per hour, named as Amplitude names them."""
    count = len(data["time"])
    bounds = np.linspace(0, count, parts + 1).astype(int)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for hour in range(parts):
            text = amplitude_lines(data, slice(bounds[hour], bounds[hour + 1]))
            buffer = io.BytesIO()
            with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=6, mtime=0) as member:
                member.write(text.encode())
            archive.writestr(f"412873/412873_2026-11-20_{hour}#0.json.gz", buffer.getvalue())


def ensure_files(folder: Path, count: int) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"csv": folder / f"usage-{count}.csv",
             "mixpanel jsonl": folder / f"mixpanel-{count}.jsonl",
             "amplitude zip": folder / f"export-{count}.zip",
             "csv.gz": folder / f"usage-{count}.csv.gz"}
    if all(path.exists() for path in paths.values()):
        return paths
    data = events(count)
    write_csv(paths["csv"], data)
    paths["mixpanel jsonl"].write_text(mixpanel_lines(data, slice(None)))
    write_zip(paths["amplitude zip"], data)
    paths["csv.gz"].write_bytes(gzip.compress(paths["csv"].read_bytes(), 6, mtime=0))
    return paths


# what the usage table asks of each file: ids and names as codes, the time typed by the reader
COLUMNS = {
    "csv": {"account_id": "dictionary", "timestamp": None, "user_id": "string",
            "feature": "dictionary"},
    "mixpanel jsonl": {"properties.company_id": "dictionary", "properties.time": None,
                       "properties.distinct_id": "string", "event": "dictionary"},
    "amplitude zip": {"groups.company": "dictionary", "event_time": None,
                      "user_id": "string", "event_type": "dictionary"},
}
COLUMNS["csv.gz"] = COLUMNS["csv"]


def time_read(name: str, path: Path) -> tuple[float, float]:
    """Wall and CPU seconds (all threads) of one read."""
    columns = COLUMNS[name]
    start, cpu = time.perf_counter(), time.process_time()
    raw = read_file(path, lambda headers: {h: k for h, k in columns.items() if h in headers},
                    big=True)
    elapsed = time.perf_counter() - start, time.process_time() - cpu
    assert len(raw.frame) > 0 and list(raw.frame.columns) == list(columns), raw.frame.columns
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    paths = ensure_files(HERE / "data" / "json_vs_csv", args.events)
    for name, path in paths.items():
        print(f"{name:15} {path.name:28} {path.stat().st_size / 1e6:8.1f} MB")
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in paths}
    for name, path in paths.items():
        time_read(name, path)  # warm the page cache and the imports
    for _ in range(args.rounds):
        for name, path in paths.items():
            times[name].append(time_read(name, path))
    csv = [statistics.median(run[i] for run in times["csv"]) for i in (0, 1)]
    print(f"\n{args.events:,} events, median of {args.rounds} alternating rounds "
          "(wall; CPU of all threads beside it)")
    for name, runs in times.items():
        wall, cpu = (statistics.median(run[i] for run in runs) for i in (0, 1))
        print(f"{name:15} {wall:6.2f} s  {wall / csv[0]:4.2f} x CSV   "
              f"cpu {cpu:6.2f} s  {cpu / csv[1]:4.2f} x CSV")


if __name__ == "__main__":
    main()
