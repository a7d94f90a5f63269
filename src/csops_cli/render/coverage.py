"""The coverage model by segment, the owners' books and the unassigned accounts."""

from __future__ import annotations

from rich import box
from rich.table import Table

from ..jobs import CoverageReport
from . import View, blank_if_missing, captured, data_text, money

MOTIONS = {"csm_led": "CSM-led, manual", "co_owned": "AE/AM co-own with the CSM",
           "tech_touch": "tech-touch, automated"}


def table(report: CoverageReport) -> str:
    model = report.model
    segments = Table(title=f"Coverage model as of {report.as_of:%Y-%m-%d}",
                     title_justify="left", header_style="bold", box=box.SIMPLE_HEAD)
    for name, justify in [("Segment", "left"), ("Motion", "left"), ("Accounts", "right"),
                          ("ARR", "right"), ("Red", "right"), ("CSMs", "right")]:
        segments.add_column(name, justify=justify)
    for row in model.segments.itertuples():
        segments.add_row(data_text(row.segment), data_text(MOTIONS.get(row.motion, row.motion)),
                         str(row.accounts), money(row.arr), str(row.red), str(row.owners))
    books = Table(title="Owners' books", title_justify="left", header_style="bold",
                  box=box.SIMPLE_HEAD)
    for name, justify in [("Owner", "left"), ("Role", "left"), ("Manager", "left"),
                          ("Accounts", "right"), ("ARR", "right"), ("Red", "right"),
                          ("Segments", "left")]:
        books.add_column(name, justify=justify)
    for row in model.books.itertuples():
        books.add_row(data_text(row.owner), data_text(row.role), blank_if_missing(row.manager),
                      str(row.accounts), money(row.arr), str(row.red), data_text(row.segments))
    shown = [segments, books]
    if len(model.unassigned):
        unassigned = Table(title=f"Unassigned accounts ({len(model.unassigned)})",
                           title_justify="left", header_style="bold", box=box.SIMPLE_HEAD)
        for name in ("Account", "Name", "Segment", "ARR", "Band"):
            unassigned.add_column(name)
        for row in model.unassigned.itertuples():
            unassigned.add_row(data_text(row.account_id), data_text(row.account_name),
                               data_text(row.segment), money(row.arr),
                               data_text(row.health_band))
        shown.append(unassigned)
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
