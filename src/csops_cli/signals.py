"""The account signal table: one row per account, as of a date (or several, in one pass).

Everything downstream (health, stages, plays, renewals, metrics) reads this table. Tables are
reduced with integer account codes and ``np.bincount`` / group-bys, never a Python loop over
accounts or events. Dates are handled as whole days (see :mod:`.dates`). Usage is asked for
through :mod:`.usage`: the signals here only name the rules and shape the answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd

from . import progress
from .built_cache import BuiltCache
from .config import Config
from .dates import (
    day_number,
    days,
    from_days,
    to_timestamp,
    today_date,
    window_start,
    year_before,
)
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


def default_as_of(exports: Exports, today: pd.Timestamp | None = None) -> pd.Timestamp:
    """The export's date: the latest day seen in usage and activities that is not after today
    (later rows are future-dated, see :func:`future_dated`), else today."""
    today_day = day_number(today if today is not None else today_date())
    latest = [int(day[day <= today_day].max()) for day in _export_days(exports)
              if (day <= today_day).any()]
    return to_timestamp(max(latest)) if latest else to_timestamp(today_day)


@dataclass(frozen=True)
class FutureRows:
    """Rows of one export dated after today: the default as_of leaves them out."""

    file: str
    rows: int


def future_dated(exports: Exports, today: pd.Timestamp | None = None) -> list[FutureRows]:
    """Per usage or activities export, the rows dated after today."""
    today_day = day_number(today if today is not None else today_date())
    found = []
    for table in (exports.usage, exports.activities):
        if table is None:
            continue
        if table.warehouse is not None:  # dated rows by day, counted in the warehouse
            day, count = table.warehouse.day_rows
            rows = int(count[day > today_day].sum())
        else:
            rows = sum(int((day > today_day).sum()) for day in _table_days(table))
        if rows:
            found.append(FutureRows(table.path.name, rows))
    return found


def _export_days(exports: Exports) -> list[np.ndarray]:
    """Day numbers of every dated usage and activity row (missing dates left out)."""
    return [day for table in (exports.usage, exports.activities) if table is not None
            for day in _table_days(table)]


def _table_days(table) -> list[np.ndarray]:
    if table.warehouse is not None:
        return [table.warehouse.day_rows[0]]
    if table.name == "usage" and table.events is not None:
        return [chunk.day for chunk in table.events.chunks if len(chunk.day)]
    frame = table.usage_frame() if table.name == "usage" else table.frame
    day = days(frame["timestamp" if table.name == "usage" else "date"])
    return [day[~np.isnan(day)] if day.dtype.kind == "f" else day]


def usage_first_day(exports: Exports) -> int | None:
    """The usage export's first day: before it, first value cannot be seen."""
    if exports.usage is None:
        return None
    firsts = [int(day.min()) for day in _table_days(exports.usage) if len(day)]
    return min(firsts) if firsts else None


def build_signals(exports: Exports, config: Config, as_of: pd.Timestamp | None = None) -> Signals:
    """The signal table as of ``as_of`` (default: the export's date)."""
    as_of = (as_of or default_as_of(exports)).normalize()
    return build_signals_at(exports, config, [as_of])[as_of]


def build_signals_at(exports: Exports, config: Config, dates: Sequence[pd.Timestamp],
                     as_known: bool = False) -> dict[pd.Timestamp, Signals]:
    """The signal table as of each date; the usage is read once for all of them. With
    ``as_known`` each date sees only the contracts signed (else started) on or before it, as
    the CRM knew them then (the backtest: a renewal signed later must not leak back). A day's
    table already built by an earlier command on the same exports and configuration comes
    from the cache (see :mod:`.built_cache`)."""
    dates = list(dict.fromkeys(date.normalize() for date in dates))
    # the backtest's tables (contracts as known then, a dozen dates and more) are not kept:
    # no other command reads them, and each is tens of MB at 100,000 accounts
    stored = None if as_known else BuiltCache.of_exports(exports, config, "signals")
    found: dict[pd.Timestamp, Signals] = {}
    for date in dates if stored is not None else ():
        hit = stored.get(day_number(date))
        skipped = None if hit is None else hit[1].get("skipped")
        if isinstance(skipped, list):  # else not an entry of this kind: built again
            found[date] = Signals(date, hit[0], tuple(str(why) for why in skipped))
    missing = [date for date in dates if date not in found]
    if missing:
        built = _build_signals_at(exports, config, missing, as_known)
        for date, signals in built.items() if stored is not None else ():
            stored.put(day_number(date), signals.frame, {"skipped": list(signals.skipped)})
        found.update(built)
    return {date: found[date] for date in dates}


