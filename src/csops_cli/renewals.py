"""The renewal countdown: renewals due within N days, their owner and checklist step."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import filters, pipeline, progress
from .config import Config
from .coverage import UNASSIGNED, checklist_step, resolve_owners
from .history import History
from .loading import Exports

RENEWAL_COLUMNS = ["account_id", "account_name", "renewal_date", "days_to_renewal", "arr",
                   "health_score", "health_band", "owner", "checklist_step",
                   "renewal_probability", "forecast_arr"]


@dataclass(frozen=True)
class Renewals:
    as_of: pd.Timestamp
    days: int  # the horizon: renewals due within this many days
    # RENEWAL_COLUMNS, soonest first, then largest ARR; renewal_probability and forecast_arr
    # as csops forecast gives them
    renewals: pd.DataFrame


def renewals(exports: Exports, config: Config, as_of: str | None, history: History, days: int,
             segment: str | None = None, owner: str | None = None) -> Renewals:
    day, signals = current_health(exports, config, as_of)
    frame = renewal_frame(signals, days, config)
    from .forecast import band_rates, with_probability

    frame = with_probability(frame, band_rates(exports, config, day.normalize()))
    frame = frame[RENEWAL_COLUMNS]
    keep = filters.select(signals, segment, owner)
    if segment is not None or owner is not None:
        frame = frame[frame["account_id"].isin(keep)]
    return Renewals(day, days, frame)


def current_health(exports: Exports, config: Config, as_of: str | None
                   ) -> tuple[pd.Timestamp, pd.DataFrame]:
    """The as_of and the signal table with each paying account's health_score and
    health_band: what renewals and the forecast read. Neither shows a change of score, so
    no earlier score is read or rebuilt (see :func:`pipeline.account_health`)."""
    from . import health
    from .signals import build_signals

    signals = build_signals(exports, config, pipeline.parse_as_of(as_of))
    frame = signals.frame
    paying = frame["paying"].to_numpy(dtype=bool)
    with progress.phase("scoring"):
        scores = health.score(frame[paying], config).scores
    score = np.full(len(frame), np.nan)
    score[paying] = scores["health_score"].to_numpy(dtype=float)
    band = np.full(len(frame), None, dtype=object)
    band[paying] = scores["health_band"].to_numpy(dtype=object)
    frame["health_score"] = score
    frame["health_band"] = pd.Series(band, index=frame.index, dtype="string")
    return signals.as_of, frame


def renewal_frame(signals: pd.DataFrame, days: int, config: Config) -> pd.DataFrame:
    """The accounts whose renewal is due within ``days``: only a paying account has a
    renewal date (see the signal catalogue), so these are the accounts health scores."""
    due = signals[(signals["days_to_renewal"] >= 0) & (signals["days_to_renewal"] <= days)]
    owner, _ = resolve_owners("csm", due, config, {})
    frame = due.assign(owner=owner.fillna(UNASSIGNED),
                       checklist_step=checklist_step(due["days_to_renewal"]).fillna(
                           "before kickoff"),
                       health_score=due["health_score"].round(1),
                       days_to_renewal=due["days_to_renewal"].astype("Int64"))
    frame = frame.reset_index().sort_values(["days_to_renewal", "arr"],
                                            ascending=[True, False], ignore_index=True)
    return frame[RENEWAL_COLUMNS[:-2]]
