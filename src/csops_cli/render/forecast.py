"""The renewal forecast."""

from __future__ import annotations

from rich import box
from rich.table import Table

from ..forecast import CATEGORIES, Forecast
from . import View, band_text, captured, data_text, money
from .renewals import add_columns, percent

CATEGORY_TITLES = {"commit": "Commit", "at_risk": "At risk", "likely_lost": "Likely lost"}


def _grid(title: str) -> Table:
    return Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD)


def table(result: Forecast) -> str:
    frame = result.renewals
    renewals = _grid(f"Renewal forecast: due within {result.days} days of "
                     f"{result.as_of:%Y-%m-%d}")
    cells = [[f"{row.renewal_date:%Y-%m-%d}", str(row.days_to_renewal),
               data_text(row.account_name), money(row.arr), band_text(row.health_band),
               percent(row.renewal_probability), money(row.forecast_arr),
               data_text(row.owner)] for row in frame.itertuples()]
    add_columns(renewals, cells, [("Renewal", "left"), ("Days", "right"), ("Account", None),
                                  ("ARR", "right"), ("Health", "left"), ("P", "right"),
                                  ("Forecast", "right"), ("Owner", None)])
    for row in cells:
        renewals.add_row(*row)
    rates = ", ".join(f"{band} {percent(r.rate)} ({r.source})"
                      for band, r in result.rates.iterrows())
    parts = [renewals, f"{len(frame)} renewal(s), ARR {money(frame['arr'].sum())}, forecast "
                       f"ARR {money(frame['forecast_arr'].sum())}; renewal rates: {rates}"]
    for by, title in (("month", "Month"), ("segment", "Segment")):
        parts.append(_totals(result, by, title))
    parts.append(_accuracy(result))
    return captured(*parts)


def _totals(result: Forecast, by: str, title: str) -> Table:
    grid = _grid(f"Forecast ARR by {by}")
    grid.add_column(title, justify="left")
    for name in CATEGORIES.values():
        grid.add_column(CATEGORY_TITLES[name], justify="right", no_wrap=True)
    grid.add_column("ARR", justify="right", no_wrap=True)
    grid.add_column("Forecast", justify="right", no_wrap=True)
    for row in result.__getattribute__(f"by_{by}").to_dict("records"):
        grid.add_row(data_text(row[by]),
                     *[money(row[f"{name}_forecast_arr"]) for name in CATEGORIES.values()],
                     money(row["arr"]), money(row["forecast_arr"]))
    return grid


def _accuracy(result: Forecast):
    if result.accuracy.empty:
        return ("Accuracy: none yet; it is measured once the renewal date of a recorded "
                "forecast has passed.")
    grid = _grid("Accuracy of recorded forecasts, by days before the renewal")
    for name in ("Days", "Renewals", "Renewed", "Forecast", "Realised", "WAPE", "Bias",
                 "Brier"):
        grid.add_column(name, justify="right", no_wrap=True)
    for row in result.accuracy.to_dict("records"):
        grid.add_row(str(row["checkpoint"]), f"{row['renewals']:,}", f"{row['renewed']:,}",
                     money(row["forecast_arr"]), money(row["realised_arr"]),
                     percent(row["wape"]), _signed(row["bias"]), f"{row['brier']:.3f}")
    return grid


def _signed(value) -> str:
    return "" if value is None or value != value else f"{value:+.1%}"


def rows(result: Forecast):
    return result.renewals


def record(result: Forecast) -> dict:
    from ..output import records

    return {
        "as_of": f"{result.as_of:%Y-%m-%d}",
        "days": result.days,
        "band_rates": {band: {"rate": r.rate, "source": r.source,
                              "backtest_renewals": int(r.backtest_renewals),
                              "backtest_renewed": int(r.backtest_renewed)}
                       for band, r in result.rates.iterrows()},
        "renewals": records(result.renewals),
        "totals": {"by_month": records(result.by_month),
                   "by_segment": records(result.by_segment)},
        "accuracy": records(result.accuracy),
        "recorded": result.recorded,
    }


VIEW = View(Forecast, table=table, rows=rows, record=record)
