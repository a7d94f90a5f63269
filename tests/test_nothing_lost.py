"""Nothing lost: runs killed mid-write leave the history intact and no half-written output;
concurrent runs share the history safely. (How outputs are written: test_output.py.)"""

import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import sample_paying

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"


def csops(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "csops_cli", *map(str, args), "--quiet"],
                            cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def snapshot_counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as connection:
        return dict(connection.execute(
            "SELECT as_of, COUNT(*) FROM health_snapshots GROUP BY as_of").fetchall())


def integrity(db: Path) -> str:
    with sqlite3.connect(db) as connection:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A history with one earlier snapshot, and the complete outputs to compare against."""
    folder = tmp_path_factory.mktemp("reference")
    db = folder / "history.db"
    for as_of in ("2026-11-06", "2026-11-13"):
        assert csops("health", SAMPLE, "--history", db, "--as-of", as_of, cwd=folder).wait() == 0
    (folder / "scratch.db").write_bytes(db.read_bytes())  # the same history as the kill runs
    started = time.perf_counter()
    assert csops("health", SAMPLE, "--history", folder / "scratch.db", "--out",
                 folder / "health.csv", cwd=folder).wait() == 0
    duration = time.perf_counter() - started
    assert csops("plays", SAMPLE, "--history", folder / "scratch.db", "--dry-run", "--out",
                 folder / "actions.csv", cwd=folder).wait() == 0
    return folder, db.read_bytes(), snapshot_counts(db), duration


# fractions of a whole run: from start-up through loading to the writes at the end
KILL_POINTS = [0.15, 0.3, 0.45, 0.6, 0.7, 0.8, 0.88, 0.94, 0.98, 1.02]


@pytest.mark.parametrize("command", ["health", "plays"])
def test_killed_runs_leave_history_and_outputs_whole(tmp_path, reference, command):
    folder, history_bytes, earlier, duration = reference
    rng = random.Random(7)
    db = tmp_path / "history.db"
    db.write_bytes(history_bytes)
    out = tmp_path / ("health.csv" if command == "health" else "actions.csv")
    complete = (folder / out.name).read_bytes()
    killed = 0
    for delay in KILL_POINTS:
        process = csops(command, SAMPLE, "--history", db, "--out", out, cwd=tmp_path)
        time.sleep(duration * (delay + rng.uniform(-0.03, 0.03)))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed += 1
        process.wait()
        assert integrity(db) == "ok"
        counts = snapshot_counts(db)
        for as_of, count in earlier.items():
            assert counts[as_of] == count  # earlier snapshots are intact
        if out.exists():  # either absent or complete: never half a file
            # plays at the same as_of give the same list whether or not a run recorded them
            assert out.read_bytes() == complete
        out.unlink(missing_ok=True)
    assert killed >= 3  # the kill points do land inside runs
    # and what the killed runs left behind still serves whole runs, again and again
    for _ in range(2):
        assert csops(command, SAMPLE, "--history", db, "--out", out, cwd=tmp_path).wait() == 0
        assert out.read_bytes() == complete


def test_two_runs_at_once_share_the_history(tmp_path):
    db = tmp_path / "history.db"
    runs = [csops("health", SAMPLE, "--history", db, "--as-of", day, cwd=tmp_path)
            for day in ("2026-11-13", "2026-11-20")]
    for process in runs:
        assert process.wait() == 0, process.stderr.read().decode()
    assert integrity(db) == "ok"
    assert sorted(snapshot_counts(db)) == ["2026-11-13", "2026-11-20"]
    assert snapshot_counts(db) == {day: len(sample_paying(day))  # every account
                                   for day in ("2026-11-13", "2026-11-20")}


def test_a_busy_history_gives_a_clear_message(tmp_path, monkeypatch):
    from csops_cli import history as history_module
    from csops_cli.errors import InputError

    db = tmp_path / "history.db"
    store = history_module.History(db)
    store.save(__import__("pandas").Timestamp("2026-01-01"),
               __import__("pandas").DataFrame(
                   {"health_score": [50.0], "health_band": ["yellow"], "usage_score": [1.0],
                    "relationship_score": [1.0], "commercial_score": [1.0], "partial": [False],
                    "arr": [1.0]}, index=["A"]))
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(history_module, "BUSY_TIMEOUT_SECONDS", 0.2)
    with pytest.raises(InputError, match="busy"):
        store.save(__import__("pandas").Timestamp("2026-01-08"),
                   __import__("pandas").DataFrame(
                       {"health_score": [50.0], "health_band": ["yellow"], "usage_score": [1.0],
                        "relationship_score": [1.0], "commercial_score": [1.0],
                        "partial": [False], "arr": [1.0]}, index=["A"]))
    blocker.execute("ROLLBACK")
    blocker.close()
