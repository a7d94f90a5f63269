"""The health table: worst first, bands coloured, numbers never cut."""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from ..jobs import HealthReport
from . import View, band_text, blank_if_missing, captured, data_text, money, number


def table(report: HealthReport) -> str:
    frame = report.accounts
    table = Table(title=f"Account health as of {report.as_of:%Y-%m-%d}", title_justify="left",
                  header_style="bold", box=box.SIMPLE_HEAD, collapse_padding=True,
                  pad_edge=False)
    for name, justify in [("Account", "left"), ("Name", "left"), ("Segment", "left"),
                          ("ARR", "right"), ("Health", "left"),
                          ("Usage", "right"), ("Relat.", "right"), ("Comm.", "right"),
                          ("Change", "right"), ("Renewal", "right"), ("Stage", "left")]:
        if name == "Name":  # names give way to a narrow terminal, numbers do not
            table.add_column(name, no_wrap=True, overflow="ellipsis", max_width=24)
        else:
            table.add_column(name, justify=justify, no_wrap=True, min_width=len(name))
    for row in frame.itertuples(index=False):
        change = number(row.health_change, signed=True)
        change_style = "red" if row.health_change < 0 else "green" if row.health_change > 0 \
            else ""
        renewal = "" if row.days_to_renewal != row.days_to_renewal else \
            f"{int(row.days_to_renewal)}d"
        table.add_row(
            data_text(row.account_id), data_text(row.account_name), blank_if_missing(row.segment),
            money(row.arr),
            Text(f"{number(row.health_score):>5}{'*' if row.partial else ' '}")
            + band_text(row.health_band),
            number(row.usage_score), number(row.relationship_score),
            number(row.commercial_score), Text(change, style=change_style), renewal,
            blank_if_missing(row.derived_stage),
        )
    bands = frame["health_band"].value_counts()
    footer = [
        f"{len(frame)} account(s): {bands.get('red', 0)} red, {bands.get('yellow', 0)} yellow, "
        f"{bands.get('green', 0)} green",
    ]
    if frame["partial"].any():
        footer.append(f"* partial: {int(frame['partial'].sum())} account(s) missing a whole "
                      "bucket (weights renormalised)")
    if report.without_arr:
        footer.append(f"{report.without_arr} account(s) without ARR on "
                      f"{report.as_of:%Y-%m-%d} left out (churned or not yet started)")
    return captured(table, *footer)


def rows(report: HealthReport):
    return report.accounts


def record(report: HealthReport) -> list[dict]:
    from ..output import records

    return records(report.accounts)


VIEW = View(HealthReport, table=table, rows=rows, record=record)
