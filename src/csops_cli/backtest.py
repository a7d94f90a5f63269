"""Backtest: does the health score predict churn and contraction on the data's own past?

The signal table and the health score are rebuilt as of past dates from the exports alone,
each date seeing only what was known on it: usage and activities dated on or before it, and
contracts signed (else started) on or before it. Each scored account and date then gets its
outcome over a horizon from the contracts as the exports know them today:

- **all accounts**: churn (ARR on date + horizon is 0) or contraction (ARR on date + horizon
  at least ``contraction_pct`` below ARR on the date);
- **renewal cohort** (the headline): accounts whose renewal falls inside the horizon, and what
  happened at that renewal: churned (no ARR), contracted, or renewed (flat or up). Over all
  accounts, days to renewal alone would "predict" churn, since only accounts up for renewal
  can churn; inside the renewal cohort it cannot.

The score's power is its AUC (rank-sum, ties count one half) with a seeded bootstrap 95 %
interval, the lift of each band, the red band's precision and recall, a calibration table,
the AUC of each bucket and signal alone, the misses, and the practitioners' bars.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import health as health_model
from . import progress
from .config import Config
from .dates import day_number, days, to_timestamp, year_before
from .errors import UsageError
from .history import History
from .loading import Exports
from .signal_catalogue import BUCKET_COLUMNS
from .signals import Signals, build_signals_at, default_as_of

DEFAULT_HORIZONS = (90, 180)
DEFAULT_EVERY_DAYS = 30
CONTRACTION_PCT = 0.10  # ARR falling by this share or more is a contraction
# a renewal signed a little late still counts: ARR after a renewal is read this many days on
RENEWAL_GRACE_DAYS = 30
BOOTSTRAP_ROUNDS = 1000
BOOTSTRAP_SEED = 20261
MIN_OUTCOMES = 30  # fewer positive outcomes than this: too few to conclude
MISSES_KEPT = 50  # per kind of miss: the accounts of largest ARR, each at its latest date
NO_INFORMATION = 0.05  # a signal whose AUC is within this of 0.5 separates nothing
# the practitioners' bars
RED_LIFT_BAR = 3.0  # red churns at 3 x the base rate or more
CHURNERS_BELOW_GREEN_BAR = 2 / 3  # of churners, below green 60-90 days before the churn
EARLY_WARNING_DAYS = (60, 90)
GREEN_SHARE_BAR = 0.80  # at most this share of accounts green
BANDS = ("green", "yellow", "red")


@dataclass(frozen=True)
class BacktestOptions:
    as_of: pd.Timestamp | None = None
    since: pd.Timestamp | None = None  # default: 12 months before as_of
    every_days: int = DEFAULT_EVERY_DAYS
    horizons: tuple[int, ...] = DEFAULT_HORIZONS
    contraction_pct: float = CONTRACTION_PCT
    seed: int = BOOTSTRAP_SEED
    rounds: int = BOOTSTRAP_ROUNDS


@dataclass(frozen=True)
class Bar:
    name: str
    value: float | None  # None: nothing to measure
    threshold: float
    passed: bool | None


@dataclass(frozen=True)
class Cohort:
    """One population at one horizon: its outcomes and how well the score ranked them.

    ``accounts`` counts account-dates (an account is counted once per backtest date)."""

    name: str  # "renewal" or "all"
    definition: str
    accounts: int
    outcomes: int  # positive outcomes: churned or contracted
    churned: int
    contracted: int
    base_rate: float | None
    auc: float | None
    auc_low: float | None
    auc_high: float | None
    by_band: pd.DataFrame  # index band: accounts, arr, outcomes, churn_rate, lift
    red_precision: float | None
    red_recall: float | None
    calibration: pd.DataFrame  # decile, accounts, score_low, score_high, observed_rate
    signal_auc: pd.DataFrame  # kind (bucket/signal), name, accounts, auc, informative
    misses: pd.DataFrame  # miss, account_id, account_name, as_of, health_score, ..., explain
    missed_accounts: dict[str, int] = field(default_factory=dict)  # by kind, all of them
    bars: tuple[Bar, ...] = ()
    warning: str | None = None


@dataclass(frozen=True)
class HorizonResult:
    days: int
    dates: tuple[pd.Timestamp, ...]  # the backtest dates whose outcome is known
    headline: Cohort  # the renewal cohort
    all_accounts: Cohort


@dataclass(frozen=True)
class Backtest:
    config_label: str
    as_of: pd.Timestamp
    dates: tuple[pd.Timestamp, ...]
    contraction_pct: float
    horizons: dict[int, HorizonResult]
    notes: tuple[str, ...] = field(default=())


# ---------------------------------------------------------------------------------------------
# Dates, signals as known then, and the scored panel
# ---------------------------------------------------------------------------------------------

def backtest_dates(as_of: pd.Timestamp, options: BacktestOptions) -> list[pd.Timestamp]:
    """Every ``every_days`` from ``since`` while some horizon's outcome is known by as_of."""
    if options.every_days < 1:
        raise UsageError(f"--every {options.every_days}: give a number of days, 1 or more")
    if not options.horizons or min(options.horizons) < 1:
        raise UsageError("--horizon: give a number of days, 1 or more")
    since = (options.since or year_before(as_of)).normalize()
    last = as_of - pd.Timedelta(days=min(options.horizons))
    if since > last:
        raise UsageError(
            f"no backtest date has a known outcome: --since {since:%Y-%m-%d} is later than "
            f"{last:%Y-%m-%d} (as_of {as_of:%Y-%m-%d} minus the shortest horizon, "
            f"{min(options.horizons)} days); give an earlier --since or a shorter --horizon")
    return list(pd.date_range(since, last, freq=f"{options.every_days}D"))


