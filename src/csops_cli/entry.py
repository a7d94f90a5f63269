"""The process entry point of ``csops`` and ``python -m csops_cli``: from its first moment, a
Ctrl-C ends the run with exit status 130 and one line on stderr, never a traceback. When the
command is done, the process ends at once: exit handlers run and the output is flushed, but
the interpreter does not free every table one object at a time (a tenth to a quarter of a
second after a large run, at the end of every command)."""

from __future__ import annotations

import atexit
import os
import signal
import sys
from typing import NoReturn

INTERRUPTED = 130  # 128 + SIGINT, as shells report it (errors.ExitCode.INTERRUPTED)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C. Raised as its own type: CPython remembers a plain KeyboardInterrupt that passes
    through generated code (dataclass methods, typer's) and then ends the process by SIGINT,
    even when the interrupt was handled and the exit status chosen."""


def _raise_interrupted(signum, frame):
    raise Interrupted


def interrupted() -> None:
    sys.stderr.write("\ninterrupted\n")
    sys.stderr.flush()
    sys.exit(INTERRUPTED)


def run() -> None:
    """Run the command line; it ends by raising SystemExit, as any click program does."""
    signal.signal(signal.SIGINT, _raise_interrupted)
    try:  # the imports too: a Ctrl-C in the first moments lands there
        from .cli import main as run_app

        run_app()
    except KeyboardInterrupt:
        interrupted()


def main() -> NoReturn:
    """The process: :func:`run`, then :func:`leave` with its exit status."""
    try:
        run()
    except SystemExit as done:
        leave(done.code)
    leave(0)


def leave(code: object) -> NoReturn:
    """End the process with ``code`` as :class:`SystemExit` would (None: 0; text: printed
    on stderr, 1), after the exit handlers and a flush of stdout and stderr, without the
    interpreter's teardown. Output that cannot be flushed (a closed pipe) ends it with 120,
    as CPython does."""
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        sys.stderr.write(f"{code}\n")
        status = 1
    atexit._run_exitfuncs()  # what an ordinary exit runs first: temporary files, logging
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader that went away, a stream already closed
            status = status or 120
    os._exit(status)
