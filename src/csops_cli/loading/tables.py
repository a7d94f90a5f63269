"""From export files to canonical tables: find files, map headers, type values, report problems."""

from __future__ import annotations

import functools
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..config import Config
from ..errors import MAX_PROBLEMS_SHOWN, InputError, Problem, ProblemCode
from . import values
from .columns import find_exports, table_mapping
from .events import AccountSource, UsageEvents, UsageRead, account_index, events_from_frame
from .files import RawFile, read_file
from .schema import (
    CONTRACT_TYPES,
    REQUIRED_TABLES,
    TABLE_NAMES,
    TABLES,
)


class Table:
    """One canonical table. ``frame``'s index is the record position in the file. The usage
    table also holds its events in compact form, and may build its frame from them only when
    asked."""

    def __init__(self, name: str, path: Path, frame: pd.DataFrame | None, preset: str | None,
                 source_columns: dict[str, str], raw: RawFile,
                 events: UsageEvents | None = None):
        self.name, self.path, self.preset = name, path, preset
        self.source_columns = source_columns  # canonical column -> header in the file
        self.raw = raw
        self.events = events
        self._frame = frame

    @property
    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            assert self.events is not None
            self._frame = self.events.frame()
        return self._frame

    @property
    def rows(self) -> int:
        if self._frame is None and self.events is not None:
            return len(self.events)
        return len(self.frame)

    def lines(self, positions) -> list[int | None]:
        return self.raw.lines(list(positions))

    def __repr__(self) -> str:
        return f"Table({self.name!r}, {str(self.path)!r}, rows={self.rows})"


@dataclass
class Exports:
    """The loaded tables of one data folder. Optional tables are None when absent."""

    folder: Path | None
    accounts: Table
    contracts: Table
    usage: Table | None = None
    activities: Table | None = None
    team: Table | None = None

    def tables(self) -> list[Table]:
        return [t for t in (self.accounts, self.contracts, self.usage, self.activities,
                            self.team) if t is not None]


def load_table(name: str, path: Path, config: Config, big: bool = False,
               ids: AccountSource | None = None, fast: bool = True) -> Table:
    """Read and check one export. Usage events are also coded against the account ids that
    ``ids()`` gives (None: the accounts could not be read): straight from the file when it is
    a plain CSV (the fast reader, unless ``fast`` is False), else from the checked frame."""
    columns = {column.name: column for column in TABLES[name]}
    state: dict[str, object] = {}

    def wanted(headers: list[str]) -> dict[str, str | None]:
        preset, mapping = table_mapping(name, path, headers, config)
        state.update(preset=preset, mapping=mapping)
        chosen: dict[str, str | None] = {}
        for canonical, header in mapping.items():
            kind = columns[canonical].kind
            # event tables repeat their text: codes, not millions of strings (users are too
            # many to repeat much, and are only counted inside a window)
            repeated = big and canonical != "user_id"
            chosen[header] = ("dictionary" if repeated else "string") \
                if kind in ("id", "text") else None
        if name == "accounts":  # every other accounts column is kept for play conditions
            for header in headers:
                chosen.setdefault(header, "string")
        return chosen

    if name == "usage" and ids is not None and fast:
        read = UsageRead.start(path, config)  # here started and finished at once
        if read is not None:
            table = _events_table(read, ids)
            if table is not None:
                return table
    raw = read_file(path, wanted, big=big)
    mapping: dict[str, str] = state["mapping"]  # type: ignore[assignment]
    if raw.frame.empty:
        raise InputError(f"{path}: the file has a header but no data rows",
                         [Problem(str(path), "no data rows after the header", line=2,
                                  fix=f"export the {name} table again with its rows, or remove "
                                      "the file so that csops skips what needs it",
                                  code=ProblemCode.NO_DATA_ROWS)])
    frame, problems = _canonical_frame(raw, name, mapping, config)
    if problems:
        raise _problems_error(path, raw, problems)
    raw.frame = raw.frame.iloc[:0]  # the cells now live in `frame`; keep lines, not a copy
    account_ids = ids() if name == "usage" and ids is not None else None
    events = events_from_frame(frame, account_ids) if account_ids is not None else None
    return Table(name, path, frame, state["preset"], mapping, raw,  # type: ignore[arg-type]
                 events)


