"""How many threads reading and tallying usage may use: the cores this process may run on,
or the number ``CSOPS_THREADS`` gives; less inside :func:`limited`."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import ProblemCode, UsageError

VARIABLE = "CSOPS_THREADS"
# Each reading thread holds its own blocks in flight: measured on 10 M events (660 MB of CSV),
# peak memory grows by 60-80 MiB a thread (1,061 MiB at 2, 1,524 at 8, 1,636 at 16): past 8 the
# 2 GB budget is at risk for what a laptop's cores give back. Small files stay lower still:
# a part is never smaller than the reader's least part size.
MAX_THREADS = 8
_here = threading.local()  # limit: set by limited() on this thread


def thread_count() -> int:
    """``CSOPS_THREADS`` when set (any positive number, uncapped: the user decides), else the
    cores this process may run on, at most :data:`MAX_THREADS`."""
    text = os.environ.get(VARIABLE)
    if text is not None:
        try:
            count = int(text.strip())
        except ValueError:
            count = 0
        if count < 1:
            raise UsageError(f"{VARIABLE}={text!r} is not a number of threads: set it to a "
                             f"positive whole number (e.g. {VARIABLE}=4), or unset it to use "
                             "every core", code=ProblemCode.INVALID_VALUE)
    else:
        count = max(1, min(_cores(), MAX_THREADS))
    limit = getattr(_here, "limit", None)
    return count if limit is None else min(count, limit)


@contextmanager
def limited(count: int) -> Iterator[None]:
    """Within the block, on this thread, :func:`thread_count` gives at most ``count``: work
    already spread over the cores one level up (several past dates at once) keeps what it
    does inside on that many threads."""
    previous = getattr(_here, "limit", None)
    _here.limit = count
    try:
        yield
    finally:
        _here.limit = previous


def _cores() -> int:
    """The cores this process may run on: its CPU affinity where the system has one (a
    container or `taskset` may allow fewer than the machine has)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1
