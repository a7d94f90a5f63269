"""The backtest: per horizon, the renewal cohort's AUC, bands, bars, calibration, signals and
misses, the all-accounts figures beside it; with --compare, two configs side by side."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from rich.text import Text

from ..backtest import BANDS, Backtest, BacktestReport, Cohort
from . import Column, View, band_text, captured, data_text, fit, money

BAR_TEXT = {
    "red_lift": "red churns at >= 3x the base rate",
    "churners_below_green": "churners below green 60-90 days before >= 2/3",
    "green_share": "accounts green <= 80%",
}


def _pct(value, decimals: int = 1) -> str:
    return "n/a" if value is None or value != value else f"{value:.{decimals}%}"


def _auc(value) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _interval(cohort: Cohort) -> str:
    if cohort.auc_low is None:
        return ""
    return f"(95% CI {cohort.auc_low:.2f}-{cohort.auc_high:.2f})"


def _bar_value(bar) -> str:
    if bar.value is None:
        return "n/a"
    return f"{bar.value:.2f}x" if bar.name == "red_lift" else f"{bar.value:.0%}"


def _bar_status(bar) -> Text:
    return {True: Text("pass", style="green"), False: Text("FAIL", style="bold red"),
            None: Text("n/a", style="dim")}[bar.passed]


def _header(result: Backtest) -> list:
    first, last = result.dates[0], result.dates[-1]
    return [
        Text(f"Backtest as of {result.as_of:%Y-%m-%d}", style="bold"),
        f"{len(result.dates):,} date(s), {first:%Y-%m-%d} to {last:%Y-%m-%d}; health rebuilt at "
        "each from what was known then",
        Text(f"config: {result.config_label}", style="dim"),
    ]


def _bands(cohort: Cohort) -> list:
    cells = []
    for band, row in cohort.by_band.iterrows():
        lift = "" if pd.isna(row["lift"]) else f"{row['lift']:.2f}x"
        cells.append([band_text(band), f"{int(row['accounts']):,}", money(row["arr"]),
                      f"{int(row['outcomes']):,}", _pct(row["churn_rate"]), lift])
    columns = [Column("Band"), *[Column(name, "right") for name in
                                 ("Accounts", "ARR", "Outcomes", "Rate", "Lift")]]
    return fit(columns, cells).shown()


def _bars(cohort: Cohort) -> list:
    cells = [[BAR_TEXT[bar.name], _bar_value(bar), _bar_status(bar)] for bar in cohort.bars]
    columns = [Column("Bar", flex="fold", min_width=20), Column("Value", "right"), Column("")]
    return fit(columns, cells, title="Practitioners' bars").shown()


def _calibration(cohort: Cohort) -> list:
    if cohort.calibration.empty:
        return []
    cells = [[f"{row.decile:,}", f"{row.score_low:.1f}-{row.score_high:.1f}",
              f"{row.accounts:,}", _pct(row.observed_rate)]
             for row in cohort.calibration.itertuples(index=False)]
    columns = [Column(name, "right") for name in ("Decile", "Scores", "Accounts", "Observed")]
    return fit(columns, cells, title="Calibration by score decile (1 = lowest)").shown()


def _signals(cohort: Cohort) -> list:
    cells = []
    for row in cohort.signal_auc.itertuples(index=False):
        verdict = ""
        if row.auc is not None and row.auc == row.auc:
            verdict = ("no information" if not row.informative
                       else "reversed" if row.auc < 0.5 else "")
        name = row.name if row.kind == "signal" else f"[{row.name}]"
        cells.append([Text(name, style="bold" if row.kind == "bucket" else ""),
                      _auc(None if row.auc != row.auc else row.auc), f"{row.accounts:,}",
                      Text(verdict, style="yellow")])
    columns = [Column("Bucket or signal", flex="ellipsis", min_width=16, max_width=28),
               Column("AUC", "right"), Column("Accounts", "right"), Column("")]
    return fit(columns, cells, title="Each bucket and signal alone").shown()


def _misses(cohort: Cohort, limit: int | None) -> list:
    """The misses of each kind, largest ARR first: ``limit`` of each (all when None)."""
    misses = cohort.misses
    if misses.empty:
        return [Text("Misses: none", style="bold")]
    lines: list = [Text("Misses, largest ARR first: why did the score miss them?",
                        style="bold")]
    for kind, group in misses.groupby("miss", sort=True):
        shown = group if limit is None else group.head(limit)
        cells = [[row.miss, data_text(row.account_id), data_text(row.account_name),
                  str(row.as_of), f"{row.health_score:.1f}", money(row.arr), row.outcome]
                 for row in shown.itertuples(index=False)]
        columns = [Column("Miss"), Column("Account"),
                   Column("Name", flex="ellipsis", max_width=24), Column("As of"),
                   Column("Score", "right"), Column("ARR", "right"), Column("Outcome")]
        lines += fit(columns, cells).shown()
        lines += [Text("Why: ", style="dim") + data_text(row.explain, style="dim")
                  for row in shown.itertuples(index=False)]
        more = cohort.missed_accounts.get(kind, 0) - len(shown)
        if more > 0:
            lines.append(Text(f"… and {more:,} more account(s) {kind} (--all to show every "
                              "row; --format json has them)", style="dim"))
    return lines


def _horizon(result: Backtest, days: int, limit: int | None) -> list:
    horizon = result.horizons[days]
    head, everyone = horizon.headline, horizon.all_accounts
    parts: list = [
        Text(f"\n{days}-day horizon: renewal cohort (headline)", style="bold underline"),
        head.definition,
        Text(f"AUC {_auc(head.auc)} {_interval(head)}", style="bold"),
        f"{head.accounts:,} account-date(s), {head.outcomes:,} outcome(s) ({head.churned:,} "
        f"churned, {head.contracted:,} contracted); base rate {_pct(head.base_rate)}",
    ]
    if head.warning:
        parts.append(Text(f"warning: {head.warning}", style="bold yellow"))
    parts += [
        *_bands(head),
        f"Red band: precision {_pct(head.red_precision)}, recall {_pct(head.red_recall)}",
        *_bars(head), *_calibration(head), *_signals(head), *_misses(head, limit),
              Text(f"\n{days}-day horizon, all accounts (secondary)", style="bold"),
              everyone.definition,
              f"AUC {_auc(everyone.auc)}; {everyone.accounts:,} account-date(s), "
              f"{everyone.outcomes:,} outcome(s); base rate {_pct(everyone.base_rate)}; red "
              f"precision {_pct(everyone.red_precision)}, recall {_pct(everyone.red_recall)}",
              Text("(over all accounts, days to renewal alone looks predictive: only accounts "
                   "up for renewal can churn)", style="dim")]
    return parts


def _side_by_side(report: BacktestReport) -> list:
    main, other = report.main, report.compare
    parts: list = [Text("Side by side", style="bold underline")]
    names = [Path(main.config_label).name or main.config_label,
             Path(other.config_label).name or other.config_label]
    if names[0] == names[1]:  # two playbooks.yaml in different folders
        names = [main.config_label, other.config_label]
    for days in sorted(set(main.horizons) | set(other.horizons)):
        cohorts = [r.horizons[days].headline if days in r.horizons else None
                   for r in (main, other)]
        cells = []

        def row(label, show, cohorts=cohorts, cells=cells):
            cells.append([label, *["" if c is None else show(c) for c in cohorts]])

        row("AUC", lambda c: _auc(c.auc))
        row("95% interval", lambda c: "" if c.auc_low is None
            else f"{c.auc_low:.2f}-{c.auc_high:.2f}")
        row("Outcomes", lambda c: f"{c.outcomes:,} of {c.accounts:,}")
        for band in BANDS:
            row(f"{band}: accounts", lambda c, b=band: f"{int(c.by_band.loc[b, 'accounts']):,}")
            row(f"{band}: lift", lambda c, b=band: "" if pd.isna(c.by_band.loc[b, "lift"])
                else f"{c.by_band.loc[b, 'lift']:.2f}x")
        row("Red precision", lambda c: _pct(c.red_precision))
        row("Red recall", lambda c: _pct(c.red_recall))
        row("Bars passed", lambda c: f"{sum(bool(b.passed) for b in c.bars)} of "
            f"{len(c.bars)}")
        # a config's name shrinks; the figures under it do not
        columns = [Column(""), *[Column(data_text(name), "right", flex="ellipsis",
                                        min_width=12, max_width=24) for name in names]]
        parts += fit(columns, cells, title=f"{days}-day horizon, renewal cohort").shown()
    return parts


def table(report: BacktestReport, limit: int | None = None) -> str:
    main = report.main
    parts = _header(main)
    if report.compare is not None:
        parts += [Text(f"compared with: {report.compare.config_label}", style="dim"),
                  *_side_by_side(report), Text(f"\nIn detail: {main.config_label}",
                                               style="bold")]
    for days in sorted(main.horizons):
        parts += _horizon(main, days, limit)
    return captured(*parts)


def _cohort_record(cohort: Cohort, with_details: bool = True) -> dict:
    from ..output import records

    record = {
        "cohort": cohort.name, "definition": cohort.definition, "auc": cohort.auc,
        "auc_low": cohort.auc_low, "auc_high": cohort.auc_high, "base_rate": cohort.base_rate,
        "outcomes": cohort.outcomes, "churned": cohort.churned,
        "contracted": cohort.contracted, "accounts": cohort.accounts,
        "by_band": {band: {"accounts": int(row["accounts"]), "arr": float(row["arr"]),
                           "outcomes": int(row["outcomes"]),
                           "churn_rate": None if pd.isna(row["churn_rate"])
                           else float(row["churn_rate"]),
                           "lift": None if pd.isna(row["lift"]) else float(row["lift"])}
                    for band, row in cohort.by_band.iterrows()},
        "red_precision": cohort.red_precision, "red_recall": cohort.red_recall,
        "warning": cohort.warning,
    }
    if cohort.bars:
        record["bars"] = {bar.name: {"value": bar.value, "threshold": bar.threshold,
                                     "passed": bar.passed} for bar in cohort.bars}
    if with_details:
        record["calibration"] = records(cohort.calibration)
        record["signal_auc"] = records(cohort.signal_auc)
        record["missed_accounts"] = cohort.missed_accounts
        record["misses"] = records(cohort.misses)
    return record


def _backtest_record(result: Backtest) -> dict:
    return {
        "as_of": f"{result.as_of:%Y-%m-%d}",
        "config": result.config_label,
        "dates": [f"{d:%Y-%m-%d}" for d in result.dates],
        "contraction_pct": result.contraction_pct,
        "horizons": {
            str(days): {**_cohort_record(h.headline),
                        "dates": [f"{d:%Y-%m-%d}" for d in h.dates],
                        "all_accounts": _cohort_record(h.all_accounts)}
            for days, h in sorted(result.horizons.items())
        },
        "notes": list(result.notes),
    }


def record(report: BacktestReport) -> dict:
    out = _backtest_record(report.main)
    if report.compare is not None:
        out["compare"] = _backtest_record(report.compare)
    return out


def rows(report: BacktestReport) -> pd.DataFrame:
    """One row per config, horizon, cohort and band: the figures of the band tables."""
    out = []
    for result in filter(None, (report.main, report.compare)):
        for days, horizon in sorted(result.horizons.items()):
            for cohort in (horizon.headline, horizon.all_accounts):
                for band, row in cohort.by_band.iterrows():
                    out.append({"config": result.config_label, "horizon": days,
                                "cohort": cohort.name, "auc": cohort.auc,
                                "auc_low": cohort.auc_low, "auc_high": cohort.auc_high,
                                "base_rate": cohort.base_rate, "band": band,
                                "accounts": int(row["accounts"]), "arr": row["arr"],
                                "outcomes": int(row["outcomes"]),
                                "churn_rate": row["churn_rate"], "lift": row["lift"]})
    return pd.DataFrame(out)


def sheets(report: BacktestReport) -> list[tuple[str, pd.DataFrame]]:
    """The headline per config, horizon and cohort, then its figures by band."""
    bands = rows(report)
    summary = bands.drop_duplicates(["config", "horizon", "cohort"])[
        ["config", "horizon", "cohort", "auc", "auc_low", "auc_high", "base_rate"]] \
        if len(bands) else bands
    by_band = bands.drop(columns=["auc", "auc_low", "auc_high", "base_rate"], errors="ignore")
    return [("Backtest summary", summary.reset_index(drop=True)), ("By band", by_band)]


VIEW = View(BacktestReport, table=table, rows=rows, record=record, sheets=sheets)
