"""The metrics report: the five core metrics and GRR against targets, by segment or owner."""

from __future__ import annotations

import pandas as pd
from rich.text import Text

from ..jobs import MetricsResult
from . import Column, View, console, data_text, fit, metric_value

MAX_SIDE_BY_SIDE = 4
SHORT_NAMES = {"ttfv": "TTFV", "nrr": "NRR", "grr": "GRR", "adoption_rate": "Adoption",
               "expansion_conversion": "Expansion", "activity_to_outcome": "Touches/$10k"}


def record(result: MetricsResult) -> dict:
    report = result.report
    key = f"by_{report.group_by}"
    result = {}
    for metric_id, metric in report.metrics.items():
        record = {
            "name": metric.name, "unit": metric.unit, "value": metric.value,
            "target": metric.target, "met": metric.met,
            key: {group: c.value for group, c in metric.by_group.items()},
            "included": metric.overall.included, "excluded": metric.overall.excluded,
            "note": metric.overall.note,
        }
        record.update(metric.overall.details)
        record["definition"] = metric.definition
        result[metric_id] = record
    return {"as_of": f"{report.as_of:%Y-%m-%d}", "group_by": report.group_by,
            "metrics": result}


def rows(result: MetricsResult) -> pd.DataFrame:
    report = result.report
    rows = []
    for metric_id, metric in report.metrics.items():
        for group, computation in [("(all)", metric.overall), *metric.by_group.items()]:
            rows.append({"metric": metric_id, report.group_by: group,
                         "value": computation.value, "target": metric.target,
                         "included": computation.included, "note": computation.note})
    return pd.DataFrame(rows)


def show(metric, value) -> str:
    return metric_value(metric.unit, value)


def table(result: MetricsResult, limit: int | None = None) -> str:
    report = result.report
    groups = sorted({g for m in report.metrics.values() for g in m.by_group})
    # a few segments side by side; owners (or many segments) get a table of their own
    side_by_side = report.group_by == "segment" and len(groups) <= MAX_SIDE_BY_SIDE
    shown = groups if side_by_side else []
    cells = []
    notes = []
    for metric in report.metrics.values():
        status = {True: Text("met", style="green"), False: Text("missed", style="red"),
                  None: Text("")}[metric.met]
        cells.append([data_text(metric.name), show(metric, metric.value),
                      show(metric, metric.target) if metric.target is not None else "",
                      status, *[show(metric, metric.by_group[g].value)
                                if g in metric.by_group else "" for g in shown],
                      f"{metric.overall.included:,}"])
        if metric.overall.note:
            notes.append(f"{metric.name}: n/a, {metric.overall.note}")
    # the overall value, its target and met/missed stay; a segment without values gives way
    # first, then the count of accounts (JSON has it), then the segments showing fewest values
    shows = [sum(row[4 + index] not in ("", "n/a") for row in cells)
             for index in range(len(shown))]
    columns = [Column("Metric", flex="ellipsis", min_width=21),
               Column("Value", "right"), Column("Target", "right"), Column(""),
               *[Column(data_text(group), "right", priority=2 + count if count else 0)
                 for group, count in zip(shown, shows, strict=True)],
               Column("Accounts", "right", priority=1)]
    out = console()
    with out.capture() as capture:
        for part in fit(columns, cells,
                        title=f"Core CS metrics as of {report.as_of:%Y-%m-%d}").shown():
            out.print(part)
        if not side_by_side:
            for part in _breakdown(report, groups):
                out.print(part)
        details = _detail_lines(report)
        for line in details:
            out.print(data_text(line))
        bridge = _bridge(report)
        if bridge is not None:
            for part in bridge:
                out.print(part)
        for line in notes:
            out.print(data_text(line, style="yellow"))
    return capture.get()


