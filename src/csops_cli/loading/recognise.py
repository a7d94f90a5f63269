"""Which table each file of a data folder is, from its content: the file's headers (JSON:
dotted paths) against the sources' `detect` rules and the canonical columns. Canonical names
(``accounts.csv`` …) and the options ``--accounts FILE`` … still win. Several files may feed
usage or activities (HubSpot's calls, meetings, e-mails and notes, each its own source); two
files claiming accounts, contracts or team are an error that names both and how to settle it.
A file that matches nothing is reported by name, and is an error only when a required table
is left without a file.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError, Problem, ProblemCode
from .schema import REQUIRED_TABLES, TABLE_NAMES, TABLES, normalize_header

if TYPE_CHECKING:
    from ..config import Config, Source

DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".parquet", ".pq", ".json", ".jsonl",
                 ".ndjson", ".zip")
MULTI_FILE_TABLES = ("usage", "activities")  # tables several files may feed


@dataclass(frozen=True)
class FileMatch:
    """What one file of the data folder was recognised as."""

    path: Path
    kind: str  # "table" | "lookup" | "unplaced" | "unused" (a named file won its table)
    table: str | None = None
    source_id: str | None = None  # None: read by its canonical (or aliased) column names
    tool: str | None = None  # e.g. "HubSpot"; None for canonical files
    origin: str | None = None  # "preset hubspot" or the config file that holds the source
    reason: str = ""  # "option", "name", "detect", "columns", or why it was not placed
    headers: tuple[str, ...] = ()
    mapped: dict[str, str] = field(default_factory=dict)  # canonical -> header, as found
    unmapped: tuple[str, ...] = ()  # headers nothing reads that look useful
    source: Source | None = field(default=None, repr=False, compare=False)

    @property
    def preset(self) -> str | None:
        """The packaged preset the source comes from ("hubspot"), else None."""
        if self.origin and self.origin.startswith("preset "):
            return self.origin.removeprefix("preset ")
        return None


def data_files(folder: Path) -> list[Path]:
    """The files of ``folder`` that may be exports (also gzipped), in name order."""
    found = []
    for path in sorted(folder.iterdir()):
        name = path.name.lower()
        if not path.is_file() or name.startswith("."):
            continue
        stem = name.removesuffix(".gz")
        if any(stem.endswith(suffix) for suffix in DATA_SUFFIXES):
            found.append(path)
    return found


def canonical_name(path: Path) -> str | None:
    """``accounts.csv``, ``usage.json.gz`` …: the table it is named after."""
    stem = path.name.lower().removesuffix(".gz")
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    return stem if stem in TABLES else None


def _read_headers(path: Path) -> list[str]:
    if path.suffix.lower() in (".csv", ".tsv", ".txt"):  # no pandas needed: see find_exports
        from .csvtext import csv_layout

        return csv_layout(path)[2]
    from .files import read_headers

    return list(read_headers(path))


def best_source(headers: list[str], config: Config, path: Path | None = None,
                tables: tuple[str, ...] = TABLE_NAMES
                ) -> tuple[str, str, Source] | None:
    """(table, origin, source) of the most specific source whose `detect` matches."""
    from .source_rules import detect_score, name_matches, sources_for

    best: tuple[float, str, str, Source] | None = None
    for table, entries in sources_for(config).items():
        if table not in tables:
            continue
        for origin, source in entries:
            score = detect_score(source, headers)
            if score < 0:
                continue
            ranked = score + (0.5 if path is not None and name_matches(source, path) else 0) \
                + (100 if not origin.startswith("preset ") else 0)  # the user's win
            if best is None or ranked > best[0]:
                best = (ranked, table, origin, source)
    return None if best is None else best[1:]


def canonical_table(headers: list[str]) -> str | None:
    """The table whose required canonical columns are all among the headers (the one with the
    most of them)."""
    keys = {normalize_header(header) for header in headers}
    fitting = [(sum(c.required for c in columns), table) for table, columns in TABLES.items()
               if all(normalize_header(c.name) in keys for c in columns if c.required)]
    return max(fitting)[1] if fitting else None


def _lookup_of(path: Path, headers: list[str], config: Config) -> tuple[str, Source] | None:
    from .source_rules import sources_for

    keys = {normalize_header(header) for header in headers}
    for entries in sources_for(config).values():
        for origin, source in entries:
            for lookup in source.lookup.values():
                if fnmatch.fnmatch(path.name.lower(), lookup.file.lower()) and {
                        normalize_header(lookup.key), normalize_header(lookup.value)} <= keys:
                    return origin, source
    return None


def _describe(path: Path, kind: str, table: str | None, headers: list[str], reason: str,
              found: tuple[str, str, Source] | None = None) -> FileMatch:
    from .source_rules import _referenced_names, find_header, header_choices, snake

    mapped: dict[str, str] = {}
    read: set[str] = set()  # headers the source's expressions read
    origin = source = None
    if found is not None:
        _, origin, source = found
        for canonical, choices in source.columns.items():
            header = next((h for name in header_choices(choices)
                           if (h := find_header(headers, name)) is not None), None)
            if header is not None:
                mapped[canonical] = header
        names = _referenced_names(source)
        read = {header for header in headers if snake(header) in names}
    if table is not None:
        keys = {normalize_header(c.name): c.name for c in TABLES[table]}
        for header in headers:
            canonical = keys.get(normalize_header(header))
            if canonical and canonical not in mapped and header not in mapped.values():
                mapped[canonical] = header
    unmapped = tuple(header for header in headers if header not in mapped.values()
                     and header not in read and _looks_useful(header))
    return FileMatch(path, kind, table, source.id if source else None,
                     source.tool or None if source else None, origin, reason, tuple(headers),
                     mapped, unmapped, source)


_USEFUL = ("id", "date", "time", "owner", "amount", "arr", "revenue", "stage", "type", "seat",
           "quantity", "name", "segment", "manager", "role", "event", "user", "company",
           "account", "csm")


def _looks_useful(header: str) -> bool:
    key = normalize_header(header)
    return any(word in key for word in _USEFUL)


def recognise_file(path: Path, config: Config) -> FileMatch:
    """One file, by its headers alone (the folder's other files are not considered)."""
    try:
        headers = _read_headers(path)
    except InputError as error:
        return FileMatch(path, "unplaced", reason=f"cannot be read: {error.message}")
    except (OSError, ValueError) as error:  # e.g. a corrupt Parquet file (ArrowInvalid)
        return FileMatch(path, "unplaced", reason=f"cannot be read: {error}")
    found = best_source(headers, config, path)
    if found is not None:
        return _describe(path, "table", found[0], headers, "detect", found)
    table = canonical_table(headers)
    if table is not None:
        return _describe(path, "table", table, headers, "columns")
    lookup = _lookup_of(path, headers, config)
    if lookup is not None:
        return FileMatch(path, "lookup", reason=f"a lookup of the {lookup[1].tool} source",
                         headers=tuple(headers), origin=lookup[0], source_id=lookup[1].id,
                         tool=lookup[1].tool or None)
    return FileMatch(path, "unplaced", headers=tuple(headers),
                     reason="its headers match no table and no source",
                     unmapped=tuple(h for h in headers if _looks_useful(h)))


def match_for_table(path: Path, table: str, config: Config, reason: str) -> FileMatch:
    """A file named for ``table`` (by its name or an option): the source it fits, if any."""
    try:
        headers = _read_headers(path)
    except (InputError, OSError, ValueError):  # the reader says what is wrong when it loads
        return FileMatch(path, "table", table, reason=reason)
    found = best_source(headers, config, path, tables=(table,))
    return _describe(path, "table", table, headers, reason, found)


def recognise(folder: Path | None, config: Config,
              explicit: dict[str, Path | None] | None = None) -> list[FileMatch]:
    """Every file of ``folder`` (and each named by an option), with what it was recognised as.
    Raises InputError for a folder that is not one, a named file that does not exist, and two
    files claiming one table that only one may feed."""
    explicit = {name: path for name, path in (explicit or {}).items() if path is not None}
    for name, path in explicit.items():
        if not path.is_file():
            raise InputError(f"{path}: no such file; check the --{name} path",
                             code=ProblemCode.FILE_NOT_FOUND)
    matches = [match_for_table(path, name, config, "option") for name, path in explicit.items()]
    if folder is not None:
        _check_folder(folder)
        given = {path.resolve() for path in explicit.values()}
        files = [path for path in data_files(folder) if path.resolve() not in given]
        named = {}
        for path in files:
            table = canonical_name(path)
            if table is not None:
                named.setdefault(table, []).append(path)
        for table, paths in named.items():
            if len(paths) > 1:
                listed = ", ".join(p.name for p in paths)
                raise InputError(f"{folder}: more than one {table} export ({listed}); "
                                 f"keep one or name it with --{table}",
                                 code=ProblemCode.DUPLICATE_EXPORT)
        won = set(explicit)
        for table, paths in named.items():
            if table in won:
                matches.append(FileMatch(paths[0], "unused", table,
                                         reason=f"--{table} names the {table} export"))
            else:
                matches.append(match_for_table(paths[0], table, config, "name"))
        won |= set(named)
        for path in files:
            if canonical_name(path) is not None:
                continue
            match = recognise_file(path, config)
            if match.kind == "table" and match.table in won:
                match = FileMatch(path, "unused", match.table, match.source_id, match.tool,
                                  match.origin, f"{_winner(matches, match.table)} is the "
                                  f"{match.table} export", match.headers, match.mapped,
                                  match.unmapped, match.source)
            matches.append(match)
    _check_claims(matches)
    return matches


def _winner(matches: list[FileMatch], table: str | None) -> str:
    return next((m.path.name for m in matches if m.kind == "table" and m.table == table), "")


def _check_folder(folder: Path) -> None:
    if not folder.exists():
        raise InputError(f"{folder}: no such folder",
                         [Problem(str(folder), "the data folder does not exist",
                                  fix="give the folder that holds accounts.csv and "
                                      "contracts.csv (e.g. sample_data)",
                                  code=ProblemCode.NO_SUCH_FOLDER)])
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder; give the folder that holds the exports",
                         code=ProblemCode.NOT_A_FOLDER)


