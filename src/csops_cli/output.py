"""Writing results: CSV safe for Excel, JSON, atomically to files or straight to streams."""

from __future__ import annotations

import csv
import errno
import functools
import io
import json
import math
import os
import re
import secrets
import stat
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from .errors import ProblemCode, UsageError

if TYPE_CHECKING:  # pandas loads with the data, not for --format checks
    import pandas as pd

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
FORMULA_PATTERN = "^[" + re.escape("".join(FORMULA_TRIGGERS)) + "]"
FORMATS = ("table", "csv", "json", "xlsx", "html")


def excel_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that Excel would read as a formula with ``'``; numbers stay numbers."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if isinstance(series.dtype, pd.StringDtype) or series.dtype == object:
            text = series.astype("string[pyarrow]")
            cells = pa.array(text.array, type=pa.string())
            risky = pc.fill_null(pc.match_substring_regex(cells, FORMULA_PATTERN), False)
            if pc.any(risky).as_py():
                out[column] = text.mask(risky.to_numpy(zero_copy_only=False), "'" + text)
    return out


def csv_text(frame: pd.DataFrame) -> str:
    """CSV for people and CRMs: Excel-safe text, dates as YYYY-MM-DD, values quoted only
    where they need it. Written by pyarrow, which is fast on large tables."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pacsv

    safe = excel_safe(frame)
    columns = {}
    for name in safe.columns:
        values = safe[name]
        if pd.api.types.is_datetime64_any_dtype(values.dtype):  # written as YYYY-MM-DD
            if getattr(values.dt, "tz", None) is not None:
                values = values.dt.tz_localize(None)
            columns[str(name)] = pa.array(values.to_numpy("datetime64[D]"), type=pa.date32(),
                                          from_pandas=True)
        elif values.dtype == object:
            columns[str(name)] = pa.array(values.astype("string"), type=pa.string())
        else:
            columns[str(name)] = pa.array(values)
    # one chunk per column: pandas' string columns arrive as many chunks, some empty, and
    # pyarrow's CSV writer can emit unrelated memory for empty chunks
    table = pa.table(columns).combine_chunks()
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow(list(columns))
    sink = pa.BufferOutputStream()
    try:
        pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False,
                                                        quoting_style="none"))
    except pa.ArrowInvalid:  # a value holds a delimiter, quote or line break: quote
        sink = pa.BufferOutputStream()
        pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False,
                                                        quoting_style="needed"))
    # a CRM import file is opened in Excel first, which reads UTF-8 right only with a BOM
    mark = "\ufeff" if frame.attrs.get("byte_order_mark") else ""
    return mark + header.getvalue() + sink.getvalue().to_pybytes().decode("utf-8")


def _json_converter() -> Callable[[object], object]:
    """A function from any cell (pandas' missing values, timestamps, numpy scalars) to a
    JSON value."""
    import pandas as pd

    def jsonable(value):
        if value is None or value is pd.NA or value is pd.NaT:
            return None
        if isinstance(value, float) and math.isnan(value):
            return None
        if isinstance(value, pd.Timestamp):
            return value.strftime("%Y-%m-%d")
        if hasattr(value, "item"):  # numpy scalars
            return jsonable(value.item())
        return value

    return jsonable


# JSON carries each number to the precision it is defined with, never float noise
# (93.7, not 93.70000000000002): scores one decimal, money two, ratios and anything else four
SCORE_DECIMALS, MONEY_DECIMALS, OTHER_DECIMALS = 1, 2, 4
_MONEY_FIELDS = {"arr", "starting_arr", "ending_arr", "expansion", "contraction", "churn"}


@functools.lru_cache(maxsize=4096)
def decimals_for(name: object) -> int:
    """The decimals a number named ``name`` (a column or a JSON key) is written with."""
    name = str(name).lower()
    if "score" in name or name.endswith("health_change"):
        return SCORE_DECIMALS
    if name in _MONEY_FIELDS or name.endswith("_arr"):
        return MONEY_DECIMALS
    return OTHER_DECIMALS


class _Records(list):
    """Records whose numbers :func:`records` has rounded already: not walked again (nor is
    a slice of them)."""

    def __getitem__(self, index):
        found = super().__getitem__(index)
        return _Records(found) if isinstance(index, slice) else found


def records(frame: pd.DataFrame) -> list[dict]:
    """One dict per row, every value a JSON value: numbers rounded by their column's name
    (:func:`decimals_for`), missing values None, dates YYYY-MM-DD. Made a column at a time."""
    columns = [_json_column(frame[column], column) for column in frame.columns]
    names = list(frame.columns)
    return _Records(dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True))


def _json_column(values: pd.Series, name: object) -> list:
    """A column's values as JSON values (see :func:`records`)."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        rounded = values.round(decimals_for(name)).to_numpy()
        cells = rounded.astype(object)
        cells[np.isnan(rounded)] = None
        return cells.tolist()
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return values.to_numpy().tolist()
    if isinstance(dtype, pd.StringDtype):
        return pa.array(values.array, type=pa.string(), from_pandas=True).to_pylist()
    if isinstance(dtype, np.dtype) and dtype.kind == "M":
        text = values.dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
        text[values.isna().to_numpy()] = None
        return text.tolist()
    jsonable = _json_converter()
    if pd.api.types.is_float_dtype(dtype):  # a nullable float column
        values = values.round(decimals_for(name))
    elif isinstance(dtype, np.dtype) and dtype.kind == "O":
        return [jsonable(_rounded(value, name)) for value in values]
    return [jsonable(value) for value in values]


_PLAIN = (str, int, bool, type(None))


def _rounded(value, name: object = ""):
    """``value`` with every float in it rounded by :func:`decimals_for` of its key."""
    if type(value) is _Records:
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return value
        return round(value, decimals_for(name))
    if isinstance(value, dict):  # the common case first: a record of plain values
        return {key: item if type(item) in _PLAIN else _rounded(item, key)
                for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [item if type(item) in _PLAIN else _rounded(item, name) for item in value]
    if hasattr(value, "item") and not hasattr(value, "__len__"):  # a numpy scalar
        return _rounded(value.item(), name)
    return value


def json_text(payload) -> str:
    payload = _rounded(payload)
    if _flat_records(payload):
        return _records_text(payload) + "\n"
    return json.dumps(payload, indent=2, default=_json_converter(), ensure_ascii=False) + "\n"


_SCALARS = (str, int, float, bool, type(None))


def _flat_records(payload) -> bool:
    """A non-empty list of non-empty dicts with text keys and plain values only."""
    return (isinstance(payload, list) and bool(payload)
            and all(type(record) is dict and record
                    and all(type(key) is str and type(value) in _SCALARS
                            for key, value in record.items())
                    for record in payload))


def _records_text(payload: list[dict]) -> str:
    """``json.dumps(payload, indent=2, ensure_ascii=False)`` of flat records, byte for byte,
    from the C encoder (the indenting one is pure Python: seconds for 100,000 records).
    Encoded without indent but with the indented separator, ``,\n    `` stands between a
    record's items and ``},\n    {`` only between records: no text value holds a raw line
    break, and no value is a dict."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",\n    ", ": "))
    body = text[2:-2].replace("},\n    {", "\n  },\n  {\n    ")
    return "[\n  {\n    " + body + "\n  }\n]"


def format_for(out: Path | None, requested: str | None) -> str:
    """--format wins; else the --out suffix; else a table."""
    if requested:
        if requested not in FORMATS:
            raise UsageError(f"--format {requested!r}: use one of {', '.join(FORMATS)}")
        if requested == "xlsx" and (out is None or str(out) == "-") and sys.stdout.isatty():
            raise UsageError("--format xlsx writes a workbook, not text for a terminal: give "
                             "--out FILE.xlsx (or send stdout to a file)")
        return requested
    if out is not None and str(out) != "-":
        suffix = out.suffix.lower().lstrip(".")
        if suffix in ("csv", "json", "xlsx", "html"):
            return suffix
        if suffix == "htm":
            return "html"
        if suffix in ("txt", "md", ""):
            return "table"
        raise UsageError(f"--out {out}: cannot tell the format from '.{suffix}'; "
                         "use .csv, .json, .xlsx, .html or .txt, or give --format")
    return "table"


def check_out(out: Path | None) -> None:
    """Refuse, before any work, an --out that cannot be a file: a folder, or a file in a folder
    that does not exist."""
    if out is None or str(out) == "-":
        return
    if out.is_dir():
        raise UsageError(f"--out {out} is a folder; name a file in it, e.g. {out / 'out.csv'}",
                         code=ProblemCode.UNWRITABLE_OUTPUT)
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"--out {out}: the folder {folder} does not exist; create it first",
                         code=ProblemCode.UNWRITABLE_OUTPUT)


def refuse_inputs(out: Path | None, inputs: Iterable[tuple[str, Path]]) -> None:
    """Refuse an --out that is one of the run's own inputs, ``(what, path)``: writing it would
    destroy it. The same file however it is named: a link, ``./``, ``..``, another case on a
    file system that ignores case."""
    if out is None or str(out) == "-":
        return
    for what, path in inputs:
        if _same_file(out, path):
            raise UsageError(f"--out {out} is {what} this run reads ({path}); writing there "
                             "would replace it: choose another output file",
                             code=ProblemCode.OUTPUT_IS_INPUT)


def _same_file(first: Path, second: Path) -> bool:
    try:
        return os.path.samefile(first, second)
    except OSError:  # one of them does not exist (yet): the same only if named alike
        try:
            return first.resolve() == second.resolve()
        except (OSError, RuntimeError):  # a loop of links: not a file we read
            return False


def write_text(path: Path | None, text: str, stream: IO[str] | None = None) -> None:
    """Write to stdout (``None`` or ``-``), straight into a non-regular file (a pipe,
    /dev/stdout), or atomically into a regular file: temporary file, then rename."""
    if path is None or str(path) == "-":
        (stream or sys.stdout).write(text)
        return
    atomic_write(path, lambda handle: handle.write(text))


def write_bytes(path: Path | None, data: bytes, stream: IO[bytes] | None = None) -> None:
    """:func:`write_text`'s rules for a binary file (a workbook)."""
    if path is None or str(path) == "-":
        target = stream or sys.stdout.buffer
        target.write(data)
        target.flush()
        return
    atomic_write(path, lambda handle: handle.write(data), binary=True)


def atomic_write(path: Path, write: Callable[[IO], object], binary: bool = False) -> None:
    """Write a file whole or not at all: a temporary file beside it, then a rename. The new
    file keeps the mode of the file it replaces; a new file follows the umask. A failure (disk
    full, no permission) is an error naming the file, with the old file left as it was and
    no temporary file left behind."""
    try:
        _write_whole(path, write, binary)
    except OSError as error:
        raise UsageError(f"cannot write {path}: {_why(error)}",
                         code=ProblemCode.UNWRITABLE_OUTPUT) from None


def _why(error: OSError) -> str:
    reasons = {
        errno.ENOSPC: "the disk is full; free some space or write elsewhere",
        errno.EDQUOT: "the disk quota is used up; free some space or write elsewhere",
        errno.EACCES: "no permission to write there; choose a folder you can write to",
        errno.EPERM: "no permission to write there; choose a folder you can write to",
        errno.EROFS: "the file system is read-only; choose another folder",
        errno.EISDIR: "it is a folder; name a file in it",
        errno.ENOENT: "its folder does not exist; create it first",
    }
    return reasons.get(error.errno, error.strerror or str(error))


def _write_whole(path: Path, write: Callable[[IO], object], binary: bool = False) -> None:
    # text as UTF-8 with the line ends given; bytes as they are
    how = {"mode": "wb"} if binary else {"mode": "w", "encoding": "utf-8", "newline": ""}
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    if path.exists() and not path.is_file():  # a pipe or a device: written straight into
        with path.open(**how) as handle:
            write(handle)
        return
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(directory))
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else None
    temporary, descriptor = _temporary_beside(path)
    try:
        with os.fdopen(descriptor, **how) as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)  # text: fdopen


