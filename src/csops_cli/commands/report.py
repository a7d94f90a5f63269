"""csops report: the weekly report, one self-contained HTML file with charts."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ..app import command
from ..errors import UsageError
from ..options import DEFAULT_HISTORY, HistoryOpt, Inputs, OutOpt, data_options
from .common import load_with_history, output_format, slow_status


@command("report")
@data_options()
def report_command(
    inputs: Inputs,
    format: Annotated[str | None, typer.Option(
        "--format", "-f", help="html, the only format (the default).")] = None,
    out: OutOpt = None,
    history: HistoryOpt = DEFAULT_HISTORY,
) -> None:
    """Write the weekly report: health mix over time, biggest movers, metrics against targets,
    the NRR bridge, the renewal calendar, plays and the backtest, as one HTML file with charts.

    Example: csops report sample_data --out report.html
    """
    fmt = output_format(out, format or ("html" if out is None else None))
    if fmt != "html":
        raise UsageError(f"the report is an HTML page: write it with --out report.html "
                         f"(--format {fmt} is not available for it)")
    if (out is None or str(out) == "-") and stdout_is_terminal():
        raise UsageError("the report is an HTML page: write it to a file with --out "
                         "report.html, or redirect it (> report.html)")
    config, exports, store = load_with_history(inputs, out, history)
    from ..render import emit, note
    from ..report import weekly_report

    with slow_status("rebuilding past weeks, the metrics and the backtest", inputs.quiet):
        report = weekly_report(exports, config, inputs.as_of, store)
    emit(report, fmt, out)
    if out is not None and str(out) != "-":
        note(f"report written to {out}", inputs.quiet)


def stdout_is_terminal() -> bool:
    """A page of HTML is no use on a terminal: it goes to a file, or to a pipe."""
    return sys.stdout.isatty()
