"""csops explain: one account's score, signal by signal, with its history."""

from __future__ import annotations

from typing import Annotated

import typer

from ..app import command
from ..options import DEFAULT_HISTORY, FormatOpt, HistoryOpt, Inputs, OutOpt, data_options
from .common import load, open_history, output_format, refuse_out_over_inputs


@command("explain")
@data_options()
def explain_command(
    account: Annotated[str, typer.Argument(help="Account id or exact account name.")],
    inputs: Inputs,
    format: FormatOpt = None,
    out: OutOpt = None,
    history: HistoryOpt = DEFAULT_HISTORY,
) -> None:
    """Show why an account scores what it does: every signal, its score, weight and points.

    Example: csops explain A00042 sample_data
    """
    fmt = output_format(out, format)
    config, exports = load(inputs)  # first: it starts reading while pandas imports
    refuse_out_over_inputs(out, inputs, exports, history)
    store = open_history(history, exports, inputs.quiet)
    from ..jobs import explain_account
    from ..render import emit

    emit(explain_account(exports, config, inputs.as_of, store, account), fmt, out)
