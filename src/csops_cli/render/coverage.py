"""The coverage model by segment, the owners' books and the unassigned accounts."""

from __future__ import annotations

from ..jobs import CoverageReport
from . import Column, View, band_text, blank_if_missing, captured, data_text, fit, limited, money

MOTIONS = {"csm_led": "CSM-led, manual", "co_owned": "AE/AM co-own with the CSM",
           "tech_touch": "tech-touch, automated"}


SEGMENT_COLUMNS = [Column("Segment", flex="ellipsis", min_width=10),
                   Column("Motion", flex="fold", min_width=12, priority=1),
                   Column("Accounts", "right"), Column("ARR", "right"), Column("Red", "right"),
                   Column("CSMs", "right")]
BOOK_COLUMNS = [Column("Owner", flex="ellipsis", min_width=10),
                Column("Role", priority=3), Column("Manager", flex="ellipsis", priority=1),
                Column("Accounts", "right"), Column("ARR", "right"), Column("Red", "right"),
                Column("Segments", flex="fold", min_width=10, priority=2)]
UNASSIGNED_COLUMNS = [Column("Account"), Column("Name", flex="ellipsis", max_width=24),
                      Column("Segment", priority=1), Column("ARR", "right"), Column("Band")]


def table(report: CoverageReport, limit: int | None = None) -> str:
    model = report.model
    cells = [[data_text(row.segment), data_text(MOTIONS.get(row.motion, row.motion)),
              f"{row.accounts:,}", money(row.arr), f"{row.red:,}", f"{row.owners:,}"]
             for row in model.segments.itertuples()]
    shown = fit(SEGMENT_COLUMNS, cells,
                title=f"Coverage model as of {report.as_of:%Y-%m-%d}").shown()
    books, more = limited(model.books, limit)
    cells = [[data_text(row.owner), data_text(row.role), blank_if_missing(row.manager),
              f"{row.accounts:,}", money(row.arr), f"{row.red:,}", data_text(row.segments)]
             for row in books.itertuples()]
    shown += fit(BOOK_COLUMNS, cells, title="Owners' books").shown(more)
    if len(model.unassigned):
        unassigned, more = limited(model.unassigned, limit)
        cells = [[data_text(row.account_id), data_text(row.account_name),
                  data_text(row.segment), money(row.arr), band_text(row.health_band)]
                 for row in unassigned.itertuples()]
        shown += fit(UNASSIGNED_COLUMNS, cells,
                     title=f"Unassigned accounts ({len(model.unassigned):,})").shown(more)
    return captured(*shown)


def rows(report: CoverageReport):
    return report.model.books


def record(report: CoverageReport) -> dict:
    from ..output import records

    model = report.model
    return {"as_of": f"{report.as_of:%Y-%m-%d}", "segments": records(model.segments),
            "books": records(model.books), "unassigned": records(model.unassigned)}


def sheets(report: CoverageReport) -> list[tuple[str, object]]:
    model = report.model
    return [("Segments", model.segments), ("Books", model.books),
            ("Unassigned", model.unassigned)]


VIEW = View(CoverageReport, table=table, rows=rows, record=record, sheets=sheets)
