"""What ``csops validate`` found: each export, how it was read, and every problem."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from ..validation import Validation
from . import View, captured


def table(result: Validation) -> str:
    summary = Table(title=f"Exports in {result.folder}", title_justify="left",
                    header_style="bold")
    for name in ("Table", "File", "Rows", "Read as", "Columns found"):
        summary.add_column(name)
    for check in result.tables:
        if check.file is None:
            summary.add_row(check.table, "-", "", "", "not found: what needs it is skipped")
        elif check.failed:
            summary.add_row(check.table, Text(check.file), "", "",
                            Text("problems, see below", style="red"))
        else:
            summary.add_row(check.table, Text(check.file), f"{check.rows:,}", check.read_as,
                            Text(check.columns or ""))
    return captured(Text(f"config: {result.config_label} (valid)"), summary)


VIEW = View(Validation, table=table)