def signals_as_known(exports: Exports, config: Config, dates: Sequence[pd.Timestamp]
                     ) -> dict[pd.Timestamp, Signals]:
    """The signal table as of each date, from what was known on it: one pass over the usage
    for all dates; each date's contracts are those signed (else started) on or before it."""
    return build_signals_at(exports, config, dates, as_known=True)


def scored_panel(signals: dict[pd.Timestamp, Signals], config: Config) -> pd.DataFrame:
    """One row per (date, paying account): its score, band, buckets and 0-100 signal scores.
    Accounts are their position in the signal table (``account``); ids and names are looked
    up for the few rows shown."""
    frames = [scored_rows(date, table.frame, config)
              for date, table in progress.steps(list(signals.items()), "scoring past dates")]
    return pd.concat(frames, ignore_index=True)


def scored_rows(date, frame: pd.DataFrame, config: Config,
                positions: np.ndarray | None = None) -> pd.DataFrame:
    """The panel rows of a signal table: its paying accounts, scored. ``date``: the as_of of
    every row, or of each; ``positions``: each row's account position (default: its place in
    ``frame``)."""
    paying = (frame["arr"] > 0).to_numpy()
    health = health_model.score(frame[paying], config)
    where = np.flatnonzero(paying)
    part = pd.DataFrame({
        "as_of": date if np.ndim(date) == 0 else np.asarray(date)[paying],
        "account": where if positions is None else positions[where],
        "arr": frame["arr"].to_numpy()[paying],
        "days_to_renewal": frame["days_to_renewal"].to_numpy()[paying],
        "health_score": health.scores["health_score"].to_numpy(),
        "health_band": pd.Categorical(health.scores["health_band"].to_numpy(object),
                                      categories=BANDS),
    })
    for column in BUCKET_COLUMNS.values():
        part[column] = health.scores[column].to_numpy()
    for bucket, name in health.signal_scores.columns:
        part[f"signal:{name}"] = health.signal_scores[(bucket, name)].to_numpy()
    return part


def account_directory(exports: Exports) -> pd.DataFrame:
    """account_id and account_name by position: the order of the signal table's accounts."""
    accounts = exports.accounts.frame.drop_duplicates("account_id")
    return pd.DataFrame({"account_id": accounts["account_id"].to_numpy(object),
                         "account_name": accounts["account_name"].to_numpy(object)})


