"""What each command computes, from loaded exports to one result object.

A command parses its options, calls one function here and emits the result; these functions
never print. Notes a person should see (what was skipped, where a snapshot went) travel in the
result's ``notes``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import filters, pipeline, progress
from .config import Config
from .coverage import Coverage, coverage
from .explain import Explanation, explain, find_account
from .history import History
from .loading import Exports
from .lookup import is_in
from .metrics import MetricsReport
from .plays import NEW, QUEUED, PlayRun, crm_layout, evaluate, narrowed
from .vocabulary import UNASSIGNED

# the stable machine-readable columns (PRODUCT.md §9), then useful context
HEALTH_COLUMNS = [
    "account_id", "account_name", "segment", "health_score", "health_band", "usage_score",
    "relationship_score", "commercial_score", "partial", "health_change", "arr",
    "renewal_date", "days_to_renewal", "derived_stage", "csm_owner", "as_of",
]


@dataclass(frozen=True)
class HealthReport:
    as_of: pd.Timestamp
    accounts: pd.DataFrame  # HEALTH_COLUMNS, worst first
    without_arr: int  # accounts left out: no ARR on as_of
    notes: tuple[str, ...] = ()  # said before the table
    saved_to: Path | None = None


def health_report(exports: Exports, config: Config, as_of: str | None, history: History,
                  segment: str | None = None, owner: str | None = None,
                  save: bool = True) -> HealthReport:
    """Every paying account's health, worst first; the snapshot stored unless ``save`` is off."""
    result = pipeline.account_health(exports, config, pipeline.parse_as_of(as_of), history)
    shown = filters.select(result.signals, segment, owner)  # refused before anything is saved
    if save:
        with progress.phase("storing the snapshot"):
            history.save(result.as_of, result.scored)
    table = result.scored[is_in(result.scored.index, shown)]
    table = table.sort_values(["health_score", "arr"], ascending=[True, False])
    return HealthReport(result.as_of, health_columns(table, result.as_of), result.without_arr,
                        result.skipped, history.path if save else None)


