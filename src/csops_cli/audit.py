"""The week-1 audit: what each metric means and covers, and what is wrong with the data.

Each check returns a finding with a severity, a count and up to five example rows located by
file and line, or nothing when the data is clean.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .config import Config
from .dates import as_datetimes, day_number, to_timestamp, year_before
from .loading import Exports, Table
from .lookup import is_in
from .metrics import MetricsReport
from .signals import Signals
from .usage import USAGE_WINDOW_DAYS

EXAMPLES = 5
SEVERITIES = ("error", "warning", "info")

FORMULAS = {
    "ttfv": ("median(first_value_date − onboarding_start) over the cohort that reached value",
             "contracts.signed_date, contracts.start_date, usage.timestamp, usage.feature"),
    "nrr": ("Σ ARR(as_of) ÷ Σ ARR(t0), over accounts with ARR(t0) > 0",
            "contracts.start_date, contracts.end_date, contracts.arr"),
    "grr": ("Σ min(ARR(as_of), ARR(t0)) ÷ Σ ARR(t0), over accounts with ARR(t0) > 0",
            "contracts.start_date, contracts.end_date, contracts.arr"),
    "adoption_rate": ("mean(core features used in 30 days ÷ core features configured), over "
                      "accounts with ARR(as_of) > 0",
                      "usage.timestamp, usage.feature, contracts.arr, contracts.licenses"),
    "expansion_conversion": ("count(ARR(as_of) > ARR(t0)) ÷ count(ARR(t0) > 0)",
                             "contracts.*, usage.* (expansion signal)"),
    "activity_to_outcome": ("touches in the window ÷ (ARR renewed in the window ÷ per_arr)",
                            "activities.date, activities.activity_type, contracts.*"),
}


@dataclass(frozen=True)
class Example:
    file: str
    line: int | None
    detail: str


@dataclass(frozen=True)
class Finding:
    check: str
    severity: str  # error | warning | info
    title: str
    count: int
    fix: str
    examples: list[Example] = field(default_factory=list)


@dataclass(frozen=True)
class MetricAudit:
    id: str
    name: str
    unit: str
    definition: str
    formula: str
    inputs: str
    window: str
    value: float | None
    included: int
    excluded: dict[str, int]
    note: str | None


@dataclass(frozen=True)
class Audit:
    as_of: pd.Timestamp
    metrics: list[MetricAudit]
    findings: list[Finding]
    coverage: dict[str, tuple[str, str, int]]  # table -> (first date, last date, days)

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)


def run(exports: Exports, signals: Signals, report: MetricsReport, config: Config,
        today: pd.Timestamp | None = None) -> Audit:
    today = _today(today)
    findings = data_errors(exports, today)
    findings += [finding for check in CHECKS
                 if (finding := check(exports, signals, config)) is not None]
    findings += [finding for name, column in DATED
                 if (finding := _after_as_of(exports, name, column, signals.as_of, today))]
    findings += source_assumptions(exports)
    findings.sort(key=lambda f: (SEVERITIES.index(f.severity), -f.count))
    return Audit(signals.as_of, _metric_audits(report, config), findings,
                 _coverage(exports, signals.as_of))


def _metric_audits(report: MetricsReport, config: Config) -> list[MetricAudit]:
    windows = {
        "ttfv": f"cohort: onboarding in the last {config.metrics.ttfv.window_days} days",
        "nrr": f"trailing 12 months (t0 = {year_before(report.as_of):%Y-%m-%d})",
        "grr": f"trailing 12 months (t0 = {year_before(report.as_of):%Y-%m-%d})",
        "adoption_rate": f"last {USAGE_WINDOW_DAYS} days",
        "expansion_conversion": "trailing 12 months; signal look-back "
                                f"{config.metrics.expansion_conversion.signal_lookback_days} days",
        "activity_to_outcome": f"trailing 12 months (t0 = {year_before(report.as_of):%Y-%m-%d})",
    }
    audits = []
    for metric_id, metric in report.metrics.items():
        formula, inputs = FORMULAS[metric_id]
        audits.append(MetricAudit(metric_id, metric.name, metric.unit, metric.definition,
                                  formula, inputs,
                                  windows[metric_id], metric.value, metric.overall.included,
                                  metric.overall.excluded, metric.overall.note))
    return audits


def _coverage(exports: Exports, as_of: pd.Timestamp) -> dict[str, tuple[str, str, int]]:
    coverage = {}
    for table, column in (("usage", "timestamp"), ("activities", "date"),
                          ("contracts", "start_date")):
        loaded = getattr(exports, table)
        if loaded is None or not loaded.rows:
            continue
        first, last = _date_range(loaded, column)
        last = min(last, as_of)
        coverage[table] = (f"{first:%Y-%m-%d}", f"{last:%Y-%m-%d}",
                           int((as_of - first).days) + 1)
    return coverage


# --- helpers -------------------------------------------------------------------------------------

def _examples(table: Table, mask, describe: Callable[[pd.Series], str]) -> list[Example]:
    rows = table.frame[np.asarray(mask, dtype=bool)].head(EXAMPLES)
    lines = table.lines(list(rows.index))
    return [Example(table.file_of(position).name, line, describe(row))
            for (position, row), line in zip(rows.iterrows(), lines, strict=True)]


def _finding(check, severity, title, table: Table, mask, describe, fix) -> Finding | None:
    count = int(np.asarray(mask, dtype=bool).sum())
    if not count:
        return None
    return Finding(check, severity, title, count, fix, _examples(table, mask, describe))


def _event_finding(check, severity, title, table: Table, positions: np.ndarray,
                   rows: Callable[[np.ndarray], pd.DataFrame], describe, fix
                   ) -> Finding | None:
    """A finding on usage read as events: ``positions`` are the record positions found,
    ``rows`` gives the example rows at some of them; no frame of every event is built."""
    if not len(positions):
        return None
    shown = rows(positions[:EXAMPLES])
    lines = table.lines(list(shown.index))
    examples = [Example(table.path.name, line, describe(row))
                for (_, row), line in zip(shown.iterrows(), lines, strict=True)]
    return Finding(check, severity, title, len(positions), fix, examples)


def _date_range(table: Table, column: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last date of a table's date column (from the events, when usage was read
    as events)."""
    if not table.has_frame:
        return to_timestamp(table.events.first_day()), to_timestamp(table.events.last_day())
    dates = table.frame[column].dropna()
    return dates.min(), dates.max()