def _check_claims(matches: list[FileMatch]) -> None:
    """accounts, contracts and team come from one file each; usage and activities from
    several only when each is read by a source (HubSpot calls + meetings ...)."""
    problems = []
    for table in TABLE_NAMES:
        claims = [m for m in matches if m.kind == "table" and m.table == table]
        if len(claims) < 2:
            continue
        if table in MULTI_FILE_TABLES and all(m.source_id for m in claims):
            continue
        names = " and ".join(m.path.name for m in claims)
        how = ", ".join(f"{m.path.name}: {m.tool or 'canonical'} {m.source_id or 'columns'}"
                        for m in claims)
        problems.append(Problem(
            str(claims[0].path.parent), f"{names} both look like the {table} export ({how})",
            fix=f"name the one to use with --{table} FILE, or give its name pattern in "
                f"playbooks.yaml (sources: {table}: - id: ... files: [\"{claims[0].path.name}"
                f"\"]) and move the other file out of the folder",
            code=ProblemCode.AMBIGUOUS_EXPORT))
    if problems:
        raise InputError(f"{len(problems)} table(s) claimed by more than one file", problems)


def tables_of(matches: list[FileMatch], folder: Path | None,
              required: tuple[str, ...] = REQUIRED_TABLES) -> dict[str, list[FileMatch]]:
    """table -> the files that feed it. A required table without one is an InputError that
    names the files that could not be placed."""
    feeding: dict[str, list[FileMatch]] = {}
    for match in matches:
        if match.kind == "table" and match.table is not None:
            feeding.setdefault(match.table, []).append(match)
    missing = [name for name in required if name not in feeding]
    if missing:
        unplaced = [m.path.name for m in matches if m.kind == "unplaced"]
        where = f"in {folder}" if folder is not None else "(no data folder given)"
        extra = (f"; not recognised: {', '.join(unplaced)} (map it in sources:)"
                 if unplaced else "")
        raise InputError(
            f"no {' or '.join(missing)} export {where}{extra}",
            [Problem(str(folder or "."), f"missing the {name} export",
                     fix=f"add {name}.csv (or .xlsx, .parquet), or name it with --{name}"
                         + (f"; or describe {', '.join(unplaced)} in sources: {name}:"
                            if unplaced else ""),
                     code=ProblemCode.MISSING_EXPORT)
             for name in missing])
    return feeding
