"""The Typer app and its error boundary. Commands register here; nothing in the core imports it.

Domain errors become a message on stderr and exit code 2 in one place (``command``); Ctrl-C
becomes exit 130 there too; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable

import typer

from .errors import CsopsError

app = typer.Typer(
    name="csops",
    help="Customer Success Operations from your CRM, usage and activity exports: health "
         "scores, core metrics, plays and renewals.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals hold customer data
    add_completion=False,
    rich_markup_mode=None,
)


def command(name: str | None = None) -> Callable:
    """Register a command whose domain errors become a message on stderr and an exit code."""

    def register(function: Callable) -> Callable:
        @functools.wraps(function)
        def run_command(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except CsopsError as error:
                from .render import show_error

                _forget_cache_entries()
                show_error(error)
                raise typer.Exit(int(error.exit_code)) from None
            except KeyboardInterrupt:
                _forget_cache_entries()
                _interrupted()

        app.command(name)(run_command)
        return function

    return register


def _forget_cache_entries() -> None:
    """A refused or interrupted command leaves no new entry in the cache of parsed
    exports."""
    cache = sys.modules.get("csops_cli.loading.cache")  # not imported: nothing written
    if cache is not None:
        cache.forget_written()


def version_callback(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"csops {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(False, "--version", callback=version_callback, is_eager=True,
                                 help="Show the version and exit."),
) -> None:
    """csops: health scores, core CS metrics, plays and renewals from your exports."""


def run() -> None:
    """Run the app; an interrupt (Ctrl-C) is an exit status, not a traceback."""
    try:
        app()
    except KeyboardInterrupt:  # outside a command body (while parsing options, say)
        _interrupted()


def _interrupted() -> None:
    from .entry import interrupted

    interrupted()
