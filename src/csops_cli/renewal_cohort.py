"""The scored renewal cohort of past dates, and only it: what the forecast's band rates need.

The backtest rebuilds the whole signal table as of each past date; the forecast needs only the
health band of the accounts whose renewal was due within the horizon then (about a quarter of
them). So, for each date, the exports are narrowed to the accounts that have a contract active
on it and ending within the horizon (every account of the cohort has one), the signal table is
built for those accounts alone (as known on the date, as the backtest builds it) and scored.
A health score reads only its own account's row, so each row comes out as the backtest's.

When the health models read only usage signals of the 30-day window (or none), the usage
events are narrowed to the chunks that reach into that window too: events before it change
only first sightings (first value, a new feature or business unit) and what derives from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from . import progress
from .backtest import BANDS, ContractTerms, scored_rows
from .config import Config
from .dates import day_number, window_start
from .loading import Exports, Table
from .loading.events import UsageEvents, account_positions
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


def renewal_panel(exports: Exports, config: Config, dates: Sequence[pd.Timestamp],
                  horizon: int) -> pd.DataFrame:
    """The rows of the backtest's scored panel (see :func:`backtest.scored_panel`) whose
    renewal is due within ``horizon`` days (1 to horizon), each as the backtest scores it.
    Only for exports that :func:`can_narrow`."""
    contracts = ContractTerms.of(exports)
    owner = np.repeat(np.arange(len(contracts.first) - 1), np.diff(contracts.first))
    narrow = _Narrowing(exports, window_only=not (health_reads(config) & USAGE_HISTORY_COLUMNS))
    frames, dates_of, positions = [], [], []
    for date in progress.steps(list(dates), "building past renewals"):
        day = day_number(date)
        ending = (contracts.start <= day) & (day < contracts.end) & \
            (contracts.end - day <= horizon)
        accounts = np.unique(owner[ending])
        if not len(accounts):
            continue
        frame = build_signals_at(narrow.to(accounts, day), config, [date],
                                 as_known=True)[date].frame
        due = frame["days_to_renewal"].to_numpy(dtype=float)
        cohort = (due >= 1) & (due <= horizon)
        frames.append(frame[cohort].reset_index())
        dates_of.append(np.full(int(cohort.sum()), date.to_datetime64()))
        positions.append(accounts[cohort])
    if not frames:  # nothing renews within the horizon of any date
        return pd.DataFrame({
            "as_of": pd.Series(dtype="datetime64[ns]"), "account": pd.Series(dtype=np.int64),
            "arr": pd.Series(dtype=float), "days_to_renewal": pd.Series(dtype=float),
            "health_score": pd.Series(dtype=float),
            "health_band": pd.Categorical([], categories=BANDS)})
    # one scoring of every date's rows: a score reads only its own row
    with progress.phase("scoring past renewals"):
        return scored_rows(np.concatenate(dates_of), pd.concat(frames, ignore_index=True),
                           config, np.concatenate(positions))


class _Narrowing:
    """The exports cut down to some accounts (positions in the accounts table)."""

    def __init__(self, exports: Exports, window_only: bool):
        self.exports, self.window_only = exports, window_only
        self.accounts = exports.accounts.frame.drop_duplicates("account_id")
        ids = pd.Index(self.accounts["account_id"])
        self.n = len(ids)
        self.contract_accounts = account_positions(ids, exports.contracts.frame["account_id"])
        activities = exports.activities
        self.activity_accounts = (None if activities is None else
                                  account_positions(ids, activities.frame["account_id"]))

    def to(self, accounts: np.ndarray, day: int) -> Exports:
        exports = self.exports
        chosen = np.zeros(self.n + 1, dtype=bool)  # the last slot: accounts not in the table
        chosen[accounts] = True
        frame = self.accounts.iloc[accounts]
        narrowed = replace(
            exports, accounts=_with_frame(exports.accounts, frame),
            contracts=_with_frame(exports.contracts, exports.contracts.frame[
                chosen[self.contract_accounts]]))
        if exports.activities is not None:
            narrowed = replace(narrowed, activities=_with_frame(
                exports.activities, exports.activities.frame[chosen[self.activity_accounts]]))
        if exports.usage is not None:
            events = self._events(exports.usage.events, accounts, pd.Index(frame["account_id"]),
                                  day)
            narrowed = replace(narrowed, usage=_with_frame(exports.usage, None, events))
        return narrowed

    def _events(self, events: UsageEvents, accounts: np.ndarray, ids: pd.Index,
                day: int) -> UsageEvents:
        """The events recoded to ``ids`` (every other account: the slot past the last); with
        ``window_only``, only the chunks that reach into the window ending on ``day``."""
        code = np.full(self.n + 1, len(accounts), dtype=np.int32)
        code[accounts] = np.arange(len(accounts), dtype=np.int32)
        first = window_start(day, USAGE_WINDOW_DAYS)
        chunks = []
        for chunk in events.chunks:
            if not len(chunk):
                continue
            if self.window_only and (chunk.day.max() < first or chunk.day.min() > day):
                continue
            chunks.append(replace(chunk, account=code[chunk.account]))
        return replace(events, ids=ids, chunks=chunks)


def _with_frame(table: Table, frame: pd.DataFrame | None,
                events: UsageEvents | None = None) -> Table:
    return Table(table.name, table.path, frame, table.preset, table.source_columns, table.raw,
                 events)