# ---------------------------------------------------------------------------------------------
# Outcomes
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ContractTerms:
    """Every contract as the exports know it today, grouped by account position."""

    first: np.ndarray  # by account: index of its first contract below (length accounts + 1)
    start: np.ndarray
    end: np.ndarray
    arr: np.ndarray

    @classmethod
    def of(cls, exports: Exports) -> ContractTerms:
        from .loading.events import account_positions

        ids = pd.Index(account_directory(exports)["account_id"])
        contracts = exports.contracts.frame
        codes = account_positions(ids, contracts["account_id"])
        known = codes >= 0
        order = np.argsort(codes[known], kind="stable")
        codes = codes[known][order]
        first = np.searchsorted(codes, np.arange(len(ids) + 1))
        return cls(first, days(contracts["start_date"]).astype(float)[known][order],
                   days(contracts["end_date"]).astype(float)[known][order],
                   contracts["arr"].to_numpy(dtype=float)[known][order])

    def arr_on(self, accounts: np.ndarray, on_days: np.ndarray) -> np.ndarray:
        """ARR of each (account position, day) pair: the sum of arr over the account's
        contracts with start_date <= day < end_date."""
        accounts = np.asarray(accounts, dtype=np.int64)
        counts = self.first[accounts + 1] - self.first[accounts]
        query = np.repeat(np.arange(len(accounts)), counts)
        # each query's contracts: its account's block, offset by the rank within the block
        offsets = np.arange(len(query)) - np.repeat(np.cumsum(counts) - counts, counts)
        contract = self.first[accounts][query] + offsets
        day = np.asarray(on_days, dtype=float)[query]
        active = (self.start[contract] <= day) & (day < self.end[contract])
        return np.bincount(query[active], weights=self.arr[contract][active],
                           minlength=len(accounts))


def label_outcomes(panel: pd.DataFrame, contracts: ContractTerms, as_of: pd.Timestamp,
                   horizon: int, contraction_pct: float) -> pd.DataFrame:
    """The rows of ``panel`` whose horizon ends by as_of, with their outcomes:

    ``outcome`` over all accounts (churned / contracted / kept), from ARR on date + horizon;
    ``in_renewal`` (renewal due inside the horizon) and ``renewal_outcome`` (churned /
    contracted / renewed) from ARR the day before the renewal against ARR
    ``RENEWAL_GRACE_DAYS`` after it (at most as_of)."""
    end = day_number(as_of)
    date_days = panel["as_of"].to_numpy(dtype="datetime64[D]").astype(np.int64)
    rows = panel[date_days + horizon <= end].copy()
    date_days = rows["as_of"].to_numpy(dtype="datetime64[D]").astype(np.int64)
    keep = 1 - contraction_pct
    accounts = rows["account"].to_numpy()
    later = contracts.arr_on(accounts, date_days + horizon)
    rows["arr_after"] = later
    rows["outcome"] = _outcome(rows["arr"].to_numpy(), later, keep, "kept")

    to_renewal = rows["days_to_renewal"].to_numpy(dtype=float)
    in_renewal = (to_renewal >= 1) & (to_renewal <= horizon)
    rows["in_renewal"] = in_renewal
    renewal_day = date_days + np.nan_to_num(to_renewal).astype(np.int64)
    before = contracts.arr_on(accounts, renewal_day - 1)
    after = contracts.arr_on(accounts, np.minimum(renewal_day + RENEWAL_GRACE_DAYS, end))
    renewal = _outcome(before, after, keep, "renewed")
    rows["renewal_outcome"] = pd.Series(renewal, index=rows.index).where(in_renewal)
    rows["renewal_date"] = pd.Series(renewal_day.astype("datetime64[D]"), index=rows.index
                                     ).where(in_renewal)
    return rows


def _outcome(before: np.ndarray, after: np.ndarray, keep: float, otherwise: str) -> np.ndarray:
    # a hair of tolerance: 90,000 after 100,000 is a 10 % contraction, whatever the floats say
    contracted = after <= before * keep + 1e-9 * np.abs(before)
    return np.select([after <= 0, contracted], ["churned", "contracted"], default=otherwise)


# ---------------------------------------------------------------------------------------------
# AUC by rank-sum, and its bootstrap interval
# ---------------------------------------------------------------------------------------------

