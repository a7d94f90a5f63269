"""Reading one export file into a raw DataFrame, whatever its format.

CSV goes through pyarrow's multi-threaded reader (the engine behind ``pandas.read_csv(
engine="pyarrow")``), used directly for its per-column types and its invalid-row hook, which
drops CRM report footers. Row positions are kept as the frame's index so that a problem can be
traced back to its line in the file; that mapping is only computed when a problem is shown.

Formats: CSV and TSV (UTF-8 with or without BOM, UTF-16, cp1252), ``.xlsx`` (see sheets.py),
Parquet, JSON lines and JSON documents (see jsonfiles.py), a ``.gz`` of any of them, and a
``.zip`` of them (see archives.py), whose members are read as one file: the rows of each
member in turn, each row located by its member and its line there.
"""

from __future__ import annotations

import io
import mmap
import os
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from ..errors import MAX_PROBLEMS_SHOWN, InputError, Problem, ProblemCode
from . import archives
from .csvtext import (
    check_nul_bytes,
    check_quotes,
    csv_layout,
    csv_line_mapper,
    encoding_warnings,
    fallback_encoding,
    is_footer,
    ragged_problems,
)

LineOf = Callable[[Sequence[int]], list[int | None]]
Wanted = Callable[[list[str]], dict[str, str | None]]
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")
PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass
class RawFile:
    """A file's cells, untyped where the reader could not type them, plus where rows came from.

    ``warnings`` are things the reader worked around and the user should know (a few bytes
    that are not UTF-8). For an archive, ``locations`` names the member a row came from."""

    path: Path
    frame: pd.DataFrame
    headers: list[str]
    # index value (record position) -> line in the file; computed lazily
    _line_of: LineOf = field(repr=False)
    warnings: list[Problem] = field(default_factory=list)
    # index value -> the file (or archive member) it came from; None: ``path`` itself
    _file_of: Callable[[Sequence[int]], list[str]] | None = field(default=None, repr=False)
    # what must outlive the read for lines to be found later (an unpacked temporary copy)
    _keep: object = field(default=None, repr=False)

    def lines(self, positions: Sequence[int]) -> list[int | None]:
        """The line of each record position, in the file or in its archive member."""
        return self._line_of(positions)

    def files(self, positions: Sequence[int]) -> list[str]:
        """The file each record came from: ``export.zip!412873/…json.gz`` in an archive."""
        if self._file_of is None:
            return [str(self.path)] * len(positions)
        return self._file_of(positions)

    def locations(self, positions: Sequence[int]) -> list[tuple[str, int | None]]:
        return list(zip(self.files(positions), self.lines(positions), strict=True))


@dataclass
class _Part:
    """One readable file: the file itself, an unpacked ``.gz``, or a member of a zip."""

    label: str  # how problems name it
    headers: list[str]
    # types -> the frame (index: record positions from 0) and its line mapping
    read: Callable[[dict[str, str | None]], tuple[pd.DataFrame, LineOf]]
    warnings: list[Problem] = field(default_factory=list)
    # record position -> member, when the part is several members read as one
    file_of: Callable[[Sequence[int]], list[str]] | None = None


def read_headers(path: Path) -> list[str]:
    """Just the header row (dotted paths for JSON), for preset detection and `csops init`."""
    scratch = _Scratch()
    try:
        return _union([part.headers for part in _parts(path, scratch, headers_only=True)])
    finally:
        scratch.cleanup()


