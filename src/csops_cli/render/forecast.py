"""The renewal forecast."""

from __future__ import annotations

from ..forecast import CATEGORIES, Forecast
from . import Column, View, band_text, captured, data_text, fit, limited, money
from .renewals import percent

CATEGORY_TITLES = {"commit": "Commit", "at_risk": "At risk", "likely_lost": "Likely lost"}
COLUMNS = [Column("Renewal"), Column("Days", "right"),
           Column("Account", flex="ellipsis", min_width=10),
           Column("ARR", "right"), Column("Health"), Column("P", "right"),
           Column("Forecast", "right"),
           Column("Owner", flex="ellipsis", min_width=8, priority=2),
           Column("Segment", priority=1)]


def table(result: Forecast, limit: int | None = None) -> str:
    frame = result.renewals
    shown, more = limited(frame, limit)
    cells = [[f"{row.renewal_date:%Y-%m-%d}", f"{row.days_to_renewal:,}",
              data_text(row.account_name), money(row.arr), band_text(row.health_band),
              percent(row.renewal_probability), money(row.forecast_arr),
              data_text(row.owner), data_text("" if row.segment != row.segment
                                              else row.segment)]
             for row in shown.itertuples()]
    renewals = fit(COLUMNS, cells, title=f"Renewal forecast: due within {result.days:,} days "
                                         f"of {result.as_of:%Y-%m-%d}")
    rates = ", ".join(f"{band} {percent(r.rate)} ({r.source})"
                      for band, r in result.rates.iterrows())
    parts = [*renewals.shown(more),
             f"{len(frame):,} renewal(s), ARR {money(frame['arr'].sum())}, forecast "
             f"ARR {money(frame['forecast_arr'].sum())}; renewal rates: {rates}"]
    for by, title in (("month", "Month"), ("segment", "Segment")):
        parts += _totals(result, by, title)
    parts += _accuracy(result)
    return captured(*parts)


def _totals(result: Forecast, by: str, title: str) -> list:
    columns = [Column(title, flex="ellipsis", min_width=8),
               *[Column(CATEGORY_TITLES[name], "right") for name in CATEGORIES.values()],
               Column("ARR", "right", priority=1), Column("Forecast", "right")]
    cells = [[data_text(row[by]),
              *[money(row[f"{name}_forecast_arr"]) for name in CATEGORIES.values()],
              money(row["arr"]), money(row["forecast_arr"])]
             for row in getattr(result, f"by_{by}").to_dict("records")]
    return fit(columns, cells, title=f"Forecast ARR by {by}").shown()


def _accuracy(result: Forecast) -> list:
    if result.accuracy.empty:
        return ["Accuracy: none yet; it is measured once the renewal date of a recorded "
                "forecast has passed."]
    columns = [Column(name, "right") for name in ("Days", "Renewals", "Renewed", "Forecast",
                                                  "Realised", "WAPE", "Bias", "Brier")]
    cells = [[f"{row['checkpoint']:,}", f"{row['renewals']:,}", f"{row['renewed']:,}",
              money(row["forecast_arr"]), money(row["realised_arr"]),
              percent(row["wape"]), _signed(row["bias"]), f"{row['brier']:.3f}"]
             for row in result.accuracy.to_dict("records")]
    return fit(columns, cells,
               title="Accuracy of recorded forecasts, by days before the renewal").shown()


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
