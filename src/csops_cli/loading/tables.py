"""From export files to canonical tables: find files, map headers, type values, report problems."""

from __future__ import annotations

import functools
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import progress
from ..config import Config
from ..errors import MAX_PROBLEMS_SHOWN, InputError, Problem, ProblemCode
from . import values
from .cache import ExportCache
from .columns import table_mapping
from .events import AccountSource, UsageEvents, UsageRead, account_index, events_from_frame
from .files import RawFile, read_file
from .recognise import FileMatch, match_for_table, recognise, tables_of
from .schema import (
    CONTRACT_TYPES,
    TABLE_NAMES,
    TABLES,
)
from .source_rules import expression_names, headers_needed, snake
from .sources import Assumption, apply_source

PART_STRIDE = 10**12  # index offset of each further file of a table read from several files


class Table:
    """One canonical table. ``frame``'s index is the record position in the file. A usage
    table read by the fast reader holds its events in compact form only: its frame is built
    when asked for, with :meth:`usage_frame`."""

    warehouse = None  # a usage table aggregated in a warehouse: its WarehouseUsage
    # a table read with the cache: the cache, its entry's key and the file (the usage
    # aggregates and the signal tables built from it are kept under that key too)
    cached_as: tuple[ExportCache, dict, Path] | None = None

    def __init__(self, name: str, path: Path, frame: pd.DataFrame | None, preset: str | None,
                 source_columns: dict[str, str], raw: RawFile,
                 events: UsageEvents | None = None):
        self.name, self.path, self.preset = name, path, preset
        self.source_columns = source_columns  # canonical column -> header in the file
        self.raw = raw
        self.events = events
        self._frame = frame
        # what the source assumed, with the rows it touches (validate, init, audit show them)
        self.assumptions: list[Assumption] = []
        self.source_id: str | None = None  # the `sources:` entry that read it, if any
        # several files feeding one table: each part's rows are offset by PART_STRIDE
        self.parts: list[Table] = []

    @property
    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            raise RuntimeError(f"the {self.name} table was read as events: "
                                 "build its frame with usage_frame()")
        return self._frame

    @property
    def has_frame(self) -> bool:
        return self._frame is not None

    def usage_frame(self) -> pd.DataFrame:
        """The canonical frame, built from the events (millions of rows) when it was not read
        as one."""
        if self._frame is None:
            assert self.events is not None
            self._frame = self.events.frame()
        return self._frame

    @property
    def rows(self) -> int:
        if self._frame is None and self.events is not None:
            return len(self.events)
        return len(self.frame)

    @property
    def warnings(self) -> list[Problem]:
        """What the readers worked around and a person should know (a few bytes of a UTF-8
        file that are not UTF-8), located by file and line."""
        own = list(getattr(self.raw, "warnings", None) or [])
        return own + [warning for part in self.parts for warning in part.warnings]

    @property
    def paths(self) -> list[Path]:
        return [part.path for part in self.parts] if self.parts else [self.path]

    def lines(self, positions) -> list[int | None]:
        if not self.parts:
            return self.raw.lines(list(positions))
        return [self.parts[int(p) // PART_STRIDE].lines([int(p) % PART_STRIDE])[0]
                for p in positions]

    def file_of(self, position: int) -> Path:
        """The file a row (by its index position) came from."""
        return self.parts[int(position) // PART_STRIDE].path if self.parts else self.path

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
    # what each file of the folder was recognised as (for validate and init)
    files: list[FileMatch] = field(default_factory=list)
    # every table read with the cache: the cache and each table's key (see built_cache).
    # Not an init field, so that exports cut down with dataclasses.replace have none.
    cached_as: tuple[ExportCache, dict[str, dict]] | None = field(default=None, init=False,
                                                                   repr=False, compare=False)

    def tables(self) -> list[Table]:
        return [t for t in (self.accounts, self.contracts, self.usage, self.activities,
                            self.team) if t is not None]


def load_table(name: str, path: Path, config: Config, big: bool = False,
               ids: AccountSource | None = None, fast: bool = True,
               match: FileMatch | None = None, cache: ExportCache | None = None) -> Table:
    """Read and check one export. Usage events are also coded against the account ids that
    ``ids()`` gives (None: the accounts could not be read): straight from the file when it is
    a plain CSV (the fast reader, unless ``fast`` is False), else from the checked frame.
    A file that a source recognises (``match``, else found from its headers) is read through
    that source. Another table than usage comes from ``cache`` when it holds the file."""
    if match is None:
        match = match_for_table(path, name, config, "option")
    if cache is not None and name != "usage":
        from .cache import cached_table

        return cached_table(cache, name, match, config, big, lambda: load_table(
            name, path, config, big, ids, fast, match))
    if match.source is not None:
        return _load_sourced(name, match, config, big, ids)
    columns = {column.name: column for column in TABLES[name]}
    state: dict[str, object] = {}

    def wanted(headers: list[str]) -> dict[str, str | None]:
        preset, mapping = table_mapping(name, path, headers, config)
        state.update(preset=preset, mapping=mapping, stage=stage_header(headers)
                     if name == "contracts" else None)
        chosen: dict[str, str | None] = {}
        for canonical, header in mapping.items():
            kind = columns[canonical].kind
            # event tables repeat their text: codes, not millions of strings (users are too
            # many to repeat much, and are only counted inside a window)
            repeated = big and canonical != "user_id"
            if kind in ("id", "text"):
                chosen[header] = "dictionary" if repeated else "string"
            else:  # numbers as text (but an event table's counts): the value a problem
                # shows is the one in the file, 1e309 rather than inf
                chosen[header] = "string" if kind == "money" or not big else None
        if name == "accounts":  # every other accounts column is kept for play conditions
            for header in headers:
                chosen.setdefault(header, "string")
        if state["stage"]:
            chosen.setdefault(state["stage"], "string")  # type: ignore[index]
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
    if state.get("stage"):
        problems = _open_deals(raw.frame[state["stage"]], state["stage"], None,  # type: ignore
                               problems)
    if problems:
        raise _problems_error(path, raw, problems)
    if name == "contracts":
        frame = _repeated_contracts(frame, raw)
    raw.frame = raw.frame.iloc[:0]  # the cells now live in `frame`; keep lines, not a copy
    account_ids = ids() if name == "usage" and ids is not None else None
    events = events_from_frame(frame, account_ids) if account_ids is not None else None
    return Table(name, path, frame, state["preset"], mapping, raw,  # type: ignore[arg-type]
                 events)


# (position, column header, value, code, message, fix) before line numbers are looked up
Pending = tuple[int, str, str, ProblemCode, str, str]


def _load_sourced(name: str, match: FileMatch, config: Config, big: bool,
                  ids: AccountSource | None) -> Table:
    """A file read through its source (a preset's or the user's `sources:` entry)."""
    source, path = match.source, match.path
    assert source is not None
    user = getattr(config.columns, name)
    if user:  # the `columns:` mapping of playbooks.yaml wins over the source's
        source = source.model_copy(update={
            "columns": {**source.columns, **user},
            "derive": {c: text for c, text in source.derive.items() if c not in user},
            # an assumption about a column the user mapped no longer holds
            "assumptions": [item for item in source.assumptions
                            if not (item.rows and expression_names(item.rows) & set(user))]})
    raw = read_file(path, lambda headers: dict.fromkeys(
        headers_needed(source, name, headers), "string"), big=big)
    if raw.frame.empty:
        raise InputError(f"{path}: the file has a header but no data rows",
                         [Problem(str(path), "no data rows after the header", line=2,
                                  fix=f"export the {name} table again with its rows",
                                  code=ProblemCode.NO_DATA_ROWS)])
    stage = stage_header(raw.headers) if name == "contracts" and not source.where else None
    stage_cells = raw.frame[stage] if stage in raw.frame.columns else None
    sourced = apply_source(raw, name, source, folder=path.parent,
                           origin=match.origin or config.label, lines=config.source_lines)
    shaped = RawFile(path, sourced.frame, list(sourced.frame.columns), raw.lines)
    frame, problems = _canonical_frame(shaped, name, sourced.mapping, config)
    problems = [(p, h, v, c, m, f"{h} is derived by the source '{source.id}' as "
                  f"{' '.join(source.derive[h].split())}: fill in the cells it reads on this row")
                 if c == ProblemCode.MISSING_VALUE and h in source.derive
                 and sourced.mapping.get(h) == h else (p, h, v, c, m, f)
                 for p, h, v, c, m, f in problems]
    if stage_cells is not None:
        problems = _open_deals(stage_cells.loc[~stage_cells.index.duplicated()], stage,
                               source.id, problems)
    if problems:
        raise _problems_error(path, raw, problems)
    if name == "contracts":
        frame = _repeated_contracts(frame, raw)
    account_ids = ids() if name == "usage" and ids is not None else None
    events = events_from_frame(frame, account_ids) if account_ids is not None else None
    table = Table(name, path, frame, match.preset or source.id, sourced.mapping, raw, events)
    table.assumptions = sourced.assumptions
    table.source_id = source.id
    return table


def stage_header(headers: list[str]) -> str | None:
    """A deal or opportunity stage column (not a lifecycle stage)."""
    for header in headers:
        key = re.sub(r"[^0-9a-z]", "", header.lower())
        if key.endswith("stage") and "lifecycle" not in key:
            return header
    return None


def _is_won(stage: pd.Series) -> pd.Series:
    key = stage.astype("string").str.lower().str.replace(r"[^a-z]", "", regex=True)
    return key.str.contains("won", regex=False).fillna(False) & \
        ~key.str.contains("lost", regex=False).fillna(False)


def _open_deals(stage: pd.Series, header: str, source_id: str | None,
                problems: list[Pending]) -> list[Pending]:
    """Open or lost deals in a contracts file that nothing filters would count as revenue:
    refused, with the count and the `where` that fixes it; a missing value on such a row
    points to that `where`, not to deleting the row."""
    filled = stage.astype("string").str.strip()
    filled = filled[filled.notna() & (filled != "")]
    not_won = filled[~_is_won(filled).to_numpy(dtype=bool)]
    if not_won.empty:
        return problems
    where = f"where: \"{snake(header)} == 'Closed Won'\""
    entry = f"the source '{source_id}'" if source_id else "a source for this file"
    fix = f"keep only won deals: add {where} to {entry} in playbooks.yaml (sources: contracts:)"
    positions = set(not_won.index.tolist())
    kept = [(p, h, v, c, m, fix if c == ProblemCode.MISSING_VALUE and p in positions else f)
            for p, h, v, c, m, f in problems]
    examples = ", ".join(f"'{v}'" for v in not_won.drop_duplicates().head(3).tolist())
    first = int(not_won.index[0])
    return [(first, header, str(not_won.iloc[0]), ProblemCode.OPEN_DEALS,
             f"{len(not_won)} deal(s) are not won ({examples}): counted as contracts they would "
             "inflate ARR and retention", fix)] + kept


def _repeated_contracts(frame: pd.DataFrame, raw: RawFile) -> pd.DataFrame:
    """A contract ID on several rows would add its ARR several times. Identical rows (an
    export run twice into one file) are counted once, with a warning per ID giving the count
    and the lines; rows under one ID that differ are refused, naming both lines."""
    ids = frame["contract_id"]
    # rows that a source's `split` made of one line share it: one contract, on purpose
    split = frame.index.duplicated(keep=False)
    repeated = ids.duplicated(keep=False).to_numpy(dtype=bool) & ~split
    if not repeated.any():
        return frame
    rows = frame[repeated]
    positions = rows.index.tolist()
    places = dict(zip(positions, raw.locations(positions), strict=True))
    distinct = rows.drop_duplicates()
    clashing = distinct[distinct["contract_id"].duplicated(keep=False).to_numpy(dtype=bool)]
    if not clashing.empty:
        problems = []
        for contract_id, group in clashing.groupby("contract_id", sort=False, observed=True):
            first, other = group.iloc[0], group.iloc[1]
            columns = [column for column in group.columns
                       if not _same(first[column], other[column])]
            (_, first_line), (file, line) = places[group.index[0]], places[group.index[1]]
            differences = "; ".join(f"{column} {_shown(first[column])} vs "
                                    f"{_shown(other[column])}" for column in columns)
            problems.append(Problem(
                file, f"contract {contract_id} is also on line {first_line}, with other values "
                      f"({differences}): which one holds is not known",
                line=line, column="contract_id", value=str(contract_id),
                fix=f"keep one row per contract ID: correct or delete line {first_line} or "
                    f"line {line}", code=ProblemCode.DUPLICATE_ID))
        problems.sort(key=lambda problem: problem.line or 0)
        raise InputError(f"{raw.path}: {len(problems):,} contract ID(s) on rows that differ",
                         problems[:MAX_PROBLEMS_SHOWN], total=len(problems))
    for contract_id, group in rows.groupby("contract_id", sort=False, observed=True):
        lines = [places[position][1] for position in group.index]
        listed = ", ".join(str(line) for line in lines[:10]) + (", …" if len(lines) > 10 else "")
        raw.warnings.append(Problem(
            places[group.index[1]][0],
            f"contract {contract_id} is on {len(lines)} identical rows (lines {listed}): "
            "counted once", line=lines[1], column="contract_id", value=str(contract_id),
            fix="delete the repeated rows from the export", code=ProblemCode.DUPLICATE_ID))
    return frame[~(ids.duplicated().to_numpy(dtype=bool) & ~split)]


def _same(first, second) -> bool:
    return (pd.isna(first) and pd.isna(second)) if pd.isna(first) or pd.isna(second) \
        else first == second


def _shown(value) -> str:
    if pd.isna(value):
        return "(blank)"
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, float):
        return f"{value:,.2f}".removesuffix(".00")
    return str(value)


def _events_table(read: UsageRead, ids: AccountSource) -> Table | None:
    """The usage table from the fast reader, or None when the general reader should read it."""
    result = read.finish(ids)
    if result is None:
        return None
    raw = RawFile(read.path, pd.DataFrame(), result.headers, result.line_of)
    table = Table("usage", read.path, None, read.preset, read.mapping, raw, result.events)
    table.cached_as = read.cached_as()
    return table


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
    # a zip's rows are located in their member: export.zip!412873/…json.gz, line N
    places = raw.locations([item[0] for item in shown])
    problems = [Problem(file, message, line=line, column=header, value=value, fix=fix,
                        code=code)
                for (_, header, value, code, message, fix), (file, line) in zip(
                    shown, places, strict=True)]
    return InputError(f"{path}: {len(pending):,} problem(s)", problems, total=len(pending))


def load_exports(folder: Path | None, config: Config,
                 explicit: dict[str, Path | None] | None = None,
                 early: UsageRead | None = None, matches: list[FileMatch] | None = None,
                 cache: ExportCache | None = None) -> Exports:
    """Load every export found. Problems of all files are collected and raised together.
    ``early`` is the usage export's read when it was started before (see UsageRead);
    ``matches`` what the folder's files were recognised as, when that is already known;
    ``cache`` where parsed tables are kept between commands (None: parse every time)."""
    try:
        return _load_exports(folder, config, explicit, early, matches, cache)
    finally:
        if early is not None:
            early.cancel()  # not used after all: the reading thread stops


def _load_exports(folder: Path | None, config: Config, explicit: dict[str, Path | None] | None,
                  early: UsageRead | None, matches: list[FileMatch] | None,
                  cache: ExportCache | None = None) -> Exports:
    if matches is None:
        matches = recognise(folder, config, explicit)
    feeding = tables_of(matches, folder)
    # usage aggregated in the warehouse, not read from a file; `--usage FILE` wins
    warehouse = config.usage_warehouse is not None and not (explicit or {}).get("usage")
    names = [name for name in TABLE_NAMES if name in feeding
             and not (warehouse and name == "usage")]
    tables: dict[str, Table] = {}
    failed: dict[str, InputError] = {}

    def reading(name: str):
        return progress.phase("reading " + ", ".join(part.path.name for part in feeding[name]))

    def load(name: str, ids: AccountSource | None = None, fast: bool = True) -> Table:
        parts = feeding[name]
        big = name in ("usage", "activities")
        with reading(name):
            if len(parts) == 1:
                return load_table(name, parts[0].path, config, big, ids, fast, match=parts[0],
                                  cache=cache)
            return _combined(name, list(parts), config, big, ids, cache)

    # pyarrow parses in C++ threads and releases the GIL: the other tables load in the pool
    # while the large usage export is parsed here; its rows are coded by account as soon as
    # the accounts are read.
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(load, name) for name in names if name != "usage"}

        @functools.cache
        def account_ids() -> pd.Index | None:
            try:
                return account_index(futures["accounts"].result().frame)
            except InputError:
                return None

        for name in sorted(names, key=lambda name: name != "usage"):
            try:
                usage = feeding.get("usage", [])
                plain = len(usage) == 1 and usage[0].source is None
                if name == "usage" and early is not None and plain and \
                        early.path == usage[0].path:
                    with reading(name):
                        events = _events_table(early, account_ids)
                    tables[name] = events or load(name, account_ids, fast=False)
                elif name == "usage":
                    tables[name] = load(name, account_ids)
                else:
                    tables[name] = futures[name].result()
            except InputError as error:
                failed[name] = error
        if warehouse:
            from ..usage.warehouse import WarehouseTable

            try:
                tables["usage"] = WarehouseTable(config, account_ids)
            except InputError as error:
                failed["usage"] = error
    errors = [failed[name] for name in TABLE_NAMES if name in failed]
    if errors:
        raise _merged(errors)
    _count_unknown_accounts(tables)
    exports = Exports(folder, **tables, files=matches)
    keyed = [table.cached_as for table in tables.values()]
    if keyed and all(keyed):
        exports.cached_as = keyed[0][0], {name: table.cached_as[1]
                                          for name, table in sorted(tables.items())}
    return exports


