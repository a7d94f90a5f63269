"""The plays summary and the action list."""

from __future__ import annotations

from dataclasses import dataclass

from rich import box
from rich.table import Table

from ..jobs import PlaysResult
from . import View, captured, console, data_text, money

SHOWN_ACTIONS = 25


@dataclass(frozen=True)
class PlaysSummary:
    """The plays summary without the action list: what people see when the list goes to a
    file."""

    result: PlaysResult


def table(result: PlaysResult | PlaysSummary) -> str:
    listing = not isinstance(result, PlaysSummary)
    if not listing:
        result = result.result
    run, actions = result.run, result.actions
    summary = Table(title=f"Plays as of {result.as_of:%Y-%m-%d}", title_justify="left",
                    header_style="bold", box=box.SIMPLE_HEAD)
    for name, justify in [("Play", "left"), ("Fired", "right"), ("Already open", "right"),
                          ("ARR covered", "right"), ("Actions", "right"), ("Owners", "right"),
                          ("Measure", "left")]:
        summary.add_column(name, justify=justify)
    for row in run.summary.itertuples():
        summary.add_row(data_text(row.play_name), str(row.fired), str(row.already_open),
                        money(row.arr), str(row.actions), str(row.owners),
                        data_text(row.measure))
    shown = [summary, owners_table(result)]
    resolution = result.resolution
    if len(resolution):
        shown.append(f"Time to risk resolution: median {resolution['days'].median():.0f} days "
                     f"over {len(resolution)} resolved risk play(s)")
    if listing:
        listed = Table(title="Actions (by due date and priority)", title_justify="left",
                       header_style="bold", box=box.SIMPLE_HEAD)
        for name in ("Due", "Priority", "Account", "Play", "Action", "Owner", "Channel",
                     "Status"):
            listed.add_column(name, no_wrap=name in ("Due", "Priority", "Status"),
                              overflow="fold")
        for row in actions.head(SHOWN_ACTIONS).itertuples():
            listed.add_row(*[data_text(value) for value in (
                row.due_date, row.priority, row.account_name, row.play_id, row.action, row.owner,
                row.channel, row.status)])
        shown.append(listed)
        if len(actions) > SHOWN_ACTIONS:
            shown.append(f"… and {len(actions) - SHOWN_ACTIONS} more: --out actions.csv for all")
    return captured(*shown)


def owners_table(result: PlaysResult) -> Table:
    """Per owner, the run's actions: how many reached them and how many wait in the queue."""
    owners = result.run.owners
    shown = owners[owners["owner"].isin(result.actions["owner"])]  # --owner, --segment
    budget = result.run.owners["budget"].dropna()
    title = "Actions per owner" + (f" (budget {int(budget.iloc[0])} per week)" if len(budget)
                                   else "")
    table = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD)
    for name, justify in [("Owner", "left"), ("Actions", "right"), ("New", "right"),
                          ("Queued", "right")]:
        table.add_column(name, justify=justify)
    for row in shown.itertuples():
        table.add_row(data_text(row.owner), f"{row.actions:,}", f"{row.new:,}",
                      f"{row.queued:,}")
    return table


def show_owners(result: PlaysResult, quiet: bool = False) -> None:
    """The per-owner table on stderr, for when the action list goes to stdout."""
    if not quiet:
        console(stderr=True).print(owners_table(result))


def rows(result: PlaysResult):
    return result.rows


def record(result: PlaysResult) -> list[dict]:
    from ..output import records

    return records(result.rows)


def sheets(result: PlaysResult) -> list[tuple[str, object]]:
    return [("Actions", result.rows)]


VIEW = View((PlaysResult, PlaysSummary), table=table, rows=rows, record=record, sheets=sheets)