def auc(risk: np.ndarray, positive: np.ndarray) -> float | None:
    """Probability that a positive outranks a negative in ``risk`` (ties count one half), by
    the rank-sum (Mann-Whitney U): (sum of the positives' mid-ranks - n1(n1+1)/2) / (n1 n0).
    None without both positives and negatives."""
    values = np.asarray(risk, dtype=float)
    positive = np.asarray(positive, dtype=bool)
    known = ~np.isnan(values)
    pos, neg = _counts_by_value(values[known], positive[known])
    result = _rank_sum_auc(pos, neg)
    return None if np.isnan(result) else float(result)


def _counts_by_value(values: np.ndarray, positive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positives and negatives per distinct value, values ascending."""
    if not len(values):
        return np.zeros(0), np.zeros(0)
    low, high = values.min(), values.max()
    if high - low < 1e6 and np.array_equal(values, np.floor(values)):
        # whole numbers in a short range (scores in tenths of a point): count, no sort
        inverse = (values - low).astype(np.int64)
    else:
        _, inverse = np.unique(values, return_inverse=True)
    groups = int(inverse.max()) + 1
    pos = np.bincount(inverse, weights=positive, minlength=groups)
    neg = np.bincount(inverse, weights=~positive, minlength=groups)
    seen = (pos + neg) > 0
    return pos[seen], neg[seen]


def _rank_sum_auc(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """AUC from counts per distinct value (last axis, ascending); leading axes are batches.
    A value shared by k rows gives each the mid-rank of the k ranks it spans."""
    total = pos + neg
    upto = np.cumsum(total, axis=-1)
    mid_rank = upto - (total - 1) / 2
    n1 = pos.sum(axis=-1)
    n0 = neg.sum(axis=-1)
    rank_sum = (pos * mid_rank).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (rank_sum - n1 * (n1 + 1) / 2) / (n1 * n0)


def auc_interval(risk: np.ndarray, positive: np.ndarray, rounds: int = BOOTSTRAP_ROUNDS,
                 seed: int = BOOTSTRAP_SEED) -> tuple[float | None, float | None]:
    """Bootstrap 95 % interval of the AUC (percentiles 2.5 and 97.5), seeded.

    Resampling rows with replacement draws, for each (value, outcome) cell, how many of its
    rows come back: a multinomial over the cells. Drawing the cells directly is the same
    bootstrap, at the cost of the distinct values rather than of the rows."""
    values = np.asarray(risk, dtype=float)
    positive = np.asarray(positive, dtype=bool)
    known = ~np.isnan(values)
    pos, neg = _counts_by_value(values[known], positive[known])
    n = int(pos.sum() + neg.sum())
    if not pos.sum() or not neg.sum():
        return None, None
    rng = np.random.default_rng(seed)
    cells = np.concatenate([pos, neg])
    draws = rng.multinomial(n, cells / n, size=rounds)
    groups = len(pos)
    samples = _rank_sum_auc(draws[:, :groups], draws[:, groups:])
    samples = samples[~np.isnan(samples)]
    if not len(samples):
        return None, None
    low, high = np.percentile(samples, [2.5, 97.5])
    return float(low), float(high)


# ---------------------------------------------------------------------------------------------
# One cohort's report
# ---------------------------------------------------------------------------------------------

def _risk(scores: pd.Series | np.ndarray) -> np.ndarray:
    """Lower health is higher risk; scores as shown (one decimal), in tenths of a point."""
    return -np.rint(np.asarray(scores, dtype=float) * 10)


def cohort_report(rows: pd.DataFrame, positive: pd.Series, outcome: pd.Series, name: str,
                  definition: str, options: BacktestOptions, explain_line,
                  directory: pd.DataFrame, all_rows: pd.DataFrame | None = None) -> Cohort:
    """``explain_line(account_id, day)``: the command that explains a miss; ``directory``:
    account_id and account_name by account position; ``all_rows``: every scored row of the
    horizon, for the green-share bar (the headline only)."""
    positive = positive.to_numpy(dtype=bool)
    count = len(rows)
    outcomes = int(positive.sum())
    base_rate = outcomes / count if count else None
    risk = _risk(rows["health_score"])
    auc_value = auc(risk, positive)
    low, high = (auc_interval(risk, positive, options.rounds, options.seed)
                 if auc_value is not None else (None, None))

    bands = np.asarray(rows["health_band"].astype(object))
    by_band = pd.DataFrame(index=pd.Index(BANDS, name="band"))
    by_band["accounts"] = [int((bands == b).sum()) for b in BANDS]
    by_band["arr"] = [float(rows["arr"].to_numpy()[bands == b].sum()) for b in BANDS]
    by_band["outcomes"] = [int(positive[bands == b].sum()) for b in BANDS]
    by_band["churn_rate"] = (by_band["outcomes"] / by_band["accounts"].where(
        by_band["accounts"] > 0))
    by_band["lift"] = by_band["churn_rate"] / base_rate if base_rate else np.nan
    red = bands == "red"
    red_precision = float(positive[red].mean()) if red.any() else None
    red_recall = float(positive[red].sum() / outcomes) if outcomes else None

    warning = None
    if outcomes < MIN_OUTCOMES:
        warning = (f"only {outcomes} outcome(s) (fewer than {MIN_OUTCOMES}): too few to "
                   "conclude; give an earlier --since or wait for more renewals")
    outcome_text = outcome.to_numpy()
    misses, missed = _misses(rows, bands, positive, outcome_text, explain_line, directory)
    bars = ()
    if all_rows is not None:
        bars = _bars(by_band, rows, positive, all_rows)
    return Cohort(name, definition, count, outcomes, int((outcome_text == "churned").sum()),
                  int((outcome_text == "contracted").sum()), base_rate, auc_value, low, high,
                  by_band, red_precision, red_recall, _calibration(rows, positive),
                  _signal_auc(rows, positive), misses, missed, bars, warning)


def _calibration(rows: pd.DataFrame, positive: np.ndarray) -> pd.DataFrame:
    """Score deciles (1: lowest scores) and the observed rate in each (fewer groups than ten
    when there are fewer rows)."""
    columns = ["decile", "accounts", "score_low", "score_high", "observed_rate"]
    scores = rows["health_score"].round(1)
    if scores.empty:
        return pd.DataFrame(columns=columns)
    deciles = pd.qcut(scores.rank(method="first"), min(10, len(scores)), labels=False) + 1
    frame = pd.DataFrame({"decile": deciles.to_numpy(), "score": scores.to_numpy(),
                          "positive": positive})
    grouped = frame.groupby("decile")
    table = pd.DataFrame({"accounts": grouped.size(), "score_low": grouped["score"].min(),
                          "score_high": grouped["score"].max(),
                          "observed_rate": grouped["positive"].mean()}).reset_index()
    return table[columns]


def _signal_auc(rows: pd.DataFrame, positive: np.ndarray) -> pd.DataFrame:
    """The AUC of each bucket score and each signal's 0-100 score alone (rows without it
    left out), and whether it separates anything."""
    records = []
    columns = [("bucket", name, column) for name, column in BUCKET_COLUMNS.items()] + \
        [("signal", column.removeprefix("signal:"), column) for column in rows.columns
         if column.startswith("signal:")]
    for kind, name, column in columns:
        values = rows[column].to_numpy(dtype=float)
        known = ~np.isnan(values)
        value = auc(_risk(values[known]), positive[known])
        records.append({"kind": kind, "name": name, "accounts": int(known.sum()), "auc": value,
                        "informative": None if value is None
                        else abs(value - 0.5) > NO_INFORMATION})
    return pd.DataFrame(records, columns=["kind", "name", "accounts", "auc", "informative"])


def _misses(rows: pd.DataFrame, bands: np.ndarray, positive: np.ndarray, outcome: np.ndarray,
            explain_line, directory: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Green accounts that churned or contracted, red ones that did not: each account once,
    at its latest such date (the closest to the outcome); the ``MISSES_KEPT`` of largest ARR
    per kind, and how many accounts each kind holds in all."""
    green_lost = (bands == "green") & positive
    red_kept = (bands == "red") & ~positive
    chosen = green_lost | red_kept
    frame = pd.DataFrame({
        "miss": np.where(green_lost, "green, lost", "red, kept")[chosen],
        "account": rows["account"].to_numpy()[chosen],
        "as_of": rows["as_of"].to_numpy()[chosen],
        "health_score": rows["health_score"].round(1).to_numpy()[chosen],
        "health_band": bands[chosen],
        "arr": rows["arr"].to_numpy()[chosen],
        "outcome": outcome[chosen],
    })
    frame = frame.sort_values("as_of", ascending=False).drop_duplicates(["miss", "account"])
    missed = {kind: int(n) for kind, n in frame["miss"].value_counts().sort_index().items()}
    frame = frame.sort_values(["miss", "arr", "account"], ascending=[True, False, True])
    frame = frame.groupby("miss", sort=True).head(MISSES_KEPT).reset_index(drop=True)
    frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.strftime("%Y-%m-%d")
    named = directory.iloc[frame.pop("account").to_numpy()]
    frame.insert(1, "account_id", named["account_id"].to_numpy())
    frame.insert(2, "account_name", named["account_name"].to_numpy())
    frame["explain"] = [explain_line(account, day) for account, day
                        in zip(frame["account_id"], frame["as_of"], strict=True)]
    return frame, missed


