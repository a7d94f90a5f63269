"""What ``csops init`` recognised in a folder and wrote."""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from ..initialise import Initialisation
from . import View, captured
from .validation import assumptions_and_unplaced


def table(result: Initialisation) -> str:
    unmapped = {match.path.name: ", ".join(match.unmapped) for match in result.files}
    files = Table(title=f"Exports recognised in {result.folder}", title_justify="left",
                  header_style="bold", box=box.SIMPLE_HEAD)
    files.add_column("File", overflow="fold", min_width=20)  # a file name is never cut
    files.add_column("Table")
    files.add_column("Read by")
    files.add_column("Rows", justify="right")
    source_of = {match.path.name: match.source_id for match in result.files}
    for check in result.checks:
        rows = "problems: see csops validate" if check.failed else f"{check.rows:,}"
        files.add_row(Text(check.file or ""), check.table,
                      Text(source_of.get(check.file or "") or "canonical"), rows)
    for match in result.files:
        if match.kind == "lookup":  # e.g. Pendo's features: names for another file's codes
            files.add_row(Text(match.path.name), "lookup", Text(match.source_id or ""), "")
        elif match.kind == "unused":
            files.add_row(Text(match.path.name), Text(match.table or ""),
                          Text(f"not used: {match.reason}"), "")
    unplaced = [match for match in result.files if match.kind == "unplaced"]
    shown: list = [files]
    for check in result.checks:  # the columns read under another name, and those left out
        renamed = ", ".join(pair for pair in (check.columns or "").split(", ") if "←" in pair)
        details = ([f"  columns: {renamed}"] if renamed else []) + \
            ([f"  not read, looks useful: {unmapped[check.file]}"]
             if unmapped.get(check.file or "") else [])
        if details:
            shown.append(Text("\n".join([check.file or "", *details])))
    shown += assumptions_and_unplaced(result.checks, unplaced)
    for missing in result.missing:
        shown.append(Text(f"no file holds the {missing}: add its export, or name it with "
                          f"--{missing}", style="yellow"))
    shown.append(Text(f"wrote {result.written}: its sources: say how each file is read; the "
                      f"next command in {result.folder} uses it"))
    return captured(*shown)


VIEW = View(Initialisation, table=table)
