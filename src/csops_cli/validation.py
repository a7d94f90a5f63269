"""``csops validate``: read every export and the configuration, and collect every problem."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

from .audit import Finding, table_errors
from .config import load_config
from .errors import CsopsError, InputError, Problem
from .loading import load_table
from .loading.events import account_index
from .loading.recognise import FileMatch, recognise, tables_of
from .loading.schema import TABLE_NAMES
from .loading.tables import unknown_account_assumption


@dataclass(frozen=True)
class TableCheck:
    table: str
    file: str | None  # None: no such export
    rows: int | None = None
    read_as: str | None = None  # the tool and source, or "canonical"
    columns: str | None = None  # canonical←header, for renamed columns
    failed: bool = False
    # (text, rows it touches) of each assumption its source made
    assumptions: tuple[tuple[str, int], ...] = ()
    warnings: tuple[Problem, ...] = ()  # what the reader worked around (file, line, value)


@dataclass(frozen=True)
class Validation:
    folder: Path
    config_label: str
    tables: list[TableCheck]
    failures: list[CsopsError] = field(default_factory=list)
    # what every file of the folder was recognised as; kind "unplaced": matched nothing
    files: list[FileMatch] = field(default_factory=list)
    # the audit's errors in the files that could be read (duplicate IDs, negative ARR ...)
    data_errors: list[Finding] = field(default_factory=list)

    @property
    def unplaced(self) -> list[FileMatch]:
        return [match for match in self.files if match.kind == "unplaced"]

    @property
    def problems(self) -> int:
        return sum(error.total for error in self.failures)

    @property
    def rows_in_error(self) -> int:
        return sum(finding.count for finding in self.data_errors)


def validate(folder: Path, files: dict[str, Path | None], config_path: Path | None,
             today=None) -> Validation:
    """Read each export the way the other commands do, collecting problems instead of
    stopping at the first file that has some, then run the audit's error checks on what could
    be read (rows dated after ``today``, default the clock's, among them). A configuration
    error still stops at once."""
    label, config = load_config(config_path, folder)
    matches = recognise(folder, config, files)
    feeding = tables_of(matches, folder)
    checks: list[TableCheck] = []
    failures: list[CsopsError] = []
    loaded: dict = {}
    read: dict[str, list] = {}  # every file read, by table
    for name in TABLE_NAMES:
        if name == "usage" and config.usage_warehouse is not None and not files.get("usage"):
            checks.append(_warehouse_check(config, loaded, failures, read))
            continue
        for match in feeding.get(name, [None]):  # type: ignore[list-item]
            if match is None:
                checks.append(TableCheck(name, None))
                continue
            ids = None
            if name == "usage" and "accounts" in loaded:  # the fast reader, as other commands
                ids = functools.partial(account_index, loaded["accounts"].frame)
            try:
                table = load_table(name, match.path, config, big=(name == "usage"), ids=ids,
                                   match=match)
            except InputError as error:
                failures.append(error)
                checks.append(TableCheck(name, match.path.name, failed=True))
                continue
            loaded.setdefault(name, table)
            read.setdefault(name, []).append(table)
            assumptions = list(table.assumptions)
            if name == "activities" and "accounts" in loaded:
                assumptions += unknown_account_assumption(table, loaded["accounts"])
            mapped = ", ".join(f"{canonical}←{header}" if header != canonical else canonical
                               for canonical, header in table.source_columns.items())
            checks.append(TableCheck(name, table.path.name, table.rows,
                                     read_as(match), mapped,
                                     assumptions=tuple((a.text, a.count)
                                                       for a in assumptions),
                                     warnings=tuple(table.warnings)))
    return Validation(folder, label, checks, failures, matches, table_errors(read, today))


def _warehouse_check(config, loaded: dict, failures: list[CsopsError], read: dict
                     ) -> TableCheck:
    """The usage table in the warehouse: connected to, its columns found, its rows counted."""
    from .usage.warehouse import WarehouseTable

    source = config.usage_warehouse
    shown = f"{source.table} (warehouse)"
    accounts = loaded.get("accounts")
    try:
        table = WarehouseTable(config, lambda: None if accounts is None else account_index(
            accounts.frame))
        rows = table.rows
    except InputError as error:
        failures.append(error)
        return TableCheck("usage", shown, failed=True)
    read["usage"] = [table]
    mapped = ", ".join(f"{canonical}←{column}" if column != canonical else canonical
                       for canonical, column in table.source_columns.items())
    return TableCheck("usage", shown, rows, "warehouse", mapped)


def read_as(match: FileMatch) -> str:
    """How a file was read, as validate and init show it: "HubSpot (hubspot_deals)"."""
    if match.source_id is None:
        return "canonical"
    return f"{match.tool} ({match.source_id})" if match.tool else match.source_id