def _bars(by_band: pd.DataFrame, rows: pd.DataFrame, positive: np.ndarray,
          all_rows: pd.DataFrame) -> tuple[Bar, ...]:
    red_lift = by_band.loc["red", "lift"]
    red_lift = None if pd.isna(red_lift) else float(red_lift)
    # churners whose score, 60-90 days before their renewal, was below green
    lead = (rows["renewal_date"] - rows["as_of"]).dt.days.to_numpy()
    early = positive & (lead >= EARLY_WARNING_DAYS[0]) & (lead <= EARLY_WARNING_DAYS[1])
    below = rows["health_band"].to_numpy()[early] != "green"
    below_share = float(below.mean()) if early.any() else None
    green_share = float((all_rows["health_band"] == "green").mean()) if len(all_rows) else None

    def bar(name, value, threshold, at_least):
        passed = None if value is None else (value >= threshold if at_least
                                             else value <= threshold)
        return Bar(name, value, threshold, passed)

    return (
        bar("red_lift", red_lift, RED_LIFT_BAR, True),
        bar("churners_below_green", below_share, CHURNERS_BELOW_GREEN_BAR, True),
        bar("green_share", green_share, GREEN_SHARE_BAR, False),
    )


# ---------------------------------------------------------------------------------------------
# The whole backtest
# ---------------------------------------------------------------------------------------------

