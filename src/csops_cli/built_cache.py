"""Tables built from the exports, kept in the cache of parsed exports so that a later
command on the same exports reads them instead of building them again: the signal table of
an as_of day (``plays``, ``renewals``, ``metrics``, ``audit`` after ``health``), its health
scores (``plays``, ``renewals`` after ``health``) and the forecast's band rates of an as_of
day (``forecast`` after ``renewals``).

An entry is keyed by the cache key of every export the table was built from (each file, what
read it, the parsing code), the whole configuration, the kind of table, the day, the code of
this package and a format number: anything else is a miss, and the table is built and stored
again. Only exports whose every table was read with the cache have keys; exports cut down to
some accounts (``dataclasses.replace``) have none, so their tables are neither looked up nor
stored.
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
    from .health import Health
    from .loading import Exports

FORMAT = 1  # the layout of an entry
# each is a kind of entry of the cache (loading.cache.KINDS)
KINDS = ("signals", "health", "rates")
# the Health frames with one column per (bucket, signal), in the health kind's table
HEALTH_PARTS = ("signal_scores", "weights", "contributions")


class BuiltCache:
    """The tables of one kind built from one set of exports and configuration, by day."""

    def __init__(self, cache: ExportCache, kind: str, key: dict, of: str):
        self.cache, self.kind, self.key, self.of = cache, kind, key, of

    @classmethod
    def of_exports(cls, exports: Exports, config: Config, kind: str) -> BuiltCache | None:
        """None when a table of ``exports`` was not read with the cache."""
        if kind not in KINDS:
            raise ValueError(f"not a kind of built table: {kind}")
        if exports.cached_as is None:
            return None
        cache, inputs = exports.cached_as
        settings = json.dumps(config.model_dump(mode="json"), sort_keys=True, default=str)
        key = {"format": FORMAT, "csops": __version__, "code": _code_digest(),
               "inputs": inputs,
               "config": hashlib.blake2b(settings.encode(), digest_size=16).hexdigest()}
        return cls(cache, kind, key, f"{kind} of {inputs['accounts']['path']}")

    def get(self, day: int) -> tuple[pd.DataFrame, dict] | None:
        """The table of ``day`` and what was stored beside it, if stored and whole."""
        entry = self.cache.lookup(self.kind, self._of(day), {**self.key, "day": day})
        if entry is None:
            return None
        try:
            manifest = entry.manifest
            frame = read_frame(entry.folder / "frame.arrow", manifest["frame"])
            index = str(manifest["index"])
            if index not in frame.columns or not isinstance(manifest["beside"], dict):
                return None
            frame = frame.set_index(index)
        except UNREADABLE:
            return None
        entry.used()
        return frame, manifest["beside"]

    def put(self, day: int, frame: pd.DataFrame, beside: dict | None = None) -> None:
        """Store the table of ``day`` (its index must be named) and ``beside`` (JSON); a
        table the entry format cannot hold exactly, or a write that fails, leaves it to be
        built again next time."""
        index = frame.index.name
        if not isinstance(index, str) or index in frame.columns:
            return

        def write(folder: Path) -> dict:
            return {"frame": write_frame(folder / "frame.arrow", frame.reset_index()),
                    "index": index, "beside": beside or {}}

        try:
            self.cache.store(self.kind, self._of(day), {**self.key, "day": day}, write)
        except (OSError, NotCacheable, TypeError, ValueError):
            pass

    def get_health(self, day: int, index: pd.Index) -> Health | None:
        """The health scores of ``day``, if stored, whole and of the accounts ``index``."""
        import pandas as pd

        from .health import SCORE_DTYPES, Health

        hit = self.get(day)
        if hit is None:
            return None
        table, beside = hit
        try:
            scores = [str(name) for name in beside["scores"]]
            parts = {part: [tuple(str(key) for key in pair) for pair in beside[part]]
                     for part in HEALTH_PARTS}
            if not table.index.equals(index) or list(table.columns) != scores + [
                    _health_column(part, key) for part in HEALTH_PARTS for key in parts[part]]:
                return None
            # the columns and types scoring makes, whatever the entry says of itself
            dtypes = [str(dtype) for dtype in table.dtypes]
            if list(zip(scores, dtypes, strict=False)) != list(SCORE_DTYPES.items()) or any(
                    dtype != "float64" for dtype in dtypes[len(scores):]):
                return None
            frames = {part: table[[_health_column(part, key) for key in keys]].set_axis(
                pd.MultiIndex.from_tuples(keys), axis=1) for part, keys in parts.items()}
        except (KeyError, TypeError, ValueError):
            return None
        return Health(table[scores], **frames)

    def put_health(self, day: int, health: Health) -> None:
        """Store the health scores of ``day``: one table, the score columns and then each
        (bucket, signal) column of the signal scores, weights and contributions."""
        import pandas as pd

        frames = {part: getattr(health, part) for part in HEALTH_PARTS}
        keys = {part: [list(key) for key in frame.columns] for part, frame in frames.items()}
        table = pd.concat([health.scores] + [
            frame.set_axis([_health_column(part, key) for key in keys[part]], axis=1)
            for part, frame in frames.items()], axis=1)
        self.put(day, table, {"scores": list(health.scores.columns), **keys})

    def _of(self, day: int) -> str:
        """Signal tables and their scores are pruned per accounts export (the newest four days
        are kept, loading.cache.KEEP_BY_KIND), band rates per accounts export and day (the
        newest two)."""
        return f"{self.of}@{day}" if self.kind == "rates" else self.of


def _health_column(part: str, key) -> str:
    """The column of one (bucket, signal) of a Health part, in the health kind's table."""
    return json.dumps([part, *key])


@functools.cache
def _code_digest() -> str:
    """Every module and packaged file of csops: the tables depend on most of them."""
    here = Path(__file__).parent
    return files_digest(sorted(here.rglob("*.py")) + sorted(here.rglob("*.y*ml")))