def _build_signals_at(exports: Exports, config: Config, dates: list[pd.Timestamp],
                      as_known: bool) -> dict[pd.Timestamp, Signals]:
    accounts = exports.accounts.frame.drop_duplicates("account_id").set_index("account_id")
    ids = accounts.index  # as account_index gives it: usage events are coded against it
    contract_frame = exports.contracts.frame
    rows = _contract_rows(contract_frame, ids)
    onboarding = _onboarding_start(rows, len(ids))
    known_day = _known_day(contract_frame)[rows.frame_rows] if as_known else None

    def rows_on(date: pd.Timestamp):
        if known_day is None:
            return rows
        return rows.where(known_day <= day_number(date))

    # contracts and activities are reduced beside the usage
    what = "building signals" + (f" as of {len(dates)} dates" if len(dates) > 1 else "")
    with progress.phase(what), ThreadPoolExecutor(max_workers=1) as pool:
        contracts = {date: pool.submit(_contract_signals, rows_on(date), ids, date, onboarding)
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
    context = _Context(config, exports.usage is not None, exports.activities is not None,
                       usage_first_day(exports))
    return {date: _signals(accounts, parts[date], usage.get(day_number(date)), date, context)
            for date in dates}


def _known_day(contracts: pd.DataFrame) -> np.ndarray:
    """The day each contract became known: its signed_date, else its start_date."""
    known = days(contracts["start_date"]).astype(float)
    if "signed_date" in contracts:
        signed = days(contracts["signed_date"]).astype(float)
        known = np.where(np.isnan(signed), known, signed)
    return known


@dataclass(frozen=True)
class _Context:
    config: Config
    has_usage: bool
    has_activities: bool
    usage_first_day: int | None  # first value before it cannot be seen


def _signals(accounts: pd.DataFrame, parts: list[pd.DataFrame], usage: UsageAggregates | None,
             as_of: pd.Timestamp, context: _Context) -> Signals:
    config = context.config
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
    if not context.has_activities:
        skipped.append("no activities export: meetings_90d and days_since_last_touch skipped; "
                       "the relationship bucket is not scored and every score is partial")
        frame["meetings_90d"] = np.nan
        frame["days_since_last_touch"] = np.nan
    # which exports fed the table: a bucket whose export is missing is not scored
    frame["usage_export"] = context.has_usage
    frame["activities_export"] = context.has_activities

    frame["paying"] = frame["arr"] > 0
    frame["license_utilization"] = _ratio(frame["active_users_30d"], frame["licenses"])
    crm_segment = (frame["segment"].astype("string") if "segment" in frame
                   else pd.Series(pd.NA, index=ids, dtype="string"))
    frame["segment"] = crm_segment.fillna(segment_by_arr(frame.pop("segment_arr"), config))
    frame["segment_t0"] = crm_segment.fillna(segment_by_arr(frame.pop("segment_arr_t0"),
                                                            config))
    threshold = config.lifecycle.expansion_utilization
    frame["expansion_signal"] = frame["paying"] & (
        (frame["license_utilization"] > threshold).fillna(False)
        | frame["new_business_unit"].astype(bool))
    _first_value(frame, day_number(as_of), context)
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
    id_rank: np.ndarray  # rank of contract_id: the last tie-break for the first contract
    frame_rows: np.ndarray  # the rows' positions in the contracts frame

    def where(self, mask: np.ndarray) -> _ContractRows:
        """The rows where ``mask`` holds, in the same order: as if made from those rows of
        the frame (ranks among all contract ids order them as ranks among these would)."""
        return _ContractRows(*(None if values is None else values[mask]
                               for values in (getattr(self, f.name) for f in fields(self))))


def _contract_rows(contracts: pd.DataFrame, ids: pd.Index) -> _ContractRows:
    codes = account_positions(ids, contracts["account_id"])
    known = codes >= 0

    def column(name: str, read) -> np.ndarray | None:
        return read(contracts[name])[known] if name in contracts else None

    signed = column("signed_date", days)
    id_rank = _text_rank(contracts["contract_id"])
    return _ContractRows(
        codes[known], days(contracts["start_date"])[known], days(contracts["end_date"])[known],
        np.full(int(known.sum()), np.nan) if signed is None else signed,
        contracts["arr"].to_numpy(dtype=np.float64)[known],
        column("licenses", lambda values: values.to_numpy(dtype=np.float64)),
        column("contract_type", lambda values: values.eq("new").fillna(False).to_numpy(
            dtype=bool)),
        id_rank[known], np.flatnonzero(known))


def _text_rank(values: pd.Series) -> np.ndarray:
    """Each value's place among the distinct values as text, in code point order (UTF-8
    bytes sort the same way), through Arrow's sort: numpy's sort of Python strings took
    0.2 s a call at 250,000 contracts."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.array(values.astype(str).to_numpy(dtype=object), type=pa.large_string())
    return pc.rank(text, sort_keys="ascending", tiebreaker="dense").to_numpy()


def _first_contracts(rows: _ContractRows) -> np.ndarray:
    """Row of each account's first contract: the earliest start_date, ties broken by the
    earliest signed_date (a contract without one after those with one), then by contract_id,
    so that the answer never depends on the order of the rows."""
    signed = np.where(np.isnan(rows.signed), np.inf, rows.signed)
    order = np.lexsort((rows.id_rank, signed, rows.start, rows.codes))
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


def _arr_on(rows: _ContractRows, day: int, n: int) -> np.ndarray:
    """ARR of each account on a day: its contracts with start_date <= day < end_date."""
    active = (rows.start <= day) & (day < rows.end)
    return np.bincount(rows.codes[active], weights=rows.arr[active], minlength=n)


def _segment_arr(rows: _ContractRows, day: int, arr: np.ndarray) -> np.ndarray:
    """The ARR that sets an account's segment on a day: its ARR that day, else (churned,
    paused) its ARR on the last day before it with ARR above 0; NaN when it never had any.

    Each account's ARR is a step function that changes where a contract starts (+arr) or ends
    (-arr): the changes before ``day`` in time order, summed in whole cents (exact), give the
    ARR of each span up to the next change; the latest span above 0 holds the answer."""
    result = np.where(arr > 0, arr, np.nan)
    chosen = ~(arr > 0)[rows.codes] & ~np.isnan(rows.start) & ~np.isnan(rows.end)
    if not chosen.any():
        return result
    cents = np.round(rows.arr[chosen] * 100).astype(np.int64)
    codes = np.concatenate([rows.codes[chosen], rows.codes[chosen]])
    when = np.concatenate([rows.start[chosen], rows.end[chosen]])
    change = np.concatenate([cents, -cents])
    before = when < day
    codes, when, change = codes[before], when[before], change[before]
    if not len(codes):
        return result
    order = np.lexsort((when, codes))
    codes, when, change = codes[order], when[order], change[order]
    first = np.r_[True, codes[1:] != codes[:-1]]
    last = np.r_[first[1:], True]
    running = np.cumsum(change)
    starts = np.flatnonzero(first)
    level = running - np.repeat(running[starts] - change[starts], np.diff(np.r_[starts,
                                                                               len(codes)]))
    until = np.where(last, day, np.r_[when[1:], day])
    held = np.flatnonzero((level > 0) & (until > when))
    latest = held[np.r_[codes[held][1:] != codes[held][:-1], True]] if len(held) else held
    result[codes[latest]] = level[latest] / 100
    return result


def _contract_signals(rows: _ContractRows, ids: pd.Index, as_of: pd.Timestamp,
                      onboarding: np.ndarray) -> pd.DataFrame:
    n = len(ids)
    codes, start, end = rows.codes, rows.start, rows.end
    today, t0 = day_number(as_of), day_number(year_before(as_of))

    arr, arr_t0 = _arr_on(rows, today, n), _arr_on(rows, t0, n)
    active_now = (start <= today) & (today < end)
    out = pd.DataFrame(index=ids)
    out["arr"] = arr
    out["arr_12m_ago"] = arr_t0
    out["arr_change_12m"] = np.where(out["arr_12m_ago"] > 0,
                                     out["arr"] / out["arr_12m_ago"].where(
                                         out["arr_12m_ago"] > 0) - 1, np.nan)
    out["segment_arr"] = _segment_arr(rows, today, arr)
    out["segment_arr_t0"] = _segment_arr(rows, t0, arr_t0)
    if rows.licenses is not None:
        has = active_now & ~np.isnan(rows.licenses)
        total = np.bincount(codes[has], weights=rows.licenses[has], minlength=n)
        counted = np.bincount(codes[has], minlength=n)
        out["licenses"] = np.where(counted > 0, total, np.nan)
    else:
        out["licenses"] = np.nan
    # only a paying account has a renewal: contracts that add up to no ARR renew nothing
    renewal = np.full(n, np.inf)
    np.minimum.at(renewal, codes[active_now], end[active_now].astype(np.float64))
    renewal[np.isinf(renewal) | ~(arr > 0)] = np.nan
    out["renewal_date"] = from_days(renewal).to_numpy()
    out["days_to_renewal"] = renewal - today
    out["onboarding_start"] = from_days(onboarding).to_numpy()
    out["days_since_onboarding_start"] = today - onboarding

    # the latest new contract signed (or started) on or before as_of
    begun = np.where(np.isnan(rows.signed), start, rows.signed)
    is_new = rows.is_new
    if is_new is None:  # without types, an account's first contract is its new one
        is_new = np.zeros(len(codes), dtype=bool)
        is_new[_first_contracts(rows)] = True
    recent = is_new & (begun <= today)
    latest = np.full(n, -np.inf)
    np.maximum.at(latest, codes[recent], begun[recent].astype(np.float64))
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
    # one type on both sides: numpy's fast path (mixed types take ~30 x longer)
    np.maximum.at(last, codes, day.astype(np.float64))
    last[np.isinf(last)] = np.nan
    out = pd.DataFrame(index=ids)
    out["meetings_90d"] = np.bincount(codes[meeting], minlength=n).astype(float)
    out["days_since_last_touch"] = today - last
    return out


def segment_by_arr(arr: pd.Series, config: Config) -> pd.Series:
    """The first configured segment (by min_arr, highest first) the ARR reaches."""
    values = pd.to_numeric(arr).to_numpy(dtype=np.float64, na_value=np.nan)
    by_arr = np.full(len(values), None, dtype=object)
    for segment in sorted(config.segments, key=lambda s: s.min_arr):
        by_arr[values >= segment.min_arr] = segment.name
    return pd.Series(by_arr, index=arr.index, dtype="string")


def _first_value(frame: pd.DataFrame, today: int, context: _Context) -> None:
    """first_value_reached (True, False, or NA when it cannot be known) and
    onboarding_stalled. First value cannot be known without usage features, nor for an account
    whose onboarding started before the usage export's first day: a value event seen in the
    export may not be its first, and its absence proves nothing."""
    start = frame["onboarding_start"]
    knowable = frame["core_features_used_30d"].notna() & start.notna()
    if context.usage_first_day is not None:
        before_export = days(start) < context.usage_first_day
    else:
        before_export = np.zeros(len(frame), dtype=bool)
    reached = pd.Series(frame["first_value_date"].notna().to_numpy(), index=frame.index,
                        dtype="boolean")
    reached = reached.mask(~knowable | (before_export & ~reached.to_numpy(dtype=bool)))
    frame["first_value_reached"] = reached
    frame["first_value_date"] = frame["first_value_date"].mask(before_export)
    onboarding_days = context.config.lifecycle.onboarding_days
    frame["onboarding_stalled"] = (
        frame["paying"] & reached.eq(False).fillna(False)
        & (frame["days_since_onboarding_start"] >= onboarding_days)).astype(bool)


def _derived_stage(frame: pd.DataFrame, config: Config) -> pd.Series:
    """Onboarding while first value is not reached and the first contract is younger than
    onboarding_days; then Renew inside the renewal window; Expand on an expansion signal;
    else Adopt. Accounts without ARR on as_of have no stage."""
    stages = config.lifecycle
    onboarding = frame["first_value_reached"].eq(False).fillna(False) & \
        (frame["days_since_onboarding_start"] < stages.onboarding_days)
    renew = (frame["days_to_renewal"] <= stages.renew_within_days).fillna(False)
    choices = [onboarding, renew, frame["expansion_signal"]]
    stage = np.select([c.to_numpy(dtype=bool) for c in choices],
                      ["Onboarding", "Renew", "Expand"], default="Adopt")
    result = pd.Series(stage, index=frame.index, dtype="string")
    return result.where(frame["paying"])
