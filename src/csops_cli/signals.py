"""The account signal table: one row per account, as of a date.

Everything downstream (health, stages, plays, renewals, metrics) reads this table. Event
tables are reduced with integer account codes and ``np.bincount`` / group-bys, never a Python
loop over accounts or events. Dates are handled as whole days (int64 days since the epoch).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .config import Config
from .loading import Exports, Table
from .loading.events import (
    EventChunk,
    UsageEvents,
    account_positions,
    events_from_frame,
)

USAGE_WINDOW_DAYS = 30
NEVER = np.iinfo(np.int32).max  # "no such day" in int32 day arrays
MEETING_WINDOW_DAYS = 90
MEETING_TYPES = ("meeting", "qbr")


@dataclass(frozen=True)
class Signals:
    as_of: pd.Timestamp
    frame: pd.DataFrame  # index: account_id
    skipped: tuple[str, ...] = field(default=())  # what could not be computed, and why


def days(values: pd.Series) -> np.ndarray:
    """Whole days since 1970-01-01 as float (NaN for missing), for cheap date arithmetic.
    A column without gaps (event timestamps) comes back as int32, half the memory traffic."""
    as_days = values.to_numpy(dtype="datetime64[s]").astype("datetime64[D]")
    missing = np.isnat(as_days)
    if not missing.any():
        return as_days.astype(np.int32)
    result = as_days.astype(np.int64).astype(np.float64)
    result[missing] = np.nan
    return result


def day_number(timestamp: pd.Timestamp) -> int:
    return int(np.datetime64(timestamp.date(), "D").astype(np.int64))


def from_days(values: np.ndarray) -> pd.Series:
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[s]")
    known = ~np.isnan(values)
    out[known] = values[known].astype(np.int64).astype("datetime64[D]").astype("datetime64[s]")
    return pd.Series(out)


def default_as_of(exports: Exports) -> pd.Timestamp:
    """The export's date: the latest day seen in usage and activities, else today."""
    candidates = []
    if exports.usage is not None:
        events = exports.usage.events
        if events is None:
            candidates.append(exports.usage.frame["timestamp"].max())
        elif events.last_day() is not None:
            candidates.append(pd.Timestamp(np.datetime64(events.last_day(), "D")))
    if exports.activities is not None:
        candidates.append(exports.activities.frame["date"].max())
    candidates = [c for c in candidates if pd.notna(c)]
    return max(candidates) if candidates else pd.Timestamp.today().normalize()


def window_start(as_of_day: int, window_days: int) -> int:
    """First day of a window of N days ending on as_of, inclusive."""
    return as_of_day - window_days + 1


def year_before(as_of: pd.Timestamp) -> pd.Timestamp:
    """Same calendar day twelve months earlier (29 February falls back to the 28th)."""
    return as_of - pd.DateOffset(years=1)


