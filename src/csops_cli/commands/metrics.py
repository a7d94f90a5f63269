"""csops metrics: the five core metrics plus GRR, overall and by segment or owner."""

from __future__ import annotations

from typing import Annotated

import typer

from ..app import command
from ..options import FormatOpt, Inputs, OutOpt, SegmentOpt, data_options
from .common import load, output_format, refuse_out_over_inputs

ByOpt = Annotated[str, typer.Option("--by", help="Break down by segment or owner.")]


@command("metrics")
@data_options()
def metrics_command(
    inputs: Inputs,
    by: ByOpt = "segment",
    segment: SegmentOpt = None,
    format: FormatOpt = None,
    out: OutOpt = None,
) -> None:
    """The five core CS metrics and GRR against their targets, by segment or owner.

    Example: csops metrics sample_data --by owner --format json
    """
    from ..errors import UsageError

    if by not in ("segment", "owner"):
        raise UsageError(f"--by {by!r}: use segment or owner")
    fmt = output_format(out, format)
    config, exports = load(inputs)  # first: it starts reading while pandas imports
    refuse_out_over_inputs(out, inputs, exports)
    from ..jobs import metrics_report
    from ..render import emit, note

    result = metrics_report(exports, config, inputs.as_of, by, segment)
    for message in result.notes:
        note(message, inputs.quiet)
    emit(result, fmt, out)
