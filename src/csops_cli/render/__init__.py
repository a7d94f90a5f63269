"""Rendering: every result becomes a rich table, CSV or JSON through one ``emit``.

Each module of this package renders one kind of result and declares a :class:`View`; ``emit``
picks the view by the result's type and the format, so the table/CSV/JSON choice is written once.
Errors and notes go to stderr. Text from data reaches rich as ``Text``, never as markup.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..errors import MAX_PROBLEMS_SHOWN, CsopsError


@dataclass(frozen=True)
class View:
    """How one type of result is shown: a table for people, rows for CSV (and spreadsheets),
    a record for JSON, Markdown for documents. A view without a form refuses that format."""

    kind: type | tuple[type, ...]
    table: Callable[[Any], str]
    rows: Callable[[Any], Any] | None = None  # a DataFrame
    record: Callable[[Any], Any] | None = None  # JSON-ready values
    markdown: Callable[[Any], str] | None = None


def emit(result: Any, fmt: str, out: Path | None = None) -> None:
    """Write ``result`` in ``fmt`` to ``out`` (stdout when None or '-'), atomically to a file."""
    from ..output import csv_text, json_text, write_text

    view = view_of(result)
    form = {"table": view.table, "csv": view.rows, "json": view.record,
            "markdown": view.markdown}[fmt]
    if form is None:
        from ..errors import UsageError

        raise UsageError(f"--format {fmt}: not available for this command")
    if fmt == "csv":
        text = csv_text(form(result))
    elif fmt == "json":
        text = json_text(form(result))
    else:
        text = form(result)
    write_text(out, text)


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
                   highlight=False, soft_wrap=False)


def note(message: str, quiet: bool = False) -> None:
    if not quiet:
        console(stderr=True).print(Text(message, style="dim"))


def show_error(error: CsopsError) -> None:
    err = console(stderr=True)
    err.print(Text("error: ", style="bold red") + Text(error.message))
    problems = error.problems[:MAX_PROBLEMS_SHOWN]
    if not problems:
        return
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    has = {name: any(getattr(p, name) not in (None, "") for p in problems)
           for name in ("line", "column", "value", "fix")}
    table.add_column("file")
    if has["line"]:
        table.add_column("line", justify="right")
    if has["column"]:
        table.add_column("column")
    if has["value"]:
        table.add_column("value", overflow="fold", max_width=30)
    table.add_column("problem")
    if has["fix"]:
        table.add_column("fix", overflow="fold")
    for problem in problems:
        row = [problem.file]
        if has["line"]:
            row.append("" if problem.line is None else str(problem.line))
        if has["column"]:
            row.append(problem.column or "")
        if has["value"]:
            row.append(problem.value or "")
        row.append(problem.message)
        if has["fix"]:
            row.append(problem.fix or "")
        table.add_row(*[Text(cell) for cell in row])  # values come from files: not markup
    err.print(table)
    if error.total > len(problems):
        err.print(f"... and {error.total - len(problems)} more ({error.total} in all)")


def band_text(band) -> Text:
    if band is None or band != band:
        return Text("")
    return Text(str(band), style=BAND_STYLES.get(str(band), ""))


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


def blank_if_missing(value) -> str:
    import pandas as pd

    return "" if value is None or pd.isna(value) else str(value)