def build_signals(exports: Exports, config: Config, as_of: pd.Timestamp | None = None) -> Signals:
    as_of = (as_of or default_as_of(exports)).normalize()
    today = day_number(as_of)
    accounts = exports.accounts.frame.drop_duplicates("account_id").set_index("account_id")
    ids = accounts.index  # as account_index gives it: usage events are coded against it
    frame = accounts.copy()
    skipped: list[str] = []

    rows = _contract_rows(exports.contracts.frame, ids)
    onboarding = _onboarding_start(rows, len(ids))
    with ThreadPoolExecutor(max_workers=1) as pool:  # contracts and activities beside usage
        others = [pool.submit(_contract_signals, rows, ids, as_of, onboarding)]
        if exports.activities is not None:
            others.append(pool.submit(_activity_signals, exports.activities.frame, ids, today))
        if exports.usage is not None:
            usage_signals = _usage_signals(usage_events(exports.usage, ids), ids, today,
                                           config, onboarding)
        for other in others:
            frame = frame.join(other.result())
    if exports.usage is not None:
        frame = frame.join(usage_signals)
    if exports.usage is None:
        skipped.append("no usage export: product-usage signals (utilization, logins, feature "
                       "adoption, first value) skipped")
        for name in ("active_users_30d", "license_utilization", "logins_30d",
                     "logins_per_user_30d", "core_features_used_30d", "core_feature_adoption"):
            frame[name] = np.nan
        frame["first_value_date"] = pd.Series(pd.NaT, index=ids, dtype="datetime64[s]")
        frame["new_business_unit"] = False
        frame["new_feature_used"] = False
    if exports.activities is None:
        skipped.append("no activities export: meetings_90d and days_since_last_touch skipped")
        frame["meetings_90d"] = np.nan
        frame["days_since_last_touch"] = np.nan

    frame["license_utilization"] = _ratio(frame["active_users_30d"], frame["licenses"])
    frame["segment"] = _segments(frame, config)
    threshold = config.lifecycle.expansion_utilization
    frame["expansion_signal"] = (frame["license_utilization"] > threshold).fillna(False) | \
        frame["new_business_unit"].astype(bool)
    frame["derived_stage"] = _derived_stage(frame, config)
    if "champion_status" not in frame:
        frame["champion_status"] = pd.Series(pd.NA, index=ids, dtype="string")
    if "lifecycle_stage" not in frame:
        frame["lifecycle_stage"] = pd.Series(pd.NA, index=ids, dtype="string")
    return Signals(as_of, frame, tuple(skipped))


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    denominator = denominator.where(denominator > 0)
    return numerator / denominator


@dataclass(frozen=True)
class _ContractRows:
    """The contracts of known accounts, dates as day numbers (NaN: none)."""

    codes: np.ndarray  # account position
    start: np.ndarray
    end: np.ndarray
    signed: np.ndarray
    arr: np.ndarray
    licenses: np.ndarray | None
    is_new: np.ndarray | None  # contract_type == new, when the export has types


def _contract_rows(contracts: pd.DataFrame, ids: pd.Index) -> _ContractRows:
    codes = account_positions(ids, contracts["account_id"])
    known = codes >= 0

    def column(name: str, read) -> np.ndarray | None:
        return read(contracts[name])[known] if name in contracts else None

    signed = column("signed_date", days)
    return _ContractRows(
        codes[known], days(contracts["start_date"])[known], days(contracts["end_date"])[known],
        np.full(int(known.sum()), np.nan) if signed is None else signed,
        contracts["arr"].to_numpy(dtype=np.float64)[known],
        column("licenses", lambda values: values.to_numpy(dtype=np.float64)),
        column("contract_type", lambda values: values.eq("new").fillna(False).to_numpy(
            dtype=bool)))


def _first_contracts(rows: _ContractRows) -> np.ndarray:
    """Row of each account's first contract (by start date)."""
    order = np.lexsort((rows.start, rows.codes))
    first_of_account = np.ones(len(order), dtype=bool)
    first_of_account[1:] = rows.codes[order][1:] != rows.codes[order][:-1]
    return order[first_of_account]


def _onboarding_start(rows: _ContractRows, n: int) -> np.ndarray:
    """Onboarding starts with the first contract: its signed date, else its start date."""
    firsts = _first_contracts(rows)
    onboarding = np.full(n, np.nan)
    onboarding[rows.codes[firsts]] = np.where(np.isnan(rows.signed[firsts]), rows.start[firsts],
                                              rows.signed[firsts])
    return onboarding


