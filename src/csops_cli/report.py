"""The weekly report: what a CS leader looks at on Monday, computed in one call.

Everything here is aggregated (band mix per week, the top movers, the metrics, the NRR bridge,
the largest renewals of the next 90 days, counts per play, the backtest's headline), so that the
HTML made from it stays small however many accounts there are. Nothing is recorded: the report
reads the history store, it never writes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from . import pipeline
from .backtest import BANDS, Backtest, BacktestOptions
from .config import Config
from .errors import UsageError
from .history import History
from .loading import Exports
from .metrics import MetricsReport
from .renewals import renewal_frame

WEEKS_SHOWN = 13  # a quarter of weekly points in the health mix
MIN_STORED_WEEKS = 4  # fewer weekly snapshots in the history: the mix is rebuilt
MOVERS_SHOWN = 10  # per direction
CALENDAR_DAYS = 90
CALENDAR_POINTS = 300  # the largest renewals plotted; the rest summarised in text
MOVER_COLUMNS = ["account_id", "account_name", "segment", "previous_health_score",
                 "health_score", "health_change", "health_band", "arr"]


@dataclass(frozen=True)
class WeeklyReport:
    as_of: pd.Timestamp
    config_label: str
    band_thresholds: tuple[float, float]  # green from, yellow from
    accounts: int  # paying accounts on as_of
    arr: float
    # as_of, health_band, accounts, arr: one date per week, oldest first
    mix: pd.DataFrame
    mix_source: str  # where the mix comes from, in words
    movers_down: pd.DataFrame  # MOVER_COLUMNS, largest drop first
    movers_up: pd.DataFrame  # MOVER_COLUMNS, largest rise first
    metrics: MetricsReport
    # renewal_date, days_to_renewal, account_name, arr, health_score, health_band: the
    # CALENDAR_POINTS largest renewals due in the next CALENDAR_DAYS days
    renewals: pd.DataFrame
    renewals_due: int  # all renewals due in the window
    renewals_arr: float
    renewals_by_band: pd.DataFrame  # index band: renewals, arr (all of them, not only plotted)
    # per play: play_id, play_name, fired (this week), open, resolved, median_days
    plays: pd.DataFrame
    plays_note: str
    backtest: Backtest | None
    backtest_note: str | None  # why there is no backtest, or what to know about it
    notes: tuple[str, ...] = ()


def weekly_report(exports: Exports, config: Config, as_of: str | None,
                  history: History) -> WeeklyReport:
    """The weekly report as of ``as_of`` (default: the exports' latest date)."""
    from . import metrics as metrics_module
    from .backtest import run as run_backtest
    from .plays import fired_counts

    result = pipeline.account_health(exports, config, pipeline.parse_as_of(as_of), history)
    day = result.as_of.normalize()
    scored = result.scored
    mix, mix_source = health_mix(exports, config, day, history, scored)
    down, up = movers(scored)
    signals, earlier = metrics_module.signals_with_lookback(exports, config, day)
    metrics = metrics_module.compute(exports, signals, config, earlier=earlier)
    due = renewal_frame(result.signals, CALENDAR_DAYS, config)
    fired = fired_counts(result.signals, config, day, history.open_plays(day))
    plays, plays_note = play_counts(fired, history, day)
    try:
        backtest = run_backtest(exports, config, BacktestOptions(as_of=day, horizons=(90,)),
                                config.label)
        note = None if 90 in backtest.horizons else "no backtest date has its outcome known"
    except UsageError as error:  # too little history in the exports to look back on
        backtest, note = None, error.message
    by_band = due.groupby("health_band").agg(renewals=("arr", "size"), arr=("arr", "sum"))
    return WeeklyReport(
        as_of=day, config_label=config.label,
        band_thresholds=(config.health.bands.green, config.health.bands.yellow),
        accounts=len(scored),
        arr=float(scored["arr"].sum()), mix=mix, mix_source=mix_source,
        movers_down=down, movers_up=up, metrics=metrics,
        renewals=due.nlargest(CALENDAR_POINTS, "arr").reset_index(drop=True),
        renewals_due=len(due), renewals_arr=float(due["arr"].sum()),
        renewals_by_band=by_band.reindex(list(BANDS), fill_value=0),
        plays=plays, plays_note=plays_note, backtest=backtest, backtest_note=note,
        notes=result.skipped)


def weekly_dates(as_of: pd.Timestamp, weeks: int = WEEKS_SHOWN) -> list[pd.Timestamp]:
    """as_of and the same weekday of each of the ``weeks - 1`` weeks before, oldest first."""
    return [as_of - pd.Timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]


def health_mix(exports: Exports, config: Config, as_of: pd.Timestamp, history: History,
               current: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Accounts and ARR per band, one date per week: from the history store when it holds
    snapshots of at least MIN_STORED_WEEKS weeks (the latest of each week; as_of's week is
    ``current``, this run's scores, as everywhere else in the report), else rebuilt from the
    exports at weekly dates, each from what was known on it (one pass over the usage)."""
    stored = history.band_mix(as_of)
    if not stored.empty:
        days = pd.to_datetime(stored["as_of"])
        week = days - pd.to_timedelta(days.dt.day_of_week, unit="D")
        latest = days.groupby(week).transform("max")
        stored = stored[days == latest].assign(as_of=days[days == latest])
        weeks = sorted(stored["as_of"].unique())[-WEEKS_SHOWN:]
        if len(weeks) >= MIN_STORED_WEEKS:
            this_week = as_of - pd.Timedelta(days=as_of.day_of_week)
            earlier = [day for day in weeks if day < this_week][-(WEEKS_SHOWN - 1):]
            now = current.groupby("health_band").agg(accounts=("arr", "size"),
                                                     arr=("arr", "sum")).reset_index()
            mix = pd.concat([stored[stored["as_of"].isin(earlier)], now.assign(as_of=as_of)],
                            ignore_index=True)
            return (_complete(mix),
                    f"from the history store ({len(earlier)} earlier weekly snapshots) and "
                    f"this run's scores as of {as_of:%Y-%m-%d}")
    from .past_scores import past_panel

    dates = weekly_dates(as_of)
    panel = past_panel(exports, config, dates)
    grouped = panel.groupby(["as_of", "health_band"], observed=False).agg(
        accounts=("arr", "size"), arr=("arr", "sum")).reset_index()
    held = len(stored["as_of"].unique()) if not stored.empty else 0
    return (_complete(grouped),
            f"rebuilt from the exports at {len(dates)} weekly dates, each from what was known "
            f"then (the history store holds {held} weekly snapshot(s); from "
            f"{MIN_STORED_WEEKS} on, they are used)")


def _complete(mix: pd.DataFrame) -> pd.DataFrame:
    """Every (date, band) pair, zero where a band had no account; dates as timestamps."""
    mix = mix.assign(as_of=pd.to_datetime(mix["as_of"]),
                     health_band=mix["health_band"].astype(str))
    full = pd.MultiIndex.from_product([sorted(mix["as_of"].unique()), list(BANDS)],
                                      names=["as_of", "health_band"])
    frame = mix.set_index(["as_of", "health_band"])[["accounts", "arr"]].reindex(
        full, fill_value=0).reset_index()
    frame["accounts"] = frame["accounts"].astype(int)
    frame["arr"] = frame["arr"].astype(float)
    return frame


def movers(scored: pd.DataFrame, shown: int = MOVERS_SHOWN
           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The largest drops and rises since the previous score; ties: larger ARR first."""
    frame = scored.reset_index()
    frame = frame[frame["health_change"].notna()]
    for column in MOVER_COLUMNS:
        if column not in frame:
            frame[column] = None
    frame = frame[MOVER_COLUMNS]
    down = frame[frame["health_change"] < 0].sort_values(
        ["health_change", "arr"], ascending=[True, False]).head(shown)
    up = frame[frame["health_change"] > 0].sort_values(
        ["health_change", "arr"], ascending=[False, False]).head(shown)
    return down.reset_index(drop=True), up.reset_index(drop=True)


def play_counts(summary: pd.DataFrame, history: History, as_of: pd.Timestamp
                ) -> tuple[pd.DataFrame, str]:
    """Per play: fired this week (``summary``: play_id, play_name, fired), open in the
    history store, resolved and the median days those took."""
    frame = summary[["play_id", "play_name", "fired"]].copy() if len(summary) else \
        pd.DataFrame(columns=["play_id", "play_name", "fired"])
    open_plays = history.open_plays(as_of)
    resolved = history.resolution_days()
    frame["open"] = frame["play_id"].map(open_plays.groupby("play_id").size()).fillna(0)
    frame["resolved"] = frame["play_id"].map(resolved.groupby("play_id").size()).fillna(0)
    frame["median_days"] = frame["play_id"].map(resolved.groupby("play_id")["days"].median())
    for column in ("fired", "open", "resolved"):
        frame[column] = frame[column].astype(int)
    if open_plays.empty and resolved.empty:
        note = ("The history store holds no plays yet: this shows the plays that fire this "
                "week; open plays and time to resolution need `csops plays` run week after week")
    else:
        note = (f"Fired: plays newly firing on {as_of:%Y-%m-%d}; open and resolved: as "
                "recorded by `csops plays`; days: median time to resolution of risk plays")
    return frame.reset_index(drop=True), note
