"""csops backtest: how well the health score predicted churn and contraction on the data's own
past."""

from __future__ import annotations

from pathlib import Path
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
    data_options,
    row_limit,
)
from .common import load, output_format

SinceOpt = Annotated[str | None, typer.Option(
    "--since", help="First backtest date, YYYY-MM-DD (default: 12 months before as_of).")]
EveryOpt = Annotated[int, typer.Option("--every", help="Days between backtest dates.")]
HorizonOpt = Annotated[list[int] | None, typer.Option(
    "--horizon", help="Days after each date to look for the outcome; repeat for several "
                      "(default: 90 and 180).")]
ContractionOpt = Annotated[float, typer.Option(
    "--contraction-pct", help="ARR falling by this percentage or more is a contraction.")]
FromHistoryOpt = Annotated[bool, typer.Option(
    "--from-history", help="Use the scores stored by `csops health` on the backtest dates "
                           "where the history store has them.")]
CompareOpt = Annotated[Path | None, typer.Option(
    "--compare", help="A second playbooks.yaml to backtest side by side.")]


@command("backtest")
@data_options()
def backtest_command(
    inputs: Inputs,
    since: SinceOpt = None,
    every: EveryOpt = 30,
    horizon: HorizonOpt = None,
    contraction_pct: ContractionOpt = 10.0,
    compare: CompareOpt = None,
    from_history: FromHistoryOpt = False,
    history: HistoryOpt = DEFAULT_HISTORY,
    format: FormatOpt = None,
    out: OutOpt = None,
    limit: LimitOpt = None,
    all_rows: AllOpt = False,
) -> None:
    """Check the health score against what happened: rebuild it at past dates and measure how
    well it ranked the accounts that churned or contracted (AUC, bands, misses).

    Example: csops backtest sample_data --compare new-playbooks.yaml
    """
    from ..errors import UsageError

    if not 0 < contraction_pct < 100:
        raise UsageError(f"--contraction-pct {contraction_pct:g}: give a percentage between 0 "
                         "and 100, e.g. 10")
    fmt = output_format(out, format)
    shown = row_limit(limit, all_rows, fmt, out)
    config, exports = load(inputs)  # first: it starts reading while pandas imports
    from ..backtest import BacktestOptions, backtest_report, explain_arguments
    from ..config import load_config
    from ..history import History
    from ..pipeline import parse_as_of
    from ..render import emit, note

    other = load_config(compare, inputs.data) if compare is not None else None
    options = BacktestOptions(
        as_of=parse_as_of(inputs.as_of), since=_date("--since", since), every_days=every,
        horizons=tuple(horizon) if horizon else BacktestOptions.horizons,
        contraction_pct=contraction_pct / 100)
    report = backtest_report(exports, config, options, config._label,
                             explain_arguments(inputs.data, inputs.config), other,
                             History(history) if from_history else None)
    for message in report.main.notes:
        note(message, inputs.quiet)
    emit(report, fmt, out, shown)


def _date(option: str, text: str | None):
    from ..errors import UsageError
    from ..pipeline import parse_as_of

    try:
        return parse_as_of(text)
    except UsageError:  # its message names --as-of: name the option given instead
        raise UsageError(f"{option} {text!r} is not a date; write it as YYYY-MM-DD") from None
