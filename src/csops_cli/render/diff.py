"""The config diff: band transitions, accounts changing band, actions per play and per owner
before and after, and the backtests' headlines side by side."""

from __future__ import annotations

import pandas as pd
from rich import box
from rich.table import Table
from rich.text import Text

from ..backtest import Backtest, Cohort
from ..config_diff import ConfigDiff, band_order
from . import View, band_text, captured, data_text, money

SHOWN_CHANGES = 25  # accounts changing band in the table; CSV and JSON have them all
BAR_TEXT = {
    "red_lift": "red churns >= 3x base",
    "churners_below_green": "churners below green >= 2/3",
    "green_share": "accounts green <= 80%",
}


def _table(title: str) -> Table:
    return Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD,
                 pad_edge=False)


def _count(old: int, new: int) -> str:
    return f"{old:,} -> {new:,}"


def _signed(value: int) -> Text:
    style = "red" if value > 0 else "green" if value < 0 else ""
    return Text(f"{value:+,}" if value else "0", style=style)


def _score(value) -> str:
    return "" if value is None or value != value else f"{value:.1f}"


def _header(diff: ConfigDiff) -> list:
    return [
        Text(f"Config diff as of {diff.as_of:%Y-%m-%d}", style="bold"),
        Text("old: ") + data_text(diff.old.label),
        Text("new: ") + data_text(diff.new.label),
        f"{diff.accounts:,} paying account(s): {diff.score_changes:,} change score, "
        f"{len(diff.band_changes):,} change band",
        "",
    ]


def _matrix(diff: ConfigDiff) -> Table:
    table = _table("Band transitions: accounts (ARR)")
    transitions = diff.transitions
    rows = band_order(transitions["old_band"])
    columns = band_order(transitions["new_band"])
    cells = {(r.old_band, r.new_band): (r.accounts, r.arr)
             for r in transitions.itertuples(index=False)}
    table.add_column("Old \\ New", no_wrap=True)
    for band in columns:
        table.add_column(band_text(band), justify="right", no_wrap=True)
    for old in rows:
        row = []
        for new in columns:
            accounts, arr = cells.get((old, new), (0, 0.0))
            text = f"{accounts:,} ({money(arr)})" if accounts else "-"
            row.append(Text(text, style="bold" if accounts and old != new else ""))
        table.add_row(band_text(old), *row)
    return table


def _changes(diff: ConfigDiff) -> list:
    changes = diff.band_changes
    if changes.empty:
        return [Text("No account changes band.", style="bold")]
    table = _table("Accounts changing band (to red first, then largest ARR)")
    # ids, names and segments wrap to give way; numbers, bands and scores are never cut
    table.add_column("Account", overflow="fold")
    table.add_column("Name", overflow="fold", max_width=24)
    table.add_column("Segment", overflow="fold")
    table.add_column("ARR", justify="right", no_wrap=True)
    table.add_column("Band", no_wrap=True)
    table.add_column("Score", justify="right", no_wrap=True)
    for row in changes.head(SHOWN_CHANGES).itertuples(index=False):
        table.add_row(data_text(row.account_id), data_text(row.account_name),
                      data_text("" if pd.isna(row.segment) else row.segment), money(row.arr),
                      band_text(row.old_band) + Text(" -> ") + band_text(row.new_band),
                      f"{_score(row.old_score)} -> {_score(row.new_score)}")
    parts: list = [table]
    if len(changes) > SHOWN_CHANGES:
        parts.append(f"... and {len(changes) - SHOWN_CHANGES:,} more: --format csv for all")
    return parts


def _plays(diff: ConfigDiff) -> Table:
    table = _table("Actions per play, old -> new")
    table.add_column("Play", overflow="fold")
    table.add_column("Accounts", justify="right", no_wrap=True)
    table.add_column("Actions", justify="right", no_wrap=True)
    table.add_column("Change", justify="right", no_wrap=True)
    for row in diff.plays.itertuples(index=False):
        table.add_row(data_text(row.play_name), _count(row.old_accounts, row.new_accounts),
                      _count(row.old_actions, row.new_actions), _signed(row.change))
    table.add_row(Text("All plays", style="bold"), "",
                  _count(int(diff.plays["old_actions"].sum()),
                         int(diff.plays["new_actions"].sum())),
                  _signed(int(diff.plays["change"].sum())))
    return table


def _owners(diff: ConfigDiff) -> Table | Text:
    if diff.owners.empty:
        return Text("No actions for any owner under either config.")
    table = _table("Actions per owner, largest change first")
    table.add_column("Owner", overflow="fold")
    table.add_column("Old", justify="right", no_wrap=True)
    table.add_column("New", justify="right", no_wrap=True)
    table.add_column("Change", justify="right", no_wrap=True)
    for row in diff.owners.itertuples(index=False):
        table.add_row(data_text(row.owner), f"{row.old_actions:,}", f"{row.new_actions:,}",
                      _signed(row.change))
    return table


