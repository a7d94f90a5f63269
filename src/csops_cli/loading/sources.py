"""Sources: how one tool's file becomes a canonical table (the `sources:` section of
playbooks.yaml, and the packaged presets in ``csops_cli/presets``, which use the same format).

One source is applied to one read file in a fixed order: columns -> where -> split/first ->
lookup -> constant -> derive. The result is a raw-like frame whose columns are the canonical
columns (named by the file's header when taken as they are, by the canonical name when made
by a step), with the file's record positions as its index: `where` drops positions, `split`
repeats them, so the usual typing reports each problem with its real line. The assumptions
made along the way come back with the number of rows they touch.
"""

from __future__ import annotations

import ast
import difflib
import fnmatch
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..condition_syntax import CONSTANT_NAMES, ConditionError, parse
from ..conditions import _dates, compile_condition, compile_expression
from ..config import Source, SourceLookup
from ..errors import ConfigError, InputError, Problem, ProblemCode
from . import values
from .columns import duplicate_headers, map_headers
from .files import RawFile, read_file
from .hints import missing_column_problem
from .schema import TABLES
from .source_rules import (
    _referenced_names,
    _snake_headers,
    find_header,
    header_choices,
    snake,
)


@dataclass(frozen=True)
class Assumption:
    """What a source assumed, and on how many rows (shown by validate, init and audit)."""

    text: str
    count: int


@dataclass
class Sourced:
    """One file through one source: a raw-like frame of canonical columns."""

    source: Source
    frame: pd.DataFrame
    mapping: dict[str, str]  # canonical column -> column of ``frame``
    assumptions: list[Assumption] = field(default_factory=list)


# --- applying a source -------------------------------------------------------------------------

class _Rows:
    """The rows being built: positions into the read frame, and the canonical columns."""

    def __init__(self, raw: RawFile):
        self.raw = raw
        self.take = np.arange(len(raw.frame))  # iloc positions into raw.frame (may repeat)
        self.columns: dict[str, pd.Series] = {}  # canonical -> values aligned with ``take``
        self.origin: dict[str, str] = {}  # canonical -> header, for columns taken as they are
        self._typed: dict[str, tuple[pd.Series, str]] = {}  # header -> (typed cells, kind)

    @property
    def index(self) -> pd.Index:
        return self.raw.frame.index[self.take]

    def file_column(self, header: str) -> pd.Series:
        return pd.Series(self.raw.frame[header].to_numpy()[self.take], index=self.index)

    def keep(self, mask: np.ndarray) -> None:
        self.take = self.take[mask]
        self.columns = {name: series[mask] for name, series in self.columns.items()}

    def repeat(self, counts: np.ndarray) -> None:
        self.take = np.repeat(self.take, counts)
        self.columns = {name: pd.Series(np.repeat(series.to_numpy(), counts), index=self.index)
                        for name, series in self.columns.items()}

    def typed_file_column(self, header: str) -> tuple[pd.Series, str]:
        if header not in self._typed:
            self._typed[header] = _infer(self.raw.frame[header])
        series, kind = self._typed[header]
        return pd.Series(series.to_numpy()[self.take], index=self.index), kind


def _infer(cells: pd.Series) -> tuple[pd.Series, str]:
    """A file column typed for expressions: amounts as numbers, dates as dates, else text."""
    if pd.api.types.is_bool_dtype(cells.dtype):
        return cells, "bool"
    if pd.api.types.is_numeric_dtype(cells.dtype):
        return cells.astype("float64"), "number"
    if pd.api.types.is_datetime64_any_dtype(cells.dtype):
        return _dates(cells, cells.to_frame()), "date"
    text = _as_text(cells)
    filled = text.dropna()
    if filled.empty:
        return text, "null"
    numbers, bad = values.parse_money(text)
    if not bad.any():
        return numbers.astype("float64"), "number"
    if not filled.str.fullmatch(r"[\d.;, ]+").any():  # ids and epochs are not read as dates
        dates, bad = values.parse_dates(text)
        if not bad.any():
            return dates.astype("datetime64[ns]"), "date"
    return text, "text"


