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

from rich import box
from rich.cells import cell_len
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


def emit(result: Any, fmt: str, out: Path | None = None, limit: int | None = None) -> None:
    """Write ``result`` in ``fmt`` to ``out`` (stdout when None or '-'), atomically to a file.
    ``limit``: the rows a long table shows (None: all); in CSV, the rows written; in JSON, the
    records of a list."""
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
            rows = form(result)
            data = csv_text(rows if limit is None else rows.head(limit))
        elif fmt == "json":
            record = form(result)
            data = json_text(record[:limit] if isinstance(record, list) else record)
        elif fmt == "table":
            data = form(result, limit=limit)
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
    """The view of the module of this package that renders ``result``'s type. A module
    named in the type's name (``HealthReport``: ``health``) is tried first, so a command
    imports only its own renderer (some import the backtest or the config diff)."""
    from pkgutil import iter_modules

    named = type(result).__name__.lower()
    modules = sorted((module.name for module in iter_modules(__path__)),
                     key=lambda name: name not in named)
    for name in modules:
        view = import_module(f".{name}", __name__).VIEW
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


@dataclass(frozen=True)
class Column:
    """A column of a terminal table and how it gives way to a narrow terminal.

    Numbers, dates, bands and ids are shown whole (``flex`` None). A name may shrink with an
    ellipsis (``flex="ellipsis"``) and a long text wraps (``flex="fold"``), down to
    ``min_width``, before anything is hidden. When that is not enough, the column with the
    lowest ``priority`` is hidden first; a column without one is always shown."""

    name: str | Text
    justify: str = "left"
    flex: str | None = None
    priority: int | None = None
    min_width: int = 10
    max_width: int | None = None
    footer: str | Text = ""


@dataclass
class Fitted:
    """A table built for the terminal's width, its title, and the names of the columns it
    hides."""

    table: Table
    hidden: list[str]
    width: int
    title: str | Text | None = None

    def note(self) -> str | None:
        if not self.hidden:
            return None
        return (f"hidden at {self.width} columns: {', '.join(self.hidden)}; widen the terminal "
                "or use --format csv")

    def shown(self, more: Text | None = None) -> list:
        """The table, the line saying how many rows it leaves out (``more``, from
        :func:`limited`), then the note naming the columns it hides: what a command prints."""
        note = self.note()
        # the title above the table, not in it: a title wider than a narrow table stays on
        # one line
        title = [] if self.title is None else [
            self.title if isinstance(self.title, Text) else Text(self.title)]
        for line in title:
            line.stylize("table.title")
        return [*title, self.table, *([more] if more is not None else []),
                *([Text(note, style="dim")] if note is not None else [])]


def grid(title: str | Text | None = None, **options) -> Table:
    """The look of every csops table: a rule under the header, one space between columns."""
    settings = {"title": title, "title_justify": "left", "header_style": "bold",
                "box": box.SIMPLE_HEAD, "collapse_padding": True, "pad_edge": False}
    return Table(**{**settings, **options})


def fit(columns: list[Column], rows: list[list], title: str | Text | None = None,
        width: int | None = None, sections: set[int] | None = None, **options) -> Fitted:
    """A table of ``rows`` that fits ``width`` (the console's by default): names shrink
    first, then the least important columns are hidden; no column that shows a number, a
    date, a band or an id is ever cut. ``sections``: row positions a rule goes under."""
    width = width or console().width
    natural = [max([_cells(column.name), _cells(column.footer),
                    *(_cells(row[index]) for row in rows)])
               for index, column in enumerate(columns)]
    shown = list(range(len(columns)))
    while True:
        widths = {i: natural[i] if columns[i].flex is None
                  else min(natural[i], columns[i].min_width, columns[i].max_width or natural[i])
                  for i in shown}
        spare = width - _measured(columns, widths, options)
        droppable = [i for i in shown if columns[i].priority is not None]
        if spare >= 0 or not droppable:
            break
        shown.remove(min(droppable, key=lambda i: (columns[i].priority, -i)))
    if spare < 0:  # nothing left to hide: names and texts go below their minimum
        _squeeze(-spare, columns, widths)
    _share(spare, columns, natural, widths)
    table = _built(columns, widths, options)
    for position, row in enumerate(rows):
        table.add_row(*[row[i] for i in shown],
                      end_section=sections is not None and position in sections)
    hidden = [str(columns[i].name) for i in range(len(columns)) if i not in shown]
    return Fitted(table, hidden, width, title)