def _temporary_beside(path: Path) -> tuple[Path, int]:
    """A new file next to ``path``, created with mode 0666 so that the umask decides its
    permissions, as for any file a program creates."""
    directory = path.parent if str(path.parent) else Path(".")
    for _ in range(100):
        temporary = directory / f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:
            return temporary, os.open(temporary, _NEW_FILE, 0o666)
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(directory))


# --- workbooks ----------------------------------------------------------------------------------
# Written by XlsxWriter in its constant-memory mode: rows go to temporary files as they are
# written, so a sheet of 100,000 accounts never sits in memory as cells. Tests read the files
# back with openpyxl.

MONEY_FORMAT, SCORE_FORMAT, RATIO_FORMAT = "#,##0", "0.0", "0.0%"
COUNT_FORMAT, DATE_FORMAT, TIME_FORMAT, TEXT_FORMAT = "#,##0", "yyyy-mm-dd", \
    "yyyy-mm-dd hh:mm", "@"
MAX_COLUMN_WIDTH = 50
BLOCK_ROWS = 10_000
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
# what a numeric column holds, told by its name: a ratio, money, or a 0-100 score
_RATIO = re.compile(r"(^|_)(rate|ratio|probability|utilization|share|nrr|grr|brier|mape|"
                    r"bias|conversion|accuracy|precision|recall)($|_)")
