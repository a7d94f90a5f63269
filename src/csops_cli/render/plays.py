"""The plays summary and the action list."""

from __future__ import annotations

from dataclasses import dataclass

from ..jobs import PlaysResult
from . import Column, View, captured, console, data_text, fit, limited, money

SUMMARY_COLUMNS = [Column("Play", flex="ellipsis", min_width=20),
                   Column("Fired", "right"), Column("Already open", "right", priority=2),
                   Column("ARR covered", "right"), Column("Actions", "right"),
                   Column("Owners", "right", priority=3),
                   Column("Measure", flex="fold", min_width=12, priority=1)]
# play ids, dates and priorities whole; the action's text wraps; names shrink
ACTION_COLUMNS = [Column("Due"), Column("Priority", "right"),
                  Column("Account", flex="ellipsis", min_width=10, max_width=24),
                  Column("Play"), Column("Action", flex="fold", min_width=14),
                  Column("Owner", flex="ellipsis", min_width=8, priority=3),
                  Column("Channel", priority=1), Column("Status", priority=2)]
OWNER_COLUMNS = [Column("Owner", flex="ellipsis", min_width=10),
                 Column("Actions", "right"), Column("New", "right"), Column("Queued", "right")]


@dataclass(frozen=True)
class PlaysSummary:
    """The plays summary without the action list: what people see when the list goes to a
    file."""

    result: PlaysResult


def table(result: PlaysResult | PlaysSummary, limit: int | None = None) -> str:
    listing = not isinstance(result, PlaysSummary)
    if not listing:
        result = result.result
    run, actions = result.run, result.actions
    cells = [[data_text(row.play_name), f"{row.fired:,}", f"{row.already_open:,}",
              money(row.arr), f"{row.actions:,}", f"{row.owners:,}", data_text(row.measure)]
             for row in run.summary.itertuples()]
    shown = [*fit(SUMMARY_COLUMNS, cells, title=f"Plays as of {result.as_of:%Y-%m-%d}").shown(),
             *owners_table(result).shown()]
    resolution = result.resolution
    if len(resolution):
        shown.append(f"Time to risk resolution: median {resolution['days'].median():,.0f} "
                     f"days over {len(resolution):,} resolved risk play(s)")
    if listing:
        listed, more = limited(actions, limit)
        cells = [[data_text(value) for value in (
            row.due_date, row.priority, row.account_name, row.play_id, row.action, row.owner,
            row.channel, row.status)] for row in listed.itertuples()]
        shown += fit(ACTION_COLUMNS, cells,
                     title="Actions (by due date and priority)").shown(more)
    return captured(*shown)


def owners_table(result: PlaysResult, width: int | None = None):
    """Per owner, the run's actions: how many reached them and how many wait in the queue."""
    owners = result.run.owners
    # --owner, --segment: the owners of the actions listed (distinct first: isin against a
    # long text column costs far more than against its few values)
    import pandas as pd

    shown = owners[owners["owner"].isin(pd.unique(result.actions["owner"]))]
    budget = result.run.owners["budget"].dropna()
    title = "Actions per owner" + (f" (budget {int(budget.iloc[0])} per week)" if len(budget)
                                   else "")
    cells = [[data_text(row.owner), f"{row.actions:,}", f"{row.new:,}", f"{row.queued:,}"]
             for row in shown.itertuples()]
    return fit(OWNER_COLUMNS, cells, title=title, width=width)


def show_owners(result: PlaysResult, quiet: bool = False) -> None:
    """The per-owner table on stderr, for when the action list goes to stdout."""
    if not quiet:
        err = console(stderr=True)
        for part in owners_table(result, err.width).shown():
            err.print(part)


def rows(result: PlaysResult):
    return result.rows


def record(result: PlaysResult) -> list[dict]:
    from ..output import records

    return records(result.rows)


def sheets(result: PlaysResult) -> list[tuple[str, object]]:
    return [("Actions", result.rows)]


VIEW = View((PlaysResult, PlaysSummary), table=table, rows=rows, record=record, sheets=sheets)