def run(exports: Exports, config: Config, options: BacktestOptions, config_label: str = "",
        explain_args: Sequence[str] = (), history: History | None = None) -> Backtest:
    """Rebuild health at past dates and measure it against what happened.
    ``explain_args`` follow ``csops explain ACCOUNT`` in each miss's line (the data folder,
    the config); with ``history``, its stored snapshots replace the rebuilt scores where they
    exist."""
    from .past_scores import past_panel

    as_of = (options.as_of or default_as_of(exports)).normalize()
    dates = backtest_dates(as_of, options)
    panel = past_panel(exports, config, dates)
    stored_notes: list[str] = []
    if history is not None:
        panel, stored_notes = with_stored_scores(panel, history, account_directory(exports),
                                                 config)
    directory = account_directory(exports)
    contracts = ContractTerms.of(exports)
    suffix = " ".join(shlex.quote(str(a)) for a in explain_args)

    def explain_line(account_id: str, day: str) -> str:
        return " ".join(filter(None, ["csops explain", shlex.quote(str(account_id)), suffix,
                                      f"--as-of {day}"]))

    pct = options.contraction_pct
    horizons = {}
    for horizon in progress.steps(sorted(set(options.horizons)), "measuring outcomes"):
        rows = label_outcomes(panel, contracts, as_of, horizon, pct)
        if rows.empty:
            continue
        cohort = rows[rows["in_renewal"]]
        renewal_outcome = cohort["renewal_outcome"]
        headline = cohort_report(
            cohort, renewal_outcome.isin(["churned", "contracted"]), renewal_outcome,
            "renewal",
            f"accounts with a renewal due within {horizon} days; outcome: churned or "
            f"contracted by {pct:.0%} or more at that renewal", options, explain_line,
            directory, rows)
        everyone = cohort_report(
            rows, rows["outcome"].isin(["churned", "contracted"]), rows["outcome"], "all",
            f"all paying accounts; outcome: ARR {horizon} days later is 0 or {pct:.0%} or "
            "more lower", options, explain_line, directory)
        horizon_dates = tuple(pd.Timestamp(d) for d in sorted(rows["as_of"].unique()))
        horizons[horizon] = HorizonResult(horizon, horizon_dates, headline, everyone)
    skipped = [h for h in options.horizons if h not in horizons]
    notes = [f"{h}-day horizon: no backtest date has its outcome known by {as_of:%Y-%m-%d}"
             for h in skipped]
    notes += stored_notes + _coverage_notes(exports, dates)
    return Backtest(config_label, as_of, tuple(dates), pct, horizons, tuple(notes))


