"""The renewal countdown."""

from __future__ import annotations

from rich import box
from rich.table import Table

from ..renewals import Renewals
from . import View, band_text, captured, data_text, money


def table(result: Renewals) -> str:
    """At 80 columns: names and owners shrink first; the health score and checklist step are
    in the CSV and JSON forms."""
    frame = result.renewals
    grid = Table(title=f"Renewals due within {result.days} days of {result.as_of:%Y-%m-%d}",
                 title_justify="left", header_style="bold", box=box.SIMPLE_HEAD)
    cells = [[f"{row.renewal_date:%Y-%m-%d}", str(row.days_to_renewal),
               data_text(row.account_name), money(row.arr), band_text(row.health_band),
               percent(row.renewal_probability), money(row.forecast_arr),
               data_text(row.owner)] for row in frame.itertuples()]
    add_columns(grid, cells, [("Renewal", "left"), ("Days", "right"), ("Account", None),
                              ("ARR", "right"), ("Health", "left"), ("P", "right"),
                              ("Forecast", "right"), ("Owner", None)])
    for row in cells:
        grid.add_row(*row)
    return captured(grid, f"{len(frame)} renewal(s), ARR {money(frame['arr'].sum())}, "
                          f"forecast ARR {money(frame['forecast_arr'].sum())}; "
                          f"red: {int(frame['health_band'].eq('red').sum())}; health score "
                          "and checklist step: --format csv or json")


def add_columns(grid: Table, cells: list[list], columns: list[tuple[str, str | None]]) -> None:
    """Columns whose justify is None hold names: they share what the terminal's width leaves
    and shrink (with an ellipsis), so that numbers, dates and bands are never cut."""
    from . import console

    widths = [max([len(name), *(len(str(row[position])) for row in cells)])
              for position, (name, _) in enumerate(columns)]
    names = [position for position, (_, justify) in enumerate(columns) if justify is None]
    left = console().width - 2 * len(columns) - 6 - sum(
        width for position, width in enumerate(widths) if position not in names)
    share = max(6, left // max(len(names), 1))
    for position, (name, justify) in enumerate(columns):
        if justify is None:
            width = widths[position] if widths[position] <= share else share
            grid.add_column(name, justify="left", no_wrap=True, overflow="ellipsis",
                            width=width)
        else:
            grid.add_column(name, justify=justify, no_wrap=True, min_width=widths[position])


def percent(value) -> str:
    return "" if value is None or value != value else f"{value:.0%}"


def rows(result: Renewals):
    return result.renewals


def record(result: Renewals) -> list[dict]:
    from ..output import records

    return records(result.renewals)


VIEW = View(Renewals, table=table, rows=rows, record=record)
