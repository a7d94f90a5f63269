"""Signal tables kept in the cache of parsed exports, one entry per as_of day, so that the
commands of a session after the first (``plays``, ``renewals``, ``metrics``, ``audit`` after
``health``) do not build a day's table again.

An entry is keyed by the cache key of every export the table was built from (each file, what
read it, the parsing code), the whole configuration, the day, the code of this package and a
format number: anything else is a miss, and the table is built and stored again. Only exports
whose every table was read with the cache have keys; exports cut down to some accounts
(``dataclasses.replace``) have none, so their tables are neither looked up nor stored. The
backtest's tables (contracts counted from the day they were known, a dozen past dates and
more) are not kept: no other command reads them, and each is tens of MB at 100,000 accounts.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .loading.cache import (
    UNREADABLE,
    ExportCache,
    NotCacheable,
    files_digest,
    read_frame,
    write_frame,
)

if TYPE_CHECKING:
    import pandas as pd

    from .config import Config
    from .loading import Exports

FORMAT = 1  # the layout of a signals entry


class SignalCache:
    """The signal tables of one set of exports and configuration, by day."""

    def __init__(self, cache: ExportCache, key: dict, of: str):
        self.cache, self.key, self.of = cache, key, of

    @classmethod
    def of_exports(cls, exports: Exports, config: Config, as_known: bool
                   ) -> SignalCache | None:
        """None when a table of ``exports`` was not read with the cache, and for the
        backtest's tables (``as_known``)."""
        if exports.cached_as is None or as_known:
            return None
        cache, inputs = exports.cached_as
        settings = json.dumps(config.model_dump(mode="json"), sort_keys=True, default=str)
        key = {"format": FORMAT, "csops": __version__, "code": _code_digest(),
               "inputs": inputs,
               "config": hashlib.blake2b(settings.encode(), digest_size=16).hexdigest()}
        return cls(cache, key, f"signals of {inputs['accounts']['path']}")

    def get(self, day: int) -> tuple[pd.DataFrame, tuple[str, ...]] | None:
        """The table of ``day`` and what it skipped, if stored and whole."""
        entry = self.cache.lookup("signals", self._of(day), {**self.key, "day": day})
        if entry is None:
            return None
        try:
            manifest = entry.manifest
            frame = read_frame(entry.folder / "frame.arrow", manifest["frame"])
            index = str(manifest["index"])
            if index not in frame.columns:
                return None
            skipped = tuple(str(reason) for reason in manifest["skipped"])
            frame = frame.set_index(index)
        except UNREADABLE:
            return None
        entry.used()
        return frame, skipped

    def put(self, day: int, frame: pd.DataFrame, skipped: tuple[str, ...]) -> None:
        """Store the table of ``day``; a table the entry format cannot hold exactly, or a
        write that fails, leaves it to be built again next time."""
        index = frame.index.name
        if not isinstance(index, str) or index in frame.columns:
            return

        def write(folder: Path) -> dict:
            return {"frame": write_frame(folder / "frame.arrow", frame.reset_index()),
                    "index": index, "skipped": list(skipped)}

        try:
            self.cache.store("signals", self._of(day), {**self.key, "day": day}, write)
        except (OSError, NotCacheable):
            pass

    def _of(self, day: int) -> str:
        """Entries are pruned per accounts export and day: the newest two are kept."""
        return f"{self.of}@{day}"


@functools.cache
def _code_digest() -> str:
    """Every module and packaged file of csops: the signals depend on most of them."""
    here = Path(__file__).parent
    return files_digest(sorted(here.rglob("*.py")) + sorted(here.rglob("*.y*ml")))
