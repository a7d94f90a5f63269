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
    TABLES,
    normalize_header,
)

if TYPE_CHECKING:
    from ..config import Config

SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".parquet", ".pq")


def find_exports(folder: Path | None, explicit: dict[str, Path | None] | None = None,
                 config: Config | None = None) -> dict[str, Path]:
    """The first file of each table: named explicitly, named ``<table>.<ext>``, or recognised
    by its content (see ``recognise``). ``load_exports`` reads every file of a table."""
    from .recognise import recognise, tables_of

    matches = recognise(folder, config, explicit)
    return {table: parts[0].path for table, parts in tables_of(matches, folder).items()}


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