def read_file(path: Path, wanted: Wanted, big: bool = False) -> RawFile:
    """Read ``path``. ``wanted(headers)`` maps each header to read to a type: 'string',
    'dictionary' (repeated text, kept as codes) or None (inferred: numbers, dates); headers it
    leaves out are not parsed at all."""
    scratch = _Scratch()  # kept by the RawFile: its lines may be looked up later
    parts = _parts(path, scratch, big=big)
    headers = _union([part.headers for part in parts])
    types = wanted(headers)
    if len(parts) == 1:
        frame, line_of = parts[0].read(types)
        warnings = parts[0].warnings
        file_of = parts[0].file_of
        if file_of is None and parts[0].label != str(path):
            file_of = lambda positions, label=parts[0].label: [label] * len(positions)  # noqa: E731
        return RawFile(path, frame, headers, line_of, warnings, file_of, scratch)
    frames, mappers, starts = [], [], []
    offset = 0
    failed: list[InputError] = []
    for part in parts:
        try:
            frame, line_of = part.read({name: kind for name, kind in types.items()
                                        if name in part.headers})
        except InputError as error:  # every member's problems are shown together
            failed.append(error)
            continue
        starts.append(offset)
        frames.append(frame.set_axis(frame.index + offset))
        mappers.append(line_of)
        offset += int(frame.index.max()) + 1 if len(frame) else 0
    if failed:
        if len(failed) == 1:
            raise failed[0]
        problems = [problem for error in failed for problem in error.problems]
        total = sum(error.total for error in failed)
        raise InputError(f"{path}: {total:,} problem(s) in {len(failed):,} of its files",
                         problems[:MAX_PROBLEMS_SHOWN], total)
    frame = pd.concat(frames).reindex(columns=list(types))
    for name, kind in types.items():
        if kind == "dictionary":  # members' categories differ: concat made them objects
            frame[name] = frame[name].astype("string[pyarrow]").astype("category")
    warnings = [problem for part in parts for problem in part.warnings]
    labels = [part.label for part in parts]
    starts_array = np.array(starts)

    def member_of(positions: Sequence[int]) -> list[int]:
        return [int(np.searchsorted(starts_array, p, side="right")) - 1 for p in positions]

    def line_of(positions: Sequence[int]) -> list[int | None]:
        return [mappers[m]([int(p) - starts[m]])[0]
                for m, p in zip(member_of(positions), positions, strict=True)]

    def file_of(positions: Sequence[int]) -> list[str]:
        return [labels[m] for m in member_of(positions)]

    return RawFile(path, frame, headers, line_of, warnings, file_of, scratch)


def _union(header_lists: list[list[str]]) -> list[str]:
    return list(dict.fromkeys(name for headers in header_lists for name in headers))


class _Scratch:
    """A temporary folder for unpacked CSV files, made when first needed and removed when
    the RawFile that holds it goes."""

    def __init__(self) -> None:
        self._folder: tempfile.TemporaryDirectory | None = None

    def __truediv__(self, name: str) -> Path:
        if self._folder is None:
            self._folder = tempfile.TemporaryDirectory(prefix="csops-")
        return Path(self._folder.name) / name

    def cleanup(self) -> None:
        if self._folder is not None:
            self._folder.cleanup()


def _parts(path: Path, scratch: _Scratch, big: bool = False, headers_only: bool = False
           ) -> list[_Part]:
    """The readable files behind ``path``: itself, its unpacked ``.gz``, or a zip's members.
    Compression is told by the file's first bytes too: an API answer saved as
    ``export.json`` may be gzip or zip data."""
    suffix = path.suffix.lower()
    with path.open("rb") as handle:
        magic = handle.read(4)
    if suffix == ".zip" or (magic == b"PK\x03\x04" and suffix != ".xlsx"):
        return _zip_parts(path, scratch, big, headers_only)
    if suffix == ".gz" or magic.startswith(b"\x1f\x8b"):
        inner = archives.inner_suffix(path.name)
        budget = archives.budget_for(path)
        if inner in JSON_SUFFIXES:
            def unpack(budget: archives.Budget = budget) -> bytes:
                return archives.gunzip(path.read_bytes(), str(path), budget)

            return [_json_part(unpack(), str(path),
                               lambda: unpack(archives.budget_for(path)))]
        unpacked = scratch / f"unpacked{inner}"
        archives.gunzip_file(path, unpacked, budget)
        return [_file_part(unpacked, inner, str(path), big, headers_only)]
    return [_file_part(path, suffix, str(path), big, headers_only)]


