"""The renewal forecast: a probability and a forecast ARR for each renewal due in the horizon,
totals by month and segment, the forecasts recorded at checkpoints before each renewal and,
once a renewal's date has passed, how accurate they were.

- **probability**: the observed renewal rate of the account's health band in the backtest
  (renewal cohort, 90-day horizon: the share of "renewed", i.e. neither churned nor
  contracted, at the renewal), or ``forecast.band_rates`` from the config when the backtest
  has fewer than ``MIN_BAND_RENEWALS`` renewals of that band;
- **forecast ARR**: probability x ARR;
- **checkpoints**: a renewal is recorded at the tightest checkpoint (120, 90, 60, 30 days)
  at or above its days to renewal, once per checkpoint;
- **outcome** of a recorded renewal, once as_of is past its date: ARR on the renewal date
  plus ``RENEWAL_GRACE_DAYS`` (at most as_of), from the contracts as exported now; renewed
  when that ARR is above 0; realised ARR is that ARR capped at the ARR forecast on (the
  forecast is of ARR kept, not of expansion);
- **accuracy** per checkpoint: ARR-weighted absolute percentage error
  (sum |forecast - realised| / sum realised), bias ((sum forecast - sum realised) / sum
  realised) and Brier score (mean of (probability - renewed)^2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import filters, pipeline
from .backtest import (
    BANDS,
    RENEWAL_GRACE_DAYS,
    BacktestOptions,
    ContractTerms,
    account_directory,
    backtest_dates,
    label_outcomes,
)
from .config import Config
from .dates import day_number
from .history import History
from .loading import Exports
from .lookup import is_in
from .renewals import renewal_frame

CHECKPOINTS = (120, 90, 60, 30)
BACKTEST_HORIZON = 90
MIN_BAND_RENEWALS = 30  # fewer renewals of a band in the backtest: the config's rate
FORECAST_COLUMNS = ["account_id", "account_name", "renewal_date", "days_to_renewal", "arr",
                    "health_band", "segment", "owner", "renewal_probability",
                    "probability_source", "forecast_arr"]
CATEGORIES = {"green": "commit", "yellow": "at_risk", "red": "likely_lost"}


@dataclass(frozen=True)
class BandRates:
    """index band: renewals (in the backtest), renewed, rate (used), source."""

    frame: pd.DataFrame


@dataclass(frozen=True)
class Forecast:
    as_of: pd.Timestamp
    days: int
    renewals: pd.DataFrame  # FORECAST_COLUMNS, soonest first
    rates: pd.DataFrame  # index band: backtest_renewals, backtest_renewed, rate, source
    by_month: pd.DataFrame  # month, then per category ARR and forecast ARR
    by_segment: pd.DataFrame
    accuracy: pd.DataFrame  # checkpoint, renewals, renewed, forecast_arr, realised_arr, ...
    recorded: int  # forecasts recorded by this run


def band_rates(exports: Exports, config: Config, as_of: pd.Timestamp) -> pd.DataFrame:
    """The renewal rate of each band: observed in the backtest's renewal cohort (90-day
    horizon) when it holds at least MIN_BAND_RENEWALS renewals of the band, else the config's.
    Kept in the cache for the next command on the same exports and as_of (``forecast`` after
    ``renewals``): the calibration scores every past date."""
    from .built_cache import BuiltCache

    stored = BuiltCache.of_exports(exports, config, "rates")
    day = day_number(as_of)
    hit = None if stored is None else stored.get(day)
    if hit is not None:
        return hit[0]
    rates = _band_rates(exports, config, as_of)
    if stored is not None:
        stored.put(day, rates)
    return rates


def _band_rates(exports: Exports, config: Config, as_of: pd.Timestamp) -> pd.DataFrame:
    from .past_scores import past_panel

    options = BacktestOptions(as_of=as_of, horizons=(BACKTEST_HORIZON,))
    dates = backtest_dates(as_of, options)
    # the renewal cohort alone: its rows are all that is counted
    terms = ContractTerms.of(exports)
    panel = past_panel(exports, config, dates, renewal_within=BACKTEST_HORIZON, terms=terms)
    rows = label_outcomes(panel, terms, as_of, BACKTEST_HORIZON, options.contraction_pct)
    cohort = rows[rows["in_renewal"]] if not rows.empty else rows
    bands = (np.asarray(cohort["health_band"].astype(object)) if len(cohort)
             else np.array([], dtype=object))
    renewed = (np.asarray(cohort["renewal_outcome"].astype(object)) == "renewed"
               if len(cohort) else np.array([], dtype=bool))
    configured = config.forecast.band_rates
    frame = pd.DataFrame(index=pd.Index(BANDS, name="band"))
    frame["backtest_renewals"] = [int((bands == b).sum()) for b in BANDS]
    frame["backtest_renewed"] = [int(renewed[bands == b].sum()) for b in BANDS]
    enough = frame["backtest_renewals"] >= MIN_BAND_RENEWALS
    observed = frame["backtest_renewed"] / frame["backtest_renewals"].where(enough)
    frame["rate"] = observed.where(enough, [getattr(configured, b) for b in BANDS])
    frame["source"] = np.where(enough, "backtest", "config")
    return frame


def with_probability(frame: pd.DataFrame, rates: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (health_band, arr) with renewal_probability, probability_source and
    forecast_arr; an account without a band gets none."""
    band = frame["health_band"].astype(object)
    probability = band.map(rates["rate"]).astype(float)
    return frame.assign(renewal_probability=probability,
                        probability_source=band.map(rates["source"]),
                        forecast_arr=probability * frame["arr"].astype(float))


