"""What a change of playbooks.yaml would do, before anyone adopts it.

Both configs are applied to the same loaded exports, as of the same date: each rebuilds the
signal table and scores every paying account, evaluates the plays dry (nothing is recorded,
and no play counts as already open, as on a first run), and, unless skipped, runs the
backtest. The result compares the two: accounts whose band changes (with their ARR), the band
transition matrix, actions per play and per owner, and the backtests' headlines side by side.

The exports are read once, with the old config's ``inputs``, ``columns`` and ``sources``; when
the new config's differ, the result says that they were not applied.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import pandas as pd

from . import pipeline
from .backtest import Backtest, BacktestOptions
from .backtest import run as run_backtest
from .config import Config
from .errors import InputError, Problem, ProblemCode, UsageError
from .history import History, same_tables
from .loading import Exports
from .plays import evaluate

BANDS = ("green", "yellow", "red")
UNSCORED = "unscored"  # a paying account without a score (no bucket to weigh)
# the sections that say how the exports are read, rather than what is done with them
READING_SECTIONS = ("inputs", "columns", "sources")
BAND_CHANGE_COLUMNS = ["account_id", "account_name", "segment", "arr", "old_band", "new_band",
                       "old_score", "new_score"]


@dataclass(frozen=True)
class Side:
    """One config's view of the same exports."""

    label: str
    scores: pd.DataFrame  # paying accounts (index account_id): health_score, health_band
    actions: pd.DataFrame  # the dry run's actions
    summary: pd.DataFrame  # per play: play_id, play_name, fired, actions
    backtest: Backtest | None
    backtest_skipped: str | None = None  # why there is no backtest, when it was asked for


@dataclass(frozen=True)
class ConfigDiff:
    as_of: pd.Timestamp
    old: Side
    new: Side
    accounts: int  # paying accounts scored under both configs
    score_changes: int  # of them, accounts whose score (as shown) changes
    band_changes: pd.DataFrame  # BAND_CHANGE_COLUMNS, to red first, then largest ARR
    transitions: pd.DataFrame  # old_band, new_band, accounts, arr: every pair that occurs
    plays: pd.DataFrame  # play_id, play_name, old_accounts, new_accounts, old_actions, ...
    owners: pd.DataFrame  # owner, old_actions, new_actions, change
    notes: tuple[str, ...] = ()


def config_diff(exports: Exports, old: tuple[str, Config], new: tuple[str, Config],
                as_of: pd.Timestamp | None = None, history: History | None = None,
                backtest: bool = True) -> ConfigDiff:
    """Compare ``old`` and ``new`` (label, config) on the same exports. ``history`` is read
    for previous scores only; nothing is written to it."""
    from .signals import default_as_of

    as_of = (as_of or default_as_of(exports)).normalize()
    notes = reading_notes(old, new)
    sides = [_side(exports, label, config, as_of, history, backtest)
             for label, config in (old, new)]
    old_side, new_side = sides
    if history is not None and history.has_before(as_of):
        notes.append(f"previous scores read from {history.path} (stored under the config in "
                     "use then): a score that moves because of the config change can fire a "
                     "play on score changes (such as a health-drop alert) under the new "
                     "config; nothing was written to it")
    notes.append("plays evaluated dry, as on a first run: plays already open in the history "
                  "are not taken into account, and nothing is recorded")
    for side in sides:
        if side.backtest_skipped:
            notes.append(f"backtest of {side.label} skipped: {side.backtest_skipped}")
    joined = _joined(old_side.scores, new_side.scores)
    changed = joined[joined["old_band"] != joined["new_band"]]
    return ConfigDiff(
        as_of, old_side, new_side, len(joined),
        int((joined["old_score"].round(1) != joined["new_score"].round(1)).sum()),
        _band_changes(changed), _transitions(joined),
        _plays(old_side.summary, new_side.summary), _owners(old_side.actions,
                                                            new_side.actions),
        tuple(notes))


def reading_notes(old: tuple[str, Config], new: tuple[str, Config]) -> list[str]:
    """Which of the new config's reading sections differ from the old's: they are not
    applied, since both configs share one read of the exports."""
    differing = [name for name in READING_SECTIONS
                 if getattr(old[1], name) != getattr(new[1], name)]
    if not differing:
        return []
    return [f"the exports were read once, with {old[0]}'s {', '.join(differing)}: those "
            f"sections of {new[0]} differ and were not applied here; check them with "
            f"`csops validate DATA --config {new[0]}`"]


def _side(exports: Exports, label: str, config: Config, as_of: pd.Timestamp,
          history: History | None, backtest: bool) -> Side:
    result = pipeline.account_health(exports, config, as_of, history)
    team = exports.team.frame if exports.team is not None else None
    run = evaluate(result.signals, config, result.as_of, team, _no_open_plays())
    scored = result.scored
    scores = pd.DataFrame({
        "account_name": scored["account_name"].astype("string"),
        "segment": scored["segment"].astype("string"),
        "arr": scored["arr"].astype(float),
        "health_score": scored["health_score"].astype(float),
        "health_band": scored["health_band"].astype("string").fillna(UNSCORED),
    }, index=scored.index)
    tested, skipped = None, None
    if backtest:
        try:
            tested = run_backtest(exports, config, BacktestOptions(as_of=as_of), label)
        except UsageError as error:  # too short a past for any outcome: said in the notes
            skipped = error.message
    return Side(label, scores, run.actions, run.summary, tested, skipped)