def _account_mask(exports: Exports, account_ids) -> np.ndarray:
    """Rows of the accounts export (first occurrence) of the given account ids."""
    frame = exports.accounts.frame
    first = ~frame["account_id"].duplicated()
    wanted = pd.Series(list(account_ids), dtype=frame["account_id"].dtype)
    return is_in(frame["account_id"], wanted) & first.to_numpy(dtype=bool)


def _text(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "(blank)"
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}"
    return str(value)


# --- checks --------------------------------------------------------------------------------------

def _orphans(name: str, severity: str, fix: str):
    def check(exports, signals, config):
        table = getattr(exports, name)
        if table is None:
            return None
        return _orphan_finding(table, exports.accounts.frame["account_id"], severity, fix)
    return check


def _orphan_finding(table: Table, known: pd.Series, severity: str, fix: str) -> Finding | None:
    title = f"{table.name.capitalize()} rows for accounts missing from the accounts export"
    check = f"orphan_{table.name}"
    if not table.has_frame:  # the usage reader set these rows' accounts aside as it read
        positions, unknown = table.events.unknown_accounts()
        return _event_finding(
            check, severity, title, table, positions,
            lambda shown: pd.DataFrame({"account_id": unknown[:len(shown)]}, index=shown),
            lambda r: f"account_id {r.account_id}", fix)
    mask = ~is_in(table.frame["account_id"], known)
    return _finding(check, severity, title, table, mask, lambda r: f"account_id {r.account_id}",
                    fix)


