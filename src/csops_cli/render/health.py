"""The health table: worst first, bands coloured, numbers never cut."""

from __future__ import annotations

from rich.text import Text

from ..jobs import HealthReport
from . import (
    Column,
    View,
    band_text,
    blank_if_missing,
    captured,
    data_text,
    fit,
    limited,
    money,
    number,
)

# what gives way to a narrow terminal: the name shrinks, then the stage, the segment, ...
COLUMNS = [Column("Account"), Column("Name", flex="ellipsis", min_width=10, max_width=24),
           Column("Segment", priority=2), Column("ARR", "right"), Column("Health"),
           Column("Usage", "right", priority=6), Column("Relat.", "right", priority=5),
           Column("Comm.", "right", priority=4), Column("Change", "right", priority=7),
           Column("Renewal", "right", priority=3), Column("Stage", priority=1)]


def table(report: HealthReport, limit: int | None = None) -> str:
    frame = report.accounts
    shown, more = limited(frame, limit)
    cells = []
    for row in shown.itertuples(index=False):
        change = number(row.health_change, signed=True)
        change_style = "red" if row.health_change < 0 else "green" if row.health_change > 0 \
            else ""
        renewal = "" if row.days_to_renewal != row.days_to_renewal else \
            f"{int(row.days_to_renewal):,}d"
        cells.append([
            data_text(row.account_id), data_text(row.account_name), blank_if_missing(row.segment),
            money(row.arr),
            Text(f"{number(row.health_score):>5}{'*' if row.partial else ' '}")
            + band_text(row.health_band),
            number(row.usage_score), number(row.relationship_score),
            number(row.commercial_score), Text(change, style=change_style), renewal,
            blank_if_missing(row.derived_stage),
        ])
    fitted = fit(COLUMNS, cells, title=f"Account health as of {report.as_of:%Y-%m-%d}")
    bands = frame["health_band"].value_counts()
    footer = [
        f"{len(frame):,} account(s): {bands.get('red', 0):,} red, "
        f"{bands.get('yellow', 0):,} yellow, {bands.get('green', 0):,} green",
    ]
    if frame["partial"].any():
        footer.append(f"* partial: {int(frame['partial'].sum()):,} account(s) missing a whole "
                      "bucket (weights renormalised)")
    if report.without_arr:
        footer.append(f"{report.without_arr:,} account(s) without ARR on "
                      f"{report.as_of:%Y-%m-%d} left out (churned or not yet started)")
    return captured(*fitted.shown(more), *footer)


def rows(report: HealthReport):
    return report.accounts


def record(report: HealthReport) -> list[dict]:
    from ..output import records

    return records(report.accounts)


VIEW = View(HealthReport, table=table, rows=rows, record=record)
