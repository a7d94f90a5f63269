"""The history store: one health snapshot per account and as_of, in a SQLite file.

A snapshot is written in one transaction; re-running the same as_of replaces it. Changes and
trends are read from the snapshot before the current as_of.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from .errors import InputError, Problem, ProblemCode

BUSY_TIMEOUT_SECONDS = 30.0  # another run writing: wait this long, then say so
SCHEMA_VERSION = 1
SNAPSHOT_COLUMNS = ("health_score", "health_band", "usage_score", "relationship_score",
                    "commercial_score", "partial", "arr")

_SET_VERSION = f"PRAGMA user_version = {SCHEMA_VERSION}"  # a constant, not user text
_SCHEMA = """
CREATE TABLE IF NOT EXISTS health_snapshots (
    as_of TEXT NOT NULL,
    account_id TEXT NOT NULL,
    health_score REAL,
    health_band TEXT,
    usage_score REAL,
    relationship_score REAL,
    commercial_score REAL,
    partial INTEGER,
    arr REAL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (as_of, account_id)
);
CREATE TABLE IF NOT EXISTS plays (
    account_id TEXT NOT NULL,
    play_id TEXT NOT NULL,
    opened TEXT NOT NULL,
    resolved TEXT,
    risk INTEGER NOT NULL DEFAULT 0,
    reason TEXT,
    PRIMARY KEY (account_id, play_id, opened)
);
"""


class History:
    def __init__(self, path: Path):
        self.path = path

    def _connect(self, create: bool) -> sqlite3.Connection:
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS,
                                         isolation_level=None)
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise InputError(f"{self.path}: written by a newer csops (schema {version}); "
                                 "upgrade csops or use another --history file")
            connection.executescript(_SCHEMA)
            connection.execute(_SET_VERSION)
            return connection
        except sqlite3.DatabaseError as error:
            raise InputError(f"{self.path}: not a usable history database",
                             [Problem(str(self.path), str(error),
                                      fix="point --history at another file, or move this one "
                                          "away to start a new history",
                                      code=ProblemCode.UNUSABLE_HISTORY)]) from None

    def save(self, as_of: pd.Timestamp, scores: pd.DataFrame) -> None:
        """Store the snapshot of ``as_of`` (index account_id), replacing one of the same day."""
        day = as_of.strftime("%Y-%m-%d")
        recorded = datetime.now(UTC).isoformat(timespec="seconds")
        rows = [
            (day, str(account), _float(r.health_score), _text(r.health_band),
             _float(r.usage_score), _float(r.relationship_score), _float(r.commercial_score),
             int(bool(r.partial)), _float(r.arr), recorded)
            for account, r in zip(scores.index, scores.itertuples(index=False), strict=True)
        ]
        with self._transaction("--no-save") as connection:
            connection.execute("DELETE FROM health_snapshots WHERE as_of = ?", (day,))
            connection.executemany(
                "INSERT INTO health_snapshots VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    @contextmanager
    def _transaction(self, skip_option: str) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it lands, or none of it (also when killed)."""
        with closing(self._connect(create=True)) as connection:
            try:
                connection.execute("BEGIN IMMEDIATE")
                yield connection
                connection.execute("COMMIT")
            except sqlite3.OperationalError as error:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                if "locked" in str(error) or "busy" in str(error):
                    raise InputError(f"{self.path}: the history file is busy (another csops run "
                                     f"is writing it); try again, or use {skip_option}"
                                     ) from None
                raise

    def previous(self, as_of: pd.Timestamp) -> pd.DataFrame:
        """Each account's latest snapshot before ``as_of`` (index account_id)."""
        if not self.path.exists():
            return _empty()
        day = as_of.strftime("%Y-%m-%d")
        query = """
            SELECT s.account_id, s.as_of, s.health_score, s.health_band
            FROM health_snapshots s
            JOIN (SELECT account_id, MAX(as_of) AS as_of FROM health_snapshots
                  WHERE as_of < ? GROUP BY account_id) latest
              ON s.account_id = latest.account_id AND s.as_of = latest.as_of
        """
        with closing(self._connect(create=False)) as connection:
            rows = connection.execute(query, (day,)).fetchall()
        frame = pd.DataFrame(rows, columns=["account_id", "as_of", "health_score", "health_band"])
        return frame.set_index("account_id")

    def open_plays(self, as_of: pd.Timestamp) -> pd.DataFrame:
        """Plays opened before ``as_of`` and not resolved by then."""
        columns = ["account_id", "play_id", "opened", "risk"]
        rows = []
        if self.path.exists():
            day = as_of.strftime("%Y-%m-%d")
            with closing(self._connect(create=False)) as connection:
                rows = connection.execute(
                    "SELECT account_id, play_id, opened, risk FROM plays WHERE opened < ? "
                    "AND (resolved IS NULL OR resolved >= ?)", (day, day)).fetchall()
        frame = pd.DataFrame(rows, columns=columns)
        frame["opened"] = pd.to_datetime(frame["opened"])
        return frame

    def record_plays(self, as_of: pd.Timestamp, fired: pd.DataFrame,
                     resolved: pd.DataFrame) -> None:
        """One transaction: this as_of's firings replace any earlier run of the same as_of;
        ``resolved`` (account_id, play_id) risk plays are closed on as_of."""
        day = as_of.strftime("%Y-%m-%d")
        rows = [(str(r.account_id), str(r.play_id), day, int(bool(r.risk)), str(r.reason))
                for r in fired.itertuples(index=False)]
        closed = [(day, str(r.account_id), str(r.play_id), day)
                  for r in resolved.itertuples(index=False)]
        with self._transaction("--dry-run") as connection:
            connection.execute("DELETE FROM plays WHERE opened = ?", (day,))
            connection.execute("UPDATE plays SET resolved = NULL WHERE resolved = ?", (day,))
            connection.executemany(
                "INSERT INTO plays (account_id, play_id, opened, risk, reason) "
                "VALUES (?, ?, ?, ?, ?)", rows)
            connection.executemany(
                "UPDATE plays SET resolved = ? WHERE account_id = ? AND play_id = ? "
                "AND resolved IS NULL AND opened < ?", closed)

    def resolution_days(self) -> pd.DataFrame:
        """Resolved risk plays and how many days each stayed open."""
        columns = ["account_id", "play_id", "opened", "resolved", "days"]
        if not self.path.exists():
            return pd.DataFrame(columns=columns)
        with closing(self._connect(create=False)) as connection:
            rows = connection.execute(
                "SELECT account_id, play_id, opened, resolved FROM plays "
                "WHERE risk = 1 AND resolved IS NOT NULL").fetchall()
        frame = pd.DataFrame(rows, columns=columns[:4])
        frame["days"] = (pd.to_datetime(frame["resolved"]) - pd.to_datetime(frame["opened"])
                         ).dt.days
        return frame

    def trend(self, account_id: str, limit: int = 12) -> pd.DataFrame:
        """The latest ``limit`` snapshots of one account, oldest first."""
        if not self.path.exists():
            return pd.DataFrame(columns=["as_of", *SNAPSHOT_COLUMNS])
        with closing(self._connect(create=False)) as connection:
            rows = connection.execute(
                "SELECT as_of, health_score, health_band, usage_score, relationship_score, "
                "commercial_score, partial, arr FROM health_snapshots WHERE account_id = ? "
                "ORDER BY as_of DESC LIMIT ?", (account_id, limit)).fetchall()
        return pd.DataFrame(rows[::-1], columns=["as_of", *SNAPSHOT_COLUMNS])


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=["as_of", "health_score", "health_band"],
                        index=pd.Index([], name="account_id"))


def _float(value) -> float | None:
    return None if pd.isna(value) else float(value)


def _text(value) -> str | None:
    return None if pd.isna(value) else str(value)
