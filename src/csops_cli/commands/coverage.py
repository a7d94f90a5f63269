"""csops coverage: the coverage model and each owner's book."""

from __future__ import annotations

from ..app import command
from ..options import (
    DEFAULT_HISTORY,
    AllOpt,
    FormatOpt,
    HistoryOpt,
    Inputs,
    LimitOpt,
    OutOpt,
    SegmentOpt,
    data_options,
    row_limit,
)
from .common import load_with_history, output_format


@command("coverage")
@data_options()
def coverage_command(
    inputs: Inputs,
    segment: SegmentOpt = None,
    format: FormatOpt = None,
    out: OutOpt = None,
    history: HistoryOpt = DEFAULT_HISTORY,
    limit: LimitOpt = None,
    all_rows: AllOpt = False,
) -> None:
    """Coverage model by segment, each owner's book (accounts, ARR, red) and unassigned accounts.

    Example: csops coverage sample_data --format json
    """
    fmt = output_format(out, format)
    shown = row_limit(limit, all_rows, fmt, out)
    # first: it starts reading while pandas imports
    config, exports, store = load_with_history(inputs, out, history)
    from ..jobs import coverage_report
    from ..render import emit

    emit(coverage_report(exports, config, inputs.as_of, store, segment), fmt, out, shown)
