"""Which export files a folder holds, and which of their headers are which canonical columns.
Standard library only, so that the usage export can start being read before pandas loads."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError, Problem, ProblemCode
from .hints import missing_column_problem, sample_columns
from .schema import (
    GENERIC_ALIASES,
    PRESET_MARKERS,
    PRESETS,
    REQUIRED_TABLES,
    TABLES,
    normalize_header,
)

if TYPE_CHECKING:
    from ..config import Config

SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".parquet", ".pq")


def find_exports(folder: Path | None, explicit: dict[str, Path | None] | None = None
                 ) -> dict[str, Path]:
    """Files by table name: named explicitly, else found in ``folder`` as ``<table>.<ext>``."""
    explicit = {name: path for name, path in (explicit or {}).items() if path is not None}
    found: dict[str, Path] = {}
    if folder is not None:
        if not folder.exists():
            raise InputError(f"{folder}: no such folder",
                             [Problem(str(folder), "the data folder does not exist",
                                      fix="give the folder that holds accounts.csv and "
                                          "contracts.csv (e.g. sample_data)",
                                      code=ProblemCode.NO_SUCH_FOLDER)])
        if not folder.is_dir():
            raise InputError(f"{folder}: not a folder; give the folder that holds the exports",
                             code=ProblemCode.NOT_A_FOLDER)
        by_table: dict[str, list[Path]] = {}
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.suffix.lower() in SUFFIXES:
                stem = path.stem.lower()
                if stem in TABLES:
                    by_table.setdefault(stem, []).append(path)
        for name, paths in by_table.items():
            if len(paths) > 1:
                listed = ", ".join(p.name for p in paths)
                raise InputError(f"{folder}: more than one {name} export ({listed}); "
                                 f"keep one or name it with --{name}",
                                 code=ProblemCode.DUPLICATE_EXPORT)
            found[name] = paths[0]
    for name, path in explicit.items():
        if not path.is_file():
            raise InputError(f"{path}: no such file; check the --{name} path",
                             code=ProblemCode.FILE_NOT_FOUND)
        found[name] = path
    missing = [name for name in REQUIRED_TABLES if name not in found]
    if missing:
        where = f"in {folder}" if folder is not None else "(no data folder given)"
        raise InputError(
            f"no {' or '.join(missing)} export {where}",
            [Problem(str(folder or "."), f"missing the {name} export",
                     fix=f"add {name}.csv (or .xlsx, .parquet), or name it with --{name}",
                     code=ProblemCode.MISSING_EXPORT)
             for name in missing])
    return found


def detect_preset(headers: list[str], table: str, configured: str) -> str | None:
    if configured in PRESETS:
        return configured
    if configured == "none":
        return None
    present = {h.strip() for h in headers}
    scores = {name: len(present & markers) for name, markers in PRESET_MARKERS.items()}
    best = max(scores, key=lambda name: scores[name])
    return best if scores[best] >= 2 else None


def map_headers(headers: list[str], table: str, preset: str | None,
                user_mapping: dict[str, str]) -> dict[str, str]:
    """canonical column -> header, by precedence: the user's mapping, an exact canonical name,
    the preset's aliases, then generic aliases. The first claim on a column wins."""
    by_key: dict[str, str] = {}
    for header in headers:
        by_key.setdefault(normalize_header(header), header)
    canonical_names = [column.name for column in TABLES[table]]
    mapping: dict[str, str] = {}
    used: set[str] = set()

    def claim(canonical: str, header: str | None) -> None:
        if header is not None and canonical not in mapping and header not in used:
            mapping[canonical] = header
            used.add(header)

    for canonical, header in user_mapping.items():
        claim(canonical, by_key.get(normalize_header(header)))
    for canonical in canonical_names:
        claim(canonical, by_key.get(normalize_header(canonical)))
    alias_sets = ([PRESETS[preset][table]] if preset else []) + [GENERIC_ALIASES[table]]
    for aliases in alias_sets:
        for key, canonical in aliases.items():
            if key in by_key:
                claim(canonical, by_key[key])
    return mapping


def missing_column(path: Path, table: str, canonical: str, headers: list[str],
                   taken: list[str] | tuple[str, ...] = ()) -> Problem:
    """A missing required column; the hint names only a header whose values fit it."""
    return missing_column_problem(path, table, canonical, headers, taken=taken)


def duplicate_headers(path: Path, headers: list[str], mapping: dict[str, str]) -> list[Problem]:
    """Two headers that are one canonical column spelt twice (``Account ID`` and
    ``account_id``): which one is meant cannot be guessed."""
    problems = []
    for canonical, header in mapping.items():
        key = normalize_header(header)
        others = [other for other in headers if other != header
                  and normalize_header(other) in (key, normalize_header(canonical))]
        if others:
            problems.append(Problem(
                str(path), f"'{header}' and '{others[0]}' are both {canonical}", line=1,
                column=canonical, value=f"{header}, {others[0]}",
                fix=f"remove one of them, or name the one to use in playbooks.yaml "
                    f"(columns: ... {canonical}: \"{header}\")",
                code=ProblemCode.DUPLICATE_COLUMN))
    return problems


def table_mapping(name: str, path: Path, headers: list[str], config: Config
                  ) -> tuple[str | None, dict[str, str]]:
    """The CRM preset a table's headers look like, and canonical column -> header. A missing
    required column is an InputError that names it and suggests the closest header."""
    preset = detect_preset(headers, name, config.inputs.preset)
    mapping = map_headers(headers, name, preset, getattr(config.columns, name))
    user = getattr(config.columns, name)
    duplicates = list(duplicate_headers(
        path, headers, {c: h for c, h in mapping.items() if c not in user}))
    if duplicates:
        raise InputError(f"{path}: {len(duplicates)} column(s) given twice", duplicates)
    missing = [column.name for column in TABLES[name]
               if column.required and column.name not in mapping]
    if missing:
        samples = sample_columns(path, headers)
        raise InputError(f"{path}: missing required column(s): {', '.join(missing)}",
                         [missing_column_problem(path, name, canonical, headers, samples,
                                                 taken=list(mapping.values()))
                          for canonical in missing])
    return preset, mapping