def _as_text(cells: pd.Series) -> pd.Series:
    if cells.dtype == object:
        cells = cells.map(lambda v: v if v is None or isinstance(v, str) else _cell_text(v))
    text = cells.astype("string").str.strip()
    return text.mask(text == "")


def _cell_text(value) -> str | None:
    if isinstance(value, (list, tuple, np.ndarray)):
        items = [str(item) for item in value if item is not None]
        return items[0] if len(items) == 1 else json.dumps(items) if items else None
    if isinstance(value, float) and value != value:
        return None
    return str(value)


def _canonical_kind(table: str, name: str) -> str | None:
    return next((column.kind for column in TABLES[table] if column.name == name), None)


def apply_source(raw: RawFile, table: str, source: Source, folder: Path | None = None,
                 origin: str = "playbooks.yaml", lines: dict[str, int] | None = None
                 ) -> Sourced:
    """Apply ``source`` to the read file ``raw`` (see the module's docstring). ``lines``:
    where each expression is in ``origin`` (``Config.source_lines``), for its errors."""
    path = raw.path
    rows = _Rows(raw)
    headers = list(raw.headers)
    present = [h for h in headers if h in raw.frame.columns]
    optional = set(source.optional)
    assumptions: list[Assumption] = []

    # columns
    missing: list[str] = []
    for canonical, choices in source.columns.items():
        header = next((found for name in header_choices(choices)
                       if (found := find_header(present, name)) is not None), None)
        if header is not None:
            rows.columns[canonical] = rows.file_column(header)
            rows.origin[canonical] = header
        elif canonical not in optional and not any(snake(name) in optional
                                                  for name in header_choices(choices)):
            missing.append(canonical)
    used = set(rows.origin.values())
    named = set(source.columns) | set(source.derive) | set(source.constant)
    for canonical, header in map_headers(present, table, None, {}).items():
        if canonical not in rows.columns and header not in used and (
                canonical not in named or canonical in optional):
            rows.columns[canonical] = rows.file_column(header)
            rows.origin[canonical] = header
            used.add(header)
    duplicates = duplicate_headers(path, headers, rows.origin)
    if duplicates:
        raise InputError(f"{path}: {len(duplicates)} column(s) given twice", duplicates)
    made = set(source.derive) | set(source.constant) | set(source.lookup)
    missing += [column.name for column in TABLES[table] if column.required
                and column.name not in rows.columns and column.name not in made
                and column.name not in missing]
    if missing:
        raise InputError(f"{path}: missing required column(s) for the {source.tool or source.id}"
                         f" source: {', '.join(missing)}",
                         [missing_column_problem(path, table, canonical, headers,
                                                 taken=list(used))
                          for canonical in missing])

    def namespace() -> tuple[pd.DataFrame, dict[str, str]]:
        data: dict[str, pd.Series] = {}
        kinds: dict[str, str] = {}
        by_snake = _snake_headers(present)
        for name in referenced:
            if name in rows.columns:
                data[name], kinds[name] = _typed_canonical(table, name, rows)
            elif name in by_snake:
                data[name], kinds[name] = rows.typed_file_column(by_snake[name])
            elif name in optional:
                data[name] = pd.Series(pd.NA, index=rows.index, dtype="object")
                kinds[name] = "absent"
        frame = pd.DataFrame({name: series.to_numpy() for name, series in data.items()},
                             index=rows.index)
        for name, series in data.items():  # keep dtypes (to_numpy drops string/datetime)
            frame[name] = pd.Series(series.to_numpy(), index=rows.index, dtype=series.dtype)
        return frame, kinds

    referenced = _referenced_names(source)
    known_names = sorted(set(_snake_headers(headers)) | set(rows.columns) | set(source.derive)
                         | set(source.constant) | optional)

    def compiled(part: str, text: str, boolean: bool):
        frame, kinds = namespace()
        try:
            tree = parse(text)
            called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
            for node in ast.walk(tree):
                if (isinstance(node, ast.Name) and id(node) not in called
                        and node.id not in CONSTANT_NAMES and node.id not in frame.columns):
                    close = difflib.get_close_matches(node.id, known_names, n=3, cutoff=0.5)
                    raise ConditionError(
                        f"unknown name '{node.id}' in {path.name}", node.col_offset + 1,
                        fix=(f"did you mean {', '.join(close)}?" if close else
                             f"the file's columns: {', '.join(known_names[:12])}"))
            if boolean:
                return compile_condition(text, frame, kinds), frame
            return compile_expression(text, frame, kinds), frame
        except ConditionError as error:
            raise _expression_error(origin, table, source, part, text, error,
                                    (lines or {}).get(f"sources.{table}.{source.id}.{part}")
                                    ) from None

    def run(part: str, text: str, compiled_expression, frame: pd.DataFrame) -> pd.Series:
        try:
            return compiled_expression(frame)
        except ConditionError as error:  # e.g. a constant that is not a date, met when run
            raise _expression_error(origin, table, source, part, text, error,
                                    (lines or {}).get(f"sources.{table}.{source.id}.{part}")
                                    ) from None

    # where
    if source.where:
        condition, frame = compiled("where", source.where, True)
        keep = run("where", source.where, condition, frame).to_numpy(dtype=bool)
        dropped = int((~keep).sum())
        rows.keep(keep)
        if dropped:
            assumptions.append(Assumption(source.dropped or f"rows left out by where: "
                                          f"{source.where}", dropped))

    # split / first
    for canonical, separator in list(source.split.items()) + list(source.first.items()):
        if canonical not in rows.columns:
            continue
        parts = _parts(rows.columns[canonical], separator)
        counts = parts.map(len).to_numpy()
        several = int((counts > 1).sum())
        shown = rows.origin.get(canonical, canonical)
        if canonical in source.split:
            flat = [item for items in parts for item in (items or [None])]
            rows.repeat(np.maximum(counts, 1))
            rows.columns[canonical] = pd.Series(flat, index=rows.index, dtype="object")
            text = f"rows with several {shown} values: one row per value"
        else:
            firsts = [items[0] if items else None for items in parts]
            rows.columns[canonical] = pd.Series(firsts, index=rows.index, dtype="object")
            text = f"rows with several {shown} values counted once, for the first"
        if several and not source.assumptions:  # a source with assumptions words its own
            assumptions.append(Assumption(text, several))

    # usage events that name no account (Amplitude `groups: {}`) count for nobody
    if table == "usage" and "account_id" in rows.columns:
        has_account = _as_text(rows.columns["account_id"]).notna().to_numpy(dtype=bool)
        if not has_account.all():
            assumptions.append(Assumption("events with no account left out",
                                          int((~has_account).sum())))
            rows.keep(has_account)

    # lookup
    for canonical, lookup in source.lookup.items():
        if canonical in rows.columns:
            assumptions += _apply_lookup(rows, canonical, lookup, folder)

    # constant
    for canonical, value in source.constant.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        rows.columns[canonical] = pd.Series(text, index=rows.index, dtype="string")
        rows.origin.pop(canonical, None)

    # derive, in the order written: each result is usable below
    for canonical, text in source.derive.items():
        expression, frame = compiled(f"derive.{canonical}", text, False)
        result = run(f"derive.{canonical}", text, expression, frame)
        rows.columns[canonical] = pd.Series(result.to_numpy(), index=rows.index,
                                            dtype=result.dtype)
        rows.origin.pop(canonical, None)
        referenced.add(canonical)

    # assumptions, with the rows they touch (positions, so a split row counts once)
    for index, item in enumerate(source.assumptions):
        if item.rows:
            part = f"assumptions[{index}].rows"
            condition, frame = compiled(part, item.rows, True)
            mask = run(part, item.rows, condition, frame).to_numpy(dtype=bool)
            count = int(pd.Index(rows.index[mask]).nunique())
        else:
            count = int(pd.Index(rows.index).nunique())
        if count:
            assumptions.append(Assumption(item.text, count))

    return Sourced(source, *_output(rows, table, present), assumptions)


