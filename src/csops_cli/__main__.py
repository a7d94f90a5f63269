import signal
import sys


class Interrupted(KeyboardInterrupt):
    """Ctrl-C. Raised as its own type: CPython remembers a plain KeyboardInterrupt that passes
    through generated code (dataclass methods, typer's) and then ends the process by SIGINT,
    even when the interrupt was handled and the exit status chosen."""


def interrupt(signum, frame):
    raise Interrupted


signal.signal(signal.SIGINT, interrupt)
try:  # the imports too: a Ctrl-C in the first moments lands there
    from csops_cli.cli import main

    main()
except KeyboardInterrupt:
    sys.stderr.write("interrupted\n")
    sys.exit(130)