def accounts_without_owner(exports, signals, config):
    frame = signals.frame
    owner = frame["csm_owner"] if "csm_owner" in frame else pd.Series(pd.NA, index=frame.index)
    ids = frame.index[(frame["arr"] > 0) & owner.isna()]
    return _finding("accounts_without_owner", "warning", "Paying accounts without a CSM owner",
                    exports.accounts, _account_mask(exports, ids),
                    lambda r: f"{r.account_id} {r.account_name}",
                    "fill in csm_owner in the CRM; their actions go unassigned")


def accounts_without_contract(exports, signals, config):
    ids = signals.frame.index[signals.frame["onboarding_start"].isna()]
    return _finding("accounts_without_contract", "warning",
                    "Accounts without any contract (no ARR, no renewal date)",
                    exports.accounts, _account_mask(exports, ids),
                    lambda r: f"{r.account_id} {r.account_name}",
                    "export their contracts, or remove prospects from the accounts export")


def unknown_segments(exports, signals, config):
    frame = exports.accounts.frame
    if "segment" not in frame:
        return None
    known = {s.name.lower() for s in config.segments}
    mask = frame["segment"].notna() & ~frame["segment"].str.lower().isin(known)
    return _finding("unknown_segments", "warning", "Segment values not in playbooks.yaml",
                    exports.accounts, mask.to_numpy(dtype=bool),
                    lambda r: f"{r.account_id}: segment '{r.segment}'",
                    "add the segment under segments: in playbooks.yaml, or fix the CRM value")


def _stage_lookup(config: Config) -> dict[str, str]:
    lookup = {stage.lower(): stage for stage in config.lifecycle.stages}
    for stage, aliases in config.lifecycle.crm_stage_aliases.items():
        lookup.update({alias.lower(): stage for alias in aliases})
    return lookup


def unknown_stages(exports, signals, config):
    frame = exports.accounts.frame
    if "lifecycle_stage" not in frame:
        return None
    lookup = _stage_lookup(config)
    mask = frame["lifecycle_stage"].notna() & ~frame["lifecycle_stage"].str.lower().isin(
        list(lookup))
    return _finding("unknown_stages", "warning", "Lifecycle stages csops does not know",
                    exports.accounts, mask.to_numpy(dtype=bool),
                    lambda r: f"{r.account_id}: stage '{r.lifecycle_stage}'",
                    "map the value under lifecycle: crm_stage_aliases in playbooks.yaml")


def stage_disagreements(exports, signals, config):
    frame = signals.frame
    crm = frame["lifecycle_stage"].str.lower().map(_stage_lookup(config))
    derived = frame["derived_stage"]
    differs = crm.notna() & derived.notna() & (crm != derived)
    ids = frame.index[differs.to_numpy(dtype=bool)]
    # looked up for the few examples only; signal tables hold each account once
    position = pd.Series(np.arange(len(frame)), index=frame.index)
    return _finding("stage_disagreements", "info", "CRM lifecycle stage differs from the stage "
                    "derived from data", exports.accounts, _account_mask(exports, ids),
                    lambda r: f"{r.account_id}: CRM {crm.iat[position[r.account_id]]}, data "
                              f"{derived.iat[position[r.account_id]]}",
                    "update the CRM stage, or check the data the derived stage comes from")


def zero_arr(exports, signals, config):
    table = exports.contracts
    return _finding("zero_arr", "warning", "Contracts with zero ARR", table,
                    table.frame["arr"] == 0, lambda r: f"{r.contract_id}: arr 0",
                    "fill in the amount, or remove free or void contracts")


def overlapping_contracts(exports, signals, config):
    table = exports.contracts
    frame = table.frame
    kind = frame.get("contract_type", pd.Series(pd.NA, index=frame.index, dtype="string"))
    base = frame[~kind.eq("expansion").fillna(False)]  # expansions overlap by design
    ordered = base.sort_values(["account_id", "start_date"])
    previous_end = ordered.groupby("account_id")["end_date"].shift()
    overlap = ordered.index[(ordered["start_date"] < previous_end).fillna(False).to_numpy()]
    mask = frame.index.isin(overlap)
    return _finding("overlapping_contracts", "warning",
                    "Contracts overlapping another contract of the same account (not expansions)",
                    table, mask,
                    lambda r: f"{r.contract_id} ({r.account_id}) starts {_text(r.start_date)}",
                    "mark add-ons as contract_type expansion, or end the earlier contract; "
                    "overlaps double-count ARR")


