"""Writing results: CSV safe for Excel, JSON, atomically to files or straight to streams."""

from __future__ import annotations

import csv
import errno
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
FORMATS = ("table", "csv", "json", "xlsx")


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
        if requested == "xlsx" and (out is None or str(out) == "-") and sys.stdout.isatty():
            raise UsageError("--format xlsx writes a workbook, not text for a terminal: give "
                             "--out FILE.xlsx (or send stdout to a file)")
        return requested
    if out is not None and str(out) != "-":
        suffix = out.suffix.lower().lstrip(".")
        if suffix in ("csv", "json", "xlsx"):
            return suffix
        if suffix in ("txt", "md", ""):
            return "table"
        raise UsageError(f"--out {out}: cannot tell the format from '.{suffix}'; "
                         "use .csv, .json, .xlsx or .txt, or give --format")
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
# An .xlsx file is a zip of a few XML parts. csops writes them itself, row block by row block:
# openpyxl's write-only mode, without lxml, spent two minutes on 100,000 accounts; this takes
# seconds and holds one block of rows in memory. Tests read the files back with openpyxl.

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
# the cell styles of styles.xml, by number format: (numFmtId, bold)
_STYLES = {"General": (0, False), "header": (0, True), MONEY_FORMAT: (3, False),
           SCORE_FORMAT: (164, False), RATIO_FORMAT: (165, False), DATE_FORMAT: (166, False),
           TIME_FORMAT: (167, False), TEXT_FORMAT: (49, False)}
_STYLE_INDEX = {name: index for index, name in enumerate(_STYLES)}
_CUSTOM_FORMATS = {164: SCORE_FORMAT, 165: RATIO_FORMAT, 166: DATE_FORMAT, 167: TIME_FORMAT}
# characters XML 1.0 cannot hold, written as the spreadsheet escape _xHHHH_
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ESCAPE_LIKE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")
_NEEDS_ESCAPING = r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_x[0-9A-Fa-f]{4}_"
_EXCEL_EPOCH = "1899-12-30"
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE = "http://schemas.openxmlformats.org/package/2006"


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
    import zipfile

    buffer = io.BytesIO()
    taken: set[str] = set()
    titles = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, frame in sheets:
            titles.append(sheet_title(name, taken))
            with archive.open(f"xl/worksheets/sheet{len(titles)}.xml", "w",
                              force_zip64=True) as part:
                _write_sheet(part, frame)
        if not titles:
            titles.append("Empty")
            archive.writestr("xl/worksheets/sheet1.xml", _xml(
                f'<worksheet xmlns="{_MAIN}"><sheetData/></worksheet>'))
        for path, text in _package_parts(titles).items():
            archive.writestr(path, _xml(text))
    return buffer.getvalue()


def _xml(body: str) -> str:
    return '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + body


def _package_parts(titles: list[str]) -> dict[str, str]:
    """Everything but the sheets: content types, relationships, the workbook, the styles."""
    count = len(titles)
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for n in range(1, count + 1))
    sheet_links = "".join(
        f'<Relationship Id="rId{n}" Type="{_RELATIONSHIPS}/worksheet" '
        f'Target="worksheets/sheet{n}.xml"/>' for n in range(1, count + 1))
    listed = "".join(f'<sheet name="{_attribute(title)}" sheetId="{n}" r:id="rId{n}"/>'
                     for n, title in enumerate(titles, 1))
    formats = "".join(f'<numFmt numFmtId="{number}" formatCode="{_attribute(code)}"/>'
                      for number, code in _CUSTOM_FORMATS.items())
    cell_styles = "".join(
        f'<xf numFmtId="{number}" fontId="{int(bold)}" fillId="0" borderId="0" xfId="0"'
        + (' applyNumberFormat="1"' if number else "") + (' applyFont="1"' if bold else "")
        + "/>" for number, bold in _STYLES.values())
    return {
        "[Content_Types].xml":
            f'<Types xmlns="{_PACKAGE}/content-types">'
            '<Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{overrides}</Types>",
        "_rels/.rels":
            f'<Relationships xmlns="{_PACKAGE}/relationships">'
            f'<Relationship Id="rId1" Type="{_RELATIONSHIPS}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>',
        "xl/_rels/workbook.xml.rels":
            f'<Relationships xmlns="{_PACKAGE}/relationships">{sheet_links}'
            f'<Relationship Id="rId{count + 1}" Type="{_RELATIONSHIPS}/styles" '
            'Target="styles.xml"/></Relationships>',
        "xl/workbook.xml":
            f'<workbook xmlns="{_MAIN}" xmlns:r="{_RELATIONSHIPS}"><bookViews>'
            f'<workbookView/></bookViews><sheets>{listed}</sheets></workbook>',
        "xl/styles.xml":
            f'<styleSheet xmlns="{_MAIN}"><numFmts count="{len(_CUSTOM_FORMATS)}">{formats}'
            '</numFmts><fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
            '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
            '</borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
            f'borderId="0"/></cellStyleXfs><cellXfs count="{len(_STYLES)}">{cell_styles}'
            '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" '
            'builtinId="0"/></cellStyles></styleSheet>',
    }


