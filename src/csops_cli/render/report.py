"""The weekly report as one self-contained HTML page: inline style, inline SVG charts, no
script, nothing fetched. Every text from data is escaped; one column on a phone; no chart is
split across printed pages."""

from __future__ import annotations

from html import escape

import pandas as pd

from .. import __version__
from ..report import CALENDAR_DAYS, WeeklyReport
from . import View, metric_value, visible

STYLE = """
*{box-sizing:border-box}
body{margin:0;background:#f5f7fa;color:#1f2933;
font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1280px;margin:0 auto;padding:16px}
header h1{font-size:1.6rem;margin:0 0 4px}
.muted{color:#616e7c}
.small{font-size:.85rem}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px;
margin:16px 0}
.tile{background:#fff;border-radius:8px;padding:10px 14px;border:1px solid #e4e7eb}
.tile b{display:block;font-size:1.35rem}
.grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:16px}
.wide{grid-column:1/-1}
.pair{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:16px}
.tables{grid-template-columns:repeat(auto-fit,minmax(440px,1fr))}
section{background:#fff;border-radius:8px;border:1px solid #e4e7eb;padding:16px;min-width:0}
section h2{font-size:1.15rem;margin:0 0 8px}
figure{margin:0}
svg{display:block;width:100%;height:auto}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{padding:4px 6px;border-bottom:1px solid #e4e7eb;text-align:left;vertical-align:top}
th{color:#616e7c;font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.name{overflow-wrap:anywhere}
.band{display:inline-block;width:.7em;height:.7em;border-radius:50%;margin-right:4px}
.green{background:#2f9e5b}.yellow{background:#e3a612}.red{background:#d64545}
.pass{color:#2f9e5b;font-weight:600}.fail{color:#d64545;font-weight:600}
footer{margin:16px 0;font-size:.85rem;color:#616e7c}
@media (max-width:700px){
main{padding:8px}
.grid,.pair{grid-template-columns:1fr}
.phone-hide{display:none}
th,td{padding:4px 3px}
table{font-size:.85rem}
}
@media print{
body{background:#fff;font-size:11pt}
main{max-width:none;padding:0}
.grid{display:block}
.tile b{font-size:1.1rem}
section{border:1px solid #ccc;margin:0 0 12px;break-inside:avoid;page-break-inside:avoid}
section>figure{max-width:75%}
.tables{display:block}
figure,svg,table{break-inside:avoid;page-break-inside:avoid}
}
"""

BAR_TEXT = {
    "red_lift": "red accounts churn at 3x the base rate or more",
    "churners_below_green": "2/3 of churners were below green 60-90 days before",
    "green_share": "at most 80% of accounts green",
}


def text(value) -> str:
    """Text from data, safe in HTML: control characters shown, markup escaped."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return escape(visible(str(value)), quote=True)


def money(value) -> str:
    return "" if value is None or pd.isna(value) else f"${value:,.0f}"


def score(value) -> str:
    return "" if value is None or pd.isna(value) else f"{value:.1f}"


def change(value) -> str:
    if value is None or pd.isna(value):
        return ""
    return f"+{value:.1f}" if value > 0 else f"\u2212{abs(value):.1f}"


def band(value, compact: bool = False) -> str:
    """A band's dot and name; ``compact``: the dot alone on a phone."""
    name = text(value)
    if name not in ("green", "yellow", "red"):
        return name
    label = f'<span class="phone-hide">{name}</span>' if compact else name
    return f'<span class="band {name}"></span>{label}'


def html(report: WeeklyReport) -> str:
    from .. import charts

    sections = [
        _mix(report, charts),
        _movers(report),
        _metrics(report, charts),
        _bridge(report, charts),
        _renewals(report, charts),
        _plays(report, charts),
        _backtest(report, charts),
    ]
    title = f"Customer health weekly report, {report.as_of:%Y-%m-%d}"
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        "<main>",
        _header(report, title),
        '<div class="grid">',
        *sections,
        "</div>",
        f"<footer>Made by csops {escape(__version__)} from the exports as of "
        f"{report.as_of:%Y-%m-%d}; configuration: {text(report.config_label)}. "
        + "".join(f"<br>{text(note)}" for note in report.notes) + "</footer>",
        "</main>",
        "</body>",
        "</html>",
        "",
    ])


def _header(report: WeeklyReport, title: str) -> str:
    latest = report.mix[report.mix["as_of"] == report.mix["as_of"].max()]
    green = latest.loc[latest["health_band"] == "green", "accounts"].sum()
    share = green / latest["accounts"].sum() if latest["accounts"].sum() else None
    nrr = report.metrics.metrics.get("nrr")
    tiles = [
        ("Paying accounts", f"{report.accounts:,}"),
        ("ARR", money(report.arr)),
        ("Green", "n/a" if share is None else f"{share:.0%}"),
        ("NRR, 12 months", metric_value("ratio", nrr.value if nrr else None)),
        (f"Renewals, {CALENDAR_DAYS} days", f"{report.renewals_due:,} \u00b7 "
                                            f"{money(report.renewals_arr)}"),
    ]
    return "\n".join([
        "<header>",
        f"<h1>{escape(title)}</h1>",
        '<div class="tiles">',
        *[f'<div class="tile"><span class="muted small">{escape(name)}</span>'
          f"<b>{escape(value)}</b></div>" for name, value in tiles],
        "</div>",
        "</header>",
    ])


