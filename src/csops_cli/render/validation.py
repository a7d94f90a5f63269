"""What ``csops validate`` found: each export, how it was read, the assumptions made reading
it (with how many rows each touches), the files it could not place, and every problem."""

from __future__ import annotations

from rich import box
from rich.text import Text

from ..loading.recognise import FileMatch
from ..validation import TableCheck, Validation
from . import Column, View, captured, data_text, fit

# file names, messages and fixes wrap (never cut); counts and line numbers stay whole
SUMMARY_COLUMNS = [Column("Table"), Column("File", flex="fold", min_width=14),
                   Column("Rows", "right"), Column("Read as", flex="fold", min_width=10),
                   Column("Columns found", flex="fold", min_width=16)]


def table(result: Validation, limit: int | None = None) -> str:
    cells = []
    for check in result.tables:
        if check.file is None:
            cells.append([check.table, "-", "", "", "not found: what needs it is skipped"])
        elif check.failed:
            cells.append([check.table, data_text(check.file), "", "",
                          Text("problems, see below", style="red")])
        else:
            cells.append([check.table, data_text(check.file), f"{check.rows:,}",
                          data_text(check.read_as), data_text(check.columns)])
    summary = fit(SUMMARY_COLUMNS, cells, title=Text("Exports in ") + data_text(result.folder),
                  box=box.HEAVY_HEAD, pad_edge=True, collapse_padding=False)
    shown: list = [Text("config: ") + data_text(result.config_label) + Text(" (valid)"),
                   *summary.shown()]
    return captured(*shown, *assumptions_and_unplaced(result.tables, result.unplaced),
                    *data_errors(result))


def data_errors(result: Validation) -> list:
    """The audit's errors: rows that would silently distort a number."""
    if not result.data_errors:
        return []
    cells = []
    for finding in result.data_errors:  # the first examples of each, the count of all
        for index, example in enumerate(finding.examples):
            first = index == 0
            cells.append([data_text(finding.title if first else ""),
                          f"{finding.count:,}" if first else "", data_text(example.file),
                          "" if example.line is None else f"{example.line:,}",
                          data_text(example.detail), data_text(finding.fix if first else "")])
    columns = [Column("Check", flex="fold", min_width=12), Column("Rows", "right"),
               Column("File", flex="fold", min_width=12), Column("Line", "right"),
               Column("Example", flex="fold", min_width=12),
               Column("Fix", flex="fold", min_width=12)]
    return fit(columns, cells,
               title="Rows that would distort the numbers (the audit's errors)").shown()


def assumptions_and_unplaced(checks: list[TableCheck], unplaced: list[FileMatch]) -> list:
    """The assumptions each file's source made, with the rows they touch, and the files that
    were recognised as no export: what validate and init show under their summary."""
    shown: list = []
    assumptions = [(check, text, count) for check in checks for text, count in check.assumptions]
    if assumptions:
        cells = [[check.table, data_text(check.file), f"{count:,}", data_text(text)]
                 for check, text, count in assumptions]
        columns = [Column("Table"), Column("File", flex="fold", min_width=12),
                   Column("Rows", "right"), Column("Assumption", flex="fold", min_width=20)]
        shown += fit(columns, cells, title="Assumptions made reading the exports (change them "
                                           "in sources: of playbooks.yaml)").shown()
    warnings = [warning for check in checks for warning in check.warnings]
    if warnings:
        cells = [[data_text(warning.file), "" if warning.line is None else f"{warning.line:,}",
                  data_text(warning.value), data_text(warning.message), data_text(warning.fix)]
                 for warning in warnings]
        columns = [Column("File", flex="fold", min_width=12), Column("Line", "right"),
                   Column("Value", flex="fold", min_width=10),
                   Column("What", flex="fold", min_width=14),
                   Column("Fix", flex="fold", min_width=14)]
        shown += fit(columns, cells, title="Warnings: read, but check").shown()
    if unplaced:
        cells = [[data_text(match.path.name), data_text(match.reason)] for match in unplaced]
        columns = [Column("File", flex="fold", min_width=16),
                   Column("Why", flex="fold", min_width=20)]
        shown += fit(columns, cells, title="Files not used (recognised as no export)").shown()
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