def health_columns(table: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    frame = table.reset_index()
    frame["as_of"] = as_of.strftime("%Y-%m-%d")
    for column in ("health_score", "usage_score", "relationship_score", "commercial_score",
                   "health_change"):
        frame[column] = frame[column].round(1)
    frame["partial"] = frame["partial"].astype(bool)
    frame["days_to_renewal"] = frame["days_to_renewal"].astype("Int64")
    for column in HEALTH_COLUMNS:
        if column not in frame:
            frame[column] = None
    return frame[HEALTH_COLUMNS]


@dataclass(frozen=True)
class AccountExplanation:
    as_of: pd.Timestamp
    explanation: Explanation
    trend: pd.DataFrame  # the account's stored scores: as_of, health_score, health_band


def explain_account(exports: Exports, config: Config, as_of: str | None, history: History,
                    account: str) -> AccountExplanation:
    """One account (by id or exact name): every signal's score, weight and points."""
    result = pipeline.account_health(exports, config, pipeline.parse_as_of(as_of), history)
    account_id = find_account(result.signals, account)
    return AccountExplanation(result.as_of, explain(result, config, account_id),
                              history.trend(account_id))


@dataclass(frozen=True)
class MetricsResult:
    report: MetricsReport
    notes: tuple[str, ...] = ()


def metrics_report(exports: Exports, config: Config, as_of: str | None, group_by: str,
                   segment: str | None = None) -> MetricsResult:
    """The five core metrics and GRR, overall and by segment or owner."""
    from . import metrics

    signals, earlier = metrics.signals_with_lookback(exports, config,
                                                     pipeline.parse_as_of(as_of))
    if segment is not None:  # cohort metrics take an account's segment 12 months earlier
        filters.select(signals.frame, segment, segment_columns=("segment", "segment_t0"))
    with progress.phase("computing metrics"):
        report = metrics.compute(exports, signals, config, group_by=group_by, earlier=earlier,
                                 segment=segment)
    return MetricsResult(report, signals.skipped)


@dataclass(frozen=True)
class PlaysResult:
    as_of: pd.Timestamp
    run: PlayRun  # as seen for the accounts of --segment and --owner (see plays.narrowed)
    actions: pd.DataFrame  # the run's actions, filtered by segment and owner
    rows: pd.DataFrame  # what is written: the actions, or a CRM's task-import layout
    resolution: pd.DataFrame  # days to resolve each resolved risk play
    notes: tuple[str, ...] = field(default=())  # said after the output


def run_plays(exports: Exports, config: Config, as_of: str | None, history: History,
              segment: str | None = None, owner: str | None = None, target: str | None = None,
              record: bool = True) -> PlaysResult:
    """Evaluate the plays into an action list within the action budget (actions queued in
    earlier weeks released first); opened and resolved plays and the actions recorded unless
    ``record`` is off."""
    result = pipeline.account_health(exports, config, pipeline.parse_as_of(as_of), history)
    shown = filters.select(result.signals, segment, owner)  # refused before anything is recorded
    team = exports.team.frame if exports.team is not None else None
    with progress.phase("evaluating plays"):
        run = evaluate(result.signals, config, result.as_of, team,
                       history.open_plays(result.as_of), history.queued_actions(result.as_of),
                       history.issued_this_week(result.as_of))
    if record:
        with progress.phase("recording plays and actions"):
            history.record_plays(result.as_of, run.fired, run.resolved)
            history.record_actions(result.as_of, run.actions, run.carried)
    if segment is not None or owner is not None:
        run = narrowed(run, shown, config)
    actions = run.actions
    notes = []
    unassigned = int((actions["owner"] == UNASSIGNED).sum())
    if unassigned:
        notes.append(f"{unassigned:,} action(s) have no owner (marked (unassigned)); see csops "
                     "coverage")
    queued = int((actions["status"] == QUEUED).sum())
    released = len(run.carried & set(actions.loc[actions["status"] == NEW, "action_id"]))
    notes.append(f"{len(actions):,} action(s) for {actions['account_id'].nunique():,} account(s): "
                 f"{len(actions) - queued:,} new, {queued:,} queued over the budget of "
                 f"{config.budget.per_owner_per_week} per owner per week"
                 + (f"; {released:,} released from earlier weeks" if released else "")
                 + ("; nothing recorded (--dry-run)" if not record
                    else f"; plays recorded in {history.path}"))
    rows = actions
    if target:
        crm = crm_layout(actions[actions["status"] == NEW], target, team, result.signals,
                         config.coverage.tech_touch_queue)
        rows = crm.rows
        notes += crm.notes
        if queued:
            notes.append(f"the {queued} queued action(s) are left out of the {target} import; "
                         "a later week releases them")
    return PlaysResult(result.as_of, run, actions, rows, history.resolution_days(),
                       tuple(notes))


@dataclass(frozen=True)
class CoverageReport:
    as_of: pd.Timestamp
    model: Coverage


def coverage_report(exports: Exports, config: Config, as_of: str | None,
                    history: History, segment: str | None = None) -> CoverageReport:
    """The coverage model by segment, each owner's book and the unassigned accounts; with
    ``segment``, that segment's model and the books of its accounts only."""
    result = pipeline.account_health(exports, config, pipeline.parse_as_of(as_of), history)
    shown = filters.select(result.signals, segment)
    team = exports.team.frame if exports.team is not None else None
    accounts = result.signals[is_in(result.signals.index, shown)]
    return CoverageReport(result.as_of, coverage(accounts, config, team))


def week_one_audit(exports: Exports, config: Config, as_of: str | None):
    """Each metric's definition and coverage, and the data-quality findings."""
    from . import audit, metrics

    signals, earlier = metrics.signals_with_lookback(exports, config,
                                                     pipeline.parse_as_of(as_of))
    with progress.phase("computing metrics"):
        # the audit shows each metric's overall value and coverage, not its groups
        report = metrics.compute(exports, signals, config, earlier=earlier, grouped=False)
    with progress.phase("checking data quality"):
        return audit.run(exports, signals, report, config)
