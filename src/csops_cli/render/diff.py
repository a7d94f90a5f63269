"""The config diff: band transitions, accounts changing band, actions per play and per owner
before and after, and the backtests' headlines side by side."""

from __future__ import annotations

import pandas as pd
from rich.text import Text

from ..backtest import Backtest, Cohort
from ..config_diff import ConfigDiff, band_order
from . import Column, View, band_text, captured, data_text, fit, limited, money

BAR_TEXT = {
    "red_lift": "red churns >= 3x base",
    "churners_below_green": "churners below green >= 2/3",
    "green_share": "accounts green <= 80%",
}


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


def _matrix(diff: ConfigDiff) -> list:
    transitions = diff.transitions
    rows = band_order(transitions["old_band"])
    bands = band_order(transitions["new_band"])
    found = {(r.old_band, r.new_band): (r.accounts, r.arr)
             for r in transitions.itertuples(index=False)}
    cells = []
    for old in rows:
        row = [band_text(old)]
        for new in bands:
            accounts, arr = found.get((old, new), (0, 0.0))
            text = f"{accounts:,} ({money(arr)})" if accounts else "-"
            row.append(Text(text, style="bold" if accounts and old != new else ""))
        cells.append(row)
    columns = [Column("Old \\ New"), *[Column(band_text(band), "right") for band in bands]]
    return fit(columns, cells, title="Band transitions: accounts (ARR)").shown()


# ids, bands, scores and ARR are never cut; names shrink, the segment gives way
CHANGE_COLUMNS = [Column("Account"), Column("Name", flex="ellipsis", max_width=24),
                  Column("Segment", priority=1), Column("ARR", "right"), Column("Band"),
                  Column("Score", "right")]


def _changes(diff: ConfigDiff, limit: int | None) -> list:
    changes = diff.band_changes
    if changes.empty:
        return [Text("No account changes band.", style="bold")]
    shown, more = limited(changes, limit)
    cells = [[data_text(row.account_id), data_text(row.account_name),
              data_text("" if pd.isna(row.segment) else row.segment), money(row.arr),
              band_text(row.old_band) + Text(" -> ") + band_text(row.new_band),
              f"{_score(row.old_score)} -> {_score(row.new_score)}"]
             for row in shown.itertuples(index=False)]
    return fit(CHANGE_COLUMNS, cells,
               title="Accounts changing band (to red first, then largest ARR)").shown(more)


def _plays(diff: ConfigDiff) -> list:
    cells = [[data_text(row.play_name), _count(row.old_accounts, row.new_accounts),
              _count(row.old_actions, row.new_actions), _signed(row.change)]
             for row in diff.plays.itertuples(index=False)]
    cells.append([Text("All plays", style="bold"), "",
                  _count(int(diff.plays["old_actions"].sum()),
                         int(diff.plays["new_actions"].sum())),
                  _signed(int(diff.plays["change"].sum()))])
    columns = [Column("Play", flex="ellipsis", min_width=16),
               Column("Accounts", "right", priority=1), Column("Actions", "right"),
               Column("Change", "right")]
    return fit(columns, cells, title="Actions per play, old -> new").shown()


def _owners(diff: ConfigDiff, limit: int | None) -> list:
    if diff.owners.empty:
        return [Text("No actions for any owner under either config.")]
    shown, more = limited(diff.owners, limit)
    cells = [[data_text(row.owner), f"{row.old_actions:,}", f"{row.new_actions:,}",
              _signed(row.change)] for row in shown.itertuples(index=False)]
    columns = [Column("Owner", flex="ellipsis", min_width=12),
               Column("Old", "right"), Column("New", "right"), Column("Change", "right")]
    return fit(columns, cells, title="Actions per owner, largest change first").shown(more)


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
        cells = []

        def row(label, show, cohorts=cohorts, cells=cells):
            cells.append([label, *["" if c is None else show(c) for c in cohorts]])

        row("AUC (95% interval)", _auc)
        row("Outcomes", lambda c: f"{c.outcomes:,} of {c.accounts:,}")
        row("Red lift", _red_lift)
        for name, text in BAR_TEXT.items():
            row(text, lambda c, name=name: _bar(c, name))
        columns = [Column("", flex="fold", min_width=14), Column("Old", "right"),
                   Column("New", "right")]
        parts += fit(columns, cells,
                     title=f"Backtest, {days}-day horizon, renewal cohort").shown()
    return parts


def table(diff: ConfigDiff, limit: int | None = None) -> str:
    return captured(*_header(diff), *_matrix(diff), *_changes(diff, limit), *_plays(diff),
                    *_owners(diff, limit), *_backtests(diff))


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