def _file_part(path: Path, suffix: str, label: str, big: bool, headers_only: bool) -> _Part:
    if suffix == ".xlsx":
        return _xlsx_part(path, label, headers_only)
    if suffix in PARQUET_SUFFIXES:
        return _parquet_part(path, label)
    if suffix in JSON_SUFFIXES:
        if headers_only:
            return _json_part(_json_sample(path), label, path.read_bytes)
        return _json_part(_mapped(path), label, path.read_bytes)
    return _csv_part(path, label, big, headers_only)


def _json_sample(path: Path) -> bytes:
    """The start of a JSON lines file, cut at a line end, for its headers; a JSON document
    (an array, one object) whole, since it cannot be cut."""
    from .jsonfiles import is_json_lines

    with path.open("rb") as handle:
        start = handle.read(HEADER_SAMPLE_BYTES)
    end = start.rfind(b"\n")
    if len(start) < HEADER_SAMPLE_BYTES or end < 0 or not is_json_lines(start[:end + 1]):
        return path.read_bytes()
    return start[:end + 1]


def _zip_parts(path: Path, scratch: _Scratch, big: bool, headers_only: bool) -> list[_Part]:
    archive = archives.open_zip(path)
    with archive:
        members = archives.zip_members(path, archive)
        formats = {_format_of(member.suffix) for member in members}
        if len(formats) > 1:
            listed = ", ".join(sorted(formats))
            raise InputError(f"{path}: the archive mixes formats ({listed})", [Problem(
                str(path), f"the archive holds files of several formats ({listed})",
                fix="keep one kind of export per archive, or unpack it and give the files "
                    "one by one", code=ProblemCode.MIXED_FORMATS)])
        budget = archives.budget_for(path)
        if formats == {"json"}:
            return [_json_members(path, archive, members, budget, headers_only)]
        parts = []
        for number, member in enumerate(members):
            data = archives.read_member(archive, member, budget)
            if member.suffix == ".xlsx":
                parts.append(_xlsx_part(io.BytesIO(data), member.label, headers_only))
            elif member.suffix in PARQUET_SUFFIXES:
                parts.append(_parquet_part(pa.BufferReader(data), member.label))
            else:
                unpacked = scratch / f"member{number}{member.suffix}"
                unpacked.write_bytes(data)
                parts.append(_csv_part(unpacked, member.label, big, headers_only))
        return parts


def _format_of(suffix: str) -> str:
    if suffix in JSON_SUFFIXES:
        return "json"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    return "xlsx" if suffix == ".xlsx" else "csv"


# --- JSON --------------------------------------------------------------------------------------


def _mapped(path: Path) -> bytes | mmap.mmap:
    """The file's bytes, memory-mapped: Arrow parses them in place, the page cache is not
    copied into Python."""
    with path.open("rb") as handle:
        try:
            return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (ValueError, OSError):  # empty, or a file that cannot be mapped
            return path.read_bytes()


def _json_part(data: bytes | mmap.mmap, label: str, reload: Callable[[], bytes]) -> _Part:
    from .jsonfiles import read_json_records

    table, line_of = read_json_records(data, label, reload)
    return _arrow_part(table, label, line_of)


# members smaller than this on average (Amplitude's hourly files) are parsed as one buffer;
# larger ones side by side, one per thread
JOIN_BELOW_BYTES = 1 << 20
HEADER_SAMPLE_MEMBERS = 20  # headers of a zip of JSON files: from its first members
HEADER_SAMPLE_BYTES = 1 << 20  # and of a JSON lines file: from its first megabyte


