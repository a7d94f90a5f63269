"""Rendering: every result becomes a rich table, CSV or JSON through one ``emit``.

Each module of this package renders one kind of result and declares a :class:`View`; ``emit``
picks the view by the result's type and the format, so the table/CSV/JSON choice is written once.
Errors and notes go to stderr. Text from data reaches rich as ``Text``, never as markup, and
with its control characters made visible (:func:`data_text`); the consoles here interpret no
markup or emoji codes at all, so a plain string is shown as written too.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .. import progress
from ..errors import MAX_PROBLEMS_SHOWN, CsopsError, Problem

# C0 controls but tab, DEL and C1 controls: ESC, BEL, CR, LF, ... would move the cursor,
# retitle the terminal or hide text
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_VISIBLE = {"\n": "\\n", "\r": "\\r"}


def visible(text: str) -> str:
    """``text`` with each control character written out (``\\x1b``, ``\\r``, ``\\n``): what
    every renderer shows of text from data, on a terminal, a pipe or a file."""
    return _CONTROL.sub(lambda found: _VISIBLE.get(found.group(),
                                                   f"\\x{ord(found.group()):02x}"), text)


def data_text(value: Any, style: str = "") -> Text:
    """Text from data (a name, a value, a file name) as rich shows it: never markup, control
    characters visible."""
    return Text(visible("" if value is None else str(value)), style=style)


@dataclass(frozen=True)
class View:
    """How one type of result is shown: a table for people, rows for CSV (and spreadsheets),
    a record for JSON, Markdown for documents. A view without a form refuses that format."""

    kind: type | tuple[type, ...]
    table: Callable[[Any], str] | None
    rows: Callable[[Any], Any] | None = None  # a DataFrame
    record: Callable[[Any], Any] | None = None  # JSON-ready values
    markdown: Callable[[Any], str] | None = None
    html: Callable[[Any], str] | None = None  # a whole page
    # several tables, each a sheet of a workbook: [(sheet name, DataFrame)]; else `rows`
    sheets: Callable[[Any], list[tuple[str, Any]]] | None = None


def emit(result: Any, fmt: str, out: Path | None = None) -> None:
    """Write ``result`` in ``fmt`` to ``out`` (stdout when None or '-'), atomically to a file."""
    from ..output import csv_text, json_text

    view = view_of(result)
    form = {"table": view.table, "csv": view.rows, "json": view.record,
            "markdown": view.markdown, "html": view.html,
            "xlsx": view.sheets or view.rows}[fmt]
    if form is None:
        from ..errors import UsageError

        raise UsageError(f"--format {fmt}: not available for this command")
    to_file = out is not None and str(out) != "-"
    # on stdout, any progress display on stderr is gone before the text is written
    with progress.phase(f"writing {out.name}" if to_file else "formatting"):
        if fmt == "xlsx":
            from ..output import xlsx_bytes

            sheets = form(result) if view.sheets else [(sheet_name(result), form(result))]
            data: str | bytes = xlsx_bytes(sheets)
        elif fmt == "csv":
            data = csv_text(form(result))
        elif fmt == "json":
            data = json_text(form(result))
        else:
            data = form(result)
        if to_file:
            write(out, data)
    if not to_file:
        write(out, data)


def write(out: Path | None, data: str | bytes) -> None:
    """Text or a workbook's bytes to ``out``: atomically to a file, else to stdout."""
    from ..output import write_bytes, write_text

    if isinstance(data, bytes):
        write_bytes(out, data)
    else:
        write_text(out, data)


def sheet_name(result: Any) -> str:
    """What a one-table result is, as a sheet name: HealthReport -> "Health"."""
    words = re.findall(r"[A-Z][a-z]*", type(result).__name__)
    words = [w for w in words if w not in ("Report", "Result")] or words
    return " ".join([words[0], *[w.lower() for w in words[1:]]])


def view_of(result: Any) -> View:
    """The view of the module of this package that renders ``result``'s type."""
    from pkgutil import iter_modules

    for module in iter_modules(__path__):
        view = import_module(f".{module.name}", __name__).VIEW
        if isinstance(result, view.kind):
            return view
    raise TypeError(f"no view renders {type(result).__name__}")  # a bug, not user input


def captured(*renderables) -> str:
    """What printing these on stdout's console would show, as text."""
    out = console()
    with out.capture() as capture:
        for renderable in renderables:
            out.print(renderable)
    return capture.get()


BAND_STYLES = {"green": "bold green", "yellow": "bold yellow", "red": "bold red"}


def console(stderr: bool = False, file=None) -> Console:
    stream = file or (sys.stderr if stderr else sys.stdout)
    interactive = hasattr(stream, "isatty") and stream.isatty()
    width = None if interactive else int(os.environ.get("COLUMNS", 160))
    return Console(file=stream, width=width, no_color="NO_COLOR" in os.environ or None,
                   highlight=False, soft_wrap=False, markup=False, emoji=False)


def note(message: str, quiet: bool = False) -> None:
    if not quiet:
        console(stderr=True).print(data_text(message, style="dim"))


def show_error(error: CsopsError) -> None:
    """The message, then the problems as a table per file: the file named once above its table,
    in full, so that no row loses which file it concerns however long the path."""
    err = console(stderr=True)
    err.print(Text("error: ", style="bold red") + data_text(error.message))
    problems = error.problems[:MAX_PROBLEMS_SHOWN]
    by_file: dict[str, list[Problem]] = {}
    for problem in problems:
        by_file.setdefault(problem.file or "", []).append(problem)
    for file, group in by_file.items():
        if file:
            # one line however long: a terminal wraps it, nothing cuts it
            err.print(data_text(file, style="bold") + Text(":"), soft_wrap=True)
        err.print(_problem_table(group))
    if error.total > len(problems):
        err.print(f"... and {error.total - len(problems)} more ({error.total} in all)")


def _problem_table(problems: list[Problem]) -> Table:
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    has = {name: any(getattr(p, name) not in (None, "") for p in problems)
           for name in ("line", "column", "value", "fix")}
    if has["line"]:
        table.add_column("line", justify="right")
    if has["column"]:
        table.add_column("column")
    if has["value"]:
        table.add_column("value", overflow="fold", max_width=30)
    table.add_column("problem", overflow="fold")
    if has["fix"]:
        table.add_column("fix", overflow="fold")
    for problem in problems:
        row = []
        if has["line"]:
            row.append("" if problem.line is None else str(problem.line))
        if has["column"]:
            row.append(problem.column or "")
        if has["value"]:
            row.append(problem.value or "")
        row.append(problem.message)
        if has["fix"]:
            row.append(problem.fix or "")
        table.add_row(*[data_text(cell) for cell in row])  # values come from files
    return table


def band_text(band) -> Text:
    if band is None or band != band:
        return Text("")
    return data_text(band, style=BAND_STYLES.get(str(band), ""))


def number(value, decimals: int = 1, signed: bool = False) -> str:
    if value is None or value != value:
        return ""
    return f"{value:+.{decimals}f}" if signed else f"{value:,.{decimals}f}"


def metric_value(unit: str, value) -> str:
    """A metric as people read it: ratios as percentages, TTFV in days, other units plain."""
    if value is None:
        return "n/a"
    if unit == "ratio":
        return f"{value:.1%}"
    if unit == "days":
        return f"{value:.0f} days"
    return f"{value:.2f}"


def money(value) -> str:
    if value is None or value != value:
        return ""
    return f"{value:,.0f}"


def blank_if_missing(value) -> Text:
    """A cell from data that may be missing: blank then, else its visible text."""
    import pandas as pd

    return data_text("" if value is None or pd.isna(value) else value)
