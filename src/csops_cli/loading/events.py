"""The usage export in compact form: millions of events as small integer arrays.

Each event keeps its account as a position in the accounts table, its day as a day number, and
its feature and business unit as codes into short name lists, each in the narrowest integer type
that holds it (a day in two bytes from 1880 to 2059). User ids stay Arrow strings, but in a
large export they are packed: their bytes compressed chunk by chunk, unpacked only where a
window counts them, since giving each of millions of user ids a code costs as much as parsing
the file again. So memory grows by about a dozen bytes an event there, not the forty of Arrow
text. Signals at any as_of, and the audit's
checks, work from these arrays.

A well-formed CSV export is read by :class:`UsageRead`: the file is memory-mapped, cut at line
boundaries into a part per core (see :mod:`csops_cli.threads`; small files stay whole), and the
parts are parsed at once, one thread each, batch by batch; their accounts are then coded with
one hash look-up per run of batches (once the account ids are known; until then they wait as
text). No column of ten million Python strings is ever built. Commands
start this read before the other exports load, and read them meanwhile. Anything unusual
(a missing value, a date format the reader does not know, a ragged row, another encoding)
makes it step aside: the general reader then reads the file and reports each problem with its
line. This module needs no pandas until a frame is asked for.
"""

from __future__ import annotations

import ctypes
import mmap
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, InvalidStateError, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..dates import as_datetimes, day_numbers
from ..errors import InputError
from ..threads import thread_count
from .columns import find_exports, table_mapping
from .csvtext import csv_layout, csv_line_mapper, is_footer
from .recognise import FileMatch, tables_of

if TYPE_CHECKING:  # pandas is imported where a frame is built: reading starts without it
    import pandas as pd

    from ..config import Config
    from .cache import Entry, ExportCache

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
# the least a part of the file read on its own thread holds: below this, starting a thread
# and coding a part's accounts cost more than the part's parse
MIN_PART_BYTES = 32 << 20
BLOCK_BYTES = 8 << 20
# from this size on, user ids are packed (a third of their memory, about a tenth more reading
# time): past some 15 million events their text would outweigh every other column
PACK_USERS_BYTES = 1 << 30
# the batches whose account ids wait, as text, to be coded in one look-up (once the ids are
# known): enough to make the look-up's hash table worth building, few enough to hold
ACCOUNT_BATCHES = 8
DAY_UNITS = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}
TEXT_COLUMNS = {"feature": str.lower, "business_unit": None}  # coded, with their cleaning
NUMBER_COLUMNS = ("count", "active_users")
STOP_WAIT_SECONDS = 5.0  # a cancelled read stops within a batch: far less than this


@dataclass
class EventChunk:
    """A run of consecutive usage rows; chunks are kept in file order, so a row's record
    position is its place in the concatenated chunks. Integer columns may differ in width
    from chunk to chunk (see :func:`narrow_days`, :func:`narrow_codes`)."""

    account: np.ndarray  # int32 position in UsageEvents.ids; len(ids) = not in the accounts
    day: np.ndarray  # int16 days since 1970-01-01 (int32 for a chunk with days past int16)
    # codes into UsageEvents.features / business_units, -1 = none: int8, int16 or int32
    feature: np.ndarray | None = None
    business_unit: np.ndarray | None = None
    # the text as exported (see users()): Arrow strings, or packed in uint8 (large exports)
    user_id: np.ndarray | pa.Array | None = None
    count: np.ndarray | None = None  # float64; NaN = one event
    active_users: np.ndarray | None = None  # float64
    unknown_ids: pa.Array = field(default_factory=lambda: pa.array([], pa.string()))

    def __len__(self) -> int:
        return len(self.day)

    def users(self) -> pa.Array | None:
        """The user ids as exported (Arrow strings; cleaned where counted)."""
        if self.user_id is None or isinstance(self.user_id, pa.Array):
            return self.user_id
        return unpack_text(self.user_id, len(self))