def _attribute(text: str) -> str:
    return _text(text).replace('"', "&quot;")


def _text(value: str) -> str:
    """Text as XML character data, characters XML cannot hold escaped as Excel does."""
    text = _ESCAPE_LIKE.sub("_x005F_", value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _NOT_XML.sub(lambda found: f"_x{ord(found.group()):04X}_", text)


@dataclass(frozen=True)
class _Column:
    letter: str
    kind: str  # text, number, integer, date, time, bool
    style: int
    width: int


def _write_sheet(part: IO[bytes], frame: pd.DataFrame) -> None:
    from openpyxl.utils import get_column_letter

    names = [str(name) for name in frame.columns]
    columns = [_column_kind(get_column_letter(n + 1), name, frame.iloc[:, n])
               for n, name in enumerate(names)]
    widths = "".join(
        f'<col min="{n}" max="{n}" width="{_width(name, column)}" customWidth="1"/>'
        for n, (name, column) in enumerate(zip(names, columns, strict=True), 1))
    header = "".join(f'<c r="{column.letter}1" t="inlineStr" s="{_STYLE_INDEX["header"]}"><is>'
                     f'<t xml:space="preserve">{_text(name)}</t></is></c>'
                     for name, column in zip(names, columns, strict=True))
    part.write(_xml(
        f'<worksheet xmlns="{_MAIN}"><sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/>'
        + (f"<cols>{widths}</cols>" if widths else "")
        + f'<sheetData><row r="1">{header}</row>').encode())
    for start in range(0, len(frame), BLOCK_ROWS):
        block = frame.iloc[start:start + BLOCK_ROWS]
        cells = [_cells(column, block.iloc[:, n], start + 2)
                 for n, column in enumerate(columns)]
        rows = [f'<row r="{number}">{"".join(row)}</row>'
                for number, row in enumerate(zip(*cells, strict=True), start + 2)] \
            if cells else []
        part.write("".join(rows).encode("utf-8", "replace"))
    part.write(b"</sheetData></worksheet>")


def _width(name: str, column: _Column) -> int:
    return min(max(len(name) + 2, column.width), MAX_COLUMN_WIDTH)


def _column_kind(letter: str, name: str, series: pd.Series) -> _Column:
    """How a column is written, decided once from all its values."""
    import numpy as np
    import pandas as pd

    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return _Column(letter, "bool", 0, 7)
    if pd.api.types.is_datetime64_any_dtype(dtype):
        stamps = _naive(series).dropna()
        timed = bool((stamps != stamps.dt.normalize()).any())
        return _Column(letter, "time" if timed else "date",
                       _STYLE_INDEX[TIME_FORMAT if timed else DATE_FORMAT], 18 if timed else 12)
    if pd.api.types.is_numeric_dtype(dtype):
        numbers = series.astype("float64").to_numpy()
        finite = numbers[np.isfinite(numbers)]
        integers = bool(np.all(np.mod(finite, 1) == 0))
        form = number_format(name, integers)
        largest = float(np.max(np.abs(finite))) if len(finite) else 0.0
        shown = f"{largest:,.0f}" if integers or form == MONEY_FORMAT else f"{largest:,.2f}"
        return _Column(letter, "integer" if integers else "number", _STYLE_INDEX[form],
                       len(shown) + 2)
    text = series.dropna()
    # only strings (the fast path), or a mix of strings, numbers and others
    kind = "text" if pd.api.types.infer_dtype(text, skipna=True) in ("string", "empty") \
        else "mixed"
    if kind == "text" and len(text) and not name.lower().endswith("id") and \
            bool(text.astype("string").str.fullmatch(_ISO_DATE.pattern).all()):
        return _Column(letter, "date", _STYLE_INDEX[DATE_FORMAT], 12)
    longest = int(text.head(5000).map(lambda v: len(str(v))).max()) if len(text) else 0
    is_id = name.lower() == "id" or name.lower().endswith(("_id", " id"))
    return _Column(letter, kind, _STYLE_INDEX[TEXT_FORMAT if is_id else "General"],
                   longest + 2)


def _naive(series: pd.Series) -> pd.Series:
    import pandas as pd

    stamps = pd.to_datetime(series, errors="coerce")
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_localize(None)
    return stamps


def _cells(column: _Column, series: pd.Series, first_row: int) -> list[str]:
    """The XML of a block of one column's cells; an empty string for a missing value."""
    import numpy as np
    import pandas as pd

    ref, style = column.letter, column.style
    rows = range(first_row, first_row + len(series))
    if column.kind in ("date", "time"):
        stamps = _naive(series)
        # an Excel date is a count of days since 1899-12-30, the time of day its fraction
        days = (stamps - pd.Timestamp(_EXCEL_EPOCH)) / pd.Timedelta(days=1)
        shown = (lambda v: f"{v:.10g}") if column.kind == "time" else (lambda v: str(int(v)))
        return ["" if value != value else f'<c r="{ref}{row}" s="{style}"><v>{shown(value)}</v></c>'
                for row, value in zip(rows, days.tolist(), strict=True)]
    if column.kind in ("integer", "number"):
        numbers = series.astype("float64").to_numpy()
        numbers = np.where(np.isfinite(numbers), numbers, np.nan)
        shown = (lambda v: str(int(v))) if column.kind == "integer" else repr
        return ["" if value != value else f'<c r="{ref}{row}" s="{style}"><v>{shown(value)}</v></c>'
                for row, value in zip(rows, numbers.tolist(), strict=True)]
    missing = series.isna().to_numpy(dtype=bool)
    if column.kind == "text":
        text = series.astype("string")
        special = text.str.contains(_NEEDS_ESCAPING, regex=True).fillna(False).to_numpy(
            dtype=bool)
        values = text.tolist()
        if special.any():
            values = [_text(v) if odd else v for v, odd in zip(values, special, strict=True)]
        start = '" t="inlineStr" s="' + str(style) + '"><is><t xml:space="preserve">'
        return ["" if gone else f'<c r="{ref}{row}{start}{value}</t></is></c>'
                for row, value, gone in zip(rows, values, missing, strict=True)]
    if column.kind == "bool":
        return ["" if gone else f'<c r="{ref}{row}" t="b"><v>{int(bool(value))}</v></c>'
                for row, value, gone in zip(rows, series.tolist(), missing, strict=True)]
    return ["" if gone else _mixed_cell(f"{ref}{row}", style, value)
            for row, value, gone in zip(rows, series.tolist(), missing, strict=True)]


def _mixed_cell(ref: str, style: int, value) -> str:
    """A cell of a text column: text (never a formula), or a number where the value is one."""
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)) and math.isfinite(value):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    if isinstance(value, (list, tuple, dict)):
        value = json.dumps(value, default=str, ensure_ascii=False)
    return f'<c r="{ref}" t="inlineStr" s="{style}"><is><t xml:space="preserve">' \
        f"{_text(str(value))}</t></is></c>"