def _no_open_plays() -> pd.DataFrame:
    return pd.DataFrame({"account_id": pd.Series(dtype=object),
                         "play_id": pd.Series(dtype=object),
                         "opened": pd.Series(dtype="datetime64[ns]"),
                         "risk": pd.Series(dtype=int)})


def _joined(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Each paying account's old and new score and band; name, segment and ARR as the new
    config sees them."""
    frame = new[["account_name", "segment", "arr"]].copy()
    frame["old_band"] = old["health_band"].reindex(frame.index).fillna(UNSCORED)
    frame["new_band"] = new["health_band"]
    frame["old_score"] = old["health_score"].reindex(frame.index)
    frame["new_score"] = new["health_score"]
    return frame


def _band_rank(bands: pd.Series) -> pd.Series:
    return bands.map({band: rank for rank, band in enumerate((UNSCORED, "red", "yellow",
                                                               "green"))})


def _band_changes(changed: pd.DataFrame) -> pd.DataFrame:
    frame = changed.rename_axis("account_id").reset_index()
    frame["account_id"] = frame["account_id"].astype(str)
    frame["old_score"] = frame["old_score"].round(1)
    frame["new_score"] = frame["new_score"].round(1)
    frame["_rank"] = _band_rank(frame["new_band"])
    frame = frame.sort_values(["_rank", "arr", "account_id"], ascending=[True, False, True],
                              kind="stable", ignore_index=True)
    return frame[BAND_CHANGE_COLUMNS]


def _transitions(joined: pd.DataFrame) -> pd.DataFrame:
    """Accounts and ARR per (old band, new band) pair that occurs, bands in order."""
    grouped = joined.groupby(["old_band", "new_band"], sort=False).agg(
        accounts=("arr", "size"), arr=("arr", "sum")).reset_index()
    order = {band: rank for rank, band in enumerate((*BANDS, UNSCORED))}
    grouped["_old"] = grouped["old_band"].map(order)
    grouped["_new"] = grouped["new_band"].map(order)
    grouped = grouped.sort_values(["_old", "_new"], ignore_index=True)
    grouped["accounts"] = grouped["accounts"].astype(int)
    grouped["arr"] = grouped["arr"].astype(float)
    return grouped[["old_band", "new_band", "accounts", "arr"]]


def _plays(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Per play (the old config's order, then plays only the new one has): accounts it fires
    for and actions it creates under each config."""
    columns = ["play_id", "play_name", "old_accounts", "new_accounts", "old_actions",
               "new_actions", "change"]
    records = []
    ids = list(old.get("play_id", [])) + [p for p in new.get("play_id", [])
                                          if p not in set(old.get("play_id", []))]
    before = old.set_index("play_id") if len(old) else pd.DataFrame()
    after = new.set_index("play_id") if len(new) else pd.DataFrame()
    for play_id in ids:
        was = before.loc[play_id] if play_id in before.index else None
        now = after.loc[play_id] if play_id in after.index else None
        old_actions = int(was["actions"]) if was is not None else 0
        new_actions = int(now["actions"]) if now is not None else 0
        records.append({
            "play_id": play_id,
            "play_name": (now if now is not None else was)["play_name"],
            "old_accounts": int(was["fired"]) if was is not None else 0,
            "new_accounts": int(now["fired"]) if now is not None else 0,
            "old_actions": old_actions, "new_actions": new_actions,
            "change": new_actions - old_actions,
        })
    return pd.DataFrame(records, columns=columns)


def _owners(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Actions per owner under each config: the largest change first."""
    counts = pd.DataFrame({"old_actions": old["owner"].value_counts(),
                           "new_actions": new["owner"].value_counts()}).fillna(0).astype(int)
    counts["change"] = counts["new_actions"] - counts["old_actions"]
    counts = counts.rename_axis("owner").reset_index()
    counts["owner"] = counts["owner"].astype(str)
    counts["_size"] = counts["change"].abs()
    counts = counts.sort_values(["_size", "new_actions", "owner"],
                                ascending=[False, False, True], kind="stable",
                                ignore_index=True)
    return counts[["owner", "old_actions", "new_actions", "change"]]


class ReadOnlyHistory(History):
    """The history store opened read-only: its previous scores are read, nothing is ever
    written (not even an upgrade of a file an older csops wrote)."""

    def _connect(self, create: bool) -> sqlite3.Connection:
        connection = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True,
                                     timeout=30.0)
        try:
            version = self._version(connection)
        except BaseException:
            connection.close()
            raise
        if not same_tables(version):
            connection.close()
            raise InputError(f"{self.path}: written by an older csops", [Problem(
                str(self.path), "its layout must be upgraded before it can be read, and "
                "csops diff writes nothing", fix="run `csops health` once to upgrade it, or "
                "give --history another file", code=ProblemCode.UNUSABLE_HISTORY)])
        return connection


def open_read_only(path, dataset: str) -> ReadOnlyHistory | None:
    """The history of ``dataset`` at ``path`` for reading, or None when there is none."""
    if not path.exists():
        return None
    store = ReadOnlyHistory(path, dataset)
    with store._session(create=False):
        pass  # checked now: a file csops cannot read stops the run before any work
    return store


def band_order(bands) -> list[str]:
    """The bands that occur, in order, for a matrix's rows or columns."""
    present = set(bands)
    return [band for band in (*BANDS, UNSCORED) if band in present]

