"""What data commands share: reading the config and the exports named by the options."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..options import Inputs

if TYPE_CHECKING:
    from pathlib import Path

    from rich.console import Console
    from rich.progress import Progress, TaskID

    from ..config import Config
    from ..history import History
    from ..loading import Exports


def load(inputs: Inputs, history: Path | None = None) -> tuple[Config, Exports]:
    """The configuration and every export, with a note of each on stderr. Parsed exports are
    cached beside the ``history`` store (default: .csops/), unless --no-cache."""
    from ..config import load_config
    from ..loading.cache import ExportCache, new_command
    from ..options import DEFAULT_HISTORY
    from ..render import note

    quiet = inputs.quiet
    label, config = load_config(inputs.config, inputs.data)
    note(f"config: {label}", quiet)
    # each file is recognised once; the large usage export's parse starts before the other
    # exports load, and is stopped on any way out
    from ..loading.events import usage_read
    from ..loading.recognise import recognise

    matches = recognise(inputs.data, config, inputs.files())
    cache = None if inputs.no_cache else ExportCache.beside(history or DEFAULT_HISTORY)
    new_command()
    with slow_status("reading exports", quiet), \
            usage_read(inputs.data, inputs.files(), config, matches, cache) as early:
        from ..loading import load_exports

        exports = load_exports(inputs.data, config, inputs.files(), early=early,
                               matches=matches, cache=cache)
    for table in exports.tables():
        for warning in table.warnings:  # read, but a person should check
            note(f"warning: {warning.file}, line {warning.line}: {warning.message}", quiet)
        if table.preset:
            note(f"{table.path.name}: read as a {table.preset} export", quiet)
    if inputs.as_of is None:
        note_future_dated(exports, quiet)
    return config, exports


def note_future_dated(exports: Exports, quiet: bool = False) -> None:
    """Rows dated after today do not set the default as_of: say how many, and where."""
    from ..dates import today_date
    from ..render import note
    from ..signals import default_as_of, future_dated

    today = today_date()
    found = future_dated(exports, today)
    if not found:
        return
    as_of = default_as_of(exports, today)
    for rows in found:
        note(f"warning: {rows.file}: {rows.rows:,} row(s) dated after today "
             f"({today:%Y-%m-%d}) are future-dated; as_of defaults to {as_of:%Y-%m-%d}, the "
             "latest date not after today (--as-of DATE to choose another)", quiet)


def output_format(out: Path | None, requested: str | None) -> str:
    """--format, else the --out suffix, else a table; checked before any export is read."""
    from ..output import check_out, format_for

    check_out(out)
    return format_for(out, requested)


def refuse_out_over_inputs(out: Path | None, inputs: Inputs, exports: Exports,
                           history: Path | None = None) -> None:
    """--out must not be a file the run reads: an export, a lookup, the config (any file
    that may be it) or the history store."""
    from pathlib import Path

    from ..config import DEFAULT_CONFIG_NAME
    from ..output import refuse_inputs

    read = [("an export", path) for table in exports.tables() for path in table.paths]
    read += [("an export", match.path) for match in exports.files if match.kind == "lookup"]
    configs = [inputs.config] if inputs.config is not None else \
        [inputs.data / DEFAULT_CONFIG_NAME, Path(DEFAULT_CONFIG_NAME)]
    read += [("the configuration", path) for path in configs]
    read += [("the history store", history)] if history is not None else []
    refuse_inputs(out, read)


def load_with_history(inputs: Inputs, out: Path | None, history: Path
                      ) -> tuple[Config, Exports, History]:
    """What a command that keeps history starts with: the configuration and the exports
    (:func:`load`), --out checked against every file the run reads, and the history store."""
    config, exports = load(inputs, history)
    refuse_out_over_inputs(out, inputs, exports, history)
    return config, exports, open_history(history, exports, inputs.quiet)


def open_history(path: Path, exports: Exports, quiet: bool = False) -> History:
    """The history store of this data set, checked (and upgraded) now, with a note of what a
    person should know about it."""
    from ..history import History, data_set_of
    from ..render import note

    store = History.open(path, data_set_of(exports))
    for message in store.notes:
        note(message, quiet)
    return store


@contextmanager
def slow_status(message: str, quiet: bool = False) -> Iterator[None]:
    """A phase of a command's own: shown like the core's phases, on stderr once it has taken
    a second, while the command shows progress (see :func:`progress_shown`)."""
    from .. import progress

    if quiet:
        yield
        return
    with progress.phase(message):
        yield


@contextmanager
def progress_shown(quiet: bool = False) -> Iterator[None]:
    """Show the phases of the block that run over a second on stderr, when stderr is a
    terminal and the command is not --quiet; otherwise nothing."""
    from .. import progress
    from ..render import console

    err = console(stderr=True)
    # a dumb terminal cannot redraw a line: nothing there either
    display = None if quiet or not err.is_interactive else TerminalProgress(err)
    with progress.shown(display):
        yield


class TerminalProgress:
    """rich's progress display on a terminal, for the phases that run over ``after_seconds``.

    A phase appears once it is that old (a fast run shows nothing, no flicker) and goes when
    it ends; with no phase left the display goes too (transient), so that stdout's table is
    never written under a live display. Phases may begin and end in worker threads."""

    def __init__(self, err: Console, after_seconds: float = 1.0):
        self.err = err
        self.after_seconds = after_seconds
        self.lock = threading.RLock()
        self.live: Progress | None = None  # while a slow phase runs
        self.closed = False

    def begin(self, description: str, total: int | None) -> _Phase:
        shown = _Phase(description, total)
        shown.timer = threading.Timer(self.after_seconds, self._show, args=(shown,))
        shown.timer.daemon = True
        shown.timer.start()
        return shown

    def advance(self, handle: object, steps: int) -> None:
        assert isinstance(handle, _Phase)
        with self.lock:
            handle.done += steps
            if handle.task is not None and self.live is not None:
                self.live.update(handle.task, completed=handle.done)

    def end(self, handle: object) -> None:
        assert isinstance(handle, _Phase)
        handle.timer.cancel()
        with self.lock:
            handle.ended = True
            if handle.task is not None and self.live is not None:
                self.live.remove_task(handle.task)
                if not self.live.tasks:
                    self._stop()

    def close(self) -> None:
        with self.lock:
            self.closed = True
            self._stop()

    def _show(self, handle: _Phase) -> None:
        from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn

        with self.lock:
            if handle.ended or self.closed:
                return
            if self.live is None:
                # stdout is the data's: rich must not route it through this display
                self.live = Progress(
                    SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                    TaskProgressColumn(), TextColumn("{task.fields[since]}"), console=self.err,
                    transient=True, redirect_stdout=False, redirect_stderr=False)
                self.live.start()
            handle.task = self.live.add_task(handle.description, total=handle.total,
                                             completed=handle.done, since=_Since(handle.began))

    def _stop(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None


class _Since:
    """The time since a phase began, as m:ss, whenever the display is drawn."""

    def __init__(self, began: float):
        self.began = began

    def __str__(self) -> str:
        minutes, seconds = divmod(int(time.monotonic() - self.began), 60)
        return f"{minutes}:{seconds:02d}"


@dataclass
class _Phase:
    description: str
    total: int | None
    began: float = field(default_factory=time.monotonic)
    done: int = 0
    ended: bool = False
    task: TaskID | None = None  # its row in the display, once shown
    timer: threading.Timer = field(init=False)
