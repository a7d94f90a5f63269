"""The account signal table: one row per account, as of a date.

Everything downstream (health, stages, plays, renewals, metrics) reads this table. Event
tables are reduced with integer account codes and ``np.bincount`` / group-bys, never a Python
loop over accounts or events. Dates are handled as whole days (int64 days since the epoch).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .config import Config
from .loading import Exports

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
        candidates.append(exports.usage.frame["timestamp"].max())
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
    ids = accounts.index
    frame = accounts.copy()
    skipped: list[str] = []

    frame = frame.join(_contract_signals(exports.contracts.frame, ids, as_of))
    if exports.usage is not None:
        usage_signals = _usage_signals(exports.usage.frame, ids, today, config,
                                       frame["onboarding_start"])
        frame = frame.join(usage_signals)
    else:
        skipped.append("no usage export: product-usage signals (utilization, logins, feature "
                       "adoption, first value) skipped")
        for name in ("active_users_30d", "license_utilization", "logins_30d",
                     "logins_per_user_30d", "core_features_used_30d", "core_feature_adoption"):
            frame[name] = np.nan
        frame["first_value_date"] = pd.Series(pd.NaT, index=ids, dtype="datetime64[s]")
        frame["new_business_unit"] = False
        frame["new_feature_used"] = False
    if exports.activities is not None:
        frame = frame.join(_activity_signals(exports.activities.frame, ids, today))
    else:
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


def _contract_signals(contracts: pd.DataFrame, ids: pd.Index, as_of: pd.Timestamp
                      ) -> pd.DataFrame:
    n = len(ids)
    codes = ids.get_indexer(contracts["account_id"])
    known = codes >= 0
    codes = codes[known]
    start = days(contracts["start_date"])[known]
    end = days(contracts["end_date"])[known]
    arr = contracts["arr"].to_numpy(dtype=np.float64)[known]
    today, t0 = day_number(as_of), day_number(year_before(as_of))

    def arr_on(day: int) -> np.ndarray:
        active = (start <= day) & (day < end)
        return np.bincount(codes[active], weights=arr[active], minlength=n)

    active_now = (start <= today) & (today < end)
    out = pd.DataFrame(index=ids)
    out["arr"] = arr_on(today)
    out["arr_12m_ago"] = arr_on(t0)
    out["arr_change_12m"] = np.where(out["arr_12m_ago"] > 0,
                                     out["arr"] / out["arr_12m_ago"].where(
                                         out["arr_12m_ago"] > 0) - 1, np.nan)
    if "licenses" in contracts:
        licenses = contracts["licenses"].to_numpy(dtype=np.float64)[known]
        has = active_now & ~np.isnan(licenses)
        total = np.bincount(codes[has], weights=licenses[has], minlength=n)
        counted = np.bincount(codes[has], minlength=n)
        out["licenses"] = np.where(counted > 0, total, np.nan)
    else:
        out["licenses"] = np.nan
    renewal = np.full(n, np.inf)
    np.minimum.at(renewal, codes[active_now], end[active_now])
    renewal[np.isinf(renewal)] = np.nan
    out["renewal_date"] = from_days(renewal).to_numpy()
    out["days_to_renewal"] = renewal - today

    # onboarding starts with the first contract: its signed date, else its start date
    signed = days(contracts["signed_date"])[known] if "signed_date" in contracts else \
        np.full(len(codes), np.nan)
    order = np.lexsort((start, codes))
    first_of_account = np.ones(len(order), dtype=bool)
    first_of_account[1:] = codes[order][1:] != codes[order][:-1]
    firsts = order[first_of_account]
    onboarding = np.full(n, np.nan)
    onboarding[codes[firsts]] = np.where(np.isnan(signed[firsts]), start[firsts], signed[firsts])
    out["onboarding_start"] = from_days(onboarding).to_numpy()

    # the latest new contract signed (or started) on or before as_of
    begun = np.where(np.isnan(signed), start, signed)
    if "contract_type" in contracts:
        is_new = contracts["contract_type"].eq("new").fillna(False).to_numpy(dtype=bool)[known]
    else:
        is_new = np.zeros(len(codes), dtype=bool)
        is_new[firsts] = True
    recent = is_new & (begun <= today)
    latest = np.full(n, -np.inf)
    np.maximum.at(latest, codes[recent], begun[recent])
    latest[np.isinf(latest)] = np.nan
    out["days_since_new_contract"] = today - latest
    return out


def account_codes(ids: pd.Index, values: pd.Series) -> np.ndarray:
    """Position of each row's account in ``ids`` (-1: unknown), via categories when the
    column was read as codes."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        lookup = ids.get_indexer(values.cat.categories)
        codes = values.cat.codes.to_numpy()
        return np.where(codes >= 0, lookup[np.maximum(codes, 0)], -1)
    return ids.get_indexer(values)


def value_codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes (-1: missing) and the distinct values they stand for."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(), pd.Index(values.cat.categories)
    codes, uniques = pd.factorize(values)
    return codes, pd.Index(uniques)