def _cells(value) -> int:
    if isinstance(value, Text):
        return max((line.cell_len for line in value.split()), default=0)
    return max((cell_len(line) for line in str(value).split("\n")), default=0)


def _built(columns: list[Column], widths: dict[int, int], options) -> Table:
    table = grid(None, show_footer=any(column.footer for column in columns), **options)
    for index, width in widths.items():
        column = columns[index]
        table.add_column(column.name, footer=column.footer, justify=column.justify,
                         width=width, no_wrap=column.flex != "fold",
                         overflow=column.flex or "ellipsis")
    return table


def _measured(columns: list[Column], widths: dict[int, int], options) -> int:
    """The width rich needs for these columns at these widths, padding and rules included."""
    table = _built(columns, widths, options)
    wide = console()
    return table.__rich_measure__(wide, wide.options.update_width(10**6)).maximum


def _squeeze(excess: int, columns: list[Column], widths: dict[int, int],
             floor: int = 4) -> None:
    """Take ``excess`` characters from the columns that may shrink, evenly, down to
    ``floor``."""
    while excess > 0:
        shrinking = [i for i in widths if columns[i].flex is not None and widths[i] > floor]
        if not shrinking:
            return
        for index in shrinking:
            if excess == 0:
                return
            widths[index] -= 1
            excess -= 1


def _share(spare: int, columns: list[Column], natural: list[int],
           widths: dict[int, int]) -> None:
    """Give the room left over to the columns that shrank, a character at a time, evenly."""
    while spare > 0:
        growing = [i for i in widths if columns[i].flex is not None
                   and widths[i] < min(natural[i], columns[i].max_width or natural[i])]
        if not growing:
            return
        for index in growing:
            if spare == 0:
                return
            widths[index] += 1
            spare -= 1


def limited(frame, limit: int | None):
    """The first ``limit`` rows of ``frame`` (all when None) and the line saying how many
    more there are (None when none)."""
    if limit is None or len(frame) <= limit:
        return frame, None
    return frame.head(limit), more(len(frame) - limit)


def more(count: int) -> Text:
    return Text(f"… and {count:,} more (--all to show every row)", style="dim")


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
        err.print(_problem_table(group, err.width))
    if error.total > len(problems):
        err.print(f"... and {error.total - len(problems)} more ({error.total} in all)")


def _problem_table(problems: list[Problem], width: int | None = None) -> Table:
    """The problems of one file; line numbers whole, values, messages and fixes wrap."""
    has = {name: any(getattr(p, name) not in (None, "") for p in problems)
           for name in ("line", "column", "value", "fix")}
    columns = {"line": Column("line", "right"), "column": Column("column", flex="fold"),
               "value": Column("value", flex="fold", max_width=30),
               "problem": Column("problem", flex="fold", min_width=20),
               "fix": Column("fix", flex="fold", min_width=16)}
    shown = [name for name in columns if name == "problem" or has[name]]
    cells = [[data_text(_problem_cell(problem, name)) for name in shown]  # from files
             for problem in problems]
    return fit([columns[name] for name in shown], cells, width=width, box=None,
               collapse_padding=False, show_edge=False).table


def _problem_cell(problem: Problem, name: str) -> str:
    if name == "line":
        return "" if problem.line is None else str(problem.line)
    if name == "problem":
        return problem.message
    return getattr(problem, name) or ""


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
