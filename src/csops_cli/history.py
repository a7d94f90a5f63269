"""The history store: one health snapshot per data set, account and as_of, in a SQLite file,
and the plays and actions each run gave out.

A snapshot is written in one transaction; re-running the same as_of replaces it. Changes and
trends are read from the snapshot before the current as_of, of the same data set only: two
data folders sharing one history file never see each other's accounts.

csops marks its files (``application_id`` and ``user_version``) and recognises them by their
tables; a database it does not recognise is refused and left untouched.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .errors import InputError, Problem, ProblemCode

if TYPE_CHECKING:
    from .loading import Exports

BUSY_TIMEOUT_SECONDS = 30.0  # another run writing: wait this long, then say so
SCHEMA_VERSION = 5  # 2: snapshots and plays keyed by data set; 3: actions; 4: forecasts;
#                    5: snapshots indexed by account
APPLICATION_ID = 0x63736F70  # "csop": this SQLite file is a csops history
SNAPSHOT_COLUMNS = ("health_score", "health_band", "usage_score", "relationship_score",
                    "commercial_score", "partial", "arr")
# the data set of snapshots and plays recorded before csops kept data sets apart: no real
# data set (an absolute folder path) is named so, so they are kept but never read
UNKNOWN_DATA_SET = "(recorded before data sets were kept apart)"

# constants, not user text
_MARK = (f"PRAGMA application_id = {APPLICATION_ID}", f"PRAGMA user_version = {SCHEMA_VERSION}")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS health_snapshots (
    dataset TEXT NOT NULL,
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
    PRIMARY KEY (dataset, as_of, account_id)
);
CREATE INDEX IF NOT EXISTS snapshots_by_account ON health_snapshots (dataset, account_id, as_of);
CREATE TABLE IF NOT EXISTS plays (
    dataset TEXT NOT NULL,
    account_id TEXT NOT NULL,
    play_id TEXT NOT NULL,
    opened TEXT NOT NULL,
    resolved TEXT,
    risk INTEGER NOT NULL DEFAULT 0,
    reason TEXT,
    PRIMARY KEY (dataset, account_id, play_id, opened)
);
CREATE TABLE IF NOT EXISTS actions (
    dataset TEXT NOT NULL,
    as_of TEXT NOT NULL,
    action_id TEXT NOT NULL,
    play_id TEXT NOT NULL,
    owner TEXT NOT NULL,
    status TEXT NOT NULL,
    released TEXT,
    detail TEXT NOT NULL,
    PRIMARY KEY (dataset, as_of, action_id)
);
CREATE TABLE IF NOT EXISTS forecasts (
    dataset TEXT NOT NULL,
    account_id TEXT NOT NULL,
    renewal_date TEXT NOT NULL,
    checkpoint INTEGER NOT NULL,
    as_of TEXT NOT NULL,
    days_to_renewal INTEGER NOT NULL,
    arr REAL NOT NULL,
    health_band TEXT,
    probability REAL NOT NULL,
    source TEXT NOT NULL,
    forecast_arr REAL NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (dataset, account_id, renewal_date, checkpoint)
);
"""
_SNAPSHOT_V1 = ("as_of", "account_id", "health_score", "health_band", "usage_score",
                "relationship_score", "commercial_score", "partial", "arr", "recorded_at")
_PLAYS_V1 = ("account_id", "play_id", "opened", "resolved", "risk", "reason")
_ACTIONS = ("dataset", "as_of", "action_id", "play_id", "owner", "status", "released", "detail")
FORECAST_COLUMNS = ("account_id", "renewal_date", "checkpoint", "as_of", "days_to_renewal",
                    "arr", "health_band", "probability", "source", "forecast_arr")
