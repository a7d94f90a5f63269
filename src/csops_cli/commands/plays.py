"""csops plays: evaluate the plays of playbooks.yaml into an action list."""

from __future__ import annotations

from typing import Annotated

import typer

from ..cli import command
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
from .common import load

TargetOpt = Annotated[str | None, typer.Option(
    "--target", help="Write the task-import layout of this CRM: hubspot or salesforce.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Record nothing in the history.")]
SHOWN_ACTIONS = 25


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
) -> None:
    """Evaluate the plays and write the action list: who does what, for which account, by when.

    Example: csops plays sample_data --out actions.csv --target hubspot
    """
    from .. import output
    from ..errors import UsageError
    from ..render import note

    if target not in (None, "hubspot", "salesforce"):
        raise UsageError(f"--target {target!r}: use hubspot or salesforce")
    fmt = output.format_for(out, format)
    settings, exports = load(inputs)  # first: it starts reading while pandas imports
    from .. import pipeline, plays
    from ..history import History

    store = History(history)
    result = pipeline.account_health(exports, settings, pipeline.parse_as_of(inputs.as_of), store)
    team_frame = exports.team.frame if exports.team is not None else None
    run = plays.evaluate(result.signals, settings, result.as_of, team_frame,
                         store.open_plays(result.as_of))
    if not dry_run:
        store.record_plays(result.as_of, run.fired, run.resolved)
    actions = run.actions
    if segment or owner:
        keep = pipeline.filter_accounts(result.signals, segment, None).index
        actions = actions[actions["account_id"].isin(keep)]
        if owner:
            actions = actions[actions["owner"].str.lower() == owner.lower()]
    table = plays.crm_layout(actions, target) if target else actions
    to_file = out is not None and str(out) != "-"
    if fmt == "csv":
        output.write_text(out, output.csv_text(table))
    elif fmt == "json":
        output.write_text(out, output.json_text(output.records(table)))
    if fmt == "table" or to_file:
        # people get the summary on screen; the file gets the list
        text = render(run, actions, store, result.as_of, listing=not to_file)
        output.write_text(out if fmt == "table" else None, text)
    unassigned = int((actions["owner"] == "(unassigned)").sum())
    if unassigned:
        note(f"{unassigned} action(s) have no owner (marked (unassigned)); see csops coverage",
             inputs.quiet)
    note(f"{len(actions)} action(s) for {actions['account_id'].nunique()} account(s)"
         + ("; nothing recorded (--dry-run)" if dry_run else f"; plays recorded in {history}"),
         inputs.quiet)


def render(run, actions, store, as_of, listing: bool = True) -> str:
    from rich import box
    from rich.table import Table

    from ..render import console, money

    summary = Table(title=f"Plays as of {as_of:%Y-%m-%d}", title_justify="left",
                    header_style="bold", box=box.SIMPLE_HEAD)
    for name, justify in [("Play", "left"), ("Fired", "right"), ("Already open", "right"),
                          ("ARR covered", "right"), ("Actions", "right"), ("Owners", "right"),
                          ("Measure", "left")]:
        summary.add_column(name, justify=justify)
    for row in run.summary.itertuples():
        summary.add_row(row.play_name, str(row.fired), str(row.already_open), money(row.arr),
                        str(row.actions), str(row.owners), row.measure)
    table = Table(title="Actions (by due date and priority)", title_justify="left",
                  header_style="bold", box=box.SIMPLE_HEAD)
    for name in ("Due", "Priority", "Account", "Play", "Action", "Owner", "Channel"):
        table.add_column(name, no_wrap=name in ("Due", "Priority"), overflow="fold")
    for row in actions.head(SHOWN_ACTIONS).itertuples():
        table.add_row(row.due_date, row.priority, f"{row.account_name}", row.play_id,
                      row.action, row.owner, row.channel)
    resolution = store.resolution_days()
    out = console()
    with out.capture() as capture:
        out.print(summary)
        if len(resolution):
            out.print(f"Time to risk resolution: median {resolution['days'].median():.0f} days "
                      f"over {len(resolution)} resolved risk play(s)")
        if listing:
            out.print(table)
            if len(actions) > SHOWN_ACTIONS:
                out.print(f"… and {len(actions) - SHOWN_ACTIONS} more: --out actions.csv for "
                          "all")
    return capture.get()