@dataclass
class UsageEvents:
    ids: pd.Index  # the accounts, in signal-table order
    chunks: list[EventChunk]
    features: list[str]  # lower case
    business_units: list[str]
    columns: tuple[str, ...]  # the canonical usage columns the export has

    def __len__(self) -> int:
        return sum(len(chunk) for chunk in self.chunks)

    def has(self, column: str) -> bool:
        return column in self.columns

    def first_day(self) -> int | None:
        return min((int(chunk.day.min()) for chunk in self.chunks if len(chunk)), default=None)

    def last_day(self) -> int | None:
        return max((int(chunk.day.max()) for chunk in self.chunks if len(chunk)), default=None)

    def unknown_accounts(self) -> tuple[np.ndarray, list[str]]:
        """Record positions of the events whose account is not in the accounts, and those
        accounts' ids: what the reader set aside while coding, no frame needed."""
        n = len(self.ids)
        offset, positions = 0, []
        for chunk in self.chunks:
            positions.append(offset + np.flatnonzero(chunk.account == n))
            offset += len(chunk)
        unknown = pa.chunked_array([chunk.unknown_ids for chunk in self.chunks], pa.string())
        return np.concatenate(positions or [np.zeros(0, np.int64)]), unknown.to_pylist()

    def after(self, day: int) -> np.ndarray:
        """Record positions of the events after ``day``."""
        offset, positions = 0, []
        for chunk in self.chunks:
            positions.append(offset + np.flatnonzero(chunk.day > day))
            offset += len(chunk)
        return np.concatenate(positions or [np.zeros(0, np.int64)])

    def account_ids(self, positions: np.ndarray) -> list[str]:
        """The account id of the events at some record positions."""
        account = np.concatenate([chunk.account for chunk in self.chunks])[positions]
        unknown_at, unknown_ids = self.unknown_accounts()
        names = dict(zip(unknown_at.tolist(), unknown_ids, strict=True))
        ids = list(self.ids)
        return [ids[code] if code < len(ids) else names[position]
                for position, code in zip(positions.tolist(), account.tolist(), strict=True)]

    def days(self, positions: np.ndarray) -> np.ndarray:
        return np.concatenate([chunk.day for chunk in self.chunks])[positions]

    def frame(self) -> pd.DataFrame:
        """The canonical usage table (index: record position), built on demand: the audit
        and tests read it; signals do not need it."""
        import pandas as pd

        chunks = self.chunks
        n = len(self.ids)
        account = np.concatenate([chunk.account for chunk in chunks])
        unknown = pa.chunked_array([chunk.unknown_ids for chunk in chunks], pa.string())
        unknown_codes, unknown_names = pd.factorize(pd.Series(unknown, dtype="string[pyarrow]"))
        account[account == n] = n + unknown_codes
        categories = pd.Index(list(self.ids) + list(unknown_names), dtype="string[pyarrow]")
        data: dict[str, object] = {
            "account_id": pd.Categorical.from_codes(account, categories=categories),
            "timestamp": as_datetimes(np.concatenate([chunk.day for chunk in chunks])),
        }
        if self.has("user_id"):
            data["user_id"] = pd.array(pa.chunked_array([chunk.users() for chunk in chunks],
                                                        pa.string()), dtype="string[pyarrow]")
        for column, names in (("feature", self.features),
                              ("business_unit", self.business_units)):
            if self.has(column):
                codes = np.concatenate([getattr(chunk, column) for chunk in chunks])
                data[column] = pd.Categorical.from_codes(
                    codes, categories=pd.Index(names, dtype="string[pyarrow]"))
        for column in NUMBER_COLUMNS:
            if self.has(column):
                data[column] = np.concatenate([getattr(chunk, column) for chunk in chunks])
        return pd.DataFrame(data)


def account_index(accounts: pd.DataFrame) -> pd.Index:
    """The accounts in signal-table order: first occurrence of each account_id."""
    import pandas as pd

    return pd.Index(accounts["account_id"].drop_duplicates(), name="account_id")