def _after_as_of(exports: Exports, name: str, column: str, as_of: pd.Timestamp,
                 today: pd.Timestamp) -> Finding | None:
    """Rows after as_of up to today: left out of this run, which may be intended (an as_of in
    the past). Rows after today are errors (data_errors)."""
    table = getattr(exports, name)
    if table is None or as_of >= today:
        return None
    return _dated_after(table, column, as_of, today, "warning",
                        f"{name.capitalize()} dated after as_of ({as_of:%Y-%m-%d})",
                        "ignored by this run; check the export's date range or --as-of",
                        f"future_{name}")


def _dated_after(table: Table, column: str, first: pd.Timestamp, last: pd.Timestamp | None,
                 severity: str, title: str, fix: str, check: str) -> Finding | None:
    """Rows dated after ``first`` and not after ``last`` (None: no end)."""
    describe = lambda r: f"{r.account_id}: {_text(r[column])}"  # noqa: E731
    if not table.has_frame:
        events = table.events
        positions = events.after(day_number(first))
        if last is not None:
            later = events.after(day_number(last))
            positions = np.setdiff1d(positions, later, assume_unique=True)
        return _event_finding(
            check, severity, title, table, positions,
            lambda shown: pd.DataFrame({"account_id": events.account_ids(shown),
                                        column: as_datetimes(events.days(shown))},
                                       index=shown), describe, fix)
    dates = table.frame[column]
    mask = dates > first
    if last is not None:
        mask &= ~(dates > last)
    return _finding(check, severity, title, table, mask.to_numpy(dtype=bool), describe, fix)


def short_coverage(exports, signals, config):
    as_of = signals.as_of
    needs = []
    ttfv_days = config.metrics.ttfv.window_days
    lookback = config.metrics.expansion_conversion.signal_lookback_days
    touch_days = (as_of - year_before(as_of)).days  # the 12 months after t0
    if exports.usage is not None:
        needs += [("usage", "timestamp", ttfv_days, "the TTFV cohort"),
                  ("usage", "timestamp", lookback + USAGE_WINDOW_DAYS,
                   "the expansion-signal look-back")]
    if exports.activities is not None:
        needs.append(("activities", "date", touch_days, "the activity-to-outcome window"))
    short = []
    for name, column, needed, reason in needs:
        table = getattr(exports, name)
        first, _ = _date_range(table, column)
        covered = int((as_of - first).days) + 1
        if covered < needed:
            short.append(Example(table.path.name, None,
                                 f"covers {covered} days from {first:%Y-%m-%d}; {reason} needs "
                                 f"{needed}"))
    contracts_first = exports.contracts.frame["start_date"].min()
    if contracts_first > year_before(as_of):
        short.append(Example(exports.contracts.path.name, None,
                             f"first contract starts {contracts_first:%Y-%m-%d}, after t0 "
                             f"({year_before(as_of):%Y-%m-%d}): NRR and GRR have no cohort"))
    if not short:
        return None
    return Finding("short_coverage", "warning", "Exports covering fewer days than a metric's "
                   "window needs", len(short),
                   "export a longer date range; until then the metric undercounts", short)


def source_assumptions(exports: Exports) -> list[Finding]:
    """What reading a tool's export assumed (deals left out, a default term, an owner taken as
    CSM ...), with the rows each assumption touches: the numbers rest on them."""
    return [Finding("source_assumption", "info", f"Reading the {table.name}: {assumption.text}",
                    assumption.count, "change the assumption in sources: of playbooks.yaml "
                    "(csops init writes them there)",
                    [Example(path.name, None, "read through its source")
                     for path in table.paths[:EXAMPLES]])
            for table in exports.tables() for assumption in table.assumptions]