def _count_unknown_accounts(tables: dict[str, Table]) -> None:
    """Activities of a source-read file for companies the accounts export lacks are counted
    as an assumption (they are left out of every account's signals)."""
    activities, accounts = tables.get("activities"), tables.get("accounts")
    if activities is not None and accounts is not None:
        activities.assumptions.extend(unknown_account_assumption(activities, accounts))


def unknown_account_assumption(activities: Table, accounts: Table) -> list[Assumption]:
    """Activities of a source-read file for companies the accounts export lacks: left out of
    every account's signals, and said so."""
    if not (activities.source_id or any(part.source_id for part in activities.parts)):
        return []
    known = set(accounts.frame["account_id"].dropna().astype(str))
    unknown = int((~activities.frame["account_id"].astype("string").isin(known)).sum())
    if not unknown:
        return []
    return [Assumption("activities for companies not in the accounts/companies export",
                       unknown)]


def _merged(errors: list[InputError]) -> InputError:
    if len(errors) == 1:
        return errors[0]
    problems = [p for error in errors for p in error.problems]
    total = sum(error.total for error in errors)
    files = ", ".join(str(p.file) for p in {e.problems[0].file: e.problems[0]
                                             for e in errors if e.problems}.values())
    return InputError(f"{total:,} problem(s) in {len(errors)} files ({files})", problems, total)