def _typed_canonical(table: str, name: str, rows: _Rows) -> tuple[pd.Series, str]:
    series = rows.columns[name]
    if name not in rows.origin:  # made by a step: already typed
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            text = _as_text(series)
            return text, "null" if text.isna().all() else "text"
        from ..conditions import column_kind

        return series, column_kind(series)
    kind = _canonical_kind(table, name)
    text = _as_text(series)
    if kind in ("money", "number"):
        return values.parse_money(text)[0].astype("float64"), "number"
    if kind == "date":
        return _dates(text, text.to_frame()), "date"
    return text, "text"


def _parts(series: pd.Series, separator: str) -> pd.Series:
    """Each cell's values: a list cell (JSON) as it is, a text cell split by ``separator``."""
    def split(value) -> list[str]:
        if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
            return []
        if isinstance(value, (list, tuple, np.ndarray)):
            return [str(item).strip() for item in value if item is not None and str(item).strip()]
        text = str(value).strip()
        if text.startswith("[") and text.endswith("]"):
            try:
                items = json.loads(text)
            except ValueError:
                items = None
            if isinstance(items, list):
                return [str(item).strip() for item in items if item is not None]
        return [part.strip() for part in text.split(separator) if part.strip()]
    return pd.Series([split(value) for value in series.tolist()], index=series.index,
                     dtype="object")


