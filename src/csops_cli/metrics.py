"""The five core CS metrics and GRR, overall and per segment or owner, against their targets.

Every metric is a function of a set of accounts (rows of the signal table plus a few per-account
figures computed here from contracts and activities), so the same code gives the overall value
and each group's. A metric that cannot be computed says why instead of dividing by zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .config import Config
from .dates import day_number, days, year_before
from .filters import segment_mask
from .loading import Exports
from .loading.events import account_positions
from .signals import Signals, build_signals, build_signals_at, default_as_of
from .vocabulary import NO_SEGMENT, UNASSIGNED

# a shorter time to value, and fewer touches per renewed dollar, are better: targets are ceilings
LOWER_IS_BETTER = ("ttfv", "activity_to_outcome")
# cohort metrics follow the accounts that had ARR at t0: they group by the segment at t0
COHORT_METRICS = ("nrr", "grr", "expansion_conversion")
RENEWAL_GAP_DAYS = 7
# what the metric functions and their groups read of account_figures' table
METRIC_COLUMNS = frozenset({
    "segment", "segment_t0", "csm_owner", "paying", "arr", "arr_12m_ago", "onboarding_start",
    "first_value_reached", "core_features_used_30d", "ttfv_days", "license_utilization",
    "active_users_30d", "core_feature_adoption", "signal_then", "arr_then", "renewed_arr",
    "touches"})


@dataclass(frozen=True)
class Computation:
    """A metric over one set of accounts."""

    value: float | None
    included: int
    excluded: dict[str, int] = field(default_factory=dict)
    details: dict[str, float | int | None] = field(default_factory=dict)
    note: str | None = None  # why the value is n/a


@dataclass(frozen=True)
class Metric:
    id: str
    name: str
    definition: str
    unit: str  # "days", "ratio" or "touches per $N"
    higher_is_better: bool
    target: float | None
    overall: Computation
    by_group: dict[str, Computation]

    @property
    def value(self) -> float | None:
        return self.overall.value

    @property
    def met(self) -> bool | None:
        if self.value is None or self.target is None:
            return None
        return self.value >= self.target if self.higher_is_better else self.value <= self.target


@dataclass(frozen=True)
class MetricsReport:
    as_of: pd.Timestamp
    group_by: str  # "segment" or "owner"
    metrics: dict[str, Metric]


def signals_with_lookback(exports: Exports, config: Config, as_of: pd.Timestamp | None = None
                          ) -> tuple[Signals, Signals | None]:
    """The signal table as of ``as_of`` and, with usage, the one at the expansion look-back
    date, built in one pass over the usage."""
    as_of = (as_of or default_as_of(exports)).normalize()
    if exports.usage is None:
        return build_signals(exports, config, as_of), None
    earlier = as_of - pd.Timedelta(days=_lookback_days(config))
    built = build_signals_at(exports, config, [as_of, earlier])
    return built[as_of], built[earlier]


def _lookback_days(config: Config) -> int:
    return config.metrics.expansion_conversion.signal_lookback_days


def compute(exports: Exports, signals: Signals, config: Config, group_by: str = "segment",
            earlier: Signals | None = None, segment: str | None = None,
            grouped: bool = True) -> MetricsReport:
    """The metrics as of ``signals.as_of``. ``earlier`` is the signal table at the expansion
    look-back date (see :func:`signals_with_lookback`); it is built here when not given.
    Cohort metrics put an account in its segment at t0, the others in its segment on as_of;
    ``segment`` keeps only the accounts of that segment, in the same sense. Without
    ``grouped``, each metric has its overall value only (``by_group`` empty)."""
    as_of = signals.as_of
    if earlier is None and exports.usage is not None:
        earlier = build_signals(exports, config, as_of - pd.Timedelta(days=_lookback_days(config)))
    accounts, orphan_touches = account_figures(exports, signals, config, earlier)
    # the groups are cut from the columns the metrics read, not the whole signal table
    accounts = accounts[[c for c in accounts.columns if c in METRIC_COLUMNS]]

    def segment_of(metric_id: str) -> pd.Series:
        column = "segment_t0" if metric_id in COHORT_METRICS else "segment"
        return accounts[column].astype("string")

    def groups_of(metric_id: str) -> pd.Series:
        if group_by == "owner":
            return accounts["csm_owner"].astype("string").fillna(UNASSIGNED)
        return segment_of(metric_id).fillna(NO_SEGMENT)
    has_usage = exports.usage is not None
    has_activities = exports.activities is not None
    functions = {
        "ttfv": lambda f: ttfv(f, as_of, config, has_usage),
        "nrr": lambda f: nrr(f, as_of),
        "grr": lambda f: grr(f, as_of),
        "adoption_rate": lambda f: adoption_rate(f, config, has_usage),
        "expansion_conversion": lambda f: expansion_conversion(f, config, has_usage),
        "activity_to_outcome": lambda f, orphans=0: activity_to_outcome(f, config,
                                                                         has_activities,
                                                                         orphans),
    }
    metrics = {}
    for metric_id, function in functions.items():
        spec = getattr(config.metrics, metric_id)
        chosen = accounts
        if segment is not None:
            chosen = accounts[segment_mask(segment_of(metric_id), segment)]
        by_group = {}
        if grouped:
            groups = groups_of(metric_id).reindex(chosen.index)
            by_group = {str(name): function(part)
                        for name, part in chosen.groupby(groups, sort=True)}
        # touches of accounts missing from the accounts export belong to no group
        overall = function(chosen, 0 if segment is not None else orphan_touches) \
            if metric_id == "activity_to_outcome" else function(chosen)
        unit = "ratio"
        if metric_id == "ttfv":
            unit = "days"
        elif metric_id == "activity_to_outcome":
            unit = f"touches per ${config.metrics.activity_to_outcome.per_arr:,.0f} renewed"
        metrics[metric_id] = Metric(
            metric_id, spec.name, spec.definition.strip(), unit,
            higher_is_better=metric_id not in LOWER_IS_BETTER,
            target=spec.target,
            overall=overall, by_group=by_group)
    return MetricsReport(as_of, group_by, metrics)


def account_figures(exports: Exports, signals: Signals, config: Config,
                    earlier: Signals | None) -> tuple[pd.DataFrame, int]:
    """The signal table plus what the metrics need per account and the table does not hold:
    touches and renewed ARR in the activity window (from the loaded tables), and the
    expansion signal at the look-back date (from ``earlier``). Also the touches of accounts
    missing from the accounts export, which belong to no account."""
    frame = signals.frame.copy()
    as_of = signals.as_of
    first_day, today = twelve_months(as_of)
    ids = frame.index
    frame["renewed_arr"] = _renewed_arr(exports.contracts.frame, ids, first_day, today)
    orphan_touches = 0
    if exports.activities is not None:
        activities = exports.activities.frame
        touch_types = [t.lower() for t in config.metrics.activity_to_outcome.touch_types]
        day = days(activities["date"])
        touch = activities["activity_type"].isin(touch_types).to_numpy(dtype=bool) & \
            (day >= first_day) & (day <= today)
        codes = account_positions(ids, activities["account_id"])
        frame["touches"] = np.bincount(codes[touch & (codes >= 0)], minlength=len(ids))
        orphan_touches = int((touch & (codes < 0)).sum())
    else:
        frame["touches"] = np.nan
    if earlier is not None:
        frame["signal_then"] = earlier.frame["expansion_signal"].reindex(ids).fillna(False)
        frame["arr_then"] = earlier.frame["arr"].reindex(ids).fillna(0.0)
    else:
        frame["signal_then"] = False
        frame["arr_then"] = np.nan
    frame["ttfv_days"] = (frame["first_value_date"] - frame["onboarding_start"]).dt.days
    return frame, orphan_touches


def twelve_months(as_of: pd.Timestamp) -> tuple[int, int]:
    """The last 12 months as day numbers, both included: the day after t0 (the same calendar
    day a year earlier; 29 February falls back to the 28th) to as_of."""
    return day_number(year_before(as_of)) + 1, day_number(as_of)


def _renewed_arr(contracts: pd.DataFrame, ids: pd.Index, first_day: int, today: int
                 ) -> np.ndarray:
    """ARR of contracts starting in the period that renew: of type renewal, or starting within
    seven days of the end of an earlier contract of the same account."""
    start, end = days(contracts["start_date"]), days(contracts["end_date"])
    in_period = (start >= first_day) & (start <= today)
    kind = contracts.get("contract_type", pd.Series(pd.NA, index=contracts.index, dtype="string"))
    is_renewal = kind.eq("renewal").fillna(False).to_numpy(dtype=bool)
    pairs = pd.DataFrame({"account": contracts["account_id"].to_numpy(), "start": start,
                          "end": end, "row": np.arange(len(contracts))})
    candidates = pairs[in_period & ~is_renewal]
    joined = candidates.merge(pairs, on="account", suffixes=("", "_before"))
    follows = (joined["start_before"] < joined["start"]) & \
        ((joined["start"] - joined["end_before"]).abs() <= RENEWAL_GAP_DAYS)
    renewing = set(joined.loc[follows, "row"])
    is_renewal = is_renewal | np.isin(np.arange(len(contracts)), list(renewing))
    chosen = in_period & is_renewal
    codes = account_positions(ids, contracts["account_id"])
    chosen &= codes >= 0
    return np.bincount(codes[chosen], weights=contracts["arr"].to_numpy(dtype=float)[chosen],
                       minlength=len(ids))


def _count(mask: pd.Series) -> int:
    return int(mask.sum())


def _reasons(counts: dict[str, int]) -> dict[str, int]:
    return {reason: n for reason, n in counts.items() if n}


def ttfv(frame: pd.DataFrame, as_of: pd.Timestamp, config: Config, has_usage: bool
         ) -> Computation:
    window = config.metrics.ttfv.window_days
    target = config.metrics.ttfv.target
    start = frame["onboarding_start"]
    first = as_of - pd.Timedelta(days=window - 1)
    in_window = ((start >= first) & (start <= as_of)).fillna(False)
    # onboarding before the usage export's first day: when first value came is not known
    unknown = in_window & frame["first_value_reached"].isna() & \
        frame["core_features_used_30d"].notna()
    excluded = _reasons({"onboarding started before the window": _count(start < first),
                         "onboarding starts after as_of": _count(start > as_of),
                         "no contract": _count(start.isna()),
                         "first value unknown (onboarding before the usage export's first "
                         "day)": _count(unknown)})
    cohort = frame[in_window & ~unknown]
    if not has_usage:
        return Computation(None, len(cohort), excluded, note="no usage export: first value "
                           "cannot be seen")
    if cohort.empty:
        return Computation(None, 0, excluded, note=f"no account started onboarding in the last "
                           f"{window} days")
    taken = cohort["ttfv_days"]
    reached = taken.notna()
    waited = (as_of - cohort["onboarding_start"]).dt.days
    waiting_past = ~reached & (waited > target)
    known = reached | waiting_past
    within = reached & (taken <= target)
    values = taken[reached].to_numpy(dtype=float)
    details = {
        "p90": float(np.percentile(values, 90)) if len(values) else None,
        "within_target": float(within.sum() / known.sum()) if known.any() else None,
        "waiting_past_target": _count(waiting_past),
        "reached_value": _count(reached),
        "still_onboarding": _count(~reached & ~waiting_past),
    }
    if not len(values):
        return Computation(None, len(cohort), excluded, details,
                           note="no account in the cohort has reached first value yet")
    return Computation(float(np.median(values)), len(cohort), excluded, details)


def _retention_cohort(frame: pd.DataFrame, as_of: pd.Timestamp
                      ) -> tuple[pd.DataFrame, dict[str, int], str | None]:
    had_arr = frame["arr_12m_ago"] > 0
    excluded = _reasons({"new logo (no ARR at t0)": _count(~had_arr & (frame["arr"] > 0)),
                         "no ARR at t0 nor on as_of": _count(~had_arr & ~(frame["arr"] > 0))})
    cohort = frame[had_arr]
    note = None if len(cohort) else (f"no account had ARR twelve months before as_of "
                                     f"(t0 = {year_before(as_of):%Y-%m-%d})")
    return cohort, excluded, note


def nrr(frame: pd.DataFrame, as_of: pd.Timestamp) -> Computation:
    cohort, excluded, note = _retention_cohort(frame, as_of)
    if note:
        return Computation(None, 0, excluded, note=note)
    start, end = cohort["arr_12m_ago"], cohort["arr"]
    change = end - start
    details = {
        "starting_arr": float(start.sum()),
        "expansion": float(change.clip(lower=0).sum()),
        "contraction": float(-change[(end > 0) & (change < 0)].sum()),
        "churn": float(start[end <= 0].sum()),
        "ending_arr": float(end.sum()),
    }
    return Computation(float(end.sum() / start.sum()), len(cohort), excluded, details)


def grr(frame: pd.DataFrame, as_of: pd.Timestamp) -> Computation:
    cohort, excluded, note = _retention_cohort(frame, as_of)
    if note:
        return Computation(None, 0, excluded, note=note)
    start = cohort["arr_12m_ago"]
    kept = np.minimum(cohort["arr"], start)
    return Computation(float(kept.sum() / start.sum()), len(cohort), excluded)


def adoption_rate(frame: pd.DataFrame, config: Config, has_usage: bool) -> Computation:
    paying = frame["paying"]
    cohort = frame[paying]
    excluded = _reasons({"no ARR on as_of": _count(~paying)})
    if not has_usage:
        return Computation(None, len(cohort), excluded, note="no usage export")
    if not config.product.core_features:
        return Computation(None, len(cohort), excluded,
                           note="no core features configured (product.core_features)")
    if cohort.empty:
        return Computation(None, 0, excluded, note="no account has ARR on as_of")
    utilization = cohort["license_utilization"].dropna()
    details = {"mean_license_utilization": float(utilization.mean()) if len(utilization)
               else None,
               "accounts_without_usage": _count(cohort["active_users_30d"].fillna(0) == 0)}
    return Computation(float(cohort["core_feature_adoption"].fillna(0).mean()), len(cohort),
                       excluded, details)


def expansion_conversion(frame: pd.DataFrame, config: Config, has_usage: bool) -> Computation:
    had_arr = frame["arr_12m_ago"] > 0
    cohort = frame[had_arr]
    excluded = _reasons({"no ARR at t0": _count(~had_arr)})
    if cohort.empty:
        return Computation(None, 0, excluded, note="no account had ARR twelve months before "
                           "as_of")
    expanded = cohort["arr"] > cohort["arr_12m_ago"]
    signalled = frame[frame["signal_then"].astype(bool) & (frame["arr_then"] > 0)]
    details: dict[str, float | int | None] = {"expanded": _count(expanded),
                                              "signal_accounts": len(signalled)}
    if has_usage and len(signalled):
        details["signal_conversion"] = float((signalled["arr"] > signalled["arr_then"]).mean())
    else:
        details["signal_conversion"] = None
    return Computation(float(expanded.mean()), len(cohort), excluded, details)


def activity_to_outcome(frame: pd.DataFrame, config: Config, has_activities: bool,
                        orphan_touches: int = 0) -> Computation:
    per_arr = config.metrics.activity_to_outcome.per_arr
    renewed = float(frame["renewed_arr"].sum())
    excluded = _reasons({"touches on accounts missing from the accounts export":
                         orphan_touches})
    if not has_activities:
        return Computation(None, len(frame), excluded, note="no activities export")
    touches = int(frame["touches"].sum())
    details = {"touches": touches, "renewed_arr": renewed}
    if renewed <= 0:
        return Computation(None, len(frame), excluded, details,
                           note="no ARR renewed in the period")
    return Computation(touches / (renewed / per_arr), len(frame), excluded, details)
