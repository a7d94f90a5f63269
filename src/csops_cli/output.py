"""Writing results: CSV safe for Excel, JSON, atomically to files or straight to streams."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING

from .errors import UsageError

if TYPE_CHECKING:  # pandas loads with the data, not for --format checks
    import pandas as pd

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
FORMULA_PATTERN = "^[" + re.escape("".join(FORMULA_TRIGGERS)) + "]"
FORMATS = ("table", "csv", "json")


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
    return header.getvalue() + sink.getvalue().to_pybytes().decode("utf-8")


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


def records(frame: pd.DataFrame) -> list[dict]:
    jsonable = _json_converter()
    columns = list(frame.columns)
    return [{c: jsonable(v) for c, v in zip(columns, row, strict=True)}
            for row in frame.itertuples(index=False, name=None)]


def json_text(payload) -> str:
    return json.dumps(payload, indent=2, default=_json_converter(), ensure_ascii=False) + "\n"


def format_for(out: Path | None, requested: str | None) -> str:
    """--format wins; else the --out suffix; else a table."""
    if requested:
        if requested not in FORMATS:
            raise UsageError(f"--format {requested!r}: use one of {', '.join(FORMATS)}")
        return requested
    if out is not None and str(out) != "-":
        suffix = out.suffix.lower().lstrip(".")
        if suffix in ("csv", "json"):
            return suffix
        if suffix in ("txt", "md", ""):
            return "table"
        raise UsageError(f"--out {out}: cannot tell the format from '.{suffix}'; "
                         "use .csv, .json or .txt, or give --format")
    return "table"


def write_text(path: Path | None, text: str, stream: IO[str] | None = None) -> None:
    """Write to stdout (``None`` or ``-``), straight into a non-regular file (a pipe,
    /dev/stdout), or atomically into a regular file: temporary file, then rename."""
    if path is None or str(path) == "-":
        (stream or sys.stdout).write(text)
        return
    atomic_write(path, lambda handle: handle.write(text))


def atomic_write(path: Path, write: Callable[[IO[str]], object]) -> None:
    if path.exists() and not path.is_file():
        with path.open("w", encoding="utf-8", newline="") as handle:
            write(handle)
        return
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(f"--out {path}: the folder {directory} does not exist")
    handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", newline="", dir=directory,
                                         prefix=f".{path.name}.", suffix=".tmp", delete=False)
    try:
        with handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
