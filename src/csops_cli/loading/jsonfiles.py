"""JSON exports as tables: JSON lines (Mixpanel, Amplitude), JSON arrays, and an object whose
one list member holds the records (Pendo's aggregation API answers ``{"results": [...]}``).

Records become rows and nested fields become columns named by dotted paths
(``properties.time``, ``groups.company``). A list of one element is that element; a list of
several scalars is one text cell joined with ``;`` (a later ``split`` step gives a row per
value); an empty list is missing.

JSON lines go through pyarrow's multi-threaded JSON reader, whose struct columns Arrow
flattens itself. A field whose values change type between records (a list in one record, a
plain value in the next, as Mixpanel's group keys may; a number here, text there) stops
Arrow; its plain values are then rewritten so that Arrow can type it (see ``_retyped``). Only
what that cannot fix (an object in one record, a list in the next) is read by a Python loop
over the records, because Arrow cannot hold such a field in a column.
"""

from __future__ import annotations

import bisect
import json
import mmap
import re
import sys
from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from ..errors import InputError, Problem, ProblemCode

LineOf = Callable[[Sequence[int]], list[int | None]]
BLOCK_SIZE = 1 << 23  # 8 MB blocks: enough of them to keep every core busy on a large file
_NON_SPACE = re.compile(rb"[^ \t\r\n]")
_LEADING_BLANKS = re.compile(rb"(?:[ \t\r]*\n)*")
_BEFORE_BLANK = re.compile(rb"\n(?=[ \t\r]*\n)")


def read_json_records(data: bytes | mmap.mmap, label: str,
                      reload: Callable[[], bytes] | None = None) -> tuple[pa.Table, LineOf]:
    """The records of a JSON document or JSON lines ``data``, flattened, and the line of each
    record. ``data`` may be a memory map of the file (JSON lines are then parsed by Arrow
    without a copy in Python); ``reload`` gives the bytes again: then JSON lines are mapped to
    lines only when a line is asked for (as CSV files are), and ``data`` need not be kept."""
    if data[:3] == b"\xef\xbb\xbf":
        data = bytes(data[3:])
    first = _NON_SPACE.search(data)  # searched, not stripped: no copy of a large file
    if first is None:
        raise _bad_json(label, "the file is empty", 1, ProblemCode.EMPTY_FILE)
    opening = data[first.start():first.start() + 1]
    if opening == b"[":
        return _read_document(bytes(data), label)
    if opening != b"{":
        raise _bad_json(label, "the file is neither JSON lines nor a JSON array",
                        data[:first.start()].count(b"\n") + 1)
    if _is_one_document(data, first.start()):
        return _read_document(bytes(data), label)
    return _read_lines(data, label, reload)


def is_json_lines(data: bytes) -> bool:
    """One JSON object per line (not an array, not one document over several lines)."""
    first = _NON_SPACE.search(data)
    return first is not None and data[first.start():first.start() + 1] == b"{" and \
        not _is_one_document(data, first.start())


def record_count(data: bytes) -> int:
    """Records of JSON lines ``data`` without blank lines: its lines (a blank line makes the
    count too high, which the caller notices against Arrow's count)."""
    data = data.rstrip()
    return data.count(b"\n") + 1 if data else 0


def _is_one_document(data: bytes | mmap.mmap, start: int) -> bool:
    """True when the first line is not a whole JSON object followed by more lines: a pretty
    printed document, or a one-line object such as ``{"results": [...]}``."""
    end = data.find(b"\n", start)
    end = len(data) if end < 0 else end
    try:
        value = json.loads(data[start:end])
    except (ValueError, RecursionError):
        return True  # an object spread over lines
    if _NON_SPACE.search(data, end):
        return False  # one object per line
    return isinstance(value, dict) and _records_member(value) is not None


def _records_member(document: dict) -> str | None:
    """The key of the one member of ``document`` that holds a list of records."""
    lists = [key for key, value in document.items()
             if isinstance(value, list) and value and all(isinstance(v, dict) for v in value)]
    if len(lists) == 1:
        return lists[0]
    empty = [key for key, value in document.items() if isinstance(value, list)]
    return empty[0] if len(empty) == 1 and not lists else None


# --- JSON lines --------------------------------------------------------------------------------


