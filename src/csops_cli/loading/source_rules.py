"""The rules of sources that need no pandas: packaged presets, which sources apply, how a file
is recognised by a source's `detect`, and the names its expressions read. Kept apart from the
engine (``sources``) so that files can be recognised before pandas is imported."""

from __future__ import annotations

import ast
import fnmatch
import re
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from ..condition_syntax import CONSTANT_NAMES, parse
from .schema import TABLES, normalize_header

if TYPE_CHECKING:
    from ..config import Config, Source

PRESET_FILES = ("hubspot", "salesforce", "mixpanel", "amplitude", "pendo", "segment")
CRM_PRESETS = ("hubspot", "salesforce")


def snake(header: str) -> str:
    """A header as a name in expressions: ``Deal Stage`` -> ``deal_stage``,
    ``properties.$insert_id`` -> ``properties_insert_id``."""
    name = re.sub(r"[^0-9a-z]+", "_", str(header).lower()).strip("_") or "column"
    return f"c_{name}" if name[0].isdigit() else name


def find_header(headers: Iterable[str], wanted: str) -> str | None:
    """The header that is ``wanted``: exactly, else ignoring case, spaces and punctuation."""
    headers = list(headers)
    if wanted in headers:
        return wanted
    key = normalize_header(wanted)
    return next((header for header in headers if normalize_header(header) == key), None)


def header_choices(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


# --- presets -----------------------------------------------------------------------------------

@cache
def preset_sources(name: str) -> dict[str, tuple[Source, ...]]:
    """The packaged preset ``name`` (a `sources:` mapping), validated by the same models."""
    from pydantic import TypeAdapter, ValidationError

    from ..config import Source, TableName, check_sources

    text = resources.files("csops_cli").joinpath("presets", f"{name}.yaml").read_text(
        encoding="utf-8")
    data = yaml.safe_load(text)
    try:
        parsed = TypeAdapter(dict[TableName, list[Source]]).validate_python(data)
        check_sources(parsed)
    except ValidationError as error:  # a packaged file: a bug, not the user's input
        raise AssertionError(f"presets/{name}.yaml: {error}") from None
    return {table: tuple(entries) for table, entries in parsed.items()}


def sources_for(config: Config | None) -> dict[str, list[tuple[str, Source]]]:
    """table -> [(origin, source)]: the user's `sources:` first, then the presets that
    ``inputs.preset`` allows; a user source replaces a preset's of the same id. No config:
    the presets alone."""
    if config is None:
        from ..config import InputsConfig

        chosen, user, label = InputsConfig().preset, {}, ""
    else:
        from ..config import file_sources

        chosen, user, label = config.inputs.preset, file_sources(config.sources), config.label
    allowed = [] if chosen == "none" else [
        name for name in PRESET_FILES
        if chosen == "auto" or name not in CRM_PRESETS or name == chosen]
    user_ids = {source.id for entries in user.values() for source in entries}
    result: dict[str, list[tuple[str, Source]]] = {table: [] for table in TABLES}
    for table, entries in user.items():
        result[table] += [(label, source) for source in entries]
    for name in allowed:
        for table, entries in preset_sources(name).items():
            result[table] += [(f"preset {name}", source) for source in entries
                              if source.id not in user_ids]
    return result


# --- recognising a file ------------------------------------------------------------------------

def detect_score(source: Source, headers: Iterable[str]) -> int:
    """How many of the source's `detect.all` headers the file has, or -1 when it does not
    match (a header missing, none of `any`, one of `none`). 0: a source without a detect."""
    keys = {normalize_header(header) for header in headers}
    detect = source.detect
    if not detect.all and not detect.any:
        return -1
    if any(normalize_header(name) not in keys for name in detect.all):
        return -1
    if detect.any and not any(normalize_header(name) in keys for name in detect.any):
        return -1
    if any(normalize_header(name) in keys for name in detect.none):
        return -1
    return len(detect.all) + (1 if detect.any else 0)


def name_matches(source: Source, path: Path) -> bool:
    return any(fnmatch.fnmatch(path.name.lower(), pattern.lower()) for pattern in source.files)


def headers_needed(source: Source, table: str, headers: list[str]) -> list[str]:
    from .columns import map_headers

    """The headers a source reads (every header for accounts: the others are kept)."""
    if table == "accounts":
        return list(headers)
    wanted: set[str] = set()
    for choices in source.columns.values():
        for name in header_choices(choices):
            header = find_header(headers, name)
            if header is not None:
                wanted.add(header)
    referenced = _referenced_names(source)
    by_snake = _snake_headers(headers)
    wanted |= {by_snake[name] for name in referenced if name in by_snake}
    generic = map_headers(headers, table, None, {})
    wanted |= set(generic.values())
    return [header for header in headers if header in wanted]


def _snake_headers(headers: Iterable[str]) -> dict[str, str]:
    by_snake: dict[str, str] = {}
    for header in headers:
        by_snake.setdefault(snake(header), header)
    return by_snake


def _expressions(source: Source) -> list[tuple[str, str]]:
    """(where it is, text) of every expression of a source."""
    found = [("where", source.where)] if source.where else []
    found += [(f"derive.{name}", text) for name, text in source.derive.items()]
    found += [(f"assumptions[{index}].rows", item.rows)
              for index, item in enumerate(source.assumptions) if item.rows]
    return found


def expression_names(text: str) -> set[str]:
    """The column names an expression reads (not its function names or constants)."""
    tree = parse(text)
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    return {node.id for node in ast.walk(tree)
            if isinstance(node, ast.Name) and id(node) not in called
            and node.id not in CONSTANT_NAMES}


def _referenced_names(source: Source) -> set[str]:
    names: set[str] = set()
    for _, text in _expressions(source):
        names |= expression_names(text)
    return names




def source_yaml(table: str, source: Source) -> str:
    """A source as the `sources:` entry a user would write (for `csops init`), without the
    keys left at their defaults."""
    return yaml.safe_dump({"sources": {table: [source_entry(source)]}}, sort_keys=False,
                          allow_unicode=True, width=100)


def source_entry(source: Source) -> dict:
    """A source as the mapping a user would write, without the keys left at their defaults."""
    entry = source.model_dump(exclude_defaults=True)
    if "detect" in entry:
        entry["detect"] = {key: value for key, value in entry["detect"].items() if value}
    if "assumptions" in entry:
        entry["assumptions"] = [{key: value for key, value in item.items() if value is not None}
                                for item in entry["assumptions"]]
    return entry
