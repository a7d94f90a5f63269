"""The renewal countdown."""

from __future__ import annotations

from ..renewals import Renewals
from . import Column, View, band_text, captured, data_text, fit, limited, money, number

# dates, days, money and bands stay whole; names shrink, then step and score give way
COLUMNS = [Column("Renewal"), Column("Days", "right"),
           Column("Account", flex="ellipsis", min_width=10),
           Column("ARR", "right"), Column("Health"), Column("Score", "right", priority=2),
           Column("P", "right"), Column("Forecast", "right"),
           Column("Owner", flex="ellipsis", min_width=8, priority=3),
           Column("Step", flex="ellipsis", min_width=12, priority=1)]


def renewal_cells(frame) -> list[list]:
    """One row of cells per renewal, in the order of :data:`COLUMNS`."""
    return [[f"{row.renewal_date:%Y-%m-%d}", f"{row.days_to_renewal:,}",
             data_text(row.account_name), money(row.arr), band_text(row.health_band),
             number(row.health_score), percent(row.renewal_probability),
             money(row.forecast_arr), data_text(row.owner), data_text(row.checklist_step)]
            for row in frame.itertuples()]


def table(result: Renewals, limit: int | None = None) -> str:
    frame = result.renewals
    shown, more = limited(frame, limit)
    fitted = fit(COLUMNS, renewal_cells(shown),
                 title=f"Renewals due within {result.days:,} days of {result.as_of:%Y-%m-%d}")
    return captured(*fitted.shown(more),
                    f"{len(frame):,} renewal(s), ARR {money(frame['arr'].sum())}, "
                    f"forecast ARR {money(frame['forecast_arr'].sum())}; "
                    f"red: {int(frame['health_band'].eq('red').sum()):,}")


def percent(value) -> str:
    return "" if value is None or value != value else f"{value:.0%}"


def rows(result: Renewals):
    return result.renewals


def record(result: Renewals) -> list[dict]:
    from ..output import records

    return records(result.renewals)


VIEW = View(Renewals, table=table, rows=rows, record=record)