def forecast(exports: Exports, config: Config, as_of: str | None, history: History, days: int,
             segment: str | None = None, owner: str | None = None,
             save: bool = True) -> Forecast:
    result = pipeline.account_health(exports, config, pipeline.parse_as_of(as_of), change=False)
    shown_as_of, signals = result.as_of, result.signals
    day = shown_as_of.normalize()
    rates = band_rates(exports, config, day)
    frame = renewal_frame(signals, days, config)
    frame = frame.assign(segment=frame["account_id"].map(signals["segment"]))
    frame = with_probability(frame, rates)[FORECAST_COLUMNS]
    keep = filters.select(signals, segment, owner)  # refused before anything is saved
    recorded = 0
    if save:
        due = checkpoint_rows(frame, history.forecast_checkpoints(), day)
        if not due.empty:
            history.record_forecasts(due)
        recorded = len(due)
    shown = frame[is_in(frame["account_id"], keep)].reset_index(drop=True)
    accuracy_frame = accuracy(history.forecasts(), exports, day)
    return Forecast(shown_as_of, days, shown, rates, totals(shown, "month"),
                    totals(shown, "segment"), accuracy_frame, recorded)


def checkpoint_rows(frame: pd.DataFrame, recorded: pd.DataFrame,
                    as_of: pd.Timestamp) -> pd.DataFrame:
    """The forecasts to record now: each renewal at the tightest checkpoint at or above its
    days to renewal, unless recorded for that checkpoint before."""
    rows = frame[frame["renewal_probability"].notna()].copy()
    to_go = rows["days_to_renewal"].astype(int)
    tightest = pd.Series(np.nan, index=rows.index)
    for checkpoint in CHECKPOINTS:  # widest first: a tighter one overwrites
        tightest[to_go <= checkpoint] = checkpoint
    rows = rows[tightest.notna()].assign(checkpoint=tightest.dropna().astype(int))
    rows = rows.assign(renewal_date=rows["renewal_date"].dt.strftime("%Y-%m-%d"),
                       as_of=f"{as_of:%Y-%m-%d}", probability=rows["renewal_probability"],
                       source=rows["probability_source"])
    if not recorded.empty:
        seen = pd.MultiIndex.from_frame(recorded[["account_id", "renewal_date", "checkpoint"]]
                                        .astype({"account_id": str, "renewal_date": str,
                                                 "checkpoint": int}))
        key = pd.MultiIndex.from_frame(rows[["account_id", "renewal_date", "checkpoint"]]
                                       .astype({"account_id": str}))
        rows = rows[~key.isin(seen)]
    return rows


