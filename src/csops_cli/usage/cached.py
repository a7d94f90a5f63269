"""Per-account usage aggregates kept in the cache of parsed exports, one entry per as_of day,
so that the commands of a session after the first do not tally ten million events again for
a day already tallied (``plays`` after ``health``, ``audit`` after ``metrics``).

An entry is keyed by the usage export's own cache key (the file, what read it, the parsing
code), the accounts the aggregates are aligned to, every part of the :class:`UsageQuery` that
shapes them (login events, core and value features, onboarding starts, the window), the day,
the code of this package and a format number: a changed file, account list or config is a
miss. Days not found are tallied in one pass, as without the cache, and stored.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..loading.cache import UNREADABLE, ExportCache, files_digest
from .backend import UsageBackend
from .rules import UsageAggregates, UsageQuery

FORMAT = 1  # the layout of an aggregates entry
ARRAYS = [spec.name for spec in dataclasses.fields(UsageAggregates) if spec.name != "as_of_day"]


class CachedBackend:
    """``inner``'s aggregates, from the cache for the days it holds."""

    def __init__(self, inner: UsageBackend, cache: ExportCache, events_key: dict, path: Path):
        self.inner, self.cache, self.events_key, self.path = inner, cache, events_key, path

    def aggregate(self, query: UsageQuery) -> dict[int, UsageAggregates]:
        base = self._key(query)
        found: dict[int, UsageAggregates] = {}
        for day in query.as_of_days:
            entry = self.cache.lookup("aggregates", self._of(day), {**base, "day": day})
            aggregates = None if entry is None else _read(entry.folder, entry.manifest, day,
                                                          len(query.ids))
            if aggregates is not None:
                entry.used()
                found[day] = aggregates
        missing = tuple(day for day in query.as_of_days if day not in found)
        if missing:
            computed = self.inner.aggregate(dataclasses.replace(query, as_of_days=missing))
            for day, aggregates in computed.items():
                try:
                    self.cache.store("aggregates", self._of(day), {**base, "day": day},
                                     lambda folder, values=aggregates: _write(folder, values))
                except OSError:
                    pass  # the next command tallies again
            found.update(computed)
        return {day: found[day] for day in query.as_of_days}

    def _of(self, day: int) -> str:
        """Entries are pruned per export and day: the newest two of each are kept."""
        return f"{self.path.resolve()}@{day}"

    def _key(self, query: UsageQuery) -> dict:
        ids = hashlib.blake2b(digest_size=16)
        text = pa.array(np.asarray(query.ids, dtype=object), pa.string())
        for buffer in text.buffers():
            ids.update(b"" if buffer is None else buffer)
        onboarding = np.ascontiguousarray(query.onboarding_start, dtype=np.float64)
        return {"format": FORMAT, "code": _code_digest(), "events": self.events_key,
                "ids": ids.hexdigest(), "accounts": len(query.ids),
                "login_events": sorted(query.login_events),
                "core_features": list(query.core_features),
                "value_features": sorted(query.value_features),
                "onboarding_start": _digest(onboarding.tobytes()),
                "window_days": query.window_days}


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@functools.cache
def _code_digest() -> str:
    """The rules and the tally: a change to either makes every aggregates entry a miss."""
    return files_digest(sorted(Path(__file__).parent.glob("*.py")))


def _write(folder: Path, aggregates: UsageAggregates) -> dict:
    arrays = {}
    for name in ARRAYS:
        values = getattr(aggregates, name)
        if values is not None:
            np.save(folder / f"{name}.npy", values, allow_pickle=False)
            arrays[name] = values.dtype.str
    return {"day": aggregates.as_of_day, "arrays": arrays}


def _read(folder: Path, manifest: dict, day: int, accounts: int) -> UsageAggregates | None:
    """The aggregates of ``day``, if every array is there with its type and length."""
    try:
        if int(manifest["day"]) != day or not set(manifest["arrays"]) <= set(ARRAYS):
            return None
        values = {}
        for name in ARRAYS:
            dtype = manifest["arrays"].get(name)
            if dtype is None:
                values[name] = None
                continue
            array = np.load(folder / f"{name}.npy", allow_pickle=False)
            if array.dtype != np.dtype(dtype) or array.shape != (accounts,):
                return None
            values[name] = array
    except UNREADABLE:
        return None
    return UsageAggregates(as_of_day=day, **values)
