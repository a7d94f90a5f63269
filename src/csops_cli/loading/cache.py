"""Parsed exports, kept in ``.csops/cache/`` beside the history store, so that the commands of
a session after the first open them instead of parsing the files again: the usage export's
coded events (memory-mapped arrays) and the small tables (accounts, contracts, activities,
team) as they come out of their loader, with every warning and assumption it gave. What is
built from them is kept here too, under their keys: the usage aggregates of a day
(:mod:`..usage.cached`), the signal table and the band rates of a day
(:mod:`..built_cache`).

An entry is keyed by the file (resolved path, size, modification and change times in
nanoseconds, a fingerprint of its content), by what reads it (the configuration's inputs,
columns and sources, the header mapping or source found), by the csops version and by a
digest of the code that parses (this package), so that a changed reader, or a changed field
of :class:`~csops_cli.loading.events.EventChunk`, is a miss. The change time cannot be set
back by a program (restoring an mtime sets it to now), so an edit that keeps size and mtime is
still seen; the fingerprint (the first and last MiB and 16 samples between, plus the size)
also catches a file replaced on a file system whose times are coarse.

An entry is trusted only after its manifest, its key, the shape, type and range of every
array and the account ids its events were coded against all check out; anything else is a
miss, and the file is parsed and the entry written again. Entries are written into a
temporary folder and renamed into place, so a reader never sees half an entry; old ones are
pruned (the newest two per file, a total size). A command refused with an error removes the
entries it wrote (:func:`forget_written`).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

from .. import __version__

if TYPE_CHECKING:
    import pandas as pd

    from ..config import Config
    from .events import EventsRead, UsageRead
    from .recognise import FileMatch
    from .tables import Table

FORMAT = 2  # the layout of an entry; a different number is a miss
EDGE_BYTES = 1 << 20  # fingerprinted from each end of the file
SAMPLES, SAMPLE_BYTES = 16, 4096  # and at evenly spaced places between
KEEP_PER_FILE = 2  # entries kept for one input file and kind (the newest)
# but the signal tables (and their scores) of one accounts export: a session reads those of
# three days (as_of, a week before, the metrics' look-back); each is tens of MB at 100,000
# accounts
KEEP_BY_KIND = {"signals": 4, "health": 4}
MAX_TOTAL_BYTES = 4 << 30  # beyond this the least recently used entries go
MANIFEST = "manifest.json"
KINDS = ("usage", "table", "aggregates", "signals", "health", "rates")  # the entries' name prefixes
MAX_ENTRIES = 256  # and beyond this many entries in all
# integer codes are stored in the narrowest of these that holds their range
NARROW_INTEGERS = (np.int8, np.int16, np.int32)
NARROW_FLOATS = (np.float16, np.float32)  # floats only where every value survives exactly
# what reading a damaged or foreign entry can raise: each is a miss, never an error
UNREADABLE = (OSError, ValueError, KeyError, TypeError, IndexError, EOFError, AttributeError,
              pa.ArrowException)

_written: list[Path] = []  # entries this process wrote (a refused command removes them)
_made: list[Path] = []  # and the folders it made for them (.csops/cache), deepest first
_written_lock = threading.RLock()  # re-entered when Ctrl-C lands while it is held
_closed = False  # the command was refused or interrupted: store nothing more


class NotCacheable(Exception):
    """A value the entry format does not hold exactly: the table is simply not cached."""


@dataclass(frozen=True)
class ExportCache:
    """The cache folder of one history store."""

    folder: Path

    @classmethod
    def beside(cls, history: Path) -> ExportCache:
        return cls(history.parent / "cache")

    def lookup(self, kind: str, path: Path | str, key: dict) -> Entry | None:
        """The entry for this read of the file, if one is stored and its manifest matches;
        its data are checked when loaded."""
        try:
            folder = self.folder / entry_name(kind, path, key)
            manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
        except UNREADABLE:
            return None
        if not isinstance(manifest, dict) or manifest.get("key") != key:
            return None
        return Entry(folder, manifest)

    def store(self, kind: str, path: Path | str, key: dict, write: Callable[[Path], dict]
              ) -> None:
        """Write an entry: ``write(folder)`` writes its files and returns what the manifest
        holds besides the key. Raises NotCacheable or OSError, leaving nothing behind. Once
        the command is refused or interrupted (:func:`forget_written`), nothing is stored."""
        global _closed
        with _written_lock:
            if _closed:
                return
            missing = []
            for folder in (self.folder, *self.folder.parents):
                if folder.exists():
                    break
                missing.append(folder)
            self.folder.mkdir(parents=True, exist_ok=True)
            _made.extend(missing)
            temporary = Path(tempfile.mkdtemp(prefix=".writing-", dir=self.folder))
        final = self.folder / entry_name(kind, path, key)
        try:
            manifest = {"key": key, **write(temporary)}
            # the manifest last: an entry without one is never read
            (temporary / MANIFEST).write_text(json.dumps(manifest), "utf-8")
            with _written_lock:
                if _closed:  # refused or interrupted while this entry was written
                    shutil.rmtree(temporary, ignore_errors=True)
                    _remove_made()
                    return
                if final.exists():  # an entry found damaged: this one replaces it
                    shutil.rmtree(final, ignore_errors=True)
                try:
                    os.replace(temporary, final)
                except OSError:  # written meanwhile by another command: keep that one
                    shutil.rmtree(temporary, ignore_errors=True)
                    return
                _written.append(final)
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise
        prune(self.folder)


def new_command() -> None:
    """A command begins: the entries it may remove if refused are those written from now."""
    global _closed
    with _written_lock:
        _written.clear()
        _made.clear()
        _closed = False


def forget_written() -> None:
    """Remove the entries this process wrote, and store none from now on: the command was
    refused or interrupted, and such a command leaves nothing new behind."""
    global _closed
    with _written_lock:
        _closed = True
        for entry in _written:
            shutil.rmtree(entry, ignore_errors=True)
        _written.clear()
        _remove_made()


def _remove_made() -> None:
    """The folders made for entries, while empty (another command's entries stay); called
    holding the lock."""
    for folder in list(_made):
        try:
            folder.rmdir()
            _made.remove(folder)
        except OSError:
            pass


# --- keys --------------------------------------------------------------------------------------

def file_key(path: Path, config: Config, reading: object) -> dict:
    """What an entry must match to be used: the file's identity and fingerprint, what reads
    it (``reading``, and the configuration's inputs, columns and sources), the csops version
    and the parsing code."""
    path = path.resolve()
    status = path.stat()
    settings = config.model_dump(mode="json", include={"inputs", "columns", "sources"})
    read = json.dumps([settings, reading], sort_keys=True, default=str)
    return {"format": FORMAT, "csops": __version__, "code": code_digest(),
            "path": str(path), "size": status.st_size, "mtime_ns": status.st_mtime_ns,
            "ctime_ns": status.st_ctime_ns, "fingerprint": fingerprint(path, status.st_size),
            "config": hashlib.blake2b(read.encode(), digest_size=16).hexdigest()}


def entry_key(read: UsageRead, config: Config) -> dict:
    """The key of a usage export read by the fast reader."""
    return file_key(read.path, config, ["usage", read.layout, read.preset, read.mapping])


@functools.cache
def code_digest() -> str:
    """blake2b of the modules that parse and clean the exports (this package, the date
    rules, the packaged presets): a change to them, a field's type included, makes every
    entry a miss."""
    here = Path(__file__).parent
    code = sorted(here.glob("*.py")) + [here.parent / "dates.py"]
    return files_digest(code + sorted((here.parent / "presets").glob("*.y*ml")))


def files_digest(files: list[Path]) -> str:
    """blake2b of the files' names and contents, in the order given."""
    digest = hashlib.blake2b(digest_size=16)
    for module in files:
        digest.update(module.name.encode())
        digest.update(module.read_bytes())
    return digest.hexdigest()


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


def entry_name(kind: str, path: Path | str, key: dict) -> str:
    """``<kind>-<file>-<key>``: entries of one file share the first two parts (pruning).
    ``path``: the input file, or a text that names what the entries are of."""
    of = str(path.resolve()) if isinstance(path, Path) else path
    of_path = hashlib.blake2b(of.encode(), digest_size=8).hexdigest()
    of_key = hashlib.blake2b(json.dumps(key, sort_keys=True).encode(),
                             digest_size=8).hexdigest()
    return f"{kind}-{of_path}-{of_key}"


# --- arrays ------------------------------------------------------------------------------------

def narrow(values: np.ndarray) -> np.ndarray:
    """The same values in the narrowest type that holds them exactly (integers by their
    range, floats where each survives the round trip)."""
    stored = narrow_type([values], values.dtype)
    return values if stored == values.dtype else values.astype(stored)


def narrow_type(parts: list[np.ndarray], dtype: np.dtype) -> np.dtype:
    """The narrowest type that holds every value of ``parts`` (read as ``dtype``) exactly."""
    parts = [part for part in parts if len(part)]
    if not parts:
        return dtype
    if dtype.kind in "iu":
        low = min(int(part.min()) for part in parts)
        high = max(int(part.max()) for part in parts)
        for kind in NARROW_INTEGERS:
            if np.dtype(kind).itemsize >= dtype.itemsize:
                break
            limits = np.iinfo(kind)
            if limits.min <= low and high <= limits.max:
                return np.dtype(kind)
    elif dtype.kind == "f":
        for kind in NARROW_FLOATS:
            if np.dtype(kind).itemsize >= dtype.itemsize:
                break
            if all(_survives(part.astype(dtype, copy=False), kind) for part in parts):
                return np.dtype(kind)
    return dtype


def _survives(values: np.ndarray, kind) -> bool:
    with np.errstate(over="ignore", invalid="ignore"):
        smaller = values.astype(kind)
    return np.array_equal(smaller.astype(values.dtype), values, equal_nan=True)


def _save_array(folder: Path, name: str, values: np.ndarray | list[np.ndarray]) -> dict:
    """One ``.npy`` of the values, or of parts written one after the other (never joined in
    memory: at 100 M events a joined copy of one field is hundreds of MB)."""
    parts = values if isinstance(values, list) else [values]
    if not parts or any(part.dtype.kind not in "biuf" or part.ndim != 1 for part in parts):
        raise NotCacheable(f"{name}: {parts[0].dtype if parts else 'nothing'}")
    dtype = np.result_type(*parts)
    stored = narrow_type(parts, dtype)
    header = {"descr": np.lib.format.dtype_to_descr(stored), "fortran_order": False,
              "shape": (sum(len(part) for part in parts),)}
    with open(folder / f"{name}.npy", "wb") as file:
        np.lib.format.write_array_header_1_0(file, header)
        for part in parts:
            file.write(np.ascontiguousarray(part.astype(dtype, copy=False)
                                            .astype(stored, copy=False)).data)
    return {"kind": "numpy", "dtype": dtype.str, "stored": stored.str}


def _load_array(folder: Path, name: str, spec: dict, rows: int) -> np.ndarray:
    """Memory-mapped as stored; widened to its own type (a copy) when it was narrowed."""
    array = np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False)
    dtype, stored = np.dtype(spec["dtype"]), np.dtype(spec["stored"])
    if array.dtype != stored or array.shape != (rows,) or dtype.kind not in "biuf":
        raise ValueError(f"{name}: not the array the manifest describes")
    return array if stored == dtype else array.astype(dtype)


def _save_arrow(path: Path, values: pa.Array | pa.ChunkedArray) -> None:
    table = pa.table({"value": values})
    with pa.OSFile(str(path), "wb") as sink, ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def _load_arrow(path: Path) -> pa.ChunkedArray:
    """Memory-mapped, in the batches it was written in (one per chunk of events)."""
    with pa.memory_map(str(path), "r") as source:
        table = ipc.open_file(source).read_all()
    if table.schema.names != ["value"]:
        raise ValueError(f"{path.name}: not one column of values")
    return table.column(0)


def _piece(values: pa.ChunkedArray, start: int, length: int) -> pa.Array:
    """Rows of a chunked array: the batch itself, without a copy, when they are one."""
    piece = values.slice(start, length)
    if piece.num_chunks == 1:
        return piece.chunk(0)
    return piece.combine_chunks() if piece.num_chunks else pa.array([], values.type)


# --- usage events ------------------------------------------------------------------------------

def store_events(cache: ExportCache, path: Path, key: dict, result: EventsRead) -> None:
    cache.store("usage", path, key, lambda folder: _write_events(folder, result))


def _write_events(folder: Path, result: EventsRead) -> dict:
    """Each field of the events' chunks by its name and type: a numpy array as ``.npy``
    (narrowed), an Arrow array as an IPC file, with each chunk's length; the other fields of
    :class:`UsageEvents` as JSON, arrays or Arrow the same way."""
    from .events import EventChunk, UsageEvents

    events = result.events
    chunk_fields = {}
    for spec in dataclasses.fields(EventChunk):
        parts = [getattr(chunk, spec.name) for chunk in events.chunks]
        if not parts or all(part is None for part in parts):
            continue
        if any(part is None for part in parts):
            raise NotCacheable(f"{spec.name}: in some chunks only")
        lengths = [len(part) for part in parts]
        if all(isinstance(part, np.ndarray) for part in parts):
            written = _save_array(folder, f"chunk.{spec.name}", parts)
        elif all(isinstance(part, pa.Array) for part in parts):
            _save_arrow(folder / f"chunk.{spec.name}.arrow",
                        pa.chunked_array(parts, parts[0].type))
            written = {"kind": "arrow"}
        else:
            raise NotCacheable(f"{spec.name}: {type(parts[0]).__name__}")
        chunk_fields[spec.name] = {**written, "lengths": lengths}
    others = {}
    for spec in dataclasses.fields(UsageEvents):
        if spec.name != "chunks":
            others[spec.name] = _write_value(folder, f"events.{spec.name}",
                                             getattr(events, spec.name))
    return {"chunks": len(events.chunks), "chunk_fields": chunk_fields, "events": others,
            "headers": result.headers}


def _write_value(folder: Path, name: str, value: object) -> dict:
    import pandas as pd

    if isinstance(value, np.ndarray):
        return _save_array(folder, name, value)
    if isinstance(value, pa.Array | pd.Index):
        _save_arrow(folder / f"{name}.arrow", value if isinstance(value, pa.Array)
                    else pa.array(np.asarray(value, dtype=object), pa.string()))
        return {"kind": "arrow", "index": isinstance(value, pd.Index)}
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return {"kind": "json", "value": list(value), "tuple": isinstance(value, tuple)}
    raise NotCacheable(f"{name}: {type(value).__name__}")


def _read_value(folder: Path, name: str, spec: dict):
    if spec["kind"] == "json":
        values = [str(item) for item in spec["value"]]
        return tuple(values) if spec["tuple"] else values
    if spec["kind"] == "arrow":
        return _load_arrow(folder / f"{name}.arrow").combine_chunks()
    raise ValueError(f"{name}: kind {spec['kind']}")


@dataclass
class Entry:
    folder: Path
    manifest: dict

    def events(self, ids: pd.Index, line_of) -> EventsRead | None:
        """The events, memory-mapped, if every part checks out and they were coded against
        the same accounts as ``ids``; None otherwise."""
        try:
            result = self._events(ids, line_of)
        except UNREADABLE:
            return None
        if result is not None:
            self.used()
        return result

    def table(self, path: Path) -> Table | None:
        """The table as its loader gave it, if the entry checks out; None otherwise."""
        try:
            table = _read_table(self.folder, self.manifest, path)
        except UNREADABLE:
            return None
        self.used()
        return table

    def used(self) -> None:
        try:
            os.utime(self.folder)  # recently used: pruned last
        except OSError:
            pass

    def _events(self, ids: pd.Index, line_of) -> EventsRead | None:
        from .events import EventChunk, EventsRead, UsageEvents

        folder, manifest = self.folder, self.manifest
        chunks = int(manifest["chunks"])
        chunk_fields: dict[str, dict] = manifest["chunk_fields"]
        known = {spec.name for spec in dataclasses.fields(EventChunk)}
        if not set(chunk_fields) <= known:
            return None  # written for other fields
        others = {}
        for name, spec in manifest["events"].items():
            others[name] = _read_value(folder, f"events.{name}", spec)
        current = pa.array(np.asarray(ids, dtype=object), pa.string())
        if not others.pop("ids").equals(current):
            return None  # the accounts changed: their positions are other codes
        columns = {}
        for name, spec in chunk_fields.items():
            lengths = [int(length) for length in spec["lengths"]]
            if len(lengths) != chunks or min(lengths, default=0) < 0:
                return None
            if spec["kind"] == "numpy":
                values = _load_array(folder, f"chunk.{name}", spec, sum(lengths))
            else:
                values = _load_arrow(folder / f"chunk.{name}.arrow")
                if len(values) != sum(lengths):
                    return None
            columns[name] = (values, lengths)
        if not _codes_in_range(columns, len(current), others):
            return None
        chunk_list = []
        starts = dict.fromkeys(columns, 0)
        for number in range(chunks):
            parts = {}
            for name, (values, lengths) in columns.items():
                start, length = starts[name], lengths[number]
                parts[name] = values[start:start + length] if isinstance(values, np.ndarray) \
                    else _piece(values, start, length)
                starts[name] = start + length
            chunk_list.append(EventChunk(**parts))
        if any(len(chunk.account) != len(chunk) for chunk in chunk_list):
            return None
        events = UsageEvents(ids=ids, chunks=chunk_list, **others)
        return EventsRead(events, [str(header) for header in manifest["headers"]], line_of)


def _codes_in_range(columns: dict, accounts: int, others: dict) -> bool:
    """Codes index what they name (an account, a feature, a business unit), and the accounts
    set aside as unknown are as many as the events coded as such: a damaged array is a miss."""
    limits = {"account": accounts, "feature": len(others.get("features", ())) - 1,
              "business_unit": len(others.get("business_units", ())) - 1}
    for name, high in limits.items():
        values = columns.get(name, (None,))[0]
        if isinstance(values, np.ndarray) and len(values):
            low = 0 if name == "account" else -1
            if not (low <= int(values.min()) and int(values.max()) <= high):
                return False
    if "account" in columns and "unknown_ids" in columns:
        unknown = int(np.count_nonzero(columns["account"][0] == accounts))
        return len(columns["unknown_ids"][0]) == unknown
    return True


# --- small tables ------------------------------------------------------------------------------

def cached_table(cache: ExportCache, name: str, match: FileMatch, config: Config, big: bool,
                 load: Callable[[], Table]) -> Table:
    """``load()``'s table, or the same from the cache; a file that can be cached is stored
    after it loaded (a refused file raises in ``load()`` and is never stored)."""
    from .events import CSV_SUFFIXES

    path = match.path
    source = match.source
    plain = path.suffix.lower() in CSV_SUFFIXES and not (source is not None and source.lookup)
    key = None
    if plain:
        # the path as given too: warnings name the file so
        reading = ["table", name, str(path), big, match.preset,
                   None if source is None else source.model_dump(mode="json")]
        try:
            with path.open("rb") as handle:
                compressed = handle.read(4)[:2] in (b"PK", b"\x1f\x8b")
            key = None if compressed else file_key(path, config, reading)
        except UNREADABLE:
            key = None  # the loader says what is wrong with the file
    if key is not None:
        entry = cache.lookup("table", path, key)
        table = None if entry is None else entry.table(path)
        if table is not None:
            table.cached_as = cache, key, path
            return table
    table = load()
    if key is not None:
        table.cached_as = cache, key, path  # what the tables built from it are keyed by
        try:
            cache.store("table", path, key, lambda folder: _write_table(folder, table))
        except (OSError, NotCacheable):
            pass  # the next command parses it again
    return table


def _write_table(folder: Path, table: Table) -> dict:
    from .csvtext import csv_layout

    if table.parts or table.events is not None or not table.has_frame:
        raise NotCacheable(f"{table.name}: not one file's frame")
    encoding, delimiter, _ = csv_layout(table.path)
    frame = write_frame(folder / "frame.arrow", table.frame)
    return {"frame": frame, "name": table.name, "preset": table.preset,
            "source_columns": table.source_columns, "source_id": table.source_id,
            "assumptions": [[item.text, item.count] for item in table.assumptions],
            "headers": table.raw.headers, "warnings": [_problem_json(problem)
                                                       for problem in table.raw.warnings],
            "layout": [encoding, delimiter]}


def _read_table(folder: Path, manifest: dict, path: Path) -> Table:
    from ..errors import Problem, ProblemCode
    from .csvtext import csv_line_mapper
    from .files import RawFile
    from .sources import Assumption
    from .tables import Table

    frame = read_frame(folder / "frame.arrow", manifest["frame"])
    headers = [str(header) for header in manifest["headers"]]
    encoding, delimiter = (str(part) for part in manifest["layout"])
    line_of = _lazy(lambda: csv_line_mapper(path, encoding, delimiter, len(headers)))
    warnings = [Problem(**{**problem, "code": ProblemCode(problem["code"])})
                for problem in manifest["warnings"]]
    raw = RawFile(path, frame.iloc[:0], headers, line_of, warnings)
    table = Table(str(manifest["name"]), path, frame, manifest["preset"],
                  {str(k): str(v) for k, v in manifest["source_columns"].items()}, raw)
    table.assumptions = [Assumption(str(text), int(count))
                         for text, count in manifest["assumptions"]]
    table.source_id = manifest["source_id"]
    return table


def _lazy(make: Callable[[], Callable]) -> Callable:
    """A line mapper made when first asked (it reads the file)."""
    made: list[Callable] = []

    def line_of(positions):
        if not made:
            made.append(make())
        return made[0](positions)

    return line_of


def _problem_json(problem) -> dict:
    values = dataclasses.asdict(problem)
    values["code"] = str(problem.code.value)
    json.dumps(values)  # a value JSON cannot hold: not cacheable
    return values


# --- frames: every column's dtype exactly ------------------------------------------------------

def write_frame(path: Path, frame: pd.DataFrame) -> dict:
    """``frame`` as one Arrow IPC file; returns what restores each column's exact dtype and
    the index. Raises NotCacheable for a column it cannot give back exactly (Python
    objects)."""
    import pandas as pd

    arrays, columns = {}, []
    for number, (name, series) in enumerate(frame.items()):
        if not isinstance(name, str):
            raise NotCacheable(f"column {name!r}")
        spec, array = _column(series.array, series.dtype)
        arrays[f"c{number}"] = array
        columns.append({"name": name, **spec})
    index = frame.index
    if isinstance(index, pd.RangeIndex):
        index_spec = {"range": [index.start, index.stop, index.step], "name": index.name}
    elif index.dtype == np.int64 and index.name is None:
        arrays["index"] = pa.array(index.to_numpy())
        index_spec = {"range": None, "name": None}
    else:
        raise NotCacheable(f"index of {index.dtype}")
    if len(frame.columns) != len(set(frame.columns)):
        raise NotCacheable("columns named twice")
    table = pa.table(arrays) if arrays else pa.table({"index": pa.array([], pa.int64())})
    with pa.OSFile(str(path), "wb") as sink, ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return {"rows": len(frame), "columns": columns, "index": index_spec}


def read_frame(path: Path, spec: dict) -> pd.DataFrame:
    import pandas as pd

    with pa.OSFile(str(path), "rb") as source:  # read whole: a frame may be written to
        table = ipc.open_file(source).read_all()
    rows = int(spec["rows"])
    if table.num_rows != rows and spec["columns"]:
        raise ValueError("rows")
    index_spec = spec["index"]
    if index_spec["range"] is not None:
        start, stop, step = (int(part) for part in index_spec["range"])
        index = pd.RangeIndex(start, stop, step, name=index_spec["name"])
    else:
        index = pd.Index(table.column("index").to_numpy().astype(np.int64))
    if len(index) != rows:
        raise ValueError("index")
    data = {}
    for number, column in enumerate(spec["columns"]):
        data[str(column["name"])] = _series(table.column(f"c{number}").combine_chunks(),
                                            column, index)
    frame = pd.DataFrame(data, index=index)
    if not data:
        frame = pd.DataFrame(index=index)
    return frame


def _column(values, dtype) -> tuple[dict, pa.Array]:
    """How a column is stored: its dtype's description and an Arrow array."""
    import pandas as pd

    if isinstance(dtype, pd.CategoricalDtype):
        categories_spec, categories = _column(dtype.categories.array, dtype.categories.dtype)
        codes = np.asarray(values.codes)
        indices = pa.array(codes, mask=codes < 0).cast(pa.int32())
        return ({"dtype": "category", "ordered": bool(dtype.ordered),
                 "categories": categories_spec, "codes": codes.dtype.str},
                pa.DictionaryArray.from_arrays(indices, categories))
    if isinstance(dtype, pd.StringDtype):
        na = "nan" if dtype.na_value is not pd.NA else "NA"
        return ({"dtype": "string", "storage": dtype.storage, "na": na},
                pa.array(values, type=pa.large_string(), from_pandas=True))
    if isinstance(dtype, np.dtype):
        if dtype.kind in "biuf":
            return {"dtype": dtype.str}, pa.array(np.asarray(values))
        if dtype.kind in "mM":  # NaT as its integer, the unit in the dtype
            return {"dtype": dtype.str}, pa.array(np.asarray(values).view(np.int64))
        raise NotCacheable(f"a column of {dtype}")
    name = str(dtype)
    if hasattr(dtype, "__from_arrow__") and pd.api.types.pandas_dtype(name) == dtype:
        return {"dtype": "extension", "extension": name}, pa.array(values)  # Int64, boolean
    raise NotCacheable(f"a column of {dtype}")


def _series(array: pa.Array, spec: dict, index: pd.Index) -> pd.Series:
    import pandas as pd

    kind = spec["dtype"]
    if kind == "category":
        if not isinstance(array, pa.DictionaryArray):
            raise ValueError("categories")
        categories = _series(array.dictionary, spec["categories"],
                             pd.RangeIndex(len(array.dictionary)))
        codes = array.indices.fill_null(-1).to_numpy(zero_copy_only=False)
        dtype = pd.CategoricalDtype(pd.Index(categories.array), ordered=spec["ordered"])
        values = pd.Categorical.from_codes(codes.astype(np.dtype(spec["codes"])), dtype=dtype)
        return pd.Series(values, index=index)
    if kind == "string":
        na = np.nan if spec["na"] == "nan" else pd.NA
        dtype = pd.StringDtype(storage=spec["storage"], na_value=na)
        return pd.Series(dtype.__from_arrow__(array.cast(pa.large_string())), index=index)
    if kind == "extension":
        dtype = pd.api.types.pandas_dtype(spec["extension"])
        return pd.Series(dtype.__from_arrow__(array), index=index)
    dtype = np.dtype(kind)
    raw = array.to_numpy(zero_copy_only=False).copy()
    if dtype.kind in "mM":
        return pd.Series(raw.astype(np.int64).view(dtype), index=index)
    if dtype.kind not in "biuf" or raw.dtype != dtype:
        raise ValueError(f"a column stored as {raw.dtype}, described as {dtype}")
    return pd.Series(raw, index=index)


# --- pruning -----------------------------------------------------------------------------------

def prune(folder: Path, keep: int = KEEP_PER_FILE, max_bytes: int = MAX_TOTAL_BYTES,
          max_entries: int = MAX_ENTRIES) -> None:
    """Keep the newest ``keep`` entries of each file and kind (KEEP_BY_KIND for some kinds),
    and at most ``max_bytes`` and ``max_entries`` in all (the least recently used go first);
    leftovers of interrupted writes go too."""
    entries = []
    for entry in folder.iterdir():
        try:
            if entry.name.startswith(".writing-"):
                # another command may be writing it right now: only old ones are leftovers
                if time.time() - entry.stat().st_mtime > 3600:
                    shutil.rmtree(entry, ignore_errors=True)
                continue
            if entry.is_dir() and entry.name.split("-")[0] in KINDS:
                size = sum(part.stat().st_size for part in entry.iterdir())
                entries.append((entry.stat().st_mtime_ns, entry, size))
        except OSError:
            continue  # gone meanwhile
    entries.sort(reverse=True)  # newest first
    seen: dict[str, int] = {}
    total, kept = 0, 0
    for _, entry, size in entries:
        of_file = entry.name.rsplit("-", 1)[0]
        seen[of_file] = seen.get(of_file, 0) + 1
        limit = KEEP_BY_KIND.get(entry.name.split("-")[0], keep)
        if seen[of_file] > limit or total + size > max_bytes or kept == max_entries:
            shutil.rmtree(entry, ignore_errors=True)
        else:
            total, kept = total + size, kept + 1
