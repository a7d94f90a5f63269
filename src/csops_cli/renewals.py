"""The renewal countdown: renewals due within N days, their owner and checklist step."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from . import filters, pipeline
from .config import Config
from .coverage import UNASSIGNED, checklist_step, resolve_owners
from .history import History
from .loading import Exports
from .lookup import is_in

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
    # renewals show no change of score: no earlier score is rebuilt
    result = pipeline.account_health(exports, config, pipeline.parse_as_of(as_of), change=False)
    frame = renewal_frame(result.signals, days, config)
    from .forecast import band_rates, with_probability

    frame = with_probability(frame, band_rates(exports, config, result.as_of.normalize()))
    frame = frame[RENEWAL_COLUMNS]
    keep = filters.select(result.signals, segment, owner)
    return Renewals(result.as_of, days, frame[is_in(frame["account_id"], keep)])


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