# (position, column header, value, code, message, fix) before line numbers are looked up
Pending = tuple[int, str, str, ProblemCode, str, str]


def _events_table(read: UsageRead, ids: AccountSource) -> Table | None:
    """The usage table from the fast reader, or None when the general reader should read it."""
    result = read.finish(ids)
    if result is None:
        return None
    raw = RawFile(read.path, pd.DataFrame(), result.headers, result.line_of)
    return Table("usage", read.path, None, read.preset, read.mapping, raw, result.events)


def _canonical_frame(raw: RawFile, table: str, mapping: dict[str, str], config: Config
                     ) -> tuple[pd.DataFrame, list[Pending]]:
    frame = raw.frame
    data: dict[str, pd.Series] = {}
    problems: list[Pending] = []
    for column in TABLES[table]:
        header = mapping.get(column.name)
        if header is None:
            continue
        source = frame[header]
        if column.kind in ("id", "text"):
            parsed = values.clean_text(source)
            bad = pd.Series(False, index=frame.index)
        elif column.kind == "date":
            parsed, bad = values.parse_dates(source, config.inputs.dayfirst)
            fix = ("write dates as 2026-03-01 or 3/1/2026"
                   + ("" if config.inputs.dayfirst else
                      "; for day-first dates set inputs: dayfirst: true"))
            problems += _pending(source, bad, header, ProblemCode.NOT_A_DATE, "not a date", fix)
        elif column.kind == "money":
            parsed, bad = values.parse_money(source, config.inputs.decimal)
            problems += _pending(source, bad, header, ProblemCode.NOT_AN_AMOUNT, "not an amount",
                                 "write amounts as 1200, 1,200.50 or $1,200")
        else:
            parsed, bad = values.parse_number(source, config.inputs.decimal)
            problems += _pending(source, bad, header, ProblemCode.NOT_A_NUMBER, "not a number",
                                 "write a plain number")
            negative = (parsed < 0).fillna(False)
            problems += _pending(source, negative, header, ProblemCode.NEGATIVE_VALUE,
                                 f"negative {column.name}",
                                 "a count cannot be below zero; fix the value")
        if column.required:
            empty = parsed.isna() & ~bad
            problems += _pending(source, empty, header, ProblemCode.MISSING_VALUE,
                                 "missing value",
                                 f"fill in {column.name} on this row, or delete the row")
        data[column.name] = parsed
    canonical = pd.DataFrame(data, index=frame.index)
    if table == "accounts":
        used = set(mapping.values())
        for header in raw.headers:
            if header not in used and header in frame.columns:
                name = _extra_name(header, canonical.columns)
                canonical[name] = _typed_extra(frame[header])
    _normalize_categories(canonical, table)
    return canonical, problems


def _pending(source: pd.Series, bad: pd.Series, header: str, code: ProblemCode, message: str,
             fix: str) -> list[Pending]:
    if not bad.any():
        return []
    rows = source[bad.to_numpy()]
    return [(int(position), header, "" if pd.isna(value) else str(value), code, message, fix)
            for position, value in rows.items()]


def _extra_name(header: str, taken) -> str:
    """Extra accounts columns become snake_case names usable in play conditions."""
    name = re.sub(r"[^0-9a-z]+", "_", header.lower()).strip("_") or "column"
    if name[0].isdigit():
        name = f"c_{name}"
    base, n = name, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    return name