_FORECASTS = ("dataset", *FORECAST_COLUMNS, "recorded_at")
# the tables and columns of each schema version csops has written
_LAYOUTS = {
    1: {"health_snapshots": _SNAPSHOT_V1, "plays": _PLAYS_V1},
    2: {"health_snapshots": ("dataset", *_SNAPSHOT_V1), "plays": ("dataset", *_PLAYS_V1)},
    3: {"health_snapshots": ("dataset", *_SNAPSHOT_V1), "plays": ("dataset", *_PLAYS_V1),
        "actions": _ACTIONS},
    4: {"health_snapshots": ("dataset", *_SNAPSHOT_V1), "plays": ("dataset", *_PLAYS_V1),
        "actions": _ACTIONS, "forecasts": _FORECASTS},
}
_LAYOUTS[5] = _LAYOUTS[4]  # the same tables; the snapshots also indexed by account
_V1_COLUMNS = ", ".join(_SNAPSHOT_V1), ", ".join(_PLAYS_V1)
_UPGRADE_FROM_1 = (  # the tables set aside, the new ones made, the rows moved in
    "CREATE TABLE IF NOT EXISTS health_snapshots (as_of TEXT NOT NULL, account_id TEXT NOT "
    "NULL, health_score REAL, health_band TEXT, usage_score REAL, relationship_score REAL, "
    "commercial_score REAL, partial INTEGER, arr REAL, recorded_at TEXT NOT NULL, "
    "PRIMARY KEY (as_of, account_id))",
    "CREATE TABLE IF NOT EXISTS plays (account_id TEXT NOT NULL, play_id TEXT NOT NULL, "
    "opened TEXT NOT NULL, resolved TEXT, risk INTEGER NOT NULL DEFAULT 0, reason TEXT, "
    "PRIMARY KEY (account_id, play_id, opened))",
    "ALTER TABLE health_snapshots RENAME TO health_snapshots_v1",
    "ALTER TABLE plays RENAME TO plays_v1",
    "INSERT INTO health_snapshots (dataset, " + _V1_COLUMNS[0] + ") SELECT ?, "
    + _V1_COLUMNS[0] + " FROM health_snapshots_v1",
    "INSERT INTO plays (dataset, " + _V1_COLUMNS[1] + ") SELECT ?, " + _V1_COLUMNS[1]
    + " FROM plays_v1",
    "DROP TABLE health_snapshots_v1",
    "DROP TABLE plays_v1",
)
_FIX = "point --history at another file, or move this one away to start a new history"


def data_set_of(exports: Exports) -> str:
    """The data set a run belongs to: the folder that holds its accounts export, resolved
    (links, ``..``). Each week's export dropped into the same folder continues one history;
    another folder, whose accounts are another company's or another sample's, starts its own.
    (A fingerprint of the accounts file would change with every new export.)"""
    return str(exports.accounts.paths[0].resolve().parent)