def _contract_signals(rows: _ContractRows, ids: pd.Index, as_of: pd.Timestamp,
                      onboarding: np.ndarray) -> pd.DataFrame:
    n = len(ids)
    codes, start, end = rows.codes, rows.start, rows.end
    today, t0 = day_number(as_of), day_number(year_before(as_of))

    def arr_on(day: int) -> np.ndarray:
        active = (start <= day) & (day < end)
        return np.bincount(codes[active], weights=rows.arr[active], minlength=n)

    active_now = (start <= today) & (today < end)
    out = pd.DataFrame(index=ids)
    out["arr"] = arr_on(today)
    out["arr_12m_ago"] = arr_on(t0)
    out["arr_change_12m"] = np.where(out["arr_12m_ago"] > 0,
                                     out["arr"] / out["arr_12m_ago"].where(
                                         out["arr_12m_ago"] > 0) - 1, np.nan)
    if rows.licenses is not None:
        has = active_now & ~np.isnan(rows.licenses)
        total = np.bincount(codes[has], weights=rows.licenses[has], minlength=n)
        counted = np.bincount(codes[has], minlength=n)
        out["licenses"] = np.where(counted > 0, total, np.nan)
    else:
        out["licenses"] = np.nan
    renewal = np.full(n, np.inf)
    np.minimum.at(renewal, codes[active_now], end[active_now])
    renewal[np.isinf(renewal)] = np.nan
    out["renewal_date"] = from_days(renewal).to_numpy()
    out["days_to_renewal"] = renewal - today
    out["onboarding_start"] = from_days(onboarding).to_numpy()

    # the latest new contract signed (or started) on or before as_of
    begun = np.where(np.isnan(rows.signed), start, rows.signed)
    is_new = rows.is_new
    if is_new is None:  # without types, an account's first contract is its new one
        is_new = np.zeros(len(codes), dtype=bool)
        is_new[_first_contracts(rows)] = True
    recent = is_new & (begun <= today)
    latest = np.full(n, -np.inf)
    np.maximum.at(latest, codes[recent], begun[recent])
    latest[np.isinf(latest)] = np.nan
    out["days_since_new_contract"] = today - latest
    return out


def value_codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes (-1: missing) and the distinct values they stand for."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(), pd.Index(values.cat.categories)
    codes, uniques = pd.factorize(values)
    return codes, pd.Index(uniques)


def usage_events(table: Table, ids: pd.Index) -> UsageEvents:
    """The usage table's events, coded against ``ids``."""
    if table.events is not None and table.events.ids.equals(ids):
        return table.events
    return events_from_frame(table.frame, ids)


def _usage_signals(events: UsageEvents, ids: pd.Index, today: int, config: Config,
                   onboarding_start: np.ndarray) -> pd.DataFrame:
    """Usage signals. The chunks of events are tallied in two threads (numpy and Arrow release
    the GIL), and the tallies merged; events of unknown accounts or after as_of go to an extra
    account slot ``n`` that is dropped at the end."""
    n = len(ids)
    core = list(config.product.core_features)
    value_features = list(config.metrics.ttfv.value_features)
    rules = _UsageRules(
        n=n, today=today, first_day=window_start(today, USAGE_WINDOW_DAYS),
        login=names_in(events.features, config.product.login_events),
        core=np.append(_positions_in(events.features, core), -1).astype(np.int32),
        width_core=len(core),
        value=names_in(events.features, value_features or core),
        onboarding=np.append(onboarding_start, np.inf),
        width_units=len(events.business_units))
    halves = [events.chunks[0::2], events.chunks[1::2]]
    with ThreadPoolExecutor(max_workers=2) as pool:
        tallies = list(pool.map(lambda chunks: _UsageTally(rules).add(chunks), halves))
    tally = tallies[0].merge(tallies[1])

    out = pd.DataFrame(index=ids)
    if events.has("user_id"):
        out["active_users_30d"] = _distinct_users(tally.users, n).astype(float)
    elif events.has("active_users"):
        # pre-aggregated rows carry a day's distinct users: the busiest day is a floor
        out["active_users_30d"] = tally.busiest[:n]
    else:
        out["active_users_30d"] = np.nan
    if events.has("feature"):
        out["logins_30d"] = tally.logins[:n]
        core_used = tally.core.used_in_window(n)
        out["core_features_used_30d"] = core_used.astype(float)
        out["core_feature_adoption"] = core_used / len(core) if core else np.nan
        out["new_feature_used"] = tally.core.new_in_window(n)
        first_value = np.where(tally.first_value[:n] == NEVER, np.nan, tally.first_value[:n])
        out["first_value_date"] = from_days(first_value).to_numpy()
    else:
        for name in ("logins_30d", "core_features_used_30d", "core_feature_adoption"):
            out[name] = np.nan
        out["new_feature_used"] = False
        out["first_value_date"] = pd.Series(pd.NaT, index=ids, dtype="datetime64[s]")
    out["logins_per_user_30d"] = _ratio(out["logins_30d"], out["active_users_30d"])
    if events.has("business_unit"):
        out["new_business_unit"] = tally.units.new_in_window(n) & tally.used_before[:n]
    else:
        out["new_business_unit"] = False
    return out