def _json_members(path: Path, archive: zipfile.ZipFile, members: list[archives.Member],
                  budget: archives.Budget, headers_only: bool = False) -> _Part:
    """All JSON members of a zip as one table. Members are unpacked in parallel (zlib
    releases the GIL); when they are all JSON lines (Amplitude's thousands of hourly files)
    they are parsed by Arrow as one buffer, else one by one, and concatenated in name order."""
    from .jsonfiles import is_json_lines, lines_mapper, read_json_records, record_count

    if headers_only:
        members = members[:HEADER_SAMPLE_MEMBERS]

    def reload(member: archives.Member) -> bytes:
        with archives.open_zip(path) as again:
            return archives.read_member(again, member, archives.Budget(str(path)))

    workers = max(os.cpu_count() or 1, 2)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        datas = list(pool.map(lambda member: archives.read_member(archive, member, budget),
                              members))
    filled = [(member, data) for member, data in zip(members, datas, strict=True)
              if data.strip()]  # an hour without events is an empty member
    labels = [member.label for member, _ in filled]
    joined = None
    small = sum(len(data) for _, data in filled) < JOIN_BELOW_BYTES * max(len(filled), 1)
    if filled and small and all(is_json_lines(data) for _, data in filled):
        counts = [record_count(data) for _, data in filled]
        try:
            table, _ = read_json_records(b"\n".join(data.rstrip() for _, data in filled)
                                         + b"\n", labels[0])
            joined = len(table) == sum(counts)
        except InputError:  # read again member by member, which locates the problem
            joined = False
    if joined:
        mappers = [lambda p, member=member, count=count:
                   lines_mapper(reload(member), count)(p) for (member, _), count
                   in zip(filled, counts, strict=True)]
        tables_lengths = counts
    else:
        # Arrow parses a member smaller than its block on one thread: the members are
        # parsed side by side (Arrow releases the GIL), problems still raised in name order
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(lambda item: read_json_records(
                item[1], item[0].label, lambda member=item[0]: reload(member)), filled))
        tables = _same_types([table for table, _ in results]) or [pa.table({})]
        table = pa.concat_tables(tables, promote_options="permissive")
        mappers = [line_of for _, line_of in results]
        tables_lengths = [len(t) for t in tables]
    starts = np.cumsum([0] + tables_lengths[:-1])

    def member_of(positions: Sequence[int]) -> list[int]:
        return [int(np.searchsorted(starts, p, side="right")) - 1 for p in positions]

    def line_of(positions: Sequence[int]) -> list[int | None]:
        return [mappers[m]([int(p) - int(starts[m])])[0]
                for m, p in zip(member_of(positions), positions, strict=True)]

    part = _arrow_part(table, labels[0] if labels else str(path), line_of)
    part.file_of = lambda positions: [labels[m] for m in member_of(positions)]
    return part


def _same_types(tables: list[pa.Table]) -> list[pa.Table]:
    """Columns typed differently in different members become text in all of them."""
    seen: dict[str, pa.DataType] = {}
    clash: set[str] = set()
    for table in tables:
        for field_ in table.schema:
            if pa.types.is_null(field_.type):
                continue
            first = seen.setdefault(field_.name, field_.type)
            numbers = pa.types.is_integer(first) or pa.types.is_floating(first), \
                pa.types.is_integer(field_.type) or pa.types.is_floating(field_.type)
            if first != field_.type and not all(numbers):  # whole and decimal: promoted
                clash.add(field_.name)
    if not clash:
        return tables
    return [table.select(table.column_names) if not clash & set(table.column_names) else
            pa.table({name: (table[name].cast(pa.string()) if name in clash else table[name])
                      for name in table.column_names}) for table in tables]


def _arrow_part(table: pa.Table, label: str, line_of: LineOf) -> _Part:
    def read(types: dict[str, str | None]) -> tuple[pd.DataFrame, LineOf]:
        columns = {}
        for name, kind in types.items():
            if name not in table.column_names:
                continue
            column = table[name]
            if kind is not None or pa.types.is_null(column.type):
                column = column.cast(pa.string()) if not pa.types.is_string(column.type) \
                    else column
                if kind == "dictionary":
                    column = column.dictionary_encode()
            columns[name] = column
        frame = pa.table(columns).to_pandas(types_mapper=_types_mapper, date_as_object=False) \
            if columns else pd.DataFrame(index=pd.RangeIndex(table.num_rows))
        return frame, line_of

    return _Part(label, list(table.column_names), read)


# --- CSV ---------------------------------------------------------------------------------------


