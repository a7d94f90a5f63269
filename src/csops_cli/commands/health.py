"""csops health: the health table, worst first, and the snapshot for the history store."""

from __future__ import annotations

from ..app import command
from ..options import (
    DEFAULT_HISTORY,
    AllOpt,
    FormatOpt,
    HistoryOpt,
    Inputs,
    LimitOpt,
    NoSaveOpt,
    OutOpt,
    OwnerOpt,
    SegmentOpt,
    data_options,
    row_limit,
)
from .common import load_with_history, output_format


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
    limit: LimitOpt = None,
    all_rows: AllOpt = False,
) -> None:
    """Score every account's health (worst first) and store the snapshot.

    Example: csops health sample_data --segment Strategic --out health.csv
    """
    fmt = output_format(out, format)
    shown = row_limit(limit, all_rows, fmt, out)
    # first: it starts reading while pandas imports
    config, exports, store = load_with_history(inputs, out, history)
    from ..audit import data_errors
    from ..jobs import health_report
    from ..render import emit, note

    report = health_report(exports, config, inputs.as_of, store, segment, owner,
                           save=not no_save)
    for message in report.notes:
        note(message, inputs.quiet)
    if errors := data_errors(exports):
        note(data_errors_note(errors, inputs.data), inputs.quiet)
    emit(report, fmt, out, shown)
    if report.saved_to is not None:
        note(f"snapshot of {report.as_of:%Y-%m-%d} stored in {report.saved_to}", inputs.quiet)


def data_errors_note(errors, data) -> str:
    """One line saying that rows fail the audit's error checks, and where to see them."""
    rows = sum(finding.count for finding in errors)
    each = "; ".join(f"{finding.title}: {finding.count:,}" for finding in errors)
    return f"note: {rows:,} row(s) fail the audit's error checks ({each}); see them with " \
        f"`csops audit {data}`"