def with_stored_scores(panel: pd.DataFrame, history: History, directory: pd.DataFrame,
                       config: Config) -> tuple[pd.DataFrame, list[str]]:
    """The panel with each account's stored score and band on the dates the history store
    holds a snapshot of; bucket and signal scores stay those rebuilt."""
    panel = panel.copy()
    positions = pd.Series(np.arange(len(directory)), index=directory["account_id"])
    used = []
    for date in panel["as_of"].unique():
        date = pd.Timestamp(date)
        stored = history.snapshot_on(date)
        if stored.empty:
            continue
        stored = stored[stored.index.isin(positions.index)]  # accounts still exported
        scores = pd.Series(pd.to_numeric(stored["health_score"]).to_numpy(dtype=float),
                           index=positions[stored.index].to_numpy())
        rows = (panel["as_of"] == date).to_numpy()
        found = scores.reindex(panel.loc[rows, "account"].to_numpy()).to_numpy()
        known = ~np.isnan(found)
        target = np.flatnonzero(rows)[known]
        panel.loc[target, "health_score"] = found[known]
        panel.loc[target, "health_band"] = health_model.band(
            pd.Series(found[known]), config.health).to_numpy()
        used.append(f"{date:%Y-%m-%d}")
    if not used:
        return panel, ["--from-history: no stored snapshot on any backtest date; every score "
                       "was rebuilt from the exports"]
    return panel, [f"--from-history: stored scores used on {len(used)} date(s) "
                   f"({', '.join(used)}); the other dates, and every bucket and signal score, "
                   "rebuilt from the exports"]


def _coverage_notes(exports: Exports, dates: Sequence[pd.Timestamp]) -> list[str]:
    """Backtest dates before the usage export's first 30 days see no (or partial) usage."""
    if exports.usage is None:
        return ["no usage export: the usage bucket is missing at every date"]
    events = exports.usage.events
    if events is not None:
        first = events.first_day()
        first = None if first is None else to_timestamp(first)
    else:
        first = exports.usage.usage_frame()["timestamp"].min()
    if first is None or pd.isna(first):
        return []
    first = pd.Timestamp(first).normalize()
    early = [d for d in dates if d < first + pd.Timedelta(days=29)]
    if not early:
        return []
    return [f"{len(early)} backtest date(s) before {first + pd.Timedelta(days=29):%Y-%m-%d} "
            f"see less than 30 days of usage (the usage export starts {first:%Y-%m-%d}); "
            "their usage scores are low for lack of data: give a later --since"]


def explain_arguments(data: Path | None, config: Path | None) -> list[str]:
    """What follows the account in a miss's ``csops explain`` line."""
    args = [str(data)] if data is not None else []
    if config is not None:
        args += ["--config", str(config)]
    return args


@dataclass(frozen=True)
class BacktestReport:
    """The backtest of the config in use and, with ``--compare``, of another config."""

    main: Backtest
    compare: Backtest | None = None


def backtest_report(exports: Exports, config: Config, options: BacktestOptions,
                    config_label: str = "", explain_args: Sequence[str] = (),
                    compare: tuple[str, Config] | None = None,
                    history: History | None = None) -> BacktestReport:
    """The backtest, and the same backtest under a second config side by side; with
    ``history``, the stored snapshots replace the rebuilt scores of the config in use."""
    main = run(exports, config, options, config_label, explain_args, history)
    other = None
    if compare is not None:
        label, other_config = compare
        other = run(exports, other_config, options, label, explain_args)
    return BacktestReport(main, other)
