"""The account signal table: one row per account, as of a date (or several, in one pass).

Everything downstream (health, stages, plays, renewals, metrics) reads this table. Tables are
reduced with integer account codes and ``np.bincount`` / group-bys, never a Python loop over
accounts or events. Dates are handled as whole days (see :mod:`.dates`). Usage is asked for
through :mod:`.usage`: the signals here only name the rules and shape the answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .config import Config
from .dates import day_number, days, from_days, to_timestamp, window_start, year_before
from .loading import Exports
from .loading.events import account_positions
from .usage import UsageAggregates, UsageQuery, backend_for

MEETING_WINDOW_DAYS = 90
MEETING_TYPES = ("meeting", "qbr")
USAGE_COLUMNS = ("active_users_30d", "license_utilization", "logins_30d", "logins_per_user_30d",
                 "core_features_used_30d", "core_feature_adoption")


@dataclass(frozen=True)
class Signals:
    as_of: pd.Timestamp
    frame: pd.DataFrame  # index: account_id
    skipped: tuple[str, ...] = field(default=())  # what could not be computed, and why


def default_as_of(exports: Exports) -> pd.Timestamp:
    """The export's date: the latest day seen in usage and activities, else today."""
    candidates = []
    if exports.usage is not None:
        events = exports.usage.events
        if events is None:
            candidates.append(exports.usage.usage_frame()["timestamp"].max())
        elif events.last_day() is not None:
            candidates.append(to_timestamp(events.last_day()))
    if exports.activities is not None:
        candidates.append(exports.activities.frame["date"].max())
    candidates = [c for c in candidates if pd.notna(c)]
    return max(candidates) if candidates else pd.Timestamp.today().normalize()


def build_signals(exports: Exports, config: Config, as_of: pd.Timestamp | None = None) -> Signals:
    """The signal table as of ``as_of`` (default: the export's date)."""
    as_of = (as_of or default_as_of(exports)).normalize()
    return build_signals_at(exports, config, [as_of])[as_of]


def build_signals_at(exports: Exports, config: Config, dates: Sequence[pd.Timestamp]
                     ) -> dict[pd.Timestamp, Signals]:
    """The signal table as of each date; the usage is read once for all of them."""
    dates = list(dict.fromkeys(date.normalize() for date in dates))
    accounts = exports.accounts.frame.drop_duplicates("account_id").set_index("account_id")
    ids = accounts.index  # as account_index gives it: usage events are coded against it
    rows = _contract_rows(exports.contracts.frame, ids)
    onboarding = _onboarding_start(rows, len(ids))
    # contracts and activities are reduced beside the usage
    with ThreadPoolExecutor(max_workers=1) as pool:
        contracts = {date: pool.submit(_contract_signals, rows, ids, date, onboarding)
                     for date in dates}
        activities = {date: pool.submit(_activity_signals, exports.activities.frame, ids,
                                        day_number(date))
                      for date in dates if exports.activities is not None}
        usage: dict[int, UsageAggregates] = {}
        if exports.usage is not None:
            query = UsageQuery.from_config(config, ids, tuple(map(day_number, dates)),
                                           onboarding)
            usage = backend_for(exports.usage, ids).aggregate(query)
        parts = {date: [contracts[date].result()]
                 + ([activities[date].result()] if date in activities else [])
                 for date in dates}
    return {date: _signals(accounts, parts[date], usage.get(day_number(date)), date, config)
            for date in dates}


def _signals(accounts: pd.DataFrame, parts: list[pd.DataFrame], usage: UsageAggregates | None,
             as_of: pd.Timestamp, config: Config) -> Signals:
    ids = accounts.index
    frame = accounts.copy()
    skipped: list[str] = []
    for part in parts:
        frame = frame.join(part)
    if usage is not None:
        frame = frame.join(_usage_signals(usage, ids, len(config.product.core_features)))
    else:
        skipped.append("no usage export: product-usage signals (utilization, logins, feature "
                       "adoption, first value) skipped")
        for name in USAGE_COLUMNS:
            frame[name] = np.nan
        frame["first_value_date"] = pd.Series(pd.NaT, index=ids, dtype="datetime64[s]")
        frame["new_business_unit"] = False
        frame["new_feature_used"] = False
    if len(parts) < 2:
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


def _usage_signals(usage: UsageAggregates, ids: pd.Index, core_count: int) -> pd.DataFrame:
    out = pd.DataFrame(index=ids)
    active_users = usage.active_users()
    out["active_users_30d"] = np.nan if active_users is None else active_users
    if usage.logins is not None:
        out["logins_30d"] = usage.logins
        out["core_features_used_30d"] = usage.core_features_used.astype(float)
        out["core_feature_adoption"] = (usage.core_features_used / core_count if core_count
                                        else np.nan)
        out["new_feature_used"] = usage.new_core_feature
        out["first_value_date"] = from_days(usage.first_value_day).to_numpy()
    else:
        for name in ("logins_30d", "core_features_used_30d", "core_feature_adoption"):
            out[name] = np.nan
        out["new_feature_used"] = False
        out["first_value_date"] = pd.Series(pd.NaT, index=ids, dtype="datetime64[s]")
    out["logins_per_user_30d"] = _ratio(out["logins_30d"], out["active_users_30d"])
    out["new_business_unit"] = (False if usage.new_business_unit is None
                                else usage.new_business_unit)
    return out


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


def names_in(names: list[str], wanted: list[str]) -> np.ndarray:
    """By code: does the name stand for one of ``wanted`` (case ignored)? With a last slot,
    False, for code -1."""
    chosen = {w.lower() for w in wanted}
    return np.array([name.lower() in chosen for name in names] + [False], dtype=bool)


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