CHECKS: list[Callable[[Exports, Signals, Config], Finding | None]] = [
    _orphans("usage", "warning", "check account IDs in the usage export match the CRM's"),
    _orphans("activities", "warning", "check account IDs in the activities export"),
    accounts_without_owner, accounts_without_contract, unknown_segments, unknown_stages,
    stage_disagreements, zero_arr, overlapping_contracts, short_coverage,
]
DATED = [("usage", "timestamp"), ("activities", "date")]  # tables of dated events


# --- errors: rows that would silently distort a number (validate runs these too) -------------

def data_errors(exports: Exports, today: pd.Timestamp | None = None) -> list[Finding]:
    """The audit's errors, over the loaded exports alone (no signals): what `csops validate`
    refuses and `csops health` notes."""
    return table_errors({table.name: [table] for table in exports.tables()}, today)


def table_errors(tables: dict[str, list[Table]], today: pd.Timestamp | None = None
                 ) -> list[Finding]:
    """The audit's errors over the tables read so far, several files per table allowed (those
    that could not be read are left out); one finding per check over all of a table's files."""
    today = _today(today)
    known = [table.frame["account_id"] for table in tables.get("accounts", [])]
    findings = []
    for name, check in ERROR_CHECKS:
        found = [finding for table in tables.get(name, [])
                 if (finding := check(table, known, today)) is not None]
        if found:
            findings.append(Finding(found[0].check, found[0].severity, found[0].title,
                                    sum(f.count for f in found), found[0].fix,
                                    [e for f in found for e in f.examples][:EXAMPLES]))
    return findings


def _today(today: pd.Timestamp | None) -> pd.Timestamp:
    return (pd.Timestamp.today() if today is None else pd.Timestamp(today)).normalize()


def _duplicates(column: str, title: str, fix: str):
    def check(table: Table, known, today) -> Finding | None:
        return _finding(f"duplicate_{column}s", "error", title, table,
                        table.frame[column].duplicated(),
                        lambda r: f"{column} {r[column]} seen before", fix)
    return check


def orphan_contracts(table: Table, known: list[pd.Series], today) -> Finding | None:
    if not known:  # the accounts could not be read: nothing to compare with
        return None
    return _orphan_finding(table, pd.concat(known), "error", "add the accounts to the accounts "
                           "export: their ARR is left out of every metric")


def negative_arr(table: Table, known, today) -> Finding | None:
    return _finding("negative_arr", "error", "Contracts with negative ARR", table,
                    table.frame["arr"] < 0, lambda r: f"{r.contract_id}: arr {r.arr:,.2f}",
                    "credit notes are not contracts: remove them or fix the amount")


def end_before_start(table: Table, known, today) -> Finding | None:
    frame = table.frame
    return _finding("end_before_start", "error", "Contracts ending on or before their start",
                    table, (frame["end_date"] <= frame["start_date"]).fillna(False),
                    lambda r: f"{r.contract_id}: {_text(r.start_date)} → {_text(r.end_date)}",
                    "swap or correct start_date and end_date: the contract never counts")


def _after_today(column: str):
    def check(table: Table, known, today) -> Finding | None:
        return _dated_after(table, column, today, None, "error",
                            f"{table.name.capitalize()} dated after today ({today:%Y-%m-%d})",
                            "correct the dates in the export (a clock or time-zone error in "
                            "the tool?): no number uses rows after as_of",
                            f"future_{table.name}_after_today")
    return check


ERROR_CHECKS: list[tuple[str, Callable[[Table, list[pd.Series], pd.Timestamp],
                                       Finding | None]]] = [
    ("accounts", _duplicates("account_id", "Duplicate account IDs",
                             "keep one row per account; csops uses the first")),
    ("contracts", _duplicates("contract_id", "Duplicate contract IDs",
                              "remove the repeated rows: both count towards ARR")),
    ("contracts", orphan_contracts),
    ("contracts", negative_arr),
    ("contracts", end_before_start),
    ("usage", _after_today("timestamp")),
    ("activities", _after_today("date")),
]
