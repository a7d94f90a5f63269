"""Health as of past dates, with no more work than a use needs.

The backtest, the forecast's band rates and the report's health mix score the accounts as of
past dates, each date seeing what was known on it. :func:`past_panel` gives the rows of the
backtest's scored panel (see :func:`backtest.scored_panel`), each exactly as that scores it,
but builds less to get them:

- **the 30-day window only**: when the health models read only usage signals of the 30-day
  window (or none), each date's signal table is built from the usage chunks that reach into
  its window; events before it change only first sightings (first value, a new feature or
  business unit) and what derives from them, none of which such a model reads. Otherwise all
  dates are built in one pass over every event;
- **the renewal cohort only** (``renewal_within``): the forecast needs the accounts whose
  renewal was due within the horizon on each date. Every such account has a contract active
  on the date and ending within the horizon, so the exports are narrowed to those accounts
  before the signal table is built;
- **one scoring**: the rows of every date are scored at once; a score reads only its own row;
- **a date per core**: the narrowed dates are built side by side, each on one thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
import pandas as pd

from . import progress, threads
from .backtest import BANDS, ContractTerms, scored_panel, scored_rows, signals_as_known
from .config import Config
from .dates import day_number, window_start
from .loading import Exports, Table
from .loading.events import UsageEvents, account_positions
from .signal_catalogue import SIGNAL_EXPORTS
from .signals import build_signals_at
from .usage import USAGE_WINDOW_DAYS

# signal-table columns that read usage events from before the 30-day window; a health model
# that reads one of them is scored from every event
USAGE_HISTORY_COLUMNS = frozenset({
    "new_business_unit", "new_feature_used", "first_value_date", "first_value_reached",
    "onboarding_stalled", "derived_stage", "expansion_signal"})


def can_narrow(exports: Exports) -> bool:
    """Narrowing works on the usage events as the reader codes them (or on no usage)."""
    usage = exports.usage
    return usage is None or (usage.warehouse is None and usage.events is not None)


def health_reads(config: Config) -> set[str]:
    """The signal-table columns that any health model (the base one or a segment's) reads."""
    health = config.health
    models = [health] + [health.for_segment(name) for name in health.segments]
    return {name for model in models for bucket in model.buckets.values()
            for name in bucket.signals}


def past_panel(exports: Exports, config: Config, dates: Sequence[pd.Timestamp],
               renewal_within: int | None = None, terms: ContractTerms | None = None
               ) -> pd.DataFrame:
    """The backtest's scored panel at ``dates`` (one row per date and paying account); with
    ``renewal_within``, only its rows whose renewal is due within that many days (1 to N).
    ``terms``: the exports' contract terms, when the caller has them already."""
    window_only = not (health_reads(config) & USAGE_HISTORY_COLUMNS)
    if not can_narrow(exports) or (renewal_within is None and not window_only):
        panel = scored_panel(signals_as_known(exports, config, dates), config)
        return panel if renewal_within is None else panel[_due(panel, renewal_within)]
    contracts = None
    if renewal_within is not None:
        contracts = terms if terms is not None else ContractTerms.of(exports)
    narrow = _Narrowing(exports, window_only)
    reads = health_reads(config) | {"segment", "arr", "days_to_renewal"} | \
        set(SIGNAL_EXPORTS.values())

    def rows_of(date: pd.Timestamp) -> tuple[pd.DataFrame, np.ndarray, np.ndarray] | None:
        """The date's rows to score, as of when and for which accounts they are."""
        day = day_number(date)
        accounts = None if contracts is None else _renewing(contracts, day, renewal_within)
        if accounts is not None and not len(accounts):
            return None
        with threads.limited(1):  # the dates share the cores: each tallies on one thread
            frame = build_signals_at(narrow.to(accounts, day), config, [date],
                                     as_known=True)[date].frame
        keep = (frame["arr"] > 0).to_numpy(copy=True)
        if renewal_within is not None:
            keep &= _due(frame, renewal_within)
        where = np.flatnonzero(keep)
        return (frame.loc[keep, [c for c in frame.columns if c in reads]].reset_index(drop=True),
                np.full(len(where), date.to_datetime64()),
                where if accounts is None else accounts[where])

    # a date at a time on each core: a date's tally on one thread has no threads' sets of
    # user ids to merge, and one date's pandas work overlaps another's tally
    frames, dates_of, positions = [], [], []
    with progress.phase("building past dates", total=len(dates)) as advance, \
            ThreadPoolExecutor(max_workers=max(1, min(threads.thread_count(),
                                                      len(dates)))) as pool:
        try:
            for rows in pool.map(rows_of, dates):
                advance()
                if rows is not None:
                    frames.append(rows[0])
                    dates_of.append(rows[1])
                    positions.append(rows[2])
        except BaseException:  # an error, Ctrl-C: the dates not begun are not built
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    if not frames:  # nothing renews within the horizon of any date
        return pd.DataFrame({
            "as_of": pd.Series(dtype="datetime64[ns]"), "account": pd.Series(dtype=np.int64),
            "arr": pd.Series(dtype=float), "days_to_renewal": pd.Series(dtype=float),
            "health_score": pd.Series(dtype=float),
            "health_band": pd.Categorical([], categories=BANDS)})
    with progress.phase("scoring past dates"):
        return scored_rows(np.concatenate(dates_of), pd.concat(frames, ignore_index=True),
                           config, np.concatenate(positions))


def _due(frame: pd.DataFrame, within: int) -> np.ndarray:
    due = frame["days_to_renewal"].to_numpy(dtype=float)
    return (due >= 1) & (due <= within)


def _renewing(contracts: ContractTerms, day: int, within: int) -> np.ndarray:
    """Positions of the accounts with a contract active on ``day`` that ends within
    ``within`` days: every account whose renewal is due by then has one."""
    owner = np.repeat(np.arange(len(contracts.first) - 1), np.diff(contracts.first))
    ending = (contracts.start <= day) & (day < contracts.end) & (contracts.end - day <= within)
    return np.unique(owner[ending])


class _Narrowing:
    """The exports cut down to some accounts (positions in the accounts table) and, with
    ``window_only``, the usage to the chunks that reach into a date's 30-day window."""

    def __init__(self, exports: Exports, window_only: bool):
        self.exports, self.window_only = exports, window_only
        self.accounts = exports.accounts.frame.drop_duplicates("account_id")
        ids = pd.Index(self.accounts["account_id"])
        self.n = len(ids)
        self.contract_accounts = account_positions(ids, exports.contracts.frame["account_id"])
        activities = exports.activities
        self.activity_accounts = (None if activities is None else
                                  account_positions(ids, activities.frame["account_id"]))
        # each usage chunk with events, and its first and last day: found once, for every date
        events = exports.usage.events if exports.usage is not None else None
        self.chunks = [] if events is None else [
            (chunk, int(chunk.day.min()), int(chunk.day.max()))
            for chunk in events.chunks if len(chunk)]

    def to(self, accounts: np.ndarray | None, day: int) -> Exports:
        """The exports as of ``day`` for ``accounts`` (None: every account)."""
        exports = self.exports
        narrowed = exports
        if accounts is not None:
            chosen = np.zeros(self.n + 1, dtype=bool)  # last slot: accounts not in the table
            chosen[accounts] = True
            narrowed = replace(
                exports, accounts=_with_frame(exports.accounts, self.accounts.iloc[accounts]),
                contracts=_with_frame(exports.contracts, exports.contracts.frame[
                    chosen[self.contract_accounts]]))
            if exports.activities is not None:
                narrowed = replace(narrowed, activities=_with_frame(
                    exports.activities,
                    exports.activities.frame[chosen[self.activity_accounts]]))
        if exports.usage is not None:
            narrowed = replace(narrowed, usage=_with_frame(
                exports.usage, None, self._events(exports.usage.events, accounts, day)))
        return narrowed

    def _events(self, events: UsageEvents, accounts: np.ndarray | None,
                day: int) -> UsageEvents:
        """The events recoded to ``accounts`` (every other account: the slot past the
        last); with ``window_only``, only the chunks that reach into the window."""
        first = window_start(day, USAGE_WINDOW_DAYS)
        chunks = [chunk for chunk, low, high in self.chunks
                  if not (self.window_only and (high < first or low > day))]
        if accounts is None:
            return replace(events, chunks=chunks)
        code = np.full(self.n + 1, len(accounts), dtype=np.int32)
        code[accounts] = np.arange(len(accounts), dtype=np.int32)
        return replace(events, ids=pd.Index(self.accounts["account_id"].iloc[accounts]),
                       chunks=[replace(chunk, account=code[chunk.account])
                               for chunk in chunks])


def _with_frame(table: Table, frame: pd.DataFrame | None,
                events: UsageEvents | None = None) -> Table:
    return Table(table.name, table.path, frame, table.preset, table.source_columns, table.raw,
                 events)