def _read_lines(data: bytes | mmap.mmap, label: str,
                reload: Callable[[], bytes] | None = None) -> tuple[pa.Table, LineOf]:
    for _ in range(MAX_RETYPED_FIELDS + 1):
        try:
            table = pajson.read_json(
                pa.BufferReader(pa.py_buffer(data)),
                read_options=pajson.ReadOptions(block_size=BLOCK_SIZE),
                parse_options=pajson.ParseOptions(newlines_in_values=False))
            break
        except pa.ArrowInvalid as error:
            data = bytes(data)
            if "changed from" not in str(error):
                raise _located_error(data, label) from None
            retyped = _retyped(data, str(error))
            if retyped is None:
                # Arrow cannot hold such a field in a column (an object in one record, a
                # list in the next): these files are read record by record
                line_of = lines_mapper(data, None)
                return _from_records(_python_records(data, label), line_of), line_of
            data = retyped
    else:
        line_of = lines_mapper(bytes(data), None)
        return _from_records(_python_records(bytes(data), label), line_of), line_of
    if reload is None:
        return flatten(table), lines_mapper(bytes(data), table.num_rows)
    records = table.num_rows
    mapper: list[LineOf] = []

    def line_of(positions: Sequence[int]) -> list[int | None]:
        if not mapper:
            again = reload()
            mapper.append(lines_mapper(again[3:] if again.startswith(b"\xef\xbb\xbf")
                                        else again, records))
        return mapper[0](positions)

    return flatten(table), line_of


def lines_mapper(data: bytes, records: int | None) -> LineOf:
    """Record position -> line. Arrow skips blank lines: when the file has as many lines as
    records there are none (one count of newlines); else they are found by searching for a
    newline followed by a blank line (no Python loop over the lines)."""
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if records is not None and lines == records:
        return lambda positions: [int(p) + 1 for p in positions]
    leading = _LEADING_BLANKS.match(data)
    blank = list(range(1, leading.group().count(b"\n") + 1))
    end = len(data)
    while end and data[end - 1:end] in (b" ", b"\t", b"\r", b"\n"):
        end -= 1
    counted, newlines = leading.end(), len(blank)
    for match in _BEFORE_BLANK.finditer(data, leading.end(), end):
        newlines += data.count(b"\n", counted, match.start())
        counted = match.start()
        blank.append(newlines + 2)  # the line after the one this newline ends
    if not blank:
        return lambda positions: [int(p) + 1 for p in positions]
    blank_lines = np.array(blank)

    def line_of(positions: Sequence[int]) -> list[int | None]:
        result = []
        for position in positions:
            # the (position + 1)-th line that is not blank
            line = int(position) + 1
            while (moved := int(position) + 1 + int(np.searchsorted(
                    blank_lines, line, side="right"))) != line:
                line = moved
            result.append(line)
        return result

    return line_of


def _python_records(data: bytes, label: str) -> list[dict]:
    records = []
    for number, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError) as error:
            raise _bad_json(label, f"not valid JSON: {_reason(error)}", number,
                            value=line[:60]) from None
        if not isinstance(record, dict):
            raise _bad_json(label, "a line holds a JSON value that is not an object", number,
                            value=line[:60])
        records.append(record)
    return records


MAX_RETYPED_FIELDS = 10
_CHANGED = re.compile(r"Column\((/[^()]*)\) changed from (\w+) to (\w+)")
_SCALAR = rb'("(?:[^"\\\n]|\\.)*"|-?\d[\d.eE+-]*|true|false)'


def _retyped(data: bytes, message: str) -> bytes | None:
    """``data`` with one field's values rewritten so that Arrow can type its column, or None.

    Mixpanel writes a group key as a list in one event and a plain value in the next; an id
    may be a number here and text there. Wrapping a plain value in a one-element list, or
    quoting a number, changes nothing once the records are flattened (a one-element list is
    its element; ids are text), so the field's plain values are rewritten wherever that key
    appears: one regular-expression pass in C instead of a Python loop over the records. A
    key inside a string value has its quotes escaped, so it is never matched."""
    found = _CHANGED.search(message)
    if found is None:
        return None
    pointer, before, after = found.groups()
    key = pointer.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~")
    kinds = {before, after}
    if not key or "object" in kinds:
        return None
    name = re.escape(json.dumps(key).encode())
    field_ = rb'(?<!\\)(' + name + rb'\s*:\s*)'
    if "array" in kinds:
        return re.sub(field_ + _SCALAR, rb"\1[\2]", data)
    if kinds <= {"number", "string", "boolean"}:
        return re.sub(field_ + rb'(-?\d[\d.eE+-]*|true|false)', rb'\1"\2"', data)
    return None


def _located_error(data: bytes, label: str) -> InputError:
    """Arrow's parse errors do not say where: find the first line that does not parse."""
    _python_records(data, label)
    return _bad_json(label, "the JSON lines could not be read", None)


def _reason(error: ValueError | RecursionError) -> str:
    """json's own message; else Python's limits: digits of a number, depth of nesting."""
    if isinstance(error, json.JSONDecodeError):
        return error.msg
    if isinstance(error, RecursionError):
        return "values nested too deep"
    return f"a number of more than {sys.get_int_max_str_digits():,} digits"


def _long_number_line(text: str) -> int | None:
    found = re.search(rf"\d{{{sys.get_int_max_str_digits() + 1}}}", text)
    return text.count("\n", 0, found.start()) + 1 if found else None


# --- JSON documents ----------------------------------------------------------------------------