def _csv_part(path: Path, label: str, big: bool, headers_only: bool) -> _Part:
    try:
        encoding, delimiter, headers = csv_layout(path)
    except InputError as error:
        raise _relabel(error, path, label) from None
    if headers_only:
        return _Part(label, headers, _unread)

    def read(types: dict[str, str | None]) -> tuple[pd.DataFrame, LineOf]:
        try:
            return _read_csv(path, (encoding, delimiter, headers), types, big, part)
        except InputError as error:
            raise _relabel(error, path, label) from None

    part = _Part(label, headers, read)
    return part


def _unread(types: dict[str, str | None]) -> tuple[pd.DataFrame, LineOf]:
    raise AssertionError("a part opened for its headers only is not read")


def _relabel(error: InputError, path: Path, label: str) -> InputError:
    """Problems found in an unpacked copy name the file or member it came from."""
    if label == str(path):
        return error
    problems = [replace(problem, file=label) if problem.file == str(path) else problem
                for problem in error.problems]
    return InputError(error.message.replace(str(path), label), problems, error.total,
                      code=error.code)


def _read_csv(path: Path, layout: tuple[str, str, list[str]], types: dict[str, str | None],
              big: bool, part: _Part) -> tuple[pd.DataFrame, LineOf]:
    encoding, delimiter, headers = layout
    bad_rows: list[str] = []

    def on_invalid_row(row) -> str:
        text = row.text or ""
        if not text.strip() or is_footer(text.split(delimiter)[0]):
            return "skip"
        bad_rows.append(text)
        return "skip"

    def attempt(column_types: dict[str, pa.DataType], encoding: str) -> pa.Table:
        nonlocal block_size
        try:
            return attempt_in_blocks(column_types, encoding)
        except pa.ArrowInvalid as error:
            if "straddling" not in str(error):
                raise
        # a row longer than a block: read again in the largest blocks, else say which line
        if block_size < MAX_LINE_BYTES:
            block_size = MAX_LINE_BYTES
            try:
                return attempt_in_blocks(column_types, encoding)
            except pa.ArrowInvalid as error:
                if "straddling" not in str(error):
                    raise
        check_quotes(path, encoding, delimiter)  # an open quote makes one long row too
        raise _long_line_error(path)

    def attempt_in_blocks(column_types: dict[str, pa.DataType], encoding: str) -> pa.Table:
        bad_rows.clear()
        read_options = pacsv.ReadOptions(column_names=headers, skip_rows=1, encoding=encoding,
                                         block_size=block_size)
        parse_options = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=not big,
                                           invalid_row_handler=on_invalid_row)
        convert_options = pacsv.ConvertOptions(
            include_columns=list(types), column_types=column_types,
            # only empty cells are missing here: "N/A" is missing in an amount or a date (the
            # value parsers say so) but is a name like any other in a text column
            strings_can_be_null=True, quoted_strings_can_be_null=True, null_values=[""])
        if big:  # streaming holds parsed batches, not the whole file's buffers: a third less
            return pacsv.open_csv(path, read_options, parse_options, convert_options).read_all()
        return pacsv.read_csv(path, read_options, parse_options, convert_options)

    arrow_types = {"string": pa.string(), "dictionary": pa.dictionary(pa.int32(), pa.string())}
    # blocks of about an eighth of the file keep both cores busy; 16 MB at most
    block_size = min(max(path.stat().st_size // 8, 1 << 20), 1 << 24)
    strict_types = {name: arrow_types[kind] for name, kind in types.items() if kind}
    all_text = {name: arrow_types[kind or "string"] for name, kind in types.items()}
    table = None
    for column_types in (strict_types, all_text):
        try:
            table = attempt(column_types, encoding)
            break
        except UnicodeDecodeError:
            encoding = fallback_encoding(path)
            table = attempt(column_types, encoding)
            break
        except pa.ArrowInvalid as error:
            message = str(error)
            if "UTF8" in message or "UTF-8" in message or "utf8" in message:
                encoding = fallback_encoding(path)
                try:
                    table = attempt(column_types, encoding)
                    break
                except pa.ArrowInvalid:
                    continue
            if "conversion error" in message.lower() or "conversion" in message.lower():
                continue  # a typed column holds something else further down: read it as text
            raise _csv_error(path, message) from None
    if table is None:
        raise _csv_error(path, "the file could not be parsed as CSV")

    frame = table.to_pandas(types_mapper=_types_mapper, date_as_object=False,
                            self_destruct=True)
    line_of = csv_line_mapper(path, encoding, delimiter, len(headers))
    if not big:
        check_nul_bytes(path, encoding)
        check_quotes(path, encoding, delimiter)
    if bad_rows:
        problems = ragged_problems(path, len(headers), delimiter, encoding)
        raise InputError(f"{path}: {len(problems):,} row(s) with the wrong number of fields",
                         problems[:MAX_PROBLEMS_SHOWN], total=len(problems))
    part.warnings.extend(encoding_warnings(path, encoding, part.label))
    return _drop_blank_and_footer_rows(frame), line_of


MAX_LINE_BYTES = 1 << 24  # 16 MB: the largest block read at once; no export row is longer


def _long_line_error(path: Path) -> InputError:
    data = _mapped(path)
    start, length, line = _longest_line(data)
    excerpt = bytes(data[start:start + 60]).decode("utf-8", errors="replace")
    return InputError(f"{path}: a line is too long", [Problem(
        str(path), f"the line is {length / (1 << 20):,.1f} MB long; a row may be at most "
                   f"{MAX_LINE_BYTES >> 20} MB", line=line, value=excerpt or None,
        fix="no export holds a value this long: check this line, or export the table "
            "again", code=ProblemCode.UNREADABLE_FILE)])


def _longest_line(data: bytes | mmap.mmap) -> tuple[int, int, int]:
    """The first line at least ``MAX_LINE_BYTES`` long (else the longest): its start, its
    length and its number. Newlines are found by numpy, a block at a time."""
    view = np.frombuffer(data, dtype=np.uint8)
    best = (0, 0, 1)
    line_start, lines_before = 0, 0
    for offset in range(0, len(view), 1 << 26):
        ends = offset + np.flatnonzero(view[offset:offset + (1 << 26)] == 10)
        starts = np.concatenate(([line_start], ends[:-1] + 1))
        lengths = ends - starts
        if len(lengths):
            longest = int(np.argmax(lengths))
            if lengths[longest] > best[1]:
                best = (int(starts[longest]), int(lengths[longest]), lines_before + longest + 1)
            lines_before += len(ends)
            line_start = int(ends[-1]) + 1
        if best[1] >= MAX_LINE_BYTES:
            return best
    if len(view) - line_start > best[1]:  # the last line, without a line end
        best = (line_start, len(view) - line_start, lines_before + 1)
    return best


def _types_mapper(arrow_type: pa.DataType):
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return pd.StringDtype("pyarrow")
    return None


def _csv_error(path: Path, message: str) -> InputError:
    fix = "check quoting: a quote left open swallows the rest of the file"
    return InputError(f"{path}: cannot be read as CSV",
                      [Problem(str(path), message.splitlines()[0], fix=fix,
                               code=ProblemCode.UNREADABLE_FILE)])


FOOTER_ROWS = 10  # report footers, padded out to full width by a spreadsheet, end the file


def _drop_blank_and_footer_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows with no value at all (empty cells are read as missing), and report footers padded
    out to full width at the end of the file."""
    if frame.empty:
        return frame
    tail = frame.iloc[-FOOTER_ROWS:]
    tail_counts = tail.notna().sum(axis=1)
    footers = [index for index, count, value in zip(tail.index, tail_counts, tail.iloc[:, 0],
                                                    strict=True)
               if count == 1 and isinstance(value, str) and is_footer(value)]
    if any(not frame[column].hasnans for column in frame.columns):
        blank = []  # a column without gaps: no row is blank
    else:
        counts = np.zeros(len(frame), dtype=np.int64)
        for column in frame.columns:
            counts += frame[column].notna().to_numpy(dtype=np.int64)
        blank = list(frame.index[counts == 0])
    dropped = footers + blank
    return frame.drop(index=dropped) if dropped else frame


# --- Excel and Parquet -------------------------------------------------------------------------


def _xlsx_part(source, label: str, headers_only: bool) -> _Part:
    from .sheets import cell_text, read_sheet

    sheet = read_sheet(source, label, header_only=headers_only)

    def read(types: dict[str, str | None]) -> tuple[pd.DataFrame, LineOf]:
        index = {name: position for position, name in enumerate(sheet.headers)}
        frame = pd.DataFrame(
            {name: pd.array([cell_text(row[index[name]]) for row in sheet.rows],
                            dtype="string[pyarrow]")
             for name in types if name in index}, index=pd.RangeIndex(len(sheet.rows)))
        for name, kind in types.items():
            if kind == "dictionary" and name in frame:
                frame[name] = frame[name].astype("category")
        numbers = sheet.row_numbers
        _refuse_unsaved_formulas(sheet, label, [index[name] for name in types if name in index])
        frame = _drop_blank_and_footer_rows(frame)
        return frame, lambda positions: [numbers[p] if 0 <= p < len(numbers) else None
                                         for p in positions]

    return _Part(label, sheet.headers, read)


def _refuse_unsaved_formulas(sheet, label: str, positions: list[int]) -> None:
    """A formula whose result was never saved has no value to read: said so, not taken for
    an empty cell."""
    read = set(positions)
    found = sorted((number, position, formula) for (number, position), formula
                   in sheet.formulas.items() if position in read)
    if not found:
        return
    problems = [Problem(label, "a formula with no saved result (the file was written by a "
                               "program that does not calculate)", line=number,
                        column=sheet.headers[position], value=formula[:60],
                        fix="open the file in Excel and save it: Excel saves each formula's "
                            "result", code=ProblemCode.UNREADABLE_FILE)
                for number, position, formula in found]
    raise InputError(f"{label}: {len(problems)} formula(s) with no saved result",
                     problems[:MAX_PROBLEMS_SHOWN], total=len(problems))


# what a damaged Parquet file makes pyarrow raise: its own errors, I/O errors, and a column
# name that is not UTF-8
PARQUET_ERRORS = (pa.ArrowException, OSError, UnicodeDecodeError)


def _parquet_part(source, label: str) -> _Part:
    """A Parquet file. Nested columns are read as JSON's are: a struct's fields become dotted
    columns (``properties.plan``), a one-element list its element, a longer list its values
    joined by ``;``."""
    import pyarrow.parquet as pq

    from .jsonfiles import flatten

    try:
        schema = pq.read_schema(source)
        nested = any(pa.types.is_nested(field_.type) for field_ in schema)
        names = list(flatten(schema.empty_table()).column_names if nested else schema.names)
    except PARQUET_ERRORS as error:
        raise _parquet_error(label, error) from None

    def read(types: dict[str, str | None]) -> tuple[pd.DataFrame, LineOf]:
        columns = [name for name in schema.names
                   if any(wanted == name or wanted.startswith(f"{name}.") for wanted in types)]
        try:
            table = pq.read_table(source, columns=columns)
            if nested:
                table = flatten(table)
            table = table.select([name for name in types if name in table.column_names])
            frame = table.to_pandas(types_mapper=_types_mapper, date_as_object=False)
        except PARQUET_ERRORS as error:
            raise _parquet_error(label, error) from None
        return frame, lambda positions: [p + 1 for p in positions]

    return _Part(label, names, read)


def _parquet_error(label: str, error: Exception) -> InputError:
    detail = str(error).splitlines()[0] if str(error) else type(error).__name__
    return InputError(f"{label}: cannot be read as Parquet",
                      [Problem(label, f"the file is damaged or not Parquet ({detail})",
                               fix="write it again as Parquet, or export CSV",
                               code=ProblemCode.UNREADABLE_FILE)])