def _breakdown(report, groups) -> list:
    """One row per group (owner), one column per metric; the last metrics give way first."""
    count = len(report.metrics)
    columns = [Column(report.group_by.capitalize(), flex="ellipsis", min_width=10,
                      max_width=24),
               *[Column(SHORT_NAMES.get(metric_id, metric_id), "right", priority=count - index)
                 for index, metric_id in enumerate(report.metrics)]]
    cells = [[data_text(group), *[show(metric, metric.by_group[group].value)
                                  if group in metric.by_group else ""
                                  for metric in report.metrics.values()]]
             for group in groups]
    return fit(columns, cells, title=f"By {report.group_by}").shown()


def _detail_lines(report) -> list[str]:
    metrics = report.metrics
    lines = []
    ttfv = metrics["ttfv"].overall.details
    if ttfv:
        within = ttfv.get("within_target")
        lines.append(
            f"TTFV: p90 {_days(ttfv.get('p90'))}; "
            f"{'n/a' if within is None else f'{within:.0%}'} reached value within target; "
            f"{_count(ttfv.get('reached_value'))} reached value, "
            f"{_count(ttfv.get('still_onboarding'))} still onboarding, "
            f"{_count(ttfv.get('waiting_past_target'))} waiting past target")
    adoption = metrics["adoption_rate"].overall.details
    if adoption.get("mean_license_utilization") is not None:
        lines.append(f"Adoption: mean license utilization "
                     f"{adoption['mean_license_utilization']:.0%}")
    expansion = metrics["expansion_conversion"].overall.details
    if expansion:
        conversion = expansion.get("signal_conversion")
        lines.append(f"Expansion: {_count(expansion.get('expanded'))} accounts expanded; of "
                     f"{_count(expansion.get('signal_accounts'))} with an expansion signal "
                     "earlier, "
                     f"{'n/a' if conversion is None else f'{conversion:.0%}'} expanded since")
    touches = metrics["activity_to_outcome"].overall.details
    if touches:
        lines.append(f"Activity to outcome: {touches.get('touches'):,} touches, "
                     f"${touches.get('renewed_arr'):,.0f} renewed")
    excluded = {metric.name: metric.overall.excluded for metric in metrics.values()
                if metric.overall.excluded}
    for name, reasons in excluded.items():
        lines.append(f"{name} excludes " + ", ".join(f"{n:,} ({reason})"
                                                     for reason, n in reasons.items()))
    return lines


def _count(value) -> str:
    return "n/a" if value is None else f"{value:,}"


def _days(value) -> str:
    return "n/a" if value is None else f"{value:.0f} days"


def _bridge(report) -> list | None:
    """Starting ARR, what was added and taken away, ending ARR: the sign is in the label, so
    the amounts are shown without one."""
    nrr = report.metrics["nrr"].overall
    if nrr.value is None:
        return None
    d = nrr.details
    cells = [[label, f"{abs(value):,.0f}"]
             for label, value in [("Starting ARR", d["starting_arr"]),
                                  ("+ Expansion", d["expansion"]),
                                  ("− Contraction", d["contraction"]), ("− Churn", d["churn"]),
                                  ("= Ending ARR", d["ending_arr"])]]
    fitted = fit([Column(""), Column("", "right")], cells, title="NRR bridge",
                 show_header=False, caption="accounts that had ARR 12 months earlier",
                 caption_justify="left")
    return fitted.shown()


def sheets(result: MetricsResult) -> list[tuple[str, pd.DataFrame]]:
    """The metrics against targets, then each metric by segment (or owner)."""
    report = result.report
    overall = pd.DataFrame([{"metric": metric_id, "name": metric.name, "unit": metric.unit,
                             "value": metric.value, "target": metric.target,
                             "met": metric.met, "included": metric.overall.included,
                             "note": metric.overall.note}
                            for metric_id, metric in report.metrics.items()])
    by_group = rows(result)
    by_group = by_group[by_group[report.group_by] != "(all)"] if len(by_group) else by_group
    return [("Metrics", overall),
            (f"By {report.group_by}", by_group.reset_index(drop=True))]


VIEW = View(MetricsResult, table=table, rows=rows, record=record, sheets=sheets)
