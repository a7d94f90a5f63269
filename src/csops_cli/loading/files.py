"""Reading one export file into a raw DataFrame, whatever its format.

CSV goes through pyarrow's multi-threaded reader (the engine behind ``pandas.read_csv(
engine="pyarrow")``), used directly for its per-column types and its invalid-row hook, which
drops CRM report footers. Row positions are kept as the frame's index so that a problem can be
traced back to its line in the file; that mapping is only computed when a problem is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from ..errors import MAX_PROBLEMS_SHOWN, InputError, Problem, ProblemCode
from .csvtext import (
    check_quotes,
    csv_layout,
    csv_line_mapper,
    dedupe,
    is_footer,
    ragged_problems,
)


@dataclass
class RawFile:
    """A file's cells, untyped where the reader could not type them, plus where rows came from."""

    path: Path
    frame: pd.DataFrame
    headers: list[str]
    # index value (record position) -> line in the file; computed lazily
    _line_of: Callable[[Sequence[int]], list[int | None]] = field(repr=False)

    def lines(self, positions: Sequence[int]) -> list[int | None]:
        return self._line_of(positions)


def read_headers(path: Path) -> list[str]:
    """Just the header row, for preset detection and `csops init`."""
    suffix = path.suffix.lower()
    if suffix == ".parquet" or suffix == ".pq":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    if suffix == ".xlsx":
        return [str(name) for name in _read_excel(path, nrows=0).columns]
    return csv_layout(path)[2]


def read_file(path: Path, wanted: Callable[[list[str]], dict[str, str | None]],
              big: bool = False) -> RawFile:
    """Read ``path``. ``wanted(headers)`` maps each header to read to a type: 'string',
    'dictionary' (repeated text, kept as codes) or None (inferred: numbers, dates); headers it
    leaves out are not parsed at all."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(path, wanted)
    if suffix in (".parquet", ".pq"):
        return _read_parquet(path, wanted)
    return _read_csv(path, wanted, big)


# --- CSV ---------------------------------------------------------------------------------------


def _read_csv(path: Path, wanted, big: bool) -> RawFile:
    encoding, delimiter, headers = csv_layout(path)
    types = wanted(headers)
    bad_rows: list[str] = []

    def on_invalid_row(row) -> str:
        text = row.text or ""
        if not text.strip() or is_footer(text.split(delimiter)[0]):
            return "skip"
        bad_rows.append(text)
        return "skip"

    def attempt(column_types: dict[str, pa.DataType], encoding: str) -> pa.Table:
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
            encoding = "cp1252"
            table = attempt(column_types, encoding)
            break
        except pa.ArrowInvalid as error:
            message = str(error)
            if "UTF8" in message or "UTF-8" in message or "utf8" in message:
                encoding = "cp1252"
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
        check_quotes(path, encoding, delimiter)
    if bad_rows:
        problems = ragged_problems(path, len(headers), delimiter, encoding)
        raise InputError(f"{path}: {len(problems)} row(s) with the wrong number of fields",
                         problems[:MAX_PROBLEMS_SHOWN], total=len(problems))
    frame = _drop_blank_and_footer_rows(frame)
    return RawFile(path, frame, headers, line_of)


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


def _read_excel(path: Path, nrows: int | None = None) -> pd.DataFrame:
    try:
        return pd.read_excel(path, dtype=object, nrows=nrows, engine="openpyxl")
    except Exception as error:  # openpyxl raises many types for a corrupt workbook
        raise InputError(f"{path}: cannot be read as an Excel workbook",
                         [Problem(str(path), str(error).splitlines()[0] if str(error) else
                                  type(error).__name__, fix="save it again as .xlsx or CSV",
                                  code=ProblemCode.UNREADABLE_FILE)]
                         ) from None


def _excel_text(value) -> object:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    return str(value)


def _read_xlsx(path: Path, wanted) -> RawFile:
    sheet = _read_excel(path)
    headers = dedupe([str(name).strip() for name in sheet.columns])
    sheet.columns = headers
    chosen = list(wanted(headers))
    frame = pd.DataFrame({name: sheet[name].map(_excel_text).astype("string[pyarrow]")
                          for name in chosen}, index=sheet.index)
    frame = _drop_blank_and_footer_rows(frame)
    return RawFile(path, frame, headers, lambda positions: [p + 2 for p in positions])


def _read_parquet(path: Path, wanted) -> RawFile:
    import pyarrow.parquet as pq

    try:
        names = list(pq.read_schema(path).names)
        chosen = list(wanted(names))
        table = pq.read_table(path, columns=chosen)
    except (pa.ArrowInvalid, OSError) as error:
        raise InputError(f"{path}: cannot be read as Parquet",
                         [Problem(str(path), str(error).splitlines()[0],
                                  fix="write it again as Parquet, or export CSV",
                                  code=ProblemCode.UNREADABLE_FILE)]) from None
    frame = table.to_pandas(types_mapper=_types_mapper, date_as_object=False)
    return RawFile(path, frame, names, lambda positions: [p + 1 for p in positions])