@dataclass(frozen=True)
class _UsageRules:
    """What a usage tally needs to know: the window, and lookups by feature code (each with
    a last slot for code -1, no feature)."""

    n: int
    today: int
    first_day: int
    login: np.ndarray  # bool by feature code
    core: np.ndarray  # position among the core features by feature code, -1 if not core
    width_core: int
    value: np.ndarray  # bool by feature code: a first-value feature
    onboarding: np.ndarray  # onboarding start day by account slot (inf: none)
    width_units: int


class _UsageTally:
    """Per-account partial results of some chunks. Tallies of disjoint chunks merge."""

    def __init__(self, rules: _UsageRules):
        slots = rules.n + 1
        self.rules = rules
        self.logins = np.zeros(slots)
        self.busiest = np.zeros(slots)
        self.core = _FirstSeen(slots, rules.width_core)
        self.first_value = np.full(slots, NEVER, dtype=np.int32)
        self.used_before = np.zeros(slots, dtype=bool)
        self.units = _FirstSeen(slots, rules.width_units)
        # users in the window, by part of the accounts: (accounts, cleaned user ids) pieces
        self.users: list[list[tuple[np.ndarray, pa.Array]]] = [[] for _ in range(USER_PARTS)]

    def add(self, chunks: list[EventChunk]) -> _UsageTally:
        for chunk in chunks:
            self._add(chunk)
        return self

    def _add(self, chunk: EventChunk) -> None:
        rules = self.rules
        day = chunk.day
        first, last = int(day.min()), int(day.max())
        if first > rules.today:
            return  # all after as_of
        if last < rules.first_day:
            self._add_before(chunk)  # exports run in time order: most chunks are like this
            return
        account = np.where(day <= rules.today, chunk.account, rules.n)
        recent = day >= rules.first_day
        window = recent & (account < rules.n)
        self.used_before[account[~recent]] = True
        if chunk.user_id is not None:
            self._add_users(account[window], chunk.user_id.filter(pa.array(window)))
        if chunk.active_users is not None:
            np.maximum.at(self.busiest, account[window],
                          np.nan_to_num(chunk.active_users[window]))
        if chunk.feature is not None:
            logins = window & rules.login[chunk.feature]
            weights = None if chunk.count is None else np.nan_to_num(chunk.count[logins],
                                                                     nan=1.0)
            self.logins += np.bincount(account[logins], weights=weights,
                                       minlength=rules.n + 1)
            self._add_features(account, chunk.feature, day, recent)
        if chunk.business_unit is not None:
            self.units.add(account, chunk.business_unit, recent)

    def _add_before(self, chunk: EventChunk) -> None:
        """A chunk entirely before the window: nothing is counted, only first sightings."""
        account = chunk.account
        self.used_before[account] = True
        if chunk.feature is not None:
            self._add_features(account, chunk.feature, chunk.day, False)
        if chunk.business_unit is not None:
            self.units.add(account, chunk.business_unit, False)

    def _add_features(self, account: np.ndarray, feature: np.ndarray, day: np.ndarray,
                      recent: np.ndarray | bool) -> None:
        rules = self.rules
        self.core.add(account, rules.core[feature], recent)
        # only rows earlier than the account's first value so far can change it: after the
        # first chunks that leaves few rows for the (slow) unbuffered minimum
        rows = np.flatnonzero(rules.value[feature] & (day < self.first_value[account]))
        rows = rows[day[rows] >= rules.onboarding[account[rows]]]
        np.minimum.at(self.first_value, account[rows], day[rows])

    def _add_users(self, accounts: np.ndarray, users: pa.Array) -> None:
        """User ids cleaned as the general reader cleans text (blank: no user), put by part."""
        users = pc.utf8_trim_whitespace(users)
        present = pc.fill_null(pc.not_equal(users, ""), False).to_numpy(zero_copy_only=False)
        part_of = np.where(present, accounts % USER_PARTS, USER_PARTS).astype(np.uint8)
        order = np.argsort(part_of, kind="stable")  # a radix sort: rows grouped by part
        bounds = np.searchsorted(part_of[order], np.arange(USER_PARTS + 1))
        accounts, users = accounts[order], users.take(pa.array(order))
        for part, pieces in enumerate(self.users):
            start, stop = bounds[part], bounds[part + 1]
            pieces.append((accounts[start:stop], users.slice(start, stop - start)))

    def merge(self, other: _UsageTally) -> _UsageTally:
        self.logins += other.logins
        np.maximum(self.busiest, other.busiest, out=self.busiest)
        self.core.merge(other.core)
        np.minimum(self.first_value, other.first_value, out=self.first_value)
        self.used_before |= other.used_before
        self.units.merge(other.units)
        for pieces, others in zip(self.users, other.users, strict=True):
            pieces += others
        return self