def _combined(name: str, parts: list[FileMatch], config: Config, big: bool,
              ids: AccountSource | None, cache: ExportCache | None = None) -> Table:
    """One table from several files (HubSpot calls, meetings, e-mails and notes): each file
    read by its own source; rows keep their file (``Table.file_of``) and line."""
    tables, errors = [], []
    for match in parts:
        try:
            tables.append(load_table(name, match.path, config, big, None, False, match=match,
                                     cache=cache))
        except InputError as error:
            errors.append(error)
    if errors:
        raise _merged(errors)
    frames = []
    for number, table in enumerate(tables):
        frame = table.frame.copy()
        frame.index = frame.index.astype("int64") + number * PART_STRIDE
        frames.append(frame)
    frame = pd.concat(frames)
    account_ids = ids() if name == "usage" and ids is not None else None
    events = events_from_frame(frame, account_ids) if account_ids is not None else None
    first = tables[0]
    combined = Table(name, first.path, frame, first.preset, first.source_columns, first.raw,
                     events)
    combined.parts = tables
    counts: dict[str, int] = {}
    for table in tables:  # one line per assumption, over all the files
        for assumption in table.assumptions:
            counts[assumption.text] = counts.get(assumption.text, 0) + assumption.count
    combined.assumptions = [Assumption(text, count) for text, count in counts.items()]
    return combined