def _typed_extra(source: pd.Series) -> pd.Series:
    """Numbers stay numbers (for play conditions) unless leading zeros say they are codes."""
    text = source.astype("string[pyarrow]").str.strip()
    text = text.mask(text == "")
    filled = text.dropna()
    if filled.empty:
        return text
    if filled.str.fullmatch(r"0\d+").any():
        return text
    numbers, bad = values.parse_number(filled)
    if bad.any():
        return text
    return pd.to_numeric(numbers).reindex(text.index)


def _normalize_categories(frame: pd.DataFrame, table: str) -> None:
    if table == "accounts" and "champion_status" in frame:
        status = frame["champion_status"].str.lower()
        frame["champion_status"] = status.replace({"yes": "active", "no": "none"})
    if table == "contracts" and "contract_type" in frame:
        keys = frame["contract_type"].str.lower().str.replace(r"[^a-z]", "", regex=True)
        frame["contract_type"] = keys.map(CONTRACT_TYPES).astype("string").fillna(
            frame["contract_type"].str.lower())
    if table in ("usage", "activities"):
        kind = "feature" if table == "usage" else "activity_type"
        if kind in frame:
            frame[kind] = values.lower_text(frame[kind])


def _problems_error(path: Path, raw: RawFile, pending: list[Pending]) -> InputError:
    pending.sort(key=lambda item: item[0])
    shown = pending[:MAX_PROBLEMS_SHOWN]
    lines = raw.lines([item[0] for item in shown])
    problems = [Problem(str(path), message, line=line, column=header, value=value, fix=fix,
                        code=code)
                for (_, header, value, code, message, fix), line in zip(shown, lines,
                                                                         strict=True)]
    return InputError(f"{path}: {len(pending)} problem(s)", problems, total=len(pending))


def load_exports(folder: Path | None, config: Config,
                 explicit: dict[str, Path | None] | None = None,
                 only: tuple[str, ...] = TABLE_NAMES, early: UsageRead | None = None
                 ) -> Exports:
    """Load every export found. Problems of all files are collected and raised together.
    ``early`` is the usage export's read when it was started before (see UsageRead)."""
    try:
        return _load_exports(folder, config, explicit, only, early)
    finally:
        if early is not None:
            early.cancel()  # not used after all: the reading thread stops


def _load_exports(folder: Path | None, config: Config, explicit: dict[str, Path | None] | None,
                  only: tuple[str, ...], early: UsageRead | None) -> Exports:
    paths = find_exports(folder, explicit)
    names = [name for name in TABLE_NAMES
             if name in paths and (name in only or name in REQUIRED_TABLES)]
    tables: dict[str, Table] = {}
    failed: dict[str, InputError] = {}
    # pyarrow parses in C++ threads and releases the GIL: the other tables load in the pool
    # while the large usage export is parsed here; its rows are coded by account as soon as
    # the accounts are read.
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(load_table, name, paths[name], config,
                                     name == "activities")
                   for name in names if name != "usage"}

        @functools.cache
        def account_ids() -> pd.Index | None:
            try:
                return account_index(futures["accounts"].result().frame)
            except InputError:
                return None

        for name in sorted(names, key=lambda name: name != "usage"):
            try:
                if name == "usage" and early is not None and early.path == paths[name]:
                    tables[name] = _events_table(early, account_ids) or load_table(
                        name, paths[name], config, True, account_ids, fast=False)
                elif name == "usage":
                    tables[name] = load_table(name, paths[name], config, True, account_ids)
                else:
                    tables[name] = futures[name].result()
            except InputError as error:
                failed[name] = error
    errors = [failed[name] for name in names if name in failed]
    if errors:
        if len(errors) == 1:
            raise errors[0]
        problems = [p for error in errors for p in error.problems]
        total = sum(error.total for error in errors)
        files = ", ".join(str(p.file) for p in {e.problems[0].file: e.problems[0]
                                                 for e in errors if e.problems}.values())
        raise InputError(f"{total} problem(s) in {len(errors)} files ({files})", problems, total)
    return Exports(folder, **tables)