def realised(forecasts: pd.DataFrame, exports: Exports, as_of: pd.Timestamp) -> pd.DataFrame:
    """The recorded forecasts whose renewal date is before as_of, with ``renewed`` (0/1) and
    ``realised_arr`` (ARR on the renewal date + RENEWAL_GRACE_DAYS, at most as_of, capped
    at the ARR forecast on)."""
    end = day_number(as_of)
    dates = pd.to_datetime(forecasts["renewal_date"])
    past = forecasts[(dates < as_of.normalize()).to_numpy()].copy()
    directory = account_directory(exports)
    positions = pd.Series(np.arange(len(directory)), index=directory["account_id"].astype(str))
    past = past[past["account_id"].astype(str).isin(positions.index)]
    if past.empty:
        return past.assign(renewed=pd.Series(dtype=int), realised_arr=pd.Series(dtype=float))
    accounts = positions[past["account_id"].astype(str)].to_numpy()
    renewal_day = pd.to_datetime(past["renewal_date"]).to_numpy(
        dtype="datetime64[D]").astype(np.int64)
    after = ContractTerms.of(exports).arr_on(accounts,
                                             np.minimum(renewal_day + RENEWAL_GRACE_DAYS, end))
    arr = past["arr"].to_numpy(dtype=float)
    return past.assign(renewed=(after > 0).astype(int), realised_arr=np.minimum(after, arr))


def accuracy(forecasts: pd.DataFrame, exports: Exports, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per checkpoint: renewals with a known outcome, renewed, forecast and realised ARR,
    weighted absolute percentage error, bias and Brier score."""
    columns = ["checkpoint", "renewals", "renewed", "forecast_arr", "realised_arr", "wape",
               "bias", "brier"]
    known = realised(forecasts, exports, as_of) if not forecasts.empty else forecasts
    rows = []
    for checkpoint in CHECKPOINTS:
        group = known[known["checkpoint"] == checkpoint] if not known.empty else known
        if group.empty:
            continue
        forecast_arr = group["forecast_arr"].to_numpy(dtype=float)
        actual = group["realised_arr"].to_numpy(dtype=float)
        total = actual.sum()
        probability = group["probability"].to_numpy(dtype=float)
        renewed = group["renewed"].to_numpy(dtype=float)
        rows.append({
            "checkpoint": checkpoint, "renewals": len(group), "renewed": int(renewed.sum()),
            "forecast_arr": float(forecast_arr.sum()), "realised_arr": float(total),
            "wape": float(np.abs(forecast_arr - actual).sum() / total) if total else None,
            "bias": float((forecast_arr.sum() - total) / total) if total else None,
            "brier": float(((probability - renewed) ** 2).mean())})
    return pd.DataFrame(rows, columns=columns)


def totals(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """ARR and forecast ARR per month (of renewal_date) or segment, as commit (green), at
    risk (yellow) and likely lost (red), with the total."""
    key = frame["renewal_date"].dt.strftime("%Y-%m") if by == "month" else \
        frame["segment"].astype(object).fillna("(none)")
    category = frame["health_band"].astype(object).map(CATEGORIES)
    out = pd.DataFrame(index=pd.Index(sorted(key.unique()), name=by))
    for name in CATEGORIES.values():
        chosen = category == name
        out[f"{name}_arr"] = frame["arr"][chosen].groupby(key[chosen]).sum()
        out[f"{name}_forecast_arr"] = frame["forecast_arr"][chosen].groupby(key[chosen]).sum()
    out = out.fillna(0.0)
    out["arr"] = frame["arr"].groupby(key).sum()
    out["forecast_arr"] = frame["forecast_arr"].groupby(key).sum()
    return out.reset_index()