def _read_document(data: bytes, label: str) -> tuple[pa.Table, LineOf]:
    text = data.decode("utf-8", errors="replace")
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise _bad_json(label, f"not valid JSON: {_reason(error)}", getattr(
            error, "lineno", None) or _long_number_line(text)) from None
    if isinstance(document, list):
        records, starts = document, None
    elif isinstance(document, dict) and (key := _records_member(document)) is not None:
        records, starts = document[key], None
    elif isinstance(document, dict):
        records, starts = [document], [1]  # one record
    else:
        raise _bad_json(label, "the JSON holds no list of records", 1)
    if not all(isinstance(record, dict) for record in records):
        raise _bad_json(label, "the JSON list holds values that are not objects", 1,
                        fix="give a list of objects, one per record")
    if starts is None:
        starts = _record_lines(text, len(records))
    # back through Arrow's reader, so that a document types its columns as JSON lines do
    lines = b"\n".join(json.dumps(record).encode() for record in records)
    table = _read_lines(lines, label)[0] if records else pa.table({})

    def line_of(positions: Sequence[int]) -> list[int | None]:
        return [starts[p] if 0 <= p < len(starts) else None for p in positions]

    return table, line_of


def _record_lines(text: str, count: int) -> list[int]:
    """The line where each record of the list starts: a scan with the standard decoder's
    ``raw_decode`` (API answers that arrive as one document are small)."""
    newlines = [match.start() for match in re.finditer("\n", text)]
    decoder = json.JSONDecoder()
    opening = re.search(r"\[\s*[{\]]", text)  # the first list that holds objects
    index = (opening.start() if opening else text.index("[")) + 1
    starts = []
    while len(starts) < count:
        while text[index] in " \t\r\n,":
            index += 1
        starts.append(bisect.bisect_right(newlines, index - 1) + 1)
        _, index = decoder.raw_decode(text, index)
    return starts


# --- flattening --------------------------------------------------------------------------------


def flatten(table: pa.Table) -> pa.Table:
    """Struct columns become dotted columns; lists become their element or ``;``-joined text."""
    while True:
        table = table.flatten()
        changed = False
        columns, names = [], []
        for name, column in zip(table.column_names, table.columns, strict=True):
            if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
                column = _unlist(column)
                changed = changed or pa.types.is_struct(column.type)
            columns.append(column)
            names.append(name)
        table = pa.table(columns, names=_dedupe(names))
        if not changed and not any(pa.types.is_struct(c.type) for c in table.columns):
            return table


def _unlist(column: pa.ChunkedArray) -> pa.ChunkedArray:
    lengths = pc.list_value_length(column)
    longest = pc.max(lengths).as_py() or 0
    value_type = column.type.value_type
    if longest <= 1:
        single = pc.if_else(pc.equal(lengths, 1), column, pa.nulls(len(column), column.type))
        return pc.list_element(single, 0)
    if pa.types.is_struct(value_type) or pa.types.is_list(value_type) \
            or pa.types.is_large_list(value_type):
        # several objects in one cell: kept as JSON text (rare in exports)
        cells = [None if value is None or value == [] else
                 (json.dumps(value[0]) if len(value) == 1 else json.dumps(value))
                 for value in column.to_pylist()]
        return pa.chunked_array([pa.array(cells, pa.string())])
    text = pc.cast(column, pa.list_(pa.string()))
    joined = pc.binary_join(text, ";")
    return pc.if_else(pc.equal(lengths, 0), pa.nulls(len(column), pa.string()), joined)


def _dedupe(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    result = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        result.append(name if count == 0 else f"{name} ({count + 1})")
    return result


def _flatten_record(record: dict, prefix: str, out: dict) -> None:
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, list):
            value = [v for v in value if v is not None]
            if not value:
                value = None
            elif len(value) == 1:
                value = value[0]
            elif any(isinstance(v, (dict, list)) for v in value):
                value = json.dumps(value)
            else:
                value = ";".join(_text(v) for v in value)
        if isinstance(value, dict):
            _flatten_record(value, f"{name}.", out)
        else:
            out[name] = value


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _from_records(records: list[dict], line_of: LineOf) -> pa.Table:
    """Records flattened in Python, for what Arrow could not type: a column whose values do
    not share one type becomes text."""
    rows = []
    names: dict[str, None] = {}
    for record in records:
        flat: dict = {}
        _flatten_record(record, "", flat)
        rows.append(flat)
        names.update(dict.fromkeys(flat))
    columns = {}
    for name in names:
        cells = [row.get(name) for row in rows]
        try:
            columns[name] = pa.array(cells)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            columns[name] = pa.array([None if c is None else _text(c) for c in cells],
                                     pa.string())
    return pa.table(columns) if columns else pa.table({})


def _bad_json(label: str, message: str, line: int | None,
              code: ProblemCode = ProblemCode.BAD_JSON, value: bytes | str | None = None,
              fix: str = "export the data again; JSON lines need one complete object per line"
              ) -> InputError:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return InputError(f"{label}: cannot be read as JSON",
                      [Problem(label, message, line=line, value=value, fix=fix, code=code)])