def _usage_signals(usage: pd.DataFrame, ids: pd.Index, today: int, config: Config,
                   onboarding_start: pd.Series) -> pd.DataFrame:
    """Usage signals. Rows of unknown accounts or after as_of go to an extra slot ``n`` that is
    dropped at the end, so that no column of millions of rows is copied to filter it."""
    n = len(ids)
    day = days(usage["timestamp"]).astype(np.int32)  # required: no gaps
    codes = account_codes(ids, usage["account_id"])
    codes[(codes < 0) | ~(day <= today)] = n
    first_day = window_start(today, USAGE_WINDOW_DAYS)
    in_window = (day >= first_day) & (codes < n)
    weights = usage["count"].to_numpy(dtype=np.float64) if "count" in usage else None
    if weights is not None:
        weights = np.nan_to_num(weights, nan=1.0)
    out = pd.DataFrame(index=ids)

    def per_account(mask: np.ndarray) -> np.ndarray:
        counted = codes[mask]
        summed = np.bincount(counted, weights=None if weights is None else weights[mask],
                             minlength=n + 1)
        return summed[:n].astype(float)

    if "user_id" in usage:
        # users are many and only counted inside the window: code just those rows
        users = pd.factorize(usage["user_id"][in_window])[0]
        out["active_users_30d"] = _distinct_count(codes[in_window], users, n).astype(float)
    elif "active_users" in usage:
        # pre-aggregated rows carry a day's distinct users: the busiest day is a floor
        per_day = np.nan_to_num(usage["active_users"].to_numpy(dtype=np.float64))
        busiest = np.zeros(n + 1)
        np.maximum.at(busiest, codes[in_window], per_day[in_window])
        out["active_users_30d"] = busiest[:n]
    else:
        out["active_users_30d"] = np.nan

    core = list(config.product.core_features)
    value_features = list(config.metrics["ttfv"].value_features or []) \
        if "ttfv" in config.metrics else []
    if "feature" in usage:
        feature_codes, feature_names = value_codes(usage["feature"])
        login = feature_codes_in(feature_names, feature_codes, config.product.login_events)
        out["logins_30d"] = per_account(in_window & login)
        is_core = feature_codes_in(feature_names, feature_codes, core)
        core_rows = in_window & is_core
        core_used = _distinct_count(codes[core_rows], feature_codes[core_rows], n)
        out["core_features_used_30d"] = core_used.astype(float)
        out["core_feature_adoption"] = core_used / len(core) if core else np.nan
        out["new_feature_used"] = _new_in_window(codes[is_core], feature_codes[is_core],
                                                 day[is_core], n, len(feature_names), first_day)
        is_value = feature_codes_in(feature_names, feature_codes, value_features or core)
        start = np.append(days(onboarding_start.reindex(ids)), np.inf)[codes]
        reached = is_value & (day >= start)
        first_value = np.full(n + 1, NEVER, dtype=np.int32)
        np.minimum.at(first_value, codes[reached], day[reached])
        first_value = np.where(first_value[:n] == NEVER, np.nan, first_value[:n])
        out["first_value_date"] = from_days(first_value).to_numpy()
    else:
        for name in ("logins_30d", "core_features_used_30d", "core_feature_adoption"):
            out[name] = np.nan
        out["new_feature_used"] = False
        out["first_value_date"] = pd.Series(pd.NaT, index=ids, dtype="datetime64[s]")
    out["logins_per_user_30d"] = _ratio(out["logins_30d"], out["active_users_30d"])

    if "business_unit" in usage:
        unit_codes, unit_names = value_codes(usage["business_unit"])
        named = unit_codes >= 0
        new_unit = _new_in_window(codes[named], unit_codes[named], day[named], n,
                                  len(unit_names), first_day)
        used_before = np.zeros(n + 1, dtype=bool)
        used_before[codes[day < first_day]] = True
        out["new_business_unit"] = new_unit & used_before[:n]
    else:
        out["new_business_unit"] = False
    return out


def feature_codes_in(names: pd.Index, codes: np.ndarray, wanted: list[str]) -> np.ndarray:
    """Rows whose code stands for one of ``wanted`` (case ignored), by table lookup."""
    lookup = np.zeros(len(names) + 1, dtype=bool)  # the extra last slot answers code -1
    lookup[:-1] = pd.Index(names).str.lower().isin([w.lower() for w in wanted])
    return lookup[codes]


def _distinct_count(accounts: np.ndarray, keys: np.ndarray, n: int) -> np.ndarray:
    """Number of distinct ``keys`` per account (accounts may use the extra slot n)."""
    valid = keys >= 0
    accounts, keys = accounts[valid], keys[valid]
    width = int(keys.max()) + 1 if len(keys) else 1
    pairs = accounts.astype(np.int64) * width + keys
    if (n + 1) * width <= 50_000_000:  # few keys (features): a dense seen-matrix
        seen = np.zeros((n + 1) * width, dtype=bool)
        seen[pairs] = True
        return seen.reshape(n + 1, width).sum(axis=1)[:n]
    return np.bincount(pd.unique(pairs) // width, minlength=n + 1)[:n]  # hashing, no sort


def _new_in_window(accounts: np.ndarray, keys: np.ndarray, day: np.ndarray, n: int,
                   width: int, first_day: int) -> np.ndarray:
    """Accounts with a key (a feature, a business unit) first seen in the window: seen there
    and never before. Keys are few, so (account, key) pairs index dense boolean arrays."""
    width = max(width, 1)
    pairs = accounts.astype(np.int64) * width + keys
    recent = day >= first_day
    seen_before = np.zeros((n + 1) * width, dtype=bool)
    seen_before[pairs[~recent]] = True
    seen_recent = np.zeros((n + 1) * width, dtype=bool)
    seen_recent[pairs[recent]] = True
    return (seen_recent & ~seen_before).reshape(n + 1, width)[:n].any(axis=1)


def _activity_signals(activities: pd.DataFrame, ids: pd.Index, today: int) -> pd.DataFrame:
    n = len(ids)
    codes = account_codes(ids, activities["account_id"])
    day = days(activities["date"])
    keep = (codes >= 0) & (day <= today)
    codes, day = codes[keep], day[keep]
    kind_codes, kinds = value_codes(activities["activity_type"])
    meeting = feature_codes_in(kinds, kind_codes[keep], list(MEETING_TYPES)) & \
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