def _section(title: str, body: list[str], wide: bool = False) -> str:
    opening = '<section class="wide">' if wide else "<section>"
    return "\n".join([opening,
                      f"<h2>{escape(title)}</h2>", *body, "</section>"])


def _figure(svg: str, caption: str = "") -> str:
    note = f'<figcaption class="muted small">{caption}</figcaption>' if caption else ""
    return f"<figure>{svg}{note}</figure>"


def _mix(report: WeeklyReport, charts) -> str:
    return _section("Health mix over time", [
        '<div class="pair">',
        _figure(charts.band_mix(report.mix, "accounts", "Accounts by band")),
        _figure(charts.band_mix(report.mix, "arr", "ARR by band")),
        "</div>",
        f'<p class="muted small">Weekly, {escape(report.mix_source)}.</p>',
    ], wide=True)


def _mover_table(frame: pd.DataFrame, caption: str) -> str:
    if frame.empty:
        return f'<p class="muted">{escape(caption)}: none this week.</p>'
    rows = "".join(
        f'<tr><td class="name">{text(row.account_name)}</td>'
        f'<td class="phone-hide">{text(row.segment)}</td>'
        f'<td class="num">{score(row.previous_health_score)}</td>'
        f'<td class="num">{score(row.health_score)}</td>'
        f'<td class="num">{change(row.health_change)}</td>'
        f"<td>{band(row.health_band, compact=True)}</td>"
        f'<td class="num">{money(row.arr)}</td></tr>'
        for row in frame.itertuples())
    return (f"<table><caption class=\"muted small\" style=\"text-align:left\">"
            f"{escape(caption)}</caption><thead><tr><th>Account</th>"
            '<th class="phone-hide">Segment</th><th class="num">Was</th>'
            '<th class="num">Now</th><th class="num">Change</th><th>Band</th>'
            f'<th class="num">ARR</th></tr></thead><tbody>{rows}</tbody></table>')


def _movers(report: WeeklyReport) -> str:
    return _section("Biggest movers this week", [
        '<div class="pair tables">',
        _mover_table(report.movers_down, f"Largest drops (top {len(report.movers_down)})"),
        _mover_table(report.movers_up, f"Largest rises (top {len(report.movers_up)})"),
        "</div>",
        '<p class="muted small">Change: the health score against the previous one (the '
        "latest stored snapshot, else the score rebuilt a week earlier).</p>",
    ], wide=True)


def _metrics(report: WeeklyReport, charts) -> str:
    rows = []
    for metric in report.metrics.metrics.values():
        unit = metric.unit if metric.unit in ("ratio", "days") else ""
        rows.append({
            "name": metric.name, "value": metric.value, "target": metric.target,
            "higher_is_better": metric.higher_is_better,
            "unit": "" if unit else metric.unit,
            "text": metric_value(unit or "plain", metric.value),
            "target_text": "none" if metric.target is None
            else metric_value(unit or "plain", metric.target), "met": metric.met,
        })
    table = "".join(
        f'<tr><td>{text(row["name"])}'
        + (f' <span class="muted small">({text(row["unit"])})</span>' if row["unit"] else "")
        + f'</td><td class="num">{text(row["text"])}</td>'
        f'<td class="num">{text(row["target_text"])}</td>'
        f'<td>{_verdict(row["met"], "met", "missed")}</td></tr>' for row in rows)
    notes = "".join(
        f"<li>{text(metric.name)}: {text(metric.overall.note)}</li>"
        for metric in report.metrics.metrics.values() if metric.overall.note)
    return _section("Core metrics against targets", [
        _figure(charts.metrics_against_targets(rows)),
        '<table><thead><tr><th>Metric</th><th class="num">Value</th>'
        f'<th class="num">Target</th><th></th></tr></thead><tbody>{table}</tbody></table>',
        f'<ul class="muted small">{notes}</ul>' if notes else "",
    ])


def _verdict(passed, yes: str, no: str) -> str:
    if passed is None:
        return '<span class="muted">n/a</span>'
    return f'<span class="pass">{yes}</span>' if passed else f'<span class="fail">{no}</span>'


