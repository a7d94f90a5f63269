"""``csops init``: recognise every file of a data folder and write a playbooks.yaml there whose
``sources:`` say how each export is read, with every assumption a line the user can change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from .config import DEFAULT_CONFIG_NAME, default_config_text, parse_config
from .errors import InputError, ProblemCode, UsageError
from .loading import load_table
from .loading.recognise import FileMatch, recognise
from .loading.schema import REQUIRED_TABLES, TABLE_NAMES
from .loading.source_rules import source_entry
from .output import atomic_write
from .validation import TableCheck, read_as


@dataclass(frozen=True)
class Initialisation:
    folder: Path
    files: list[FileMatch]  # every file of the folder, with what it was recognised as
    checks: list[TableCheck]  # the files that feed a table, read: rows and assumptions
    missing: list[str]  # required tables no file feeds
    written: Path
    text: str  # what was written


def initialise(folder: Path, force: bool = False) -> Initialisation:
    if not folder.is_dir():
        raise UsageError(f"{folder}: not a folder; give the folder that holds your exports")
    target = folder / DEFAULT_CONFIG_NAME
    if target.exists() and not force:
        raise UsageError(f"{target} exists; use --force to replace it")
    config = parse_config(default_config_text())
    matches = recognise(folder, config)
    checks, unreadable = [], []
    for match in matches:
        if match.kind == "table":
            check, error = _check(match, config)
            checks.append(check)
            if error is not None:
                unreadable.append(error)
    if unreadable:  # no source can be written for a file that cannot be read at all
        raise unreadable[0] if len(unreadable) == 1 else InputError(
            f"{len(unreadable)} exports cannot be read",
            [problem for error in unreadable for problem in error.problems])
    fed = {match.table for match in matches if match.kind == "table"}
    text = starter_text(matches, checks)
    parse_config(text, str(target))  # what is written reads back (anything else is a bug)
    atomic_write(target, lambda handle: handle.write(text))
    return Initialisation(folder, matches, checks,
                          [table for table in REQUIRED_TABLES if table not in fed], target, text)


# problems that mean a file cannot be read at all (as opposed to values to fix in it)
UNREADABLE = {ProblemCode.UNREADABLE_FILE, ProblemCode.BINARY_FILE,
              ProblemCode.ARCHIVE_TOO_LARGE, ProblemCode.BAD_JSON}


def _check(match: FileMatch, config) -> tuple[TableCheck, InputError | None]:
    """A recognised file read as its table would be (the general reader: no account ids yet),
    for its rows and the assumptions its source makes; and the error, when the file cannot
    be read at all (a damaged Parquet file, a compression bomb)."""
    try:
        table = load_table(match.table, match.path, config, match=match)
    except InputError as error:
        check = TableCheck(match.table, match.path.name, read_as=read_as(match), failed=True)
        whole_file = error.problems and all(problem.code in UNREADABLE and problem.line is None
                                            for problem in error.problems)
        return check, error if whole_file else None
    mapped = ", ".join(f"{canonical}←{header}" if header != canonical else canonical
                       for canonical, header in table.source_columns.items())
    return TableCheck(match.table, match.path.name, table.rows, read_as(match), mapped,
                      assumptions=tuple((a.text, a.count) for a in table.assumptions)), None


SOURCES_HEADER = """
# Sources: how csops reads each export of this folder, written by `csops init` on {today} from
# what it recognised. Each entry is the packaged preset that recognised the file; `files:` says
# which files it reads, `where:` which rows count, `derive:` how a column is computed, and each
# line under `assumptions:` is counted and listed by `csops validate`. Change a line to change
# what csops assumes; delete an entry to let csops recognise that file again.
sources:
"""


def starter_text(matches: list[FileMatch], checks: list[TableCheck]) -> str:
    """The packaged playbooks.yaml, plus the sources of the files a preset recognised."""
    text = default_config_text()
    by_file = {check.file: check for check in checks}
    entries: dict[str, list[str]] = {}
    seen: set[str] = set()
    for match in matches:
        if match.kind != "table" or match.source is None or match.source.id in seen:
            continue
        seen.add(match.source.id)
        check = by_file.get(match.path.name)
        readers = [m.path.name for m in matches
                   if m.source is not None and m.source.id == match.source.id]
        lines = [f"    # {name}" for name in readers]
        if check is not None and check.rows is not None:
            lines[0] += f": {check.rows:,} rows"
        for assumption, count in (check.assumptions if check else ()):
            lines.append(f"    #   assumption: {assumption} ({count:,} rows)")
        entry = yaml.dump([_one_line_expressions(source_entry(match.source))],
                          Dumper=_SourceDumper, sort_keys=False, allow_unicode=True, width=96)
        lines += ["    " + line if line else line for line in entry.splitlines()]
        entries.setdefault(match.table, []).append("\n".join(lines))
    if not entries:
        return text
    section = SOURCES_HEADER.format(today=date.today().isoformat())
    for table in TABLE_NAMES:
        if table in entries:
            section += f"  {table}:\n" + "\n".join(entries[table]) + "\n"
    return text.rstrip("\n") + "\n" + section


class _SourceDumper(yaml.SafeDumper):
    """Block mappings, one key a line; lists of names on one line (`[Record ID, Deal Name]`)."""


def _represent_list(dumper: yaml.SafeDumper, items: list):
    flow = all(isinstance(item, str) for item in items)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flow)


_SourceDumper.add_representer(list, _represent_list)


def _one_line_expressions(entry: dict) -> dict:
    """Expressions written over several lines in a preset, as one line each: YAML would
    otherwise quote them with escaped line breaks."""
    def flat(text):
        return " ".join(text.split()) if isinstance(text, str) else text

    for key in ("derive",):
        if key in entry:
            entry[key] = {name: flat(text) for name, text in entry[key].items()}
    if "where" in entry:
        entry["where"] = flat(entry["where"])
    for item in entry.get("assumptions", []):
        if "rows" in item:
            item["rows"] = flat(item["rows"])
    return entry