_MONEY = re.compile(r"(^|_)(arr|mrr|amount|revenue|expansion|contraction|churn|acv|tcv)($|_)")
_SCORE = re.compile(r"(^|_)(score|health_change|points)($|_)")


def number_format(column: str, integers: bool) -> str:
    """The Excel number format of a numeric column, from its name."""
    name = column.lower()
    if _RATIO.search(name):  # churn_rate is a ratio, churn an amount
        return RATIO_FORMAT
    if _MONEY.search(name):
        return MONEY_FORMAT
    if _SCORE.search(name):
        return SCORE_FORMAT
    return COUNT_FORMAT if integers else "General"


def sheet_title(name: str, taken: set[str]) -> str:
    """A valid sheet name (31 characters, none of []:*?/\\), unique in the workbook."""
    title = _SHEET_FORBIDDEN.sub(" ", name).strip("' ")[:31] or "Sheet"
    base, n = title, 2
    while title.lower() in taken:
        suffix = f" ({n})"
        title, n = base[:31 - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


def xlsx_bytes(sheets: Iterable[tuple[str, pd.DataFrame]]) -> bytes:
    """A formatted workbook, one sheet per ``(name, table)``: header row bold and frozen,
    widths from the content, numbers as numbers with a format, dates as Excel dates, IDs and
    other text as text (never read as a number, a date or a formula)."""
    import tempfile

    import xlsxwriter
    from xlsxwriter.exceptions import FileCreateError

    buffer = io.BytesIO()
    try:
        workbook = xlsxwriter.Workbook(buffer, {
            "constant_memory": True, "strings_to_formulas": False,
            "strings_to_numbers": False, "strings_to_urls": False})
        formats: dict[str, object] = {}

        def cell_format(spec: str):
            if spec not in formats:
                formats[spec] = workbook.add_format(
                    {"bold": True} if spec == "header" else {"num_format": spec})
            return formats[spec]

        taken: set[str] = set()
        for name, frame in sheets:
            _write_sheet(workbook.add_worksheet(sheet_title(name, taken)), frame, cell_format)
        if not taken:
            workbook.add_worksheet("Empty")
        workbook.close()
    except (OSError, FileCreateError) as error:  # the temporary folder is full or gone
        reason = _why(error) if isinstance(error, OSError) else str(error)
        raise UsageError(f"cannot build the workbook in the temporary folder "
                         f"{tempfile.gettempdir()}: {reason} (or set TMPDIR to another "
                         "folder)",
                         code=ProblemCode.UNWRITABLE_OUTPUT) from None
    return buffer.getvalue()


@dataclass(frozen=True)
class _Column:
    kind: str  # text, mixed, number, date, bool
    format: str  # a number format, or "General"
    width: int


def _write_sheet(sheet, frame: pd.DataFrame, cell_format: Callable[[str], object]) -> None:
    """Header, formats and widths, then the rows in order (constant-memory mode writes each
    row out when the next one starts)."""
    names = [str(name) for name in frame.columns]
    columns = [_column_kind(name, frame.iloc[:, n]) for n, name in enumerate(names)]
    sheet.freeze_panes(1, 0)
    for n, (name, column) in enumerate(zip(names, columns, strict=True)):
        width = min(max(len(name) + 2, column.width), MAX_COLUMN_WIDTH)
        form = None if column.format == "General" else cell_format(column.format)
        sheet.set_column(n, n, width, form)  # the cells below take the column's format
        sheet.write_string(0, n, name, cell_format("header"))
    writers = [_writer(sheet, column.kind) for column in columns]
    for start in range(0, len(frame), BLOCK_ROWS):  # Python values for one block at a time
        block = frame.iloc[start:start + BLOCK_ROWS]
        values = [_values(column.kind, block.iloc[:, n]) for n, column in enumerate(columns)]
        for row, cells in enumerate(zip(*values, strict=True), start + 1):
            for n, value in enumerate(cells):
                if value is not None:
                    writers[n](row, n, value)


def _column_kind(name: str, series: pd.Series) -> _Column:
    """How a column is written, decided once from all its values."""
    import numpy as np
    import pandas as pd

    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return _Column("bool", "General", 7)
    if pd.api.types.is_datetime64_any_dtype(dtype):
        stamps = _naive(series).dropna()
        timed = bool((stamps != stamps.dt.normalize()).any())
        return _Column("date", TIME_FORMAT if timed else DATE_FORMAT, 18 if timed else 12)
    if pd.api.types.is_numeric_dtype(dtype):
        numbers = series.astype("float64").to_numpy()
        finite = numbers[np.isfinite(numbers)]
        integers = bool(np.all(np.mod(finite, 1) == 0))
        form = number_format(name, integers)
        largest = float(np.max(np.abs(finite))) if len(finite) else 0.0
        shown = f"{largest:,.0f}" if integers or form == MONEY_FORMAT else f"{largest:,.2f}"
        return _Column("number", form, len(shown) + 2)
    text = series.dropna()
    # only strings (the fast path), or a mix of strings, numbers and others
    kind = "text" if pd.api.types.infer_dtype(text, skipna=True) in ("string", "empty") \
        else "mixed"
    if kind == "text" and len(text) and not name.lower().endswith("id") and \
            bool(text.astype("string").str.fullmatch(_ISO_DATE.pattern).all()):
        return _Column("date", DATE_FORMAT, 12)
    longest = int(text.head(5000).map(lambda v: len(str(v))).max()) if len(text) else 0
    is_id = name.lower() == "id" or name.lower().endswith(("_id", " id"))
    return _Column(kind, TEXT_FORMAT if is_id else "General", longest + 2)


def _naive(series: pd.Series) -> pd.Series:
    import pandas as pd

    stamps = pd.to_datetime(series, errors="coerce")
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_localize(None)
    return stamps


def _values(kind: str, series: pd.Series) -> list:
    """One column's cells as Python values for its writer; ``None`` where a value is missing."""
    import numpy as np

    if kind == "date":
        stamps = _naive(series)  # plain datetimes: XlsxWriter converts pandas' much slower
        return [None if gone else stamp for stamp, gone
                in zip(stamps.dt.to_pydatetime().tolist(), stamps.isna().tolist(), strict=True)]
    if kind == "number":
        numbers = series.astype("float64").to_numpy()
        return np.where(np.isfinite(numbers), numbers, None).tolist()
    missing = series.isna().to_numpy(dtype=bool)
    return [None if gone else value
            for value, gone in zip(series.tolist(), missing, strict=True)]


def _writer(sheet, kind: str) -> Callable[[int, int, object], object]:
    if kind == "date":
        return sheet.write_datetime
    if kind == "number":
        return sheet.write_number
    if kind == "bool":
        return lambda row, column, value: sheet.write_boolean(row, column, bool(value))
    if kind == "text":
        return sheet.write_string
    return lambda row, column, value: _write_mixed(sheet, row, column, value)


def _write_mixed(sheet, row: int, column: int, value) -> None:
    """A cell of a text column: text (never a formula), or a number where the value is one."""
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, bool):
        sheet.write_boolean(row, column, value)
    elif isinstance(value, (int, float)) and math.isfinite(value):
        sheet.write_number(row, column, value)
    elif isinstance(value, (list, tuple, dict)):
        sheet.write_string(row, column, json.dumps(value, default=str, ensure_ascii=False))
    else:
        sheet.write_string(row, column, str(value))