def _bridge(report: WeeklyReport, charts) -> str:
    nrr = report.metrics.metrics["nrr"]
    details = nrr.overall.details
    if nrr.value is None or not details:
        return _section("NRR bridge", [f"<p>{text(nrr.overall.note or 'not available')}</p>"])
    lines = [("Starting ARR (12 months ago)", money(details["starting_arr"])),
             ("+ Expansion", money(details["expansion"])),
             ("\u2212 Contraction", money(details["contraction"])),
             ("\u2212 Churn", money(details["churn"])),
             ("= Ending ARR", money(details["ending_arr"]))]
    body = "".join(f'<tr><td>{escape(name)}</td><td class="num">{value}</td></tr>'
                   for name, value in lines)
    return _section("NRR bridge, trailing 12 months", [
        _figure(charts.nrr_waterfall(details)),
        f"<table><tbody>{body}</tbody></table>",
        f'<p class="muted small">{nrr.overall.included:,} accounts that had ARR twelve months '
        "ago; new logos are left out.</p>",
    ])


def _renewals(report: WeeklyReport, charts) -> str:
    shown = len(report.renewals)
    rest = report.renewals_due - shown
    summary = (f"{report.renewals_due:,} renewal(s) due by "
               f"{report.as_of + pd.Timedelta(days=CALENDAR_DAYS):%Y-%m-%d}, "
               f"{money(report.renewals_arr)} ARR")
    if rest > 0:
        rest_arr = report.renewals_arr - float(report.renewals["arr"].sum())
        summary += (f"; the {shown:,} largest are plotted, the other {rest:,} "
                    f"({money(rest_arr)}) are in `csops renewals`")
    by_band = "".join(
        f'<tr><td>{band(name)}</td><td class="num">{int(row.renewals):,}</td>'
        f'<td class="num">{money(row.arr)}</td></tr>'
        for name, row in report.renewals_by_band.iterrows())
    return _section(f"Renewal calendar, next {CALENDAR_DAYS} days", [
        _figure(charts.renewal_calendar(report.renewals, report.as_of, CALENDAR_DAYS,
                                        report.band_thresholds)),
        f'<p class="small">{escape(summary)}.</p>',
        '<table><thead><tr><th>Band</th><th class="num">Renewals</th>'
        f'<th class="num">ARR</th></tr></thead><tbody>{by_band}</tbody></table>',
    ])


def _plays(report: WeeklyReport, charts) -> str:
    plays = report.plays
    rows = "".join(
        f'<tr><td class="name">{text(row.play_name)}</td><td class="num">{row.fired:,}</td>'
        f'<td class="num">{row.open:,}</td><td class="num">{row.resolved:,}</td>'
        f'<td class="num">{"" if pd.isna(row.median_days) else f"{row.median_days:.0f}"}'
        "</td></tr>" for row in plays.itertuples())
    return _section("Plays", [
        _figure(charts.plays_activity(plays)),
        '<table><thead><tr><th>Play</th><th class="num">Fired</th><th class="num">Open</th>'
        '<th class="num">Resolved</th><th class="num">Days to resolve</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>",
        f'<p class="muted small">{text(report.plays_note)}.</p>',
    ])


def _backtest(report: WeeklyReport, charts) -> str:
    result = report.backtest
    if result is None or 90 not in result.horizons:
        return _section("Does the health score predict churn?",
                        [f"<p>No backtest: {text(report.backtest_note)}.</p>"])
    cohort = result.horizons[90].headline
    auc = "n/a" if cohort.auc is None else f"{cohort.auc:.2f}"
    interval = "" if cohort.auc_low is None else \
        f" (95% interval {cohort.auc_low:.2f} to {cohort.auc_high:.2f})"
    red_lift = cohort.by_band["lift"].get("red") if "lift" in cohort.by_band else None
    lift = "n/a" if red_lift is None or pd.isna(red_lift) else f"{red_lift:.1f}x"
    bars = "".join(
        f"<tr><td>{escape(BAR_TEXT.get(bar.name, bar.name))}</td>"
        f'<td class="num">{_bar_value(bar)}</td>'
        f'<td>{_verdict(bar.passed, "pass", "fail")}</td></tr>' for bar in cohort.bars)
    first, last = result.dates[0], result.dates[-1]
    return _section("Does the health score predict churn?", [
        '<div class="pair">',
        _figure(charts.backtest_bands(
            cohort.by_band, cohort.base_rate,
            f"Churned or contracted at renewal, by band (AUC {auc})")),
        f"<div><p>AUC <b>{auc}</b>{interval}; red accounts churn or contract at "
        f"<b>{lift}</b> the base rate. {cohort.accounts:,} renewals due within 90 days of "
        f"{len(result.dates)} past dates ({first:%Y-%m-%d} to {last:%Y-%m-%d}), health "
        "rebuilt at each from what was known then.</p>",
        f"<table><tbody>{bars}</tbody></table>",
        f'<p class="muted small">{text(cohort.warning)}</p>' if cohort.warning else "",
        "</div></div>",
    ], wide=True)


def _bar_value(bar) -> str:
    if bar.value is None:
        return "n/a"
    return f"{bar.value:.1f}x" if bar.name == "red_lift" else f"{bar.value:.0%}"


VIEW = View(WeeklyReport, table=None, html=html)
