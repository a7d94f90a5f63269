"""The parsed usage export, kept in ``.csops/cache/`` beside the history store, so that the
commands of a session after the first read its coded events with a memory map instead of
parsing the file again.

An entry is keyed by the file (resolved path, size, modification and change times in
nanoseconds, a fingerprint of its content), by the part of the configuration that reads it
(inputs, columns, sources, and the header mapping found) and by the csops version. The change
time cannot be set back by a program (restoring an mtime sets it to now), so an edit that keeps
size and mtime is still seen; the fingerprint (the first and last MiB and 16 samples between,
plus the size) also catches a file replaced on a file system whose times are coarse. An entry
is trusted only after its manifest, its key, the shape and range of every array and the
account ids it was coded against all check out; anything else is a miss, and the file is
parsed and the entry written again. Entries are written into a temporary folder and renamed
into place, so a reader never sees half an entry; old entries are pruned.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

from .. import __version__

if TYPE_CHECKING:
    from ..config import Config
    from .events import EventsRead, UsageRead

FORMAT = 1  # the layout of an entry; a different number is a miss
EDGE_BYTES = 1 << 20  # fingerprinted from each end of the file
SAMPLES, SAMPLE_BYTES = 16, 4096  # and at evenly spaced places between
KEEP_PER_FILE = 2  # entries kept for one input path (the newest)
MAX_TOTAL_BYTES = 4 << 30  # beyond this the oldest entries go
MANIFEST = "manifest.json"
ARRAYS = ("account", "day", "feature", "business_unit", "count", "active_users")
DTYPES = {"account": "int32", "day": "int32", "feature": "int32", "business_unit": "int32",
          "count": "float64", "active_users": "float64"}
# what reading a damaged or foreign entry can raise: each is a miss, never an error
UNREADABLE = (OSError, ValueError, KeyError, TypeError, IndexError, EOFError,
              pa.ArrowException)


@dataclass(frozen=True)
class UsageCache:
    """The cache folder of one history store."""

    folder: Path

    @classmethod
    def beside(cls, history: Path) -> UsageCache:
        return cls(history.parent / "cache")

    def lookup(self, path: Path, key: dict) -> _Entry | None:
        """The entry for this read of the file, if one is stored and its manifest matches;
        its arrays are checked when loaded."""
        try:
            folder = self.folder / _entry_name(path, key)
            manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
        except UNREADABLE:
            return None
        if not isinstance(manifest, dict) or manifest.get("key") != key:
            return None
        return _Entry(folder, manifest)

    def store(self, path: Path, key: dict, result: EventsRead) -> None:
        """Write the entry, under the key taken before the file was read."""
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.folder / _entry_name(path, key)
        temporary = Path(tempfile.mkdtemp(prefix=".writing-", dir=self.folder))
        try:
            _write(temporary, key, result)
            if final.exists():  # an entry found damaged: this one replaces it
                shutil.rmtree(final, ignore_errors=True)
            try:
                os.replace(temporary, final)
            except OSError:  # written meanwhile by another command: keep that one
                shutil.rmtree(temporary, ignore_errors=True)
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise
        prune(self.folder)


def entry_key(read: UsageRead, config: Config) -> dict:
    """What an entry must match to be used: the file's identity and fingerprint, the
    configuration that reads it, the csops version."""
    path = read.path.resolve()
    status = path.stat()
    settings = config.model_dump(mode="json", include={"inputs", "columns", "sources"})
    reading = json.dumps([settings, read.layout, read.preset, read.mapping], sort_keys=True,
                         default=str)
    return {"format": FORMAT, "csops": __version__, "path": str(path),
            "size": status.st_size, "mtime_ns": status.st_mtime_ns,
            "ctime_ns": status.st_ctime_ns, "fingerprint": fingerprint(path, status.st_size),
            "config": hashlib.blake2b(reading.encode(), digest_size=16).hexdigest()}


def fingerprint(path: Path, size: int) -> str:
    """blake2b of the size, the first and last MiB and 16 samples between (the whole file
    when it is small)."""
    digest = hashlib.blake2b(str(size).encode(), digest_size=16)
    with path.open("rb") as handle:
        if size <= 2 * EDGE_BYTES + SAMPLES * SAMPLE_BYTES:
            digest.update(handle.read())
            return digest.hexdigest()
        places = [0] + [EDGE_BYTES + (size - 2 * EDGE_BYTES) * i // (SAMPLES + 1)
                        for i in range(1, SAMPLES + 1)] + [size - EDGE_BYTES]
        for place in places:
            handle.seek(place)
            digest.update(handle.read(EDGE_BYTES if place in (0, size - EDGE_BYTES)
                                      else SAMPLE_BYTES))
    return digest.hexdigest()


def _entry_name(path: Path, key: dict) -> str:
    """``usage-<file>-<key>``: entries of one input path share the first part (pruning)."""
    of_path = hashlib.blake2b(str(path.resolve()).encode(), digest_size=8).hexdigest()
    of_key = hashlib.blake2b(json.dumps(key, sort_keys=True).encode(),
                             digest_size=8).hexdigest()
    return f"usage-{of_path}-{of_key}"


def _write(folder: Path, key: dict, result: EventsRead) -> None:
    events = result.events
    chunks = events.chunks
    arrays = {}
    for name in ARRAYS:
        parts = [getattr(chunk, name) for chunk in chunks]
        if all(part is not None for part in parts) and parts:
            arrays[name] = np.concatenate(parts).astype(DTYPES[name], copy=False)
            np.save(folder / f"{name}.npy", arrays[name], allow_pickle=False)
    texts = {"ids": pa.array(np.asarray(events.ids, dtype=object), pa.string()),
             "unknown_ids": pa.chunked_array([c.unknown_ids for c in chunks], pa.string())}
    if all(chunk.user_id is not None for chunk in chunks):
        texts["user_id"] = pa.chunked_array([c.user_id for c in chunks], pa.string())
    for name, values in texts.items():
        _write_text(folder / f"{name}.arrow", values)
    manifest = {
        "key": key, "rows": len(events), "bounds": [len(chunk) for chunk in chunks],
        "unknown_bounds": [len(chunk.unknown_ids) for chunk in chunks],
        "arrays": sorted(arrays), "texts": sorted(texts), "features": events.features,
        "business_units": events.business_units, "columns": list(events.columns),
        "headers": result.headers}
    # the manifest last: an entry without one is never read
    (folder / MANIFEST).write_text(json.dumps(manifest), "utf-8")


def _write_text(path: Path, values: pa.Array | pa.ChunkedArray) -> None:
    table = pa.table({"value": values})
    with pa.OSFile(str(path), "wb") as sink, ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def _read_text(path: Path) -> pa.Array:
    with pa.memory_map(str(path), "r") as source:
        table = ipc.open_file(source).read_all()
    if table.schema.names != ["value"] or table.schema.field(0).type != pa.string():
        raise ValueError(f"{path.name}: not a column of text")
    return table.column(0).combine_chunks()


@dataclass
class _Entry:
    folder: Path
    manifest: dict

    def load(self, ids, line_of) -> EventsRead | None:
        """The events, memory-mapped, if every part checks out and they were coded against
        the same accounts as ``ids``; None otherwise."""
        try:
            result = self._load(ids, line_of)
        except UNREADABLE:
            return None
        if result is not None:
            os.utime(self.folder)  # recently used: pruned last
        return result

    def _load(self, ids, line_of) -> EventsRead | None:
        from .events import EventChunk, EventsRead, UsageEvents

        manifest = self.manifest
        rows, bounds = int(manifest["rows"]), [int(n) for n in manifest["bounds"]]
        unknown_bounds = [int(n) for n in manifest["unknown_bounds"]]
        features = [str(name) for name in manifest["features"]]
        units = [str(name) for name in manifest["business_units"]]
        if sum(bounds) != rows or len(unknown_bounds) != len(bounds) or min(bounds, default=0) < 0:
            return None
        stored_ids = _read_text(self.folder / "ids.arrow")
        current = pa.array(np.asarray(ids, dtype=object), pa.string())
        if not stored_ids.equals(current):
            return None  # the accounts changed: their positions are other codes
        n = len(current)
        limits = {"account": (0, n), "day": None, "feature": (-1, len(features) - 1),
                  "business_unit": (-1, len(units) - 1), "count": None, "active_users": None}
        arrays = {}
        for name in manifest["arrays"]:
            array = np.load(self.folder / f"{name}.npy", mmap_mode="r", allow_pickle=False)
            if array.dtype != np.dtype(DTYPES[name]) or array.shape != (rows,):
                return None
            bound = limits[name]
            if bound is not None and rows and not (
                    bound[0] <= int(array.min()) and int(array.max()) <= bound[1]):
                return None
            arrays[name] = array
        if "account" not in arrays or "day" not in arrays:
            return None
        unknown = _read_text(self.folder / "unknown_ids.arrow")
        if len(unknown) != sum(unknown_bounds) or \
                len(unknown) != int(np.count_nonzero(arrays["account"] == n)):
            return None
        users = None
        if "user_id" in manifest["texts"]:
            users = _read_text(self.folder / "user_id.arrow")
            if len(users) != rows:
                return None
        chunks, start, unknown_start = [], 0, 0
        for length, unknown_length in zip(bounds, unknown_bounds, strict=True):
            stop = start + length
            chunk = EventChunk(arrays["account"][start:stop], arrays["day"][start:stop],
                               unknown_ids=unknown.slice(unknown_start, unknown_length))
            for name in ("feature", "business_unit", "count", "active_users"):
                if name in arrays:
                    setattr(chunk, name, arrays[name][start:stop])
            if users is not None:
                chunk.user_id = users.slice(start, length)
            chunks.append(chunk)
            start, unknown_start = stop, unknown_start + unknown_length
        events = UsageEvents(ids, chunks, features, units,
                             tuple(str(column) for column in manifest["columns"]))
        return EventsRead(events, [str(header) for header in manifest["headers"]], line_of)


def prune(folder: Path, keep: int = KEEP_PER_FILE, max_bytes: int = MAX_TOTAL_BYTES) -> None:
    """Keep the newest ``keep`` entries of each input path and at most ``max_bytes`` in all
    (the least recently used go first); leftovers of interrupted writes go too."""
    entries = []
    for entry in folder.iterdir():
        try:
            if entry.name.startswith(".writing-"):
                # another command may be writing it right now: only old ones are leftovers
                if _age_seconds(entry) > 3600:
                    shutil.rmtree(entry, ignore_errors=True)
                continue
            if entry.is_dir() and entry.name.startswith("usage-"):
                size = sum(part.stat().st_size for part in entry.iterdir())
                entries.append((entry.stat().st_mtime_ns, entry, size))
        except OSError:
            continue  # gone meanwhile
    entries.sort(reverse=True)  # newest first
    seen: dict[str, int] = {}
    total = 0
    for _, entry, size in entries:
        of_path = entry.name.split("-")[1]
        seen[of_path] = seen.get(of_path, 0) + 1
        total += size
        if seen[of_path] > keep or total > max_bytes:
            shutil.rmtree(entry, ignore_errors=True)
            total -= size


def _age_seconds(path: Path) -> float:
    import time

    return time.time() - path.stat().st_mtime
