"""csops health: the health table, worst first, and the snapshot for the history store."""

from __future__ import annotations

from ..cli import command
from ..options import (
    DEFAULT_HISTORY,
    FormatOpt,
    HistoryOpt,
    Inputs,
    NoSaveOpt,
    OutOpt,
    OwnerOpt,
    SegmentOpt,
    data_options,
)
from .common import load

# the stable machine-readable columns (PRODUCT.md §9), then useful context
HEALTH_COLUMNS = [
    "account_id", "account_name", "segment", "health_score", "health_band", "usage_score",
    "relationship_score", "commercial_score", "partial", "health_change", "arr",
    "renewal_date", "days_to_renewal", "derived_stage", "csm_owner", "as_of",
]


@command("health")
@data_options()
def health_command(
    inputs: Inputs,
    segment: SegmentOpt = None,
    owner: OwnerOpt = None,
    format: FormatOpt = None,
    out: OutOpt = None,
    history: HistoryOpt = DEFAULT_HISTORY,
    no_save: NoSaveOpt = False,
) -> None:
    """Score every account's health (worst first) and store the snapshot.

    Example: csops health sample_data --segment Strategic --out health.csv
    """
    from .. import output
    from ..render import note

    fmt = output.format_for(out, format)
    settings, exports = load(inputs)  # first: it starts reading while pandas imports
    from .. import pipeline
    from ..history import History

    store = History(history)
    result = pipeline.account_health(exports, settings, pipeline.parse_as_of(inputs.as_of), store)
    for message in result.skipped:
        note(message, inputs.quiet)
    if not no_save:
        store.save(result.as_of, result.scored)
    table = pipeline.filter_accounts(result.scored, segment, owner)
    table = table.sort_values(["health_score", "arr"], ascending=[True, False])
    frame = health_frame(table, result.as_of)
    if fmt == "table":
        text = render_table(frame, result, len(table))
        output.write_text(out, text)
    elif fmt == "csv":
        output.write_text(out, output.csv_text(frame))
    else:
        output.write_text(out, output.json_text(output.records(frame)))
    if not no_save:
        note(f"snapshot of {result.as_of:%Y-%m-%d} stored in {history}", inputs.quiet)


def health_frame(table, as_of):
    frame = table.reset_index()
    frame["as_of"] = as_of.strftime("%Y-%m-%d")
    for column in ("health_score", "usage_score", "relationship_score", "commercial_score",
                   "health_change"):
        frame[column] = frame[column].round(1)
    frame["partial"] = frame["partial"].astype(bool)
    frame["days_to_renewal"] = frame["days_to_renewal"].astype("Int64")
    for column in HEALTH_COLUMNS:
        if column not in frame:
            frame[column] = None
    return frame[HEALTH_COLUMNS]


def render_table(frame, result, shown: int) -> str:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from ..render import band_text, blank_if_missing, console, money, number

    table = Table(title=f"Account health as of {result.as_of:%Y-%m-%d}", title_justify="left",
                  header_style="bold", box=box.SIMPLE_HEAD, collapse_padding=True,
                  pad_edge=False)
    for name, justify in [("Account", "left"), ("Name", "left"), ("Segment", "left"),
                          ("ARR", "right"), ("Health", "left"),
                          ("Usage", "right"), ("Relat.", "right"), ("Comm.", "right"),
                          ("Change", "right"), ("Renewal", "right"), ("Stage", "left")]:
        if name == "Name":  # names give way to a narrow terminal, numbers do not
            table.add_column(name, no_wrap=True, overflow="ellipsis", max_width=24)
        else:
            table.add_column(name, justify=justify, no_wrap=True, min_width=len(name))
    for row in frame.itertuples(index=False):
        change = number(row.health_change, signed=True)
        change_style = "red" if row.health_change < 0 else "green" if row.health_change > 0 \
            else ""
        renewal = "" if row.days_to_renewal != row.days_to_renewal else \
            f"{int(row.days_to_renewal)}d"
        table.add_row(
            str(row.account_id), str(row.account_name), blank_if_missing(row.segment),
            money(row.arr),
            Text(f"{number(row.health_score):>5}{'*' if row.partial else ' '}")
            + band_text(row.health_band),
            number(row.usage_score), number(row.relationship_score),
            number(row.commercial_score), Text(change, style=change_style), renewal,
            blank_if_missing(row.derived_stage),
        )
    bands = frame["health_band"].value_counts()
    footer = [
        f"{shown} account(s): {bands.get('red', 0)} red, {bands.get('yellow', 0)} yellow, "
        f"{bands.get('green', 0)} green",
    ]
    if frame["partial"].any():
        footer.append(f"* partial: {int(frame['partial'].sum())} account(s) missing a whole "
                      "bucket (weights renormalised)")
    if result.without_arr:
        footer.append(f"{result.without_arr} account(s) without ARR on "
                      f"{result.as_of:%Y-%m-%d} left out (churned or not yet started)")
    out = console()
    with out.capture() as capture:
        out.print(table)
        for line in footer:
            out.print(line)
    return capture.get()
