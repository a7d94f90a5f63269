"""csops explain: one account's score, signal by signal, with its history."""

from __future__ import annotations

from typing import Annotated

import typer

from ..app import command
from ..options import DEFAULT_HISTORY, FormatOpt, HistoryOpt, Inputs, OutOpt, data_options
from .common import load_with_history, output_format


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
    # first: it starts reading while pandas imports
    config, exports, store = load_with_history(inputs, out, history)
    from ..jobs import explain_account
    from ..render import emit

    emit(explain_account(exports, config, inputs.as_of, store, account), fmt, out)
