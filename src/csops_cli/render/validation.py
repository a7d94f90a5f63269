"""What ``csops validate`` found: each export, how it was read, the assumptions made reading
it (with how many rows each touches), the files it could not place, and every problem."""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from ..loading.recognise import FileMatch
from ..validation import TableCheck, Validation
from . import View, captured, data_text


def table(result: Validation) -> str:
    summary = Table(title=Text("Exports in ") + data_text(result.folder), title_justify="left",
                    header_style="bold")
    for name in ("Table", "File", "Rows", "Read as", "Columns found"):
        summary.add_column(name)
    for check in result.tables:
        if check.file is None:
            summary.add_row(check.table, "-", "", "", "not found: what needs it is skipped")
        elif check.failed:
            summary.add_row(check.table, data_text(check.file), "", "",
                            Text("problems, see below", style="red"))
        else:
            summary.add_row(check.table, data_text(check.file), f"{check.rows:,}",
                            data_text(check.read_as), data_text(check.columns))
    shown: list = [Text("config: ") + data_text(result.config_label) + Text(" (valid)"),
                   summary]
    return captured(*shown, *assumptions_and_unplaced(result.tables, result.unplaced),
                    *data_errors(result))


def data_errors(result: Validation) -> list:
    """The audit's errors: rows that would silently distort a number."""
    if not result.data_errors:
        return []
    listed = Table(title="Rows that would distort the numbers (the audit's errors)",
                   title_justify="left", header_style="bold", box=box.SIMPLE_HEAD)
    for name, justify in [("Check", "left"), ("Rows", "right"), ("File", "left"),
                          ("Line", "right"), ("Example", "left"), ("Fix", "left")]:
        listed.add_column(name, justify=justify, overflow="fold")
    for finding in result.data_errors:  # the first examples of each, the count of all
        for index, example in enumerate(finding.examples):
            first = index == 0
            listed.add_row(data_text(finding.title if first else ""),
                           f"{finding.count:,}" if first else "", data_text(example.file),
                           "" if example.line is None else str(example.line),
                           data_text(example.detail), data_text(finding.fix if first else ""))
    return [listed]


def assumptions_and_unplaced(checks: list[TableCheck], unplaced: list[FileMatch]) -> list:
    """The assumptions each file's source made, with the rows they touch, and the files that
    were recognised as no export: what validate and init show under their summary."""
    shown: list = []
    assumptions = [(check, text, count) for check in checks for text, count in check.assumptions]
    if assumptions:
        listed = Table(title="Assumptions made reading the exports (change them in sources: of "
                             "playbooks.yaml)", title_justify="left", header_style="bold",
                       box=box.SIMPLE_HEAD)
        for name, justify in [("Table", "left"), ("File", "left"), ("Rows", "right"),
                              ("Assumption", "left")]:
            listed.add_column(name, justify=justify, overflow="fold")
        for check, text, count in assumptions:
            listed.add_row(check.table, data_text(check.file), f"{count:,}", data_text(text))
        shown.append(listed)
    warnings = [warning for check in checks for warning in check.warnings]
    if warnings:
        listed = Table(title="Warnings: read, but check", title_justify="left",
                       header_style="bold", box=box.SIMPLE_HEAD)
        for name, justify in [("File", "left"), ("Line", "right"), ("Value", "left"),
                              ("What", "left"), ("Fix", "left")]:
            listed.add_column(name, justify=justify, overflow="fold")
        for warning in warnings:
            listed.add_row(data_text(warning.file),
                           "" if warning.line is None else str(warning.line),
                           data_text(warning.value), data_text(warning.message),
                           data_text(warning.fix))
        shown.append(listed)
    if unplaced:
        table = Table(title="Files not used (recognised as no export)", title_justify="left",
                      header_style="bold", box=box.SIMPLE_HEAD)
        table.add_column("File")
        table.add_column("Why")
        for match in unplaced:
            table.add_row(data_text(match.path.name), data_text(match.reason))
        shown.append(table)
    return shown


def rows(result: Validation):
    """Every problem found, one row each: file, line, column, value, what, fix."""
    import pandas as pd

    return pd.DataFrame([{"file": p.file or error.message, "line": p.line, "column": p.column,
                          "value": p.value, "problem": p.message, "fix": p.fix,
                          "code": str(p.code)}
                         for error in result.failures for p in error.problems],
                        columns=["file", "line", "column", "value", "problem", "fix", "code"])


def sheets(result: Validation) -> list[tuple[str, object]]:
    """The exports as read, every problem, the rows that fail the audit's error checks and
    the assumptions made reading the files: a sheet each."""
    import pandas as pd

    exports = pd.DataFrame([{"table": c.table, "file": c.file, "rows": c.rows,
                             "read_as": c.read_as, "columns": c.columns, "failed": c.failed}
                            for c in result.tables],
                           columns=["table", "file", "rows", "read_as", "columns", "failed"])
    errors = pd.DataFrame([{"check": f.check, "rows": f.count, "file": e.file, "line": e.line,
                            "example": e.detail, "fix": f.fix}
                           for f in result.data_errors for e in f.examples],
                          columns=["check", "rows", "file", "line", "example", "fix"])
    assumptions = pd.DataFrame([{"table": c.table, "file": c.file, "rows": count,
                                 "assumption": text}
                                for c in result.tables for text, count in c.assumptions],
                               columns=["table", "file", "rows", "assumption"])
    return [("Exports", exports), ("Problems", rows(result)), ("Data errors", errors),
            ("Assumptions", assumptions)]


VIEW = View(Validation, table=table, rows=rows, sheets=sheets)