class _FirstSeen:
    """Which (account, key) pairs were seen in the window and which before it. Keys (core
    features, business units) are few, so pairs index dense boolean arrays, with a spare
    column that rows without a key (-1) mark harmlessly; very many keys fall back to sets of
    pairs."""

    DENSE_LIMIT = 50_000_000

    def __init__(self, slots: int, width: int):
        self.width = width + 1  # the last column: no key
        self.dense = slots * self.width <= self.DENSE_LIMIT
        size = slots * self.width if self.dense else 0
        self.recent = np.zeros(size, dtype=bool)
        self.before = np.zeros(size, dtype=bool)
        self.pairs: dict[bool, list[np.ndarray]] = {True: [], False: []}

    def add(self, accounts: np.ndarray, keys: np.ndarray, recent: np.ndarray | bool) -> None:
        """``recent``: by row, in the window (rows after as_of come with the dropped account
        slot); or one answer for all rows."""
        kind = np.int32 if self.dense else np.int64  # dense pairs stay below 50 million
        pairs = accounts.astype(kind) * self.width + np.where(keys >= 0, keys, self.width - 1)
        if isinstance(recent, bool):
            split = {recent: pairs}
        else:
            split = {True: pairs[recent], False: pairs[~recent]}
        for is_recent, chosen in split.items():
            if self.dense:
                (self.recent if is_recent else self.before)[chosen] = True
            else:
                self.pairs[is_recent].append(pd.unique(chosen))

    def merge(self, other: _FirstSeen) -> None:
        self.recent |= other.recent
        self.before |= other.before
        for recent in (True, False):
            self.pairs[recent] += other.pairs[recent]

    def _pairs(self, recent: bool) -> np.ndarray:
        """The distinct pairs with a key (sets of pairs only)."""
        pairs = np.unique(np.concatenate(self.pairs[recent] or [np.zeros(0, np.int64)]))
        return pairs[pairs % self.width != self.width - 1]

    def _dense(self, recent: bool, n: int) -> np.ndarray:
        """Accounts by keys, the spare column dropped."""
        return (self.recent if recent else self.before).reshape(-1, self.width)[:n, :-1]

    def used_in_window(self, n: int) -> np.ndarray:
        """Number of keys per account seen in the window."""
        if self.dense:
            return self._dense(True, n).sum(axis=1)
        return np.bincount(self._pairs(True) // self.width, minlength=n + 1)[:n]

    def new_in_window(self, n: int) -> np.ndarray:
        """Accounts with a key first seen in the window: seen there and never before."""
        if self.dense:
            return (self._dense(True, n) & ~self._dense(False, n)).any(axis=1)
        recent = self._pairs(True)
        new = recent[~np.isin(recent, self._pairs(False))] // self.width
        result = np.zeros(n + 1, dtype=bool)
        result[new] = True
        return result[:n]


USER_PARTS = 8  # hash tables of a few hundred thousand users stay in cache


def _distinct_users(parts: list[list[tuple[np.ndarray, pa.Array]]], n: int) -> np.ndarray:
    """Distinct user ids per account. Accounts are split in parts by code, so each part's
    users are hashed on their own, in two threads."""
    def count(pieces: list[tuple[np.ndarray, pa.Array]]) -> np.ndarray:
        if not pieces:
            return np.zeros(n + 1, dtype=np.int64)
        accounts = np.concatenate([accounts for accounts, _ in pieces])
        # chunks encoded together share one dictionary
        encoded = pc.dictionary_encode(pa.chunked_array([users for _, users in pieces],
                                                        pa.string()))
        if not len(accounts):
            return np.zeros(n + 1, dtype=np.int64)
        width = max(len(chunk.dictionary) for chunk in encoded.chunks)
        codes = np.concatenate([chunk.indices.to_numpy() for chunk in encoded.chunks])
        pairs = accounts.astype(np.int64) * width + codes
        return np.bincount(pd.unique(pairs) // width, minlength=n + 1)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return sum(pool.map(count, parts), np.zeros(n + 1, dtype=np.int64))[:n]


def names_in(names: list[str], wanted: list[str]) -> np.ndarray:
    """By code: does the name stand for one of ``wanted`` (case ignored)? With a last slot,
    False, for code -1."""
    chosen = {w.lower() for w in wanted}
    return np.array([name.lower() in chosen for name in names] + [False], dtype=bool)


def _positions_in(names: list[str], wanted: list[str]) -> np.ndarray:
    """By code: the position of the name in ``wanted`` (case ignored), or -1."""
    position = {w.lower(): i for i, w in enumerate(wanted)}
    return np.array([position.get(name.lower(), -1) for name in names], dtype=np.int32)


def _activity_signals(activities: pd.DataFrame, ids: pd.Index, today: int) -> pd.DataFrame:
    n = len(ids)
    codes = account_positions(ids, activities["account_id"])
    day = days(activities["date"])
    keep = (codes >= 0) & (day <= today)
    codes, day = codes[keep], day[keep]
    kind_codes, kinds = value_codes(activities["activity_type"])
    meeting = names_in(list(kinds), list(MEETING_TYPES))[kind_codes[keep]] & \
        (day >= window_start(today, MEETING_WINDOW_DAYS))
    last = np.full(n, -np.inf)
    np.maximum.at(last, codes, day)
    last[np.isinf(last)] = np.nan
    out = pd.DataFrame(index=ids)
    out["meetings_90d"] = np.bincount(codes[meeting], minlength=n).astype(float)
    out["days_since_last_touch"] = today - last
    return out


def _segments(frame: pd.DataFrame, config: Config) -> pd.Series:
    """The CRM's segment when present, else the first configured segment the ARR reaches
    (for a churned account, the ARR it had twelve months earlier)."""
    arr = frame["arr"].where(frame["arr"] > 0, frame["arr_12m_ago"])
    by_arr = pd.Series(pd.NA, index=frame.index, dtype="string")
    for segment in sorted(config.segments, key=lambda s: s.min_arr):
        by_arr = by_arr.mask(arr >= segment.min_arr, segment.name)
    if "segment" in frame:
        return frame["segment"].astype("string").fillna(by_arr)
    return by_arr


def _derived_stage(frame: pd.DataFrame, config: Config) -> pd.Series:
    """Onboarding until first value; Renew inside the renewal window; Expand on an expansion
    signal; else Adopt. Accounts without ARR on as_of have no stage."""
    stages = config.lifecycle
    # without usage, first value cannot be seen: no account is called Onboarding for lack of it
    onboarding = (frame["first_value_date"].isna() & frame["onboarding_start"].notna()
                  & frame["core_features_used_30d"].notna())
    renew = (frame["days_to_renewal"] <= stages.renew_within_days).fillna(False)
    choices = [onboarding, renew, frame["expansion_signal"]]
    stage = np.select([c.to_numpy(dtype=bool) for c in choices],
                      ["Onboarding", "Renew", "Expand"], default="Adopt")
    result = pd.Series(stage, index=frame.index, dtype="string")
    return result.where(frame["arr"] > 0)