def events_from_frame(frame: pd.DataFrame, ids: pd.Index) -> UsageEvents:
    """A canonical usage frame (already checked) as one chunk of codes."""
    import pandas as pd

    n = len(ids)
    account = account_positions(ids, frame["account_id"])
    known = account >= 0
    unknown_ids = pa.array(frame["account_id"].to_numpy(dtype=object)[~known], pa.string())
    account = np.where(known, account, n).astype(np.int32)
    day = day_numbers(frame["timestamp"].to_numpy(dtype="datetime64[s]"))
    chunk = EventChunk(account, narrow_days(day), unknown_ids=unknown_ids)
    names: dict[str, list[str]] = {"feature": [], "business_unit": []}
    for column in TEXT_COLUMNS:
        if column in frame:
            codes, uniques = pd.factorize(frame[column])
            setattr(chunk, column, narrow_codes(codes, len(uniques)))
            names[column] = [str(value) for value in uniques]
    if "user_id" in frame:
        users = pa.array(frame["user_id"].astype("string[pyarrow]").array, pa.string())
        chunk.user_id = users.combine_chunks() if isinstance(users, pa.ChunkedArray) else users
    for column in NUMBER_COLUMNS:
        if column in frame:
            setattr(chunk, column, frame[column].to_numpy(dtype=np.float64, na_value=np.nan))
    columns = tuple(column for column in frame.columns)
    return UsageEvents(ids, [chunk], names["feature"], names["business_unit"], columns)


def account_positions(ids: pd.Index, values) -> np.ndarray:
    """Position of each value's account in ``ids`` (-1: not there). Arrow's hash look-up
    (a few times quicker than pandas' on text); categorical values look up categories only."""
    import pandas as pd

    if isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        lookup = np.append(account_positions(ids, values.cat.categories), -1)
        return lookup[values.cat.codes.to_numpy()]
    found = pc.index_in(_text(values), value_set=_text(ids))
    return found.fill_null(-1).to_numpy().astype(np.int64)


