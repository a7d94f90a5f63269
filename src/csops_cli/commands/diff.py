"""csops diff: what changing playbooks.yaml would change, before anyone adopts it."""

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
from .common import load, output_format, refuse_out_over_inputs, slow_status

OldArg = Annotated[Path, typer.Argument(help="The playbooks.yaml in use.")]
NewArg = Annotated[Path, typer.Argument(help="The changed playbooks.yaml.")]
NoBacktestOpt = Annotated[bool, typer.Option(
    "--no-backtest", help="Skip the backtest of each config (the slower part).")]


@command("diff")
@data_options(without=("config",))
def diff_command(
    old: OldArg,
    new: NewArg,
    inputs: Inputs,
    history: HistoryOpt = DEFAULT_HISTORY,
    no_backtest: NoBacktestOpt = False,
    format: FormatOpt = None,
    out: OutOpt = None,
    limit: LimitOpt = None,
    all_rows: AllOpt = False,
) -> None:
    """Show what a config change would do: accounts changing band (with ARR), actions per
    play and per owner before and after, and the backtest of each config side by side.
    Nothing is recorded in the history.

    Example: csops diff playbooks.yaml new-playbooks.yaml sample_data
    """
    from dataclasses import replace

    from ..config import load_config

    fmt = output_format(out, format)
    shown = row_limit(limit, all_rows, fmt, out)
    new_config = load_config(new, inputs.data)  # both configs checked before any export
    inputs = replace(inputs, config=old)
    old_config, exports = load(inputs)  # the exports are read once, with the old config
    refuse_out_over_inputs(out, inputs, exports, history)
    refuse_out_over_inputs(out, replace(inputs, config=new), exports)
    from ..config_diff import config_diff, open_read_only
    from ..history import data_set_of
    from ..pipeline import parse_as_of
    from ..render import emit, note

    store = open_read_only(history, data_set_of(exports))
    with slow_status("scoring, evaluating plays and backtesting under each config",
                     inputs.quiet):
        result = config_diff(exports, (old_config.label, old_config), new_config,
                             parse_as_of(inputs.as_of), store, backtest=not no_backtest)
    for message in result.notes:
        note(message, inputs.quiet)
    emit(result, fmt, out, shown)