class History:
    def __init__(self, path: Path, dataset: str = ""):
        self.path = path
        self.dataset = dataset
        self.notes: list[str] = []  # what a person should know about this file

    @classmethod
    def open(cls, path: Path, dataset: str) -> History:
        """The history of ``dataset`` in ``path``, checked now (and upgraded from an older
        csops) when the file exists, so that a file csops cannot use stops the run before any
        work."""
        store = cls(path, dataset)
        if path.exists():
            with store._session(create=False) as connection:
                own = connection.execute("SELECT 1 FROM health_snapshots WHERE dataset = ? "
                                         "LIMIT 1", (dataset,)).fetchone()
                earlier = 0 if own else connection.execute(
                    "SELECT COUNT(DISTINCT as_of) FROM health_snapshots WHERE dataset = ?",
                    (UNKNOWN_DATA_SET,)).fetchone()[0]
            if earlier:
                store.notes.append(
                    f"{path}: its {earlier} earlier snapshot(s) were recorded before csops "
                    "kept data sets apart, so they are kept but not used; this data set's "
                    "history starts now")
        return store

    @contextmanager
    def _session(self, create: bool) -> Iterator[sqlite3.Connection]:
        """A connection to a checked history; any database error (a corrupt page, a file
        that is not a database) becomes an error naming the file and the fix."""
        try:
            with closing(self._connect(create)) as connection:
                yield connection
        except sqlite3.ProgrammingError:  # csops' own SQL is wrong: a bug
            raise
        except sqlite3.DatabaseError as error:
            if "locked" in str(error) or "busy" in str(error):
                raise self._busy() from None
            raise InputError(f"{self.path}: not a usable history database",
                             [Problem(str(self.path), str(error), fix=_FIX,
                                      code=ProblemCode.UNUSABLE_HISTORY)]) from None

    def _connect(self, create: bool) -> sqlite3.Connection:
        if create:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise InputError(
                    f"{self.path}: cannot create its folder {self.path.parent} "
                    f"({error.strerror}); choose another --history, or run with --no-save",
                    code=ProblemCode.UNUSABLE_HISTORY) from None
        connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS,
                                     isolation_level=None)
        try:
            if self._version(connection) != SCHEMA_VERSION:
                # set up or upgrade once, with the file locked, looking again inside
                connection.execute("BEGIN IMMEDIATE")
                if self._version(connection) != SCHEMA_VERSION:
                    self._set_up(connection)
                connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            connection.close()
            raise
        return connection

    def _version(self, connection: sqlite3.Connection) -> int | None:
        """The schema version of the file: None when it holds no table at all; an error when
        it is not a csops history."""
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        application = connection.execute("PRAGMA application_id").fetchone()[0]
        tables = {name: tuple(column for _, column, *_ in connection.execute(
                      "SELECT * FROM pragma_table_info(?)", (name,)))
                  for (name,) in connection.execute(
                      "SELECT name FROM sqlite_master WHERE type = 'table' "
                      "AND name NOT LIKE 'sqlite%'")}
        if not tables and version == 0 and application == 0:
            return None
        if application == APPLICATION_ID and version > SCHEMA_VERSION:
            raise InputError(f"{self.path}: written by a newer csops (schema {version}); "
                             "upgrade csops or use another --history file",
                             code=ProblemCode.UNUSABLE_HISTORY)
        # version 1 files were marked by user_version only (0: set up but not yet marked)
        ours = {5: application == APPLICATION_ID and version == 5,
                4: application == APPLICATION_ID and version == 4,
                3: application == APPLICATION_ID and version == 3,
                2: application == APPLICATION_ID and version in (0, 2),
                1: application == 0 and version in (0, 1)}
        for candidate in (5, 4, 3, 2, 1):
            layout = _LAYOUTS[candidate]
            if ours[candidate] and all(layout.get(name) == columns
                                       for name, columns in tables.items()):
                return candidate
        raise self._foreign(tables)

    def _foreign(self, tables: dict[str, tuple[str, ...]]) -> InputError:
        known = {name for layout in _LAYOUTS.values() for name in layout}
        what = [f"table {name} ({', '.join(columns)})" if name in known else f"table {name}"
                for name, columns in tables.items()
                if all(layout.get(name) != columns for layout in _LAYOUTS.values())]
        return InputError(
            f"{self.path}: not a csops history database; csops leaves it untouched",
            [Problem(str(self.path), "holds " + "; ".join(what or ["tables csops did not write"]),
                     fix=_FIX, code=ProblemCode.UNUSABLE_HISTORY)])

    def _set_up(self, connection: sqlite3.Connection) -> None:
        """A new file gets the schema; a version 1 file is upgraded: its rows are kept under
        a data set of their own, since nothing says which data set they came from; a version 2
        file gets the actions table, a version 3 file the forecasts table, a version 4 file
        the snapshots' index by account."""
        if self._version(connection) == 1:
            for statement in _UPGRADE_FROM_1[:4]:
                connection.execute(statement)
            _create_tables(connection)
            for statement in _UPGRADE_FROM_1[4:]:
                connection.execute(statement, (UNKNOWN_DATA_SET,) if "?" in statement else ())
        else:
            _create_tables(connection)
        for statement in _MARK:
            connection.execute(statement)

    def _busy(self, skip_option: str | None = None) -> InputError:
        return InputError(f"{self.path}: the history file is busy (another csops run is "
                          "writing it); try again" + (f", or use {skip_option}" if skip_option
                                                      else " when it has finished"))

    def save(self, as_of: pd.Timestamp, scores: pd.DataFrame) -> None:
        """Store the snapshot of ``as_of`` (index account_id), replacing one of the same day."""
        day = as_of.strftime("%Y-%m-%d")
        recorded = datetime.now(UTC).isoformat(timespec="seconds")
        rows = [
            (self.dataset, day, str(account), _float(r.health_score), _text(r.health_band),
             _float(r.usage_score), _float(r.relationship_score), _float(r.commercial_score),
             int(bool(r.partial)), _float(r.arr), recorded)
            for account, r in zip(scores.index, scores.itertuples(index=False), strict=True)
        ]
        with self._transaction("--no-save") as connection:
            connection.execute("DELETE FROM health_snapshots WHERE dataset = ? AND as_of = ?",
                               (self.dataset, day))
            connection.executemany(
                "INSERT INTO health_snapshots VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    @contextmanager
    def _transaction(self, skip_option: str) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it lands, or none of it (also when killed)."""
        with self._session(create=True) as connection:
            try:
                connection.execute("BEGIN IMMEDIATE")
                yield connection
                connection.execute("COMMIT")
            except sqlite3.OperationalError as error:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                if "locked" in str(error) or "busy" in str(error):
                    raise self._busy(skip_option) from None
                raise

    def _read(self, query: str, parameters: tuple) -> list[tuple]:
        """Rows of a query over this data set; none when the file does not exist yet."""
        if not self.path.exists():
            return []
        with self._session(create=False) as connection:
            return connection.execute(query, parameters).fetchall()

    def previous(self, as_of: pd.Timestamp, accounts: Iterable[str] | None = None
                 ) -> pd.DataFrame:
        """Each account's latest snapshot before ``as_of`` (index account_id); of
        ``accounts`` only, when given.

        Without ``accounts`` every snapshot before as_of is grouped, which takes seconds once
        a year of weekly snapshots is stored. With them, the latest snapshot date is read
        whole and only the accounts missing from it are looked up one by one in the index by
        account: about 0.15 s at 100,000 accounts, however long the history."""
        day = as_of.strftime("%Y-%m-%d")
        if accounts is None:
            rows = self._read("""
                SELECT s.account_id, s.as_of, s.health_score, s.health_band
                FROM health_snapshots s
                JOIN (SELECT account_id, MAX(as_of) AS as_of FROM health_snapshots
                      WHERE dataset = ? AND as_of < ? GROUP BY account_id) latest
                  ON s.account_id = latest.account_id AND s.as_of = latest.as_of
                WHERE s.dataset = ?
            """, (self.dataset, day, self.dataset))
        else:
            wanted = [str(account) for account in accounts]
            rows = self._latest_of(day, wanted)
            if rows is None:  # a store without the index by account (read-only, schema 4)
                every = self.previous(as_of)
                return every[every.index.isin(wanted)]
        return _snapshot_frame(rows)

    def has_before(self, as_of: pd.Timestamp) -> bool:
        """Is any snapshot stored before ``as_of``? (One row read, not every account's
        latest.)"""
        return bool(self._read(
            "SELECT 1 FROM health_snapshots WHERE dataset = ? AND as_of < ? LIMIT 1",
            (self.dataset, as_of.strftime("%Y-%m-%d"))))

    def snapshot_on(self, as_of: pd.Timestamp) -> pd.DataFrame:
        """The snapshot stored on ``as_of`` (index account_id), as :meth:`previous` gives its
        rows; empty when there is none."""
        rows = self._read(
            "SELECT account_id, as_of, health_score, health_band FROM health_snapshots "
            "WHERE dataset = ? AND as_of = ?", (self.dataset, as_of.strftime("%Y-%m-%d")))
        return _snapshot_frame(rows)

    def _latest_of(self, day: str, accounts: list[str]) -> list[tuple] | None:
        """The rows of :meth:`previous` for ``accounts``: the latest date before ``day``
        whole (most accounts are in it), then each account missing from it by a seek in the
        index by account (the ids passed as one JSON parameter, never as SQL). None when the
        store has no such index: a seek would then scan every older snapshot."""
        if not self.path.exists():
            return []
        wanted = set(accounts)
        with self._session(create=False) as connection:
            if connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND "
                                  "name = 'snapshots_by_account'").fetchone() is None:
                return None
            (latest,) = connection.execute(
                "SELECT MAX(as_of) FROM health_snapshots WHERE dataset = ? AND as_of < ?",
                (self.dataset, day)).fetchone()
            if latest is None:
                return []
            rows = [row for row in connection.execute(
                "SELECT account_id, as_of, health_score, health_band FROM health_snapshots "
                "WHERE dataset = ? AND as_of = ?", (self.dataset, latest)) if row[0] in wanted]
            found = {row[0] for row in rows}
            missing = [account for account in dict.fromkeys(accounts) if account not in found]
            older = connection.execute(
                "SELECT 1 FROM health_snapshots WHERE dataset = ? AND as_of < ? LIMIT 1",
                (self.dataset, latest)).fetchone()
            if missing and older is not None:  # no older snapshot: nothing to seek
                # CROSS JOIN keeps the ids the outer loop: each is two index seeks
                rows += connection.execute("""
                    SELECT l.account_id, s.as_of, s.health_score, s.health_band FROM
                      (SELECT w.value AS account_id,
                              (SELECT MAX(t.as_of) FROM health_snapshots t
                               WHERE t.dataset = ? AND t.account_id = w.value
                                 AND t.as_of < ?) AS as_of
                       FROM json_each(?) w) l
                    CROSS JOIN health_snapshots s
                    WHERE s.dataset = ? AND s.as_of = l.as_of AND s.account_id = l.account_id
                """, (self.dataset, latest, json.dumps(missing), self.dataset)).fetchall()
        return rows

    def open_plays(self, as_of: pd.Timestamp) -> pd.DataFrame:
        """Plays opened before ``as_of`` and not resolved by then."""
        day = as_of.strftime("%Y-%m-%d")
        rows = self._read(
            "SELECT account_id, play_id, opened, risk FROM plays WHERE dataset = ? "
            "AND opened < ? AND (resolved IS NULL OR resolved >= ?)", (self.dataset, day, day))
        frame = pd.DataFrame(rows, columns=["account_id", "play_id", "opened", "risk"])
        frame["opened"] = pd.to_datetime(frame["opened"])
        return frame

    def record_plays(self, as_of: pd.Timestamp, fired: pd.DataFrame,
                     resolved: pd.DataFrame) -> None:
        """One transaction: this as_of's firings replace any earlier run of the same as_of;
        ``resolved`` (account_id, play_id) risk plays are closed on as_of."""
        day = as_of.strftime("%Y-%m-%d")
        dataset = self.dataset
        rows = [(dataset, str(r.account_id), str(r.play_id), day, int(bool(r.risk)),
                 str(r.reason)) for r in fired.itertuples(index=False)]
        closed = [(day, dataset, str(r.account_id), str(r.play_id), day)
                  for r in resolved.itertuples(index=False)]
        with self._transaction("--dry-run") as connection:
            connection.execute("DELETE FROM plays WHERE dataset = ? AND opened = ?",
                               (dataset, day))
            connection.execute("UPDATE plays SET resolved = NULL WHERE dataset = ? "
                               "AND resolved = ?", (dataset, day))
            connection.executemany(
                "INSERT INTO plays (dataset, account_id, play_id, opened, risk, reason) "
                "VALUES (?, ?, ?, ?, ?, ?)", rows)
            connection.executemany(
                "UPDATE plays SET resolved = ? WHERE dataset = ? AND account_id = ? "
                "AND play_id = ? AND resolved IS NULL AND opened < ?", closed)

    def queued_actions(self, as_of: pd.Timestamp) -> pd.DataFrame:
        """Actions queued in a week before ``as_of``'s and not released before ``as_of``,
        oldest first: each the action row as listed then (its status aside), and
        ``queued_on``."""
        day, monday = _day(as_of), _day(_week_start(as_of))
        rows = self._read(
            "SELECT as_of, detail FROM actions WHERE dataset = ? AND status = 'queued' "
            "AND as_of < ? AND (released IS NULL OR released >= ?) ORDER BY as_of, action_id",
            (self.dataset, monday, day))
        return pd.DataFrame([{**json.loads(detail), "queued_on": queued_on}
                             for queued_on, detail in rows])

    def issued_this_week(self, as_of: pd.Timestamp) -> pd.DataFrame:
        """owner, play_id of the actions given out (status new) in ``as_of``'s ISO week by
        runs of earlier days: they count against this week's budget."""
        rows = self._read(
            "SELECT owner, play_id FROM actions WHERE dataset = ? AND status = 'new' "
            "AND as_of >= ? AND as_of < ?",
            (self.dataset, _day(_week_start(as_of)), _day(as_of)))
        return pd.DataFrame(rows, columns=["owner", "play_id"])

    def record_actions(self, as_of: pd.Timestamp, actions: pd.DataFrame,
                       carried: frozenset[str]) -> None:
        """One transaction: this as_of's actions replace any earlier run of the same as_of.
        An action of ``carried`` (queued in an earlier week) that is ``new`` now is released
        on as_of; one still queued stays where it was queued."""
        day, dataset = _day(as_of), self.dataset
        columns = [column for column in actions.columns if column != "status"]
        rows, released = [], []
        for record in actions.to_dict("records"):
            action = str(record["action_id"])
            if action in carried:
                if record["status"] != "new":
                    continue
                released.append((day, dataset, action, day))
            detail = json.dumps({column: _plain(record[column]) for column in columns})
            rows.append((dataset, day, action, str(record["play_id"]), str(record["owner"]),
                         str(record["status"]), detail))
        with self._transaction("--dry-run") as connection:
            connection.execute("DELETE FROM actions WHERE dataset = ? AND as_of = ?",
                               (dataset, day))
            connection.execute("UPDATE actions SET released = NULL WHERE dataset = ? "
                               "AND released = ?", (dataset, day))
            connection.executemany(
                "INSERT INTO actions (dataset, as_of, action_id, play_id, owner, status, "
                "detail) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            connection.executemany(
                "UPDATE actions SET released = ? WHERE dataset = ? AND action_id = ? "
                "AND status = 'queued' AND released IS NULL AND as_of < ?", released)

    def forecast_checkpoints(self) -> pd.DataFrame:
        """account_id, renewal_date, checkpoint of every forecast recorded for this data set."""
        rows = self._read("SELECT account_id, renewal_date, checkpoint FROM forecasts "
                          "WHERE dataset = ?", (self.dataset,))
        return pd.DataFrame(rows, columns=["account_id", "renewal_date", "checkpoint"])

    def record_forecasts(self, forecasts: pd.DataFrame) -> None:
        """One transaction: each row (FORECAST_COLUMNS) is kept unless that renewal's
        checkpoint was recorded before."""
        recorded = datetime.now(UTC).isoformat(timespec="seconds")
        rows = [(self.dataset, str(r.account_id), str(r.renewal_date), int(r.checkpoint),
                 str(r.as_of), int(r.days_to_renewal), float(r.arr), _text(r.health_band),
                 float(r.probability), str(r.source), float(r.forecast_arr), recorded)
                for r in forecasts[list(FORECAST_COLUMNS)].itertuples(index=False)]
        with self._transaction("--no-save") as connection:
            connection.executemany(
                "INSERT OR IGNORE INTO forecasts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows)

    def forecasts(self) -> pd.DataFrame:
        """Every forecast recorded for this data set (FORECAST_COLUMNS)."""
        rows = self._read("SELECT " + ", ".join(FORECAST_COLUMNS) + " FROM forecasts "
                          "WHERE dataset = ? ORDER BY renewal_date, account_id, checkpoint",
                          (self.dataset,))
        return pd.DataFrame(rows, columns=list(FORECAST_COLUMNS))

    def resolution_days(self) -> pd.DataFrame:
        """Resolved risk plays and how many days each stayed open."""
        rows = self._read(
            "SELECT account_id, play_id, opened, resolved FROM plays "
            "WHERE dataset = ? AND risk = 1 AND resolved IS NOT NULL", (self.dataset,))
        frame = pd.DataFrame(rows, columns=["account_id", "play_id", "opened", "resolved"])
        frame["days"] = (pd.to_datetime(frame["resolved"]) - pd.to_datetime(frame["opened"])
                         ).dt.days
        return frame

    def band_mix(self, as_of: pd.Timestamp) -> pd.DataFrame:
        """Per stored snapshot on or before ``as_of`` and band: accounts and ARR
        (as_of, health_band, accounts, arr), oldest first."""
        rows = self._read(
            "SELECT as_of, health_band, COUNT(*), TOTAL(arr) FROM health_snapshots "
            "WHERE dataset = ? AND as_of <= ? AND health_band IS NOT NULL "
            "GROUP BY as_of, health_band ORDER BY as_of", (self.dataset, _day(as_of)))
        return pd.DataFrame(rows, columns=["as_of", "health_band", "accounts", "arr"])

    def trend(self, account_id: str, limit: int = 12) -> pd.DataFrame:
        """The latest ``limit`` snapshots of one account, oldest first."""
        rows = self._read(
            "SELECT as_of, health_score, health_band, usage_score, relationship_score, "
            "commercial_score, partial, arr FROM health_snapshots WHERE dataset = ? "
            "AND account_id = ? ORDER BY as_of DESC LIMIT ?", (self.dataset, account_id, limit))
        return pd.DataFrame(rows[::-1], columns=["as_of", *SNAPSHOT_COLUMNS])


def same_tables(version: int | None) -> bool:
    """A store of this schema version holds the tables of the current one (it may lack an
    index only): it can be read as it is."""
    return version is None or _LAYOUTS.get(version) == _LAYOUTS[SCHEMA_VERSION]


def _create_tables(connection: sqlite3.Connection) -> None:
    for statement in _SCHEMA.split(";"):  # one by one: executescript would commit first
        if statement.strip():
            connection.execute(statement)


def _day(day: pd.Timestamp) -> str:
    return day.strftime("%Y-%m-%d")


def _week_start(day: pd.Timestamp) -> pd.Timestamp:
    """The Monday of ``day``'s ISO week."""
    return day.normalize() - pd.Timedelta(days=day.weekday())


def _plain(value):
    """A value of an action row as JSON holds it (numpy numbers as numbers, missing as null)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def _snapshot_frame(rows: list[tuple]) -> pd.DataFrame:
    """Rows of (account_id, as_of, health_score, health_band), indexed by account_id."""
    if not rows:
        return _empty()
    return pd.DataFrame(rows, columns=["account_id", "as_of", "health_score",
                                       "health_band"]).set_index("account_id")


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=["as_of", "health_score", "health_band"],
                        index=pd.Index([], name="account_id"))


def _float(value) -> float | None:
    return None if pd.isna(value) else float(value)


def _text(value) -> str | None:
    return None if pd.isna(value) else str(value)