def _auc(cohort: Cohort) -> str:
    if cohort.auc is None:
        return "n/a"
    if cohort.auc_low is None:
        return f"{cohort.auc:.2f}"
    return f"{cohort.auc:.2f} ({cohort.auc_low:.2f}-{cohort.auc_high:.2f})"


def _red_lift(cohort: Cohort) -> str:
    lift = cohort.by_band.loc["red", "lift"]
    return "n/a" if pd.isna(lift) else f"{lift:.2f}x"


def _bar(cohort: Cohort, name: str) -> Text:
    bar = next((b for b in cohort.bars if b.name == name), None)
    passed = None if bar is None else bar.passed
    return {True: Text("pass", style="green"), False: Text("FAIL", style="bold red"),
            None: Text("n/a", style="dim")}[passed]


def _backtests(diff: ConfigDiff) -> list:
    old, new = diff.old.backtest, diff.new.backtest
    if old is None and new is None:
        return []
    horizons = sorted(set(old.horizons if old else ()) | set(new.horizons if new else ()))
    parts: list = []
    for days in horizons:
        cohorts = [b.horizons[days].headline if b is not None and days in b.horizons else None
                   for b in (old, new)]
        table = _table(f"Backtest, {days}-day horizon, renewal cohort")
        table.add_column("")
        table.add_column("Old", justify="right", no_wrap=True)
        table.add_column("New", justify="right", no_wrap=True)

        def row(label, show, cohorts=cohorts, table=table):
            table.add_row(label, *["" if c is None else show(c) for c in cohorts])

        row("AUC (95% interval)", _auc)
        row("Outcomes", lambda c: f"{c.outcomes:,} of {c.accounts:,}")
        row("Red lift", _red_lift)
        for name, text in BAR_TEXT.items():
            row(text, lambda c, name=name: _bar(c, name))
        parts.append(table)
    return parts


def table(diff: ConfigDiff) -> str:
    return captured(*_header(diff), _matrix(diff), *_changes(diff), _plays(diff),
                    _owners(diff), *_backtests(diff))


def rows(diff: ConfigDiff) -> pd.DataFrame:
    """One row per account changing band."""
    return diff.band_changes


def _cohort_record(cohort: Cohort) -> dict:
    lift = cohort.by_band.loc["red", "lift"]
    return {
        "auc": cohort.auc, "auc_low": cohort.auc_low, "auc_high": cohort.auc_high,
        "base_rate": cohort.base_rate, "outcomes": cohort.outcomes,
        "accounts": cohort.accounts, "red_lift": None if pd.isna(lift) else float(lift),
        "red_precision": cohort.red_precision, "red_recall": cohort.red_recall,
        "bars": {bar.name: {"value": bar.value, "threshold": bar.threshold,
                            "passed": bar.passed} for bar in cohort.bars},
        "warning": cohort.warning,
    }


def _backtest_record(result: Backtest | None) -> dict | None:
    if result is None:
        return None
    return {"dates": [f"{d:%Y-%m-%d}" for d in result.dates],
            "horizons": {str(days): _cohort_record(h.headline)
                         for days, h in sorted(result.horizons.items())}}


def record(diff: ConfigDiff) -> dict:
    from ..output import records

    matrix: dict[str, dict[str, dict]] = {}
    for r in diff.transitions.itertuples(index=False):
        matrix.setdefault(r.old_band, {})[r.new_band] = {"accounts": int(r.accounts),
                                                         "arr": float(r.arr)}
    return {
        "as_of": f"{diff.as_of:%Y-%m-%d}",
        "old_config": diff.old.label,
        "new_config": diff.new.label,
        "accounts": diff.accounts,
        "score_changes": diff.score_changes,
        "band_changes": records(diff.band_changes),
        "transitions": matrix,
        "plays": records(diff.plays),
        "owners": records(diff.owners),
        "actions": {"old": int(diff.plays["old_actions"].sum()),
                    "new": int(diff.plays["new_actions"].sum())},
        "backtest": None if diff.old.backtest is None and diff.new.backtest is None else {
            "old": _backtest_record(diff.old.backtest),
            "new": _backtest_record(diff.new.backtest)},
        "notes": list(diff.notes),
    }


def sheets(diff: ConfigDiff) -> list[tuple[str, pd.DataFrame]]:
    return [("Band changes", diff.band_changes), ("Band transitions", diff.transitions),
            ("Actions per play", diff.plays), ("Actions per owner", diff.owners)]


VIEW = View(ConfigDiff, table=table, rows=rows, record=record, sheets=sheets)
