"""The process entry point of ``csops`` and ``python -m csops_cli``: from its first moment, a
Ctrl-C ends the run with exit status 130 and one line on stderr, never a traceback."""

from __future__ import annotations

import signal
import sys

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


def main() -> None:
    signal.signal(signal.SIGINT, _raise_interrupted)
    try:  # the imports too: a Ctrl-C in the first moments lands there
        from .cli import main as run_app

        run_app()
    except KeyboardInterrupt:
        interrupted()