def _text(values) -> pa.Array:
    """Values of a text column (or index) as Arrow strings, without a copy when they are."""
    array = pa.array(values.array if hasattr(values, "array") else values, from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array if array.type == pa.string() else array.cast(pa.string())


def release_unused_memory(heap: bool = True) -> None:
    """Give the memory that the allocators keep after a burst of work back to the system
    (the next step would otherwise count it on top of its own): Arrow's, and with ``heap``
    the C heap's, where the C library can (glibc)."""
    pa.default_memory_pool().release_unused()
    if heap and _malloc_trim is not None:
        _malloc_trim(0)


def _c_heap_trim():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # another C library (musl): nothing to trim
        return None


_malloc_trim = _c_heap_trim()


# --- narrow columns ----------------------------------------------------------------------------

def narrow_days(days: np.ndarray) -> np.ndarray:
    """Day numbers in two bytes when they all fit (1880-03-05 to 2059-09-18), else four."""
    if not len(days) or (days.min() >= np.iinfo(np.int16).min
                         and days.max() <= np.iinfo(np.int16).max):
        return days.astype(np.int16)
    return days.astype(np.int32)


def narrow_codes(codes: np.ndarray, names: int) -> np.ndarray:
    """Codes into a list of ``names`` names (-1: none) in the narrowest signed type."""
    for kind in (np.int8, np.int16):
        if names <= np.iinfo(kind).max:
            return codes.astype(kind)
    return codes.astype(np.int32)


# Packed text: a header of four little-endian int64 (stored size of the lengths, size of the
# bytes, bytes a length takes, codec: 0 none, 1 zstd), then each value's length plus one
# (0: missing) in the narrowest unsigned type, then the values' bytes, both parts compressed.
PACK_HEADER = np.dtype("<i8")
PACK_HEAD_BYTES = 4 * PACK_HEADER.itemsize
PACK_CODECS = ("", "zstd")
LENGTH_TYPES = (np.uint8, np.uint16, np.uint32, np.uint64)


def pack_text(values: pa.Array) -> np.ndarray:
    """Arrow strings as one compact uint8 array (about a third of their Arrow size for ids
    like ``A19156-u2``, at a few tens of nanoseconds a value); :func:`unpack_text` gives them
    back exactly, missing values included."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if values.type != pa.string():
        values = values.cast(pa.string())
    _, offsets_buffer, data = values.buffers()
    data = data if data is not None else pa.py_buffer(b"")
    start = values.offset
    offsets = np.frombuffer(offsets_buffer, np.int32)[start:start + len(values) + 1]
    lengths = np.diff(offsets).astype(np.int64) + 1
    if values.null_count:
        lengths[~values.is_valid().to_numpy(zero_copy_only=False)] = 0
    top = int(lengths.max()) if len(lengths) else 0
    kind = next(kind for kind in LENGTH_TYPES if top <= np.iinfo(kind).max)
    text = data.slice(int(offsets[0]), int(offsets[-1] - offsets[0])) if len(values) else data
    codec = 1 if pa.Codec.is_available(PACK_CODECS[1]) else 0
    parts = [pa.py_buffer(lengths.astype(kind)), text]
    if codec:
        parts = [pa.compress(part, codec=PACK_CODECS[codec]) for part in parts]
    header = np.array([parts[0].size, text.size, np.dtype(kind).itemsize, codec],
                      dtype=PACK_HEADER)
    return np.concatenate([header.view(np.uint8),
                           *(np.frombuffer(part, np.uint8) for part in parts)])


def unpack_text(packed: np.ndarray, rows: int) -> pa.Array:
    """The ``rows`` strings that :func:`pack_text` packed."""
    lengths_size, text_size, width, codec = (
        int(value) for value in packed[:PACK_HEAD_BYTES].view(PACK_HEADER))
    lengths_part = pa.py_buffer(packed[PACK_HEAD_BYTES:PACK_HEAD_BYTES + lengths_size])
    text_part = pa.py_buffer(packed[PACK_HEAD_BYTES + lengths_size:])
    if codec:
        lengths_part = pa.decompress(lengths_part, decompressed_size=rows * width,
                                     codec=PACK_CODECS[codec])
        text_part = pa.decompress(text_part, decompressed_size=text_size,
                                  codec=PACK_CODECS[codec])
    kind = next(kind for kind in LENGTH_TYPES if np.dtype(kind).itemsize == width)
    lengths = np.frombuffer(lengths_part, kind)
    offsets = np.zeros(rows + 1, dtype=np.int32)
    np.cumsum(np.maximum(lengths.astype(np.int64) - 1, 0), out=offsets[1:])
    validity = None
    if rows and not lengths.all():
        validity = pa.array(lengths > 0).buffers()[1]
    return pa.Array.from_buffers(pa.string(), rows,
                                 [validity, pa.py_buffer(offsets), text_part])


# --- the fast CSV reader -----------------------------------------------------------------------

class UsageRead:
    """A usage CSV export being read by the fast reader in the background, from before the
    other tables are read until the account ids it is coded against are
    given to :meth:`finish`. Its owner stops it (see :func:`usage_read`)."""

    def __init__(self, path: Path, layout: tuple[str, str, list[str]], preset: str | None,
                 mapping: dict[str, str]):
        self.path, self.layout, self.preset, self.mapping = path, layout, preset, mapping
        self._ids: Future[pd.Index | None] = Future()
        self._result: Future[EventsRead | None] = Future()
        self._cancelled = threading.Event()
        self._started = False
        # the parsed-export cache: where to look and store, the key taken before reading
        self._cache: ExportCache | None = None
        self._cache_key: dict | None = None
        self._cached: Entry | None = None

    @classmethod
    def of(cls, path: Path, config: Config) -> UsageRead | None:
        """A read of the file, not started yet; None when the file is not a CSV or lacks a
        required column (the general reader then reads it, and says what is missing)."""
        if path.suffix.lower() not in CSV_SUFFIXES:
            return None
        try:
            layout = csv_layout(path)  # encoding, delimiter, headers
            preset, mapping = table_mapping("usage", path, layout[2], config)
        except InputError:
            return None
        return cls(path, layout, preset, mapping)

    @classmethod
    def start(cls, path: Path, config: Config) -> UsageRead | None:
        read = cls.of(path, config)
        return None if read is None else read.begin()

    def use_cache(self, cache: ExportCache, config: Config) -> None:
        """Read the file's events from ``cache`` when an entry matches; else parse it and
        store them there. Call before :meth:`begin`."""
        from .cache import UNREADABLE, entry_key

        try:
            self._cache_key = entry_key(self, config)
        except UNREADABLE:
            return  # the file cannot be keyed (gone, unreadable): parsed, not stored
        self._cache = cache
        self._cached = cache.lookup("usage", self.path, self._cache_key)

    def cached_as(self) -> tuple[ExportCache, dict, Path] | None:
        """The cache this read used, its key and the file: None without a cache."""
        if self._cache is None or self._cache_key is None:
            return None
        return self._cache, self._cache_key, self.path

    def begin(self) -> UsageRead:
        if self._cached is not None:
            return self  # read from the cache in finish(); nothing to parse meanwhile
        # pyarrow imports pandas on its first to_numpy(): done here, before any reading
        # thread starts, never in two threads at once (a Ctrl-C landing in an import that
        # another thread waits on could leave that thread waiting forever)
        import pandas  # noqa: F401

        self._started = True
        threading.Thread(target=self._run, name="csops-usage", daemon=True).start()
        return self

    def _run(self) -> None:
        try:
            self._result.set_result(_read_events(self.path, self.layout, self.mapping,
                                                 self._ids, self._cancelled))
        except BaseException as error:  # handed to the thread that finishes the read
            self._result.set_exception(error)

    def finish(self, ids: AccountSource) -> EventsRead | None:
        """The events, coded against ``ids()``; None when the general reader should read the
        file (it is not plain, or the accounts could not be read)."""
        if self._cached is not None:
            entry, self._cached = self._cached, None
            account_ids = ids()
            encoding, delimiter, headers = self.layout
            line_of = csv_line_mapper(self.path, encoding, delimiter, len(headers))
            found = None if account_ids is None else entry.events(account_ids, line_of)
            if found is not None:
                return found
            self.begin()  # a damaged entry, or other accounts: parsed after all
        if not self._ids.done():
            self._ids.set_result(ids())
        result = self._result.result()
        if result is not None and self._cache is not None and self._cache_key is not None:
            from .cache import NotCacheable, store_events

            try:
                store_events(self._cache, self.path, self._cache_key, result)
            except (OSError, NotCacheable):
                pass  # a cache that cannot be written: the next command parses again
        return result

    def cancel(self) -> None:
        """Stop reading: the reader's threads stop after the batch they are parsing, and
        nothing waits for the account ids any more. Harmless once the read is finished."""
        self._cancelled.set()
        try:
            self._ids.set_result(None)
        except InvalidStateError:
            pass  # the ids were given already

    def stop(self) -> None:
        """Cancel, and wait for the reader's threads: exiting while they are inside Arrow
        would abort the process."""
        self.cancel()
        if self._started:
            wait([self._result], timeout=STOP_WAIT_SECONDS)


def _usage_path(folder: Path | None, explicit: dict[str, Path | None] | None,
                config: Config | None = None, matches: list[FileMatch] | None = None
                ) -> Path | None:
    """The usage export (its first file), from what the folder's files were recognised as."""
    try:
        if matches is None:
            return find_exports(folder, explicit, config).get("usage")
        feeding = tables_of(matches, folder).get("usage")
    except InputError:
        return None  # reported when the exports are loaded
    return feeding[0].path if feeding else None


def begin_usage_read(folder: Path | None, explicit: dict[str, Path | None] | None,
                     config: Config) -> UsageRead | None:
    """Start reading the usage export of ``folder`` in the background, if it has one.
    Prefer :func:`usage_read`, which stops the read on every way out."""
    path = _usage_path(folder, explicit, config)
    return None if path is None else UsageRead.start(path, config)


@contextmanager
def usage_read(folder: Path | None, explicit: dict[str, Path | None] | None, config: Config,
               matches: list[FileMatch] | None = None, cache: ExportCache | None = None
               ) -> Iterator[UsageRead | None]:
    """The usage export's read, started in the background (None when there is nothing to
    read fast) and stopped on leaving the block, however it is left (an error, Ctrl-C, or the
    read used up). ``matches``: what the folder's files were recognised as, if known;
    ``cache``: where parsed events are kept between commands (None: parse every time)."""
    read = None
    try:
        path = _usage_path(folder, explicit, config, matches)
        read = None if path is None else UsageRead.of(path, config)
        if read is not None and cache is not None:
            read.use_cache(cache, config)
        if read is not None:
            read.begin()  # inside the try: a Ctrl-C just after the thread starts stops it
        yield read
    finally:
        if read is not None:
            read.stop()


class _StepAside(Exception):
    """The file needs the general reader, which reports what is wrong with lines."""


@dataclass
class EventsRead:
    events: UsageEvents
    headers: list[str]
    line_of: Callable[[Sequence[int]], list[int | None]]


AccountSource = Callable[[], "pd.Index | None"]  # the account ids, waited for when first needed


def _read_events(path: Path, layout: tuple[str, str, list[str]], mapping: dict[str, str],
                 ids: Future[pd.Index | None], cancelled: threading.Event
                 ) -> EventsRead | None:
    """Read a usage CSV straight into codes, or None when the general reader should (also
    when the accounts could not be read, or the read was cancelled). Parsing starts before
    the account ids are known (``ids`` is done when they are)."""
    encoding, delimiter, headers = layout
    if encoding != "utf-8" or "account_id" not in mapping or "timestamp" not in mapping:
        return None
    reader = _Reader(path, delimiter, headers, mapping, ids, cancelled)
    try:
        events = reader.read()
    except (_StepAside, pa.ArrowInvalid, UnicodeDecodeError):
        return None
    if not len(events):
        return None
    return EventsRead(events, headers, csv_line_mapper(path, encoding, delimiter, len(headers)))


class _Reader:
    def __init__(self, path: Path, delimiter: str, headers: list[str], mapping: dict[str, str],
                 ids: Future[pd.Index | None], cancelled: threading.Event):
        self.path, self.delimiter, self.headers = path, delimiter, headers
        self.mapping = mapping  # canonical column -> header
        self._ids_source = ids
        self.cancelled = cancelled  # set: the threads stop at the next batch
        self._ids: tuple[pd.Index, pa.Array] | None = None
        self.names: dict[str, dict[str, int]] = {column: {} for column in TEXT_COLUMNS}
        self.pack_users = path.stat().st_size >= PACK_USERS_BYTES
        self.lock = threading.Lock()

    def read(self) -> UsageEvents:
        pieces = self._pieces()
        with _MappedFile(self.path) as mapped, ThreadPoolExecutor(len(pieces)) as pool:
            try:
                parts = list(pool.map(lambda piece: self._read_piece(mapped, piece), pieces))
            except BaseException:
                self.cancelled.set()  # the other parts stop too
                raise
        chunks = [chunk for part in parts for chunk in part]  # in file order
        release_unused_memory()  # the parse buffers: freed, but kept by Arrow's allocator
        columns = tuple(canonical for canonical in self.mapping)
        return UsageEvents(self._accounts()[0], chunks, list(self.names["feature"]),
                           list(self.names["business_unit"]), columns)

    def _pieces(self) -> list[tuple[int, int]]:
        """Byte ranges (after the header) that end at line ends: one per thread, but none
        smaller than MIN_PART_BYTES, so a small file is read in one piece."""
        size = self.path.stat().st_size
        with self.path.open("rb") as handle:
            body = len(handle.readline())
            parts = max(1, min(thread_count(), (size - body) // MIN_PART_BYTES))
            cuts = [body]
            for part in range(1, parts):
                handle.seek(max(body + (size - body) * part // parts, cuts[-1]))
                handle.readline()  # finish the line the cut falls in
                cuts.append(handle.tell())
        cuts.append(size)
        return [(start, stop) for start, stop in pairwise(cuts) if stop > start]

    def _read_piece(self, mapped: _MappedFile, piece: tuple[int, int]) -> list[EventChunk]:
        start, stop = piece
        read_options = pacsv.ReadOptions(column_names=self.headers, block_size=BLOCK_BYTES,
                                         use_threads=False)
        parse_options = pacsv.ParseOptions(delimiter=self.delimiter, newlines_in_values=False,
                                           invalid_row_handler=self._invalid_row)
        column_types = {self.mapping["account_id"]: pa.string()}
        for column in ("user_id", *TEXT_COLUMNS):
            if column in self.mapping:
                column_types[self.mapping[column]] = (
                    pa.string() if column == "user_id" else pa.dictionary(pa.int32(),
                                                                         pa.string()))
        convert_options = pacsv.ConvertOptions(
            include_columns=list(self.mapping.values()), column_types=column_types,
            strings_can_be_null=True, quoted_strings_can_be_null=True, null_values=[""])
        chunks: list[EventChunk] = []
        waiting: list[pa.Array] = []  # account ids of the last chunks, not coded yet
        released = start  # the file's pages before this are dropped from memory
        stream = pacsv.open_csv(mapped.piece(start, stop), read_options, parse_options,
                                convert_options)
        for count, batch in enumerate(stream, start=1):
            if self.cancelled.is_set():
                raise _StepAside("the read was cancelled")
            if batch.num_rows:
                chunks.append(self._chunk(batch))
                waiting.append(self._column(batch, "account_id"))
            if len(waiting) >= ACCOUNT_BATCHES and self._ids_source.done():
                self._code_accounts(chunks[-len(waiting):], waiting)
                waiting = []
                release_unused_memory(heap=False)  # this thread's parse buffers
            # parsed blocks are copied out of the file: drop those before the last one
            behind = min(start + (count - 1) * BLOCK_BYTES, stop)
            mapped.release(released, behind)
            released = max(released, behind)
        if self.cancelled.is_set():
            raise _StepAside("the read was cancelled")
        if waiting:
            self._code_accounts(chunks[-len(waiting):], waiting)
        return chunks

    def _accounts(self) -> tuple[pd.Index, pa.Array]:
        with self.lock:
            if self._ids is None:
                ids = self._ids_source.result()
                if ids is None:
                    raise _StepAside("the accounts could not be read")
                self._ids = ids, pa.array(np.asarray(ids, dtype=object), pa.string())
            return self._ids

    def _invalid_row(self, row) -> str:
        text = row.text or ""
        if not text.strip() or is_footer(text.split(self.delimiter)[0]):
            return "skip"  # as the general reader does
        return "error"

    def _column(self, batch: pa.RecordBatch, canonical: str):
        header = self.mapping.get(canonical)
        return None if header is None else batch.column(batch.schema.get_field_index(header))

    def _chunk(self, batch: pa.RecordBatch) -> EventChunk:
        """A batch's events, but for their accounts (coded per piece)."""
        chunk = EventChunk(np.zeros(0, np.int32),
                           narrow_days(_days(self._column(batch, "timestamp"))))
        for column, change in TEXT_COLUMNS.items():
            values = self._column(batch, column)
            if values is not None:
                setattr(chunk, column, self._codes(column, values, change))
        users = self._column(batch, "user_id")
        chunk.user_id = pack_text(users) if users is not None and self.pack_users else users
        for column in NUMBER_COLUMNS:
            values = self._column(batch, column)
            if values is not None:
                setattr(chunk, column, _numbers(values))
        return chunk

    def _code_accounts(self, chunks: list[EventChunk], texts: list[pa.Array]) -> None:
        """Account positions for the rows of some chunks in one look-up, so that the
        accounts' hash table is built once a run of batches, not once a batch. Ids with
        spaces around them are looked up again trimmed; ids still not found are kept as text
        for the audit."""
        ids, ids_arrow = self._accounts()
        n = len(ids)
        text = pa.chunked_array(texts, pa.string())
        if text.null_count:
            raise _StepAside("a missing account_id")
        found = pc.index_in(text, value_set=ids_arrow)
        codes = found.fill_null(n).to_numpy().astype(np.int32)
        unknown_at = np.zeros(0, dtype=np.int64)
        unknown = pa.array([], pa.string())
        if found.null_count:
            missing = found.is_null().to_numpy()
            trimmed = pc.utf8_trim_whitespace(text.filter(missing))
            if pc.any(pc.equal(trimmed, "")).as_py():
                raise _StepAside("a blank account_id")
            again = pc.index_in(trimmed, value_set=ids_arrow)
            positions = np.flatnonzero(missing)
            codes[positions] = again.fill_null(n).to_numpy()
            still = again.is_null()
            unknown_at = positions[still.to_numpy(zero_copy_only=False)]
            unknown = trimmed.filter(still).combine_chunks()
        bounds = np.cumsum([0] + [len(chunk) for chunk in chunks])
        cuts = np.searchsorted(unknown_at, bounds)
        for i, chunk in enumerate(chunks):
            chunk.account = codes[bounds[i]:bounds[i + 1]]
            chunk.unknown_ids = unknown.slice(cuts[i], cuts[i + 1] - cuts[i])

    def _codes(self, column: str, values: pa.DictionaryArray, change) -> np.ndarray:
        """Batch dictionary codes -> codes into the file-wide name list, cleaned as the
        general reader cleans text (spaces trimmed, blank = none, features in lower case)."""
        registry = self.names[column]
        lookup = []
        with self.lock:
            for name in values.dictionary.to_pylist():
                name = name.strip()
                if change is not None:
                    name = change(name)
                lookup.append(registry.setdefault(name, len(registry)) if name else -1)
            names = len(registry)
        lookup.append(-1)  # a missing cell
        indices = values.indices.fill_null(len(lookup) - 1).to_numpy()
        return narrow_codes(np.asarray(lookup, dtype=np.int32), names)[indices]


def _days(values) -> np.ndarray:
    """Day numbers (UTC date for zone-aware values) of a typed date or time column."""
    if values.null_count:
        raise _StepAside("a missing timestamp")
    kind = values.type
    if pa.types.is_timestamp(kind):
        raw = values.view(pa.int64()).to_numpy()
        return (raw // DAY_UNITS[kind.unit]).astype(np.int32)
    if pa.types.is_date32(kind):
        return values.view(pa.int32()).to_numpy().astype(np.int32)
    raise _StepAside(f"timestamps read as {kind}")  # e.g. 3/1/2026: the general parser


def _numbers(values) -> np.ndarray:
    if not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
        raise _StepAside("a count that is not a plain number")
    numbers = values.to_numpy(zero_copy_only=False).astype(np.float64)
    if (numbers < 0).any():
        raise _StepAside("a negative count")
    if np.isinf(numbers).any():
        raise _StepAside("an infinite count")
    return numbers


class _MappedFile:
    """The file mapped into memory and parsed in place: no copy of each block into fresh
    buffers. Pages of blocks already parsed are dropped from the mapping as reading moves on
    (the parsed values are copies), so the file never counts as resident memory as a whole;
    a page dropped too soon is simply read again from the page cache."""

    def __init__(self, path: Path):
        with path.open("rb") as handle:
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        self._buffer: pa.Buffer | None = pa.py_buffer(self._map)

    def piece(self, start: int, stop: int) -> pa.BufferReader:
        assert self._buffer is not None
        return pa.BufferReader(self._buffer.slice(start, stop - start))

    def release(self, start: int, stop: int) -> None:
        first = -(-start // mmap.PAGESIZE) * mmap.PAGESIZE
        last = stop // mmap.PAGESIZE * mmap.PAGESIZE
        if last > first and hasattr(mmap, "MADV_DONTNEED"):
            self._map.madvise(mmap.MADV_DONTNEED, first, last - first)

    def __enter__(self) -> _MappedFile:
        return self

    def __exit__(self, *exc) -> None:
        self._buffer = None
        try:
            self._map.close()
        except BufferError:  # a reader still holds a view: the map closes when it is freed
            pass
