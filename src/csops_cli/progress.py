"""Progress of the phases of a run that can take a while: reading each export, building
signals, scoring, rebuilding past dates, writing.

The core marks a phase with ``with progress.phase("reading usage.csv"):`` (and, when it goes
through steps it can count, such as past dates, calls the ``advance`` it is given once per
step). Whether and how it is shown is the command line's business: nothing is shown unless a
command installed a display with :func:`shown`. A mark is a few calls per phase, never work
per row. The core never knows about terminals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol, TypeVar

T = TypeVar("T")
Advance = Callable[..., None]  # advance(steps=1): that many more steps of the phase are done


class Display(Protocol):
    """What shows phases to a person (the command line's terminal display)."""

    def begin(self, description: str, total: int | None) -> object:
        """A phase starts; the handle returned is passed to ``advance`` and ``end``."""

    def advance(self, handle: object, steps: int) -> None: ...

    def end(self, handle: object) -> None: ...

    def close(self) -> None:
        """Nothing is shown any more: the run is over."""


# one display for the whole process: the phases of reading run in worker threads too
_display: Display | None = None


def _unseen(steps: int = 1) -> None:
    """advance() when nothing is shown."""


@contextmanager
def phase(description: str, total: int | None = None) -> Iterator[Advance]:
    """A phase of work named ``description`` (``total`` steps, if it can count them); yields
    ``advance(steps=1)``."""
    display = _display
    if display is None:
        yield _unseen
        return
    handle = display.begin(description, total)

    def advance(steps: int = 1) -> None:
        display.advance(handle, steps)

    try:
        yield advance
    finally:
        display.end(handle)


@contextmanager
def shown(display: Display | None) -> Iterator[None]:
    """Show the phases of the block on ``display`` (None: show nothing)."""
    global _display
    previous, _display = _display, display
    try:
        yield
    finally:
        _display = previous
        if display is not None:
            display.close()


def steps(items: Sequence[T], description: str) -> Iterator[T]:
    """``items`` one by one, each a step of the phase ``description``: ``for date in
    progress.steps(dates, "scoring past dates")``."""
    with phase(description, total=len(items)) as advance:
        for item in items:
            yield item
            advance()
