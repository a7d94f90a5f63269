"""csops plays: evaluate the plays of playbooks.yaml into an action list."""

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

TargetOpt = Annotated[str | None, typer.Option(
    "--target", help="Write the task-import layout of this CRM: hubspot or salesforce.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Record nothing in the history.")]


@command("plays")
@data_options()
def plays_command(
    inputs: Inputs,
    segment: SegmentOpt = None,
    owner: OwnerOpt = None,
    format: FormatOpt = None,
    out: OutOpt = None,
    target: TargetOpt = None,
    dry_run: DryRunOpt = False,
    history: HistoryOpt = DEFAULT_HISTORY,
    limit: LimitOpt = None,
    all_rows: AllOpt = False,
) -> None:
    """Evaluate the plays and write the action list: who does what, for which account, by when.

    Example: csops plays sample_data --out actions.csv --target hubspot
    """
    from ..errors import UsageError

    if target not in (None, "hubspot", "salesforce"):
        raise UsageError(f"--target {target!r}: use hubspot or salesforce")
    fmt = output_format(out, format)
    shown = row_limit(limit, all_rows, fmt, out)
    # first: it starts reading while pandas imports
    config, exports, store = load_with_history(inputs, out, history)
    from ..jobs import run_plays
    from ..render import emit, note
    from ..render.plays import PlaysSummary, show_owners

    result = run_plays(exports, config, inputs.as_of, store, segment, owner, target,
                       record=not dry_run)
    to_file = out is not None and str(out) != "-"
    if fmt != "table":
        emit(result, fmt, out, shown)
    if to_file:  # the file gets the list; people get the summary on screen
        emit(PlaysSummary(result), "table", out if fmt == "table" else None)
    elif fmt == "table":
        emit(result, fmt, out, shown)
    else:  # the list went to stdout: what each owner got goes beside it, on stderr
        show_owners(result, inputs.quiet)
    for message in result.notes:
        note(message, inputs.quiet)
