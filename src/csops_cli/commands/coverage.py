"""csops coverage: the coverage model and each owner's book."""

from __future__ import annotations

from ..app import command
from ..options import (
    DEFAULT_HISTORY,
    FormatOpt,
    HistoryOpt,
    Inputs,
    OutOpt,
    SegmentOpt,
    data_options,
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
) -> None:
    """Coverage model by segment, each owner's book (accounts, ARR, red) and unassigned accounts.

    Example: csops coverage sample_data --format json
    """
    fmt = output_format(out, format)
    # first: it starts reading while pandas imports
    config, exports, store = load_with_history(inputs, out, history)
    from ..jobs import coverage_report
    from ..render import emit

    emit(coverage_report(exports, config, inputs.as_of, store, segment), fmt, out)
