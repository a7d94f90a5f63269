"""csops renewals: the renewal countdown."""

from __future__ import annotations

from typing import Annotated

import typer

from ..app import command
from ..options import (
    DEFAULT_HISTORY,
    FormatOpt,
    HistoryOpt,
    Inputs,
    OutOpt,
    OwnerOpt,
    SegmentOpt,
    data_options,
)
from .common import load, open_history, output_format, refuse_out_over_inputs


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
) -> None:
    """Renewals due within N days: days left, ARR, health, owner and checklist step.

    Example: csops renewals sample_data --days 90 --out renewals.csv
    """
    fmt = output_format(out, format)
    config, exports = load(inputs)  # first: it starts reading while pandas imports
    refuse_out_over_inputs(out, inputs, exports, history)
    store = open_history(history, exports, inputs.quiet)
    from ..render import emit
    from ..renewals import renewals

    emit(renewals(exports, config, inputs.as_of, store, days, segment, owner),
         fmt, out)
