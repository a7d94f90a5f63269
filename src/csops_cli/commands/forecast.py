"""csops forecast: the renewal forecast, its totals, and its accuracy once outcomes are known."""

from __future__ import annotations

from typing import Annotated

import typer

from ..app import command
from ..options import (
    DEFAULT_HISTORY,
    AllOpt,
    FormatOpt,
    HistoryOpt,
    Inputs,
    LimitOpt,
    OutOpt,
    OwnerOpt,
    SegmentOpt,
    data_options,
    row_limit,
)
from .common import load_with_history, output_format


@command("forecast")
@data_options()
def forecast_command(
    inputs: Inputs,
    days: Annotated[int, typer.Option("--days", min=0, help="Renewals due within N days.")] = 120,
    segment: SegmentOpt = None,
    owner: OwnerOpt = None,
    format: FormatOpt = None,
    out: OutOpt = None,
    history: HistoryOpt = DEFAULT_HISTORY,
    no_save: Annotated[bool, typer.Option(
        "--no-save", help="Do not record this forecast in the history store.")] = False,
    limit: LimitOpt = None,
    all_rows: AllOpt = False,
) -> None:
    """Forecast the renewals due within N days: each one's probability (its band's renewal
    rate in the backtest, else forecast.band_rates), forecast ARR, totals by month and segment,
    and the accuracy of earlier forecasts once their renewals are past.

    Example: csops forecast sample_data --days 90 --out forecast.json
    """
    fmt = output_format(out, format)
    shown = row_limit(limit, all_rows, fmt, out)
    # first: it starts reading while pandas imports
    config, exports, store = load_with_history(inputs, out, history)
    from ..forecast import forecast
    from ..render import emit, note

    result = forecast(exports, config, inputs.as_of, store, days, segment, owner,
                      save=not no_save)
    emit(result, fmt, out, shown)
    if result.recorded:
        note(f"{result.recorded:,} forecast(s) recorded in {store.path}", inputs.quiet)
