"""csops renewals: the renewal countdown."""

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

RENEWAL_COLUMNS = ["account_id", "account_name", "renewal_date", "days_to_renewal", "arr",
                   "health_score", "health_band", "owner", "checklist_step"]


@command("renewals")
@data_options()
def renewals_command(
    inputs: Inputs,
    days: Annotated[int, typer.Option("--days", min=0, help="Renewals due within N days.")] = 120,
    segment: SegmentOpt = None,
    owner: OwnerOpt = None,
    format: FormatOpt = None,
    out: OutOpt = None,
    history: HistoryOpt = DEFAULT_HISTORY,
) -> None:
    """Renewals due within N days: days left, ARR, health, owner and checklist step.

    Example: csops renewals sample_data --days 90 --out renewals.csv
    """
    from .. import output

    fmt = output.format_for(out, format)
    settings, exports = load(inputs)  # first: it starts reading while pandas imports
    from .. import pipeline
    from ..history import History

    result = pipeline.account_health(exports, settings, pipeline.parse_as_of(inputs.as_of),
                                     History(history))
    frame = renewal_frame(result.signals, days, settings)
    frame = frame[frame["account_id"].isin(pipeline.filter_accounts(
        result.signals, segment, owner).index)]
    if fmt == "csv":
        output.write_text(out, output.csv_text(frame))
    elif fmt == "json":
        output.write_text(out, output.json_text(output.records(frame)))
    else:
        output.write_text(out, render(frame, result.as_of, days))


def renewal_frame(signals, days: int, config):
    from ..coverage import UNASSIGNED, checklist_step, resolve_owners

    due = signals[(signals["days_to_renewal"] >= 0) & (signals["days_to_renewal"] <= days)]
    owner, _ = resolve_owners("csm", due, config, {})
    frame = due.assign(owner=owner.fillna(UNASSIGNED),
                       checklist_step=checklist_step(due["days_to_renewal"]).fillna(
                           "before kickoff"),
                       health_score=due["health_score"].round(1),
                       days_to_renewal=due["days_to_renewal"].astype("Int64"))
    frame = frame.reset_index().sort_values(["days_to_renewal", "arr"],
                                            ascending=[True, False], ignore_index=True)
    return frame[RENEWAL_COLUMNS]


def render(frame, as_of, days: int) -> str:
    from rich import box
    from rich.table import Table

    from ..render import band_text, console, money, number

    table = Table(title=f"Renewals due within {days} days of {as_of:%Y-%m-%d}",
                  title_justify="left", header_style="bold", box=box.SIMPLE_HEAD)
    for name, justify in [("Renewal", "left"), ("Days", "right"), ("Account", "left"),
                          ("ARR", "right"), ("Health", "left"), ("Owner", "left"),
                          ("Step", "left")]:
        table.add_column(name, justify=justify)
    for row in frame.itertuples():
        health = band_text(row.health_band)
        health.pad_left(1)
        table.add_row(f"{row.renewal_date:%Y-%m-%d}", str(row.days_to_renewal),
                      f"{row.account_name} ({row.account_id})", money(row.arr),
                      number(row.health_score) + str(health), row.owner, row.checklist_step)
    out = console()
    with out.capture() as capture:
        out.print(table)
        out.print(f"{len(frame)} renewal(s), ARR {money(frame['arr'].sum())}; "
                  f"red: {int(frame['health_band'].eq('red').sum())}")
    return capture.get()
