"""Fix hints for a missing required column that cannot mislead: a header is proposed only when
its values fit the column (dates for a date, id-like values for an id, amounts for money, short
text for a type or a name), never for looking alike (``contract_id: "Contract Type"``).
Standard library only: it runs before pandas is needed."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from pathlib import Path

from ..errors import Problem, ProblemCode
from .schema import GENERIC_ALIASES, TABLES, normalize_header

SAMPLE_ROWS = 200
FIT_SHARE = 0.9  # the share of a column's filled sample cells that must fit

_DATE = re.compile(
    r"^(\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|UTC|[+-]\d{2}:?\d{2})?"
    r"|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}( \d{1,2}:\d{2}(:\d{2})?( ?[AP]M)?)?"
    r"|[A-Za-z]{3,9}\.? \d{1,2}, \d{4}|\d{1,2} [A-Za-z]{3,9} \d{4})$", re.IGNORECASE)
_MONEY = re.compile(r"^\(?-?\s*(?:[A-Z]{3}\s*)?[$€£¥]?\s*-?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?\)?"
                    r"(\s*[A-Z]{3})?$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$")
_MISSING = {"", "null", "none", "n/a", "na", "#n/a", "nan", "-", "--"}


def _is_date(value: str) -> bool:
    return bool(_DATE.match(value))


def _is_amount(value: str) -> bool:
    return bool(_MONEY.match(value))


def _is_id(value: str) -> bool:
    return bool(_ID.match(value)) and any(ch.isdigit() for ch in value) and not _is_date(value)


def _is_label(value: str) -> bool:
    return not _is_date(value) and not _is_amount(value)


def fits(kind: str, canonical: str, cells: list[str]) -> bool:
    """Whether a column's sample values could be ``canonical`` (of ``kind``)."""
    filled = [cell.strip() for cell in cells if cell is not None
              and str(cell).strip().lower() not in _MISSING]
    filled = [str(cell) for cell in filled]
    if not filled:
        return False
    test = {"date": _is_date, "money": _is_amount, "number": _is_amount, "id": _is_id}.get(
        kind, _is_label)
    share = sum(map(test, filled)) / len(filled)
    if share < FIT_SHARE:
        return False
    if canonical in ("activity_type", "contract_type", "role", "segment", "lifecycle_stage"):
        return len(set(filled)) <= max(20, len(filled) // 2)  # a category: few values
    return True


def sample_columns(path: Path, headers: list[str]) -> dict[str, list[str]]:
    """The first rows' cells of each header (text); empty when the file cannot be sampled."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        from .csvtext import sniff

        try:
            encoding, delimiter, text = sniff(path)
        except Exception:  # noqa: BLE001 - a hint must never hide the real problem
            return {}
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))[1:SAMPLE_ROWS]
        return {header: [row[i] for row in rows if i < len(row)]
                for i, header in enumerate(headers)}
    try:
        from .files import read_file

        raw = read_file(path, lambda names: dict.fromkeys(names, "string"))
    except Exception:  # noqa: BLE001 - a hint must never hide the real problem
        return {}
    head = raw.frame.head(SAMPLE_ROWS)
    return {header: ["" if value is None or value != value else str(value)
                     for value in head[header].tolist()]
            for header in headers if header in head.columns}


def known_names(table: str) -> dict[str, set[str]]:
    """Normalised header -> the canonical columns of ``table`` that the aliases and the
    packaged presets read it as."""
    known: dict[str, set[str]] = {}
    for key, name in GENERIC_ALIASES[table].items():
        known.setdefault(key, set()).add(name)
    for column in TABLES[table]:
        known.setdefault(normalize_header(column.name), set()).add(column.name)
    from .source_rules import PRESET_FILES, header_choices, preset_sources

    for preset in PRESET_FILES:
        for source in preset_sources(preset).get(table, ()):
            for name, choices in source.columns.items():
                for header in header_choices(choices):
                    known.setdefault(normalize_header(header), set()).add(name)
    return known


def fitting_headers(table: str, canonical: str, samples: dict[str, list[str]],
                    taken: Iterable[str] = ()) -> list[str]:
    """Headers whose values fit ``canonical``, those a preset or alias knows for it first;
    never a header they know as another column (``Assigned`` is an owner, not a type)."""
    kind = next(column.kind for column in TABLES[table] if column.name == canonical)
    taken = set(taken)
    known = known_names(table)
    fitting = [header for header, cells in samples.items()
               if header not in taken and fits(kind, canonical, cells)
               and known.get(normalize_header(header), {canonical}) >= {canonical}]
    return sorted(fitting, key=lambda header: canonical not in known.get(
        normalize_header(header), set()))


def missing_column_problem(path: Path, table: str, canonical: str, headers: list[str],
                           samples: dict[str, list[str]] | None = None,
                           taken: Iterable[str] = ()) -> Problem:
    """A required column is missing: propose only headers whose values fit it."""
    if samples is None:
        samples = sample_columns(path, headers)
    candidates = fitting_headers(table, canonical, samples, taken)
    if candidates:
        fix = (f"rename the column to '{canonical}' or map it in playbooks.yaml "
               f"(columns: {table}: {canonical}: \"{candidates[0]}\")")
    else:
        fix = (f"no column of this file fits {canonical}; map it in sources: "
               f"({table}: columns: {canonical}: \"Your header\")")
    shown = ", ".join(headers[:8]) + (" ..." if len(headers) > 8 else "")
    return Problem(str(path), f"required column '{canonical}' not found (headers: {shown})",
                   line=1, column=canonical, fix=fix, code=ProblemCode.MISSING_COLUMN)