def find_lookup_file(folder: Path | None, pattern: str) -> Path | None:
    if folder is None or not folder.is_dir():
        return None
    matches = sorted(path for path in folder.iterdir()
                     if path.is_file() and fnmatch.fnmatch(path.name.lower(), pattern.lower()))
    return matches[0] if matches else None


def _apply_lookup(rows: _Rows, canonical: str, lookup: SourceLookup, folder: Path | None
                  ) -> list[Assumption]:
    codes = _as_text(rows.columns[canonical])
    path = find_lookup_file(folder, lookup.file)
    if path is None:
        return [Assumption(f"no {lookup.file} file: {canonical} codes kept as they are",
                           int(codes.notna().sum()))]
    table = read_file(path, lambda names: dict.fromkeys(names, "string"))
    key = find_header(table.headers, lookup.key)
    value = find_header(table.headers, lookup.value)
    if key is None or value is None:
        raise InputError(f"{path}: the lookup needs the fields {lookup.key} and {lookup.value}",
                         [Problem(str(path), f"fields {lookup.key!r} and {lookup.value!r} not "
                                  f"found (headers: {', '.join(table.headers[:8])})", line=1,
                                  fix=f"check the lookup of {canonical} in sources:",
                                  code=ProblemCode.MISSING_COLUMN)])
    names = dict(zip(_as_text(table.frame[key]).tolist(), _as_text(table.frame[value]).tolist(),
                     strict=True))
    named = codes.map(names)
    unknown = codes.notna() & named.isna()
    rows.columns[canonical] = named.where(~unknown, codes).astype("string")
    rows.origin.pop(canonical, None)
    count = int(unknown.sum())
    return [Assumption(f"{canonical} codes not in {path.name} kept as codes", count)] \
        if count else []


def _output(rows: _Rows, table: str, present: list[str]) -> tuple[pd.DataFrame, dict[str, str]]:
    data: dict[str, pd.Series] = {}
    mapping: dict[str, str] = {}
    canonical_names = [column.name for column in TABLES[table]]
    for canonical in canonical_names + [c for c in rows.columns if c not in canonical_names]:
        if canonical not in rows.columns:
            continue
        name = rows.origin.get(canonical, canonical)
        if name in data:
            name = canonical
        series = rows.columns[canonical]
        if series.dtype == object:
            series = _as_text(series)
        data[name] = series
        mapping[canonical] = name
    if table == "accounts":  # every other column is kept for play conditions
        for header in present:
            if header not in data and header not in mapping.values():
                data[header] = rows.file_column(header)
    frame = pd.DataFrame(index=rows.index)
    for name, series in data.items():
        frame[name] = pd.Series(series.to_numpy(), index=rows.index, dtype=series.dtype)
    return frame, mapping


def _expression_error(origin: str, table: str, source: Source, part: str, text: str,
                      error: ConditionError, line: int | None = None) -> ConfigError:
    pointer = f": {text.strip()} ← here at column {error.column}" if error.column else ""
    where = f"sources.{table}.{source.id}.{part}"
    return ConfigError(f"{origin}: source '{source.id}' cannot be used", [Problem(
        origin, f"{where}: {error.message}{pointer}", line=line, column=where,
        value=text.strip()[:80], fix=error.fix, code=ProblemCode.BAD_CONDITION)])
