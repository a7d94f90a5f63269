"""csops coverage: the coverage model and each owner's book."""

from __future__ import annotations

from ..cli import command
from ..options import (
    DEFAULT_HISTORY,
    FormatOpt,
    HistoryOpt,
    Inputs,
    OutOpt,
    data_options,
)
from .common import load


@command("coverage")
@data_options()
def coverage_command(
    inputs: Inputs,
    format: FormatOpt = None,
    out: OutOpt = None,
    history: HistoryOpt = DEFAULT_HISTORY,
) -> None:
    """Coverage model by segment, each owner's book (accounts, ARR, red) and unassigned accounts.

    Example: csops coverage sample_data --format json
    """
    from .. import output

    fmt = output.format_for(out, format)
    settings, exports = load(inputs)  # first: it starts reading while pandas imports
    from .. import pipeline
    from ..coverage import coverage
    from ..history import History

    result = pipeline.account_health(exports, settings, pipeline.parse_as_of(inputs.as_of),
                                     History(history))
    model = coverage(result.signals, settings,
                     exports.team.frame if exports.team is not None else None)
    if fmt == "json":
        output.write_text(out, output.json_text({
            "as_of": f"{result.as_of:%Y-%m-%d}", "segments": output.records(model.segments),
            "books": output.records(model.books),
            "unassigned": output.records(model.unassigned)}))
    elif fmt == "csv":
        output.write_text(out, output.csv_text(model.books))
    else:
        output.write_text(out, render(model, result.as_of))


def render(model, as_of) -> str:
    from rich import box
    from rich.table import Table

    from ..render import console, money

    motions = {"csm_led": "CSM-led, manual", "co_owned": "AE/AM co-own with the CSM",
               "tech_touch": "tech-touch, automated"}
    segments = Table(title=f"Coverage model as of {as_of:%Y-%m-%d}", title_justify="left",
                     header_style="bold", box=box.SIMPLE_HEAD)
    for name, justify in [("Segment", "left"), ("Motion", "left"), ("Accounts", "right"),
                          ("ARR", "right"), ("Red", "right"), ("CSMs", "right")]:
        segments.add_column(name, justify=justify)
    for row in model.segments.itertuples():
        segments.add_row(row.segment, motions.get(row.motion, row.motion), str(row.accounts),
                         money(row.arr), str(row.red), str(row.owners))
    books = Table(title="Owners' books", title_justify="left", header_style="bold",
                  box=box.SIMPLE_HEAD)
    for name, justify in [("Owner", "left"), ("Role", "left"), ("Manager", "left"),
                          ("Accounts", "right"), ("ARR", "right"), ("Red", "right"),
                          ("Segments", "left")]:
        books.add_column(name, justify=justify)
    for row in model.books.itertuples():
        books.add_row(row.owner, str(row.role), "" if row.manager != row.manager else
                      str(row.manager), str(row.accounts), money(row.arr), str(row.red),
                      row.segments)
    out = console()
    with out.capture() as capture:
        out.print(segments)
        out.print(books)
        if len(model.unassigned):
            unassigned = Table(title=f"Unassigned accounts ({len(model.unassigned)})",
                               title_justify="left", header_style="bold", box=box.SIMPLE_HEAD)
            for name in ("Account", "Name", "Segment", "ARR", "Band"):
                unassigned.add_column(name)
            for row in model.unassigned.itertuples():
                unassigned.add_row(row.account_id, row.account_name, str(row.segment),
                                   money(row.arr), str(row.health_band))
            out.print(unassigned)
    return capture.get()
