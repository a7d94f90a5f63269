"""What ``csops init`` recognised in a folder and wrote."""

from __future__ import annotations

from rich.text import Text

from ..initialise import Initialisation
from . import Column, View, captured, data_text, fit
from .validation import assumptions_and_unplaced


def table(result: Initialisation, limit: int | None = None) -> str:
    unmapped = {match.path.name: ", ".join(match.unmapped) for match in result.files}
    cells = []
    source_of = {match.path.name: match.source_id for match in result.files}
    for check in result.checks:
        rows = "problems: see csops validate" if check.failed else f"{check.rows:,}"
        cells.append([data_text(check.file), check.table,
                      data_text(source_of.get(check.file or "") or "canonical"), rows])
    for match in result.files:
        if match.kind == "lookup":  # e.g. Pendo's features: names for another file's codes
            cells.append([data_text(match.path.name), "lookup", data_text(match.source_id), ""])
        elif match.kind == "unused":
            cells.append([data_text(match.path.name), data_text(match.table),
                          data_text(f"not used: {match.reason}"), ""])
    unplaced = [match for match in result.files if match.kind == "unplaced"]
    # a file name wraps, it is never cut
    columns = [Column("File", flex="fold", min_width=20), Column("Table"),
               Column("Read by", flex="fold", min_width=12),
               Column("Rows", "right", flex="fold", min_width=12)]
    shown: list = fit(columns, cells,
                      title=Text("Exports recognised in ") + data_text(result.folder)).shown()
    for check in result.checks:  # the columns read under another name, and those left out
        renamed = ", ".join(pair for pair in (check.columns or "").split(", ") if "←" in pair)
        details = ([f"  columns: {renamed}"] if renamed else []) + \
            ([f"  not read, looks useful: {unmapped[check.file]}"]
             if unmapped.get(check.file or "") else [])
        if details:
            shown.append(Text("\n").join(data_text(line)
                                         for line in [check.file or "", *details]))
    shown += assumptions_and_unplaced(result.checks, unplaced)
    for missing in result.missing:
        shown.append(data_text(f"no file holds the {missing}: add its export, or name it "
                               f"with --{missing}", style="yellow"))
    shown.append(data_text(f"wrote {result.written}: its sources: say how each file is read; "
                           f"the next command in {result.folder} uses it"))
    return captured(*shown)


VIEW = View(Initialisation, table=table)
