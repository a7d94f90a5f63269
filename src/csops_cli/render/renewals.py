"""The renewal countdown."""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from ..renewals import Renewals
from . import View, band_text, captured, data_text, money, number


def table(result: Renewals) -> str:
    frame = result.renewals
    grid = Table(title=f"Renewals due within {result.days} days of {result.as_of:%Y-%m-%d}",
                 title_justify="left", header_style="bold", box=box.SIMPLE_HEAD)
    for name, justify in [("Renewal", "left"), ("Days", "right"), ("Account", "left"),
                          ("ARR", "right"), ("Health", "left"), ("Owner", "left"),
                          ("Step", "left")]:
        grid.add_column(name, justify=justify)
    for row in frame.itertuples():
        health = band_text(row.health_band)
        health.pad_left(1)
        grid.add_row(f"{row.renewal_date:%Y-%m-%d}", str(row.days_to_renewal),
                     data_text(f"{row.account_name} ({row.account_id})"), money(row.arr),
                     Text(number(row.health_score)) + health, data_text(row.owner),
                     data_text(row.checklist_step))
    return captured(grid, f"{len(frame)} renewal(s), ARR {money(frame['arr'].sum())}; "
                          f"red: {int(frame['health_band'].eq('red').sum())}")


def rows(result: Renewals):
    return result.renewals


def record(result: Renewals) -> list[dict]:
    from ..output import records

    return records(result.renewals)


VIEW = View(Renewals, table=table, rows=rows, record=record)
