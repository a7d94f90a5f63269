"""csops renewals: the renewal countdown."""

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


@command("renewals")
@data_options()
def renewals_command(
    inputs: Inputs,
    days: Annotated[int, typer.Option("--days", min=0, help="Renewals due within N days.")] = 120,
    segment: SegmentOpt = None,
    owner: OwnerOpt = None,
    format: FormatOpt = None,
    out: OutOpt = None,
    history: HistoryOpt = DEFAULT_HISTORY,
    limit: LimitOpt = None,
    all_rows: AllOpt = False,
) -> None:
    """Renewals due within N days: days left, ARR, health, owner and checklist step.

    Example: csops renewals sample_data --days 90 --out renewals.csv
    """
    fmt = output_format(out, format)
    shown = row_limit(limit, all_rows, fmt, out)
    # first: it starts reading while pandas imports
    config, exports, store = load_with_history(inputs, out, history)
    from ..render import emit
    from ..renewals import renewals

    emit(renewals(exports, config, inputs.as_of, store, days, segment, owner),
         fmt, out, shown)
