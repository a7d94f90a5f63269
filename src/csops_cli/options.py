"""Options shared by the commands, declared once. No pandas here: `csops --help` stays fast."""

from __future__ import annotations

import datetime
import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated

import typer

DataArg = Annotated[Path, typer.Argument(
    help="Folder holding accounts.*, contracts.*, usage.*, activities.*, team.* "
         "(CSV, .xlsx or Parquet).", show_default=True)]
ConfigOpt = Annotated[Path | None, typer.Option(
    "--config", help="playbooks.yaml to use (default: ./playbooks.yaml, else the packaged one).")]
AsOfOpt = Annotated[str | None, typer.Option(
    "--as-of", help="Date to compute as of, YYYY-MM-DD (default: latest date in usage and "
                    "activities).")]
SegmentOpt = Annotated[str | None, typer.Option("--segment", help="Only this segment.")]
OwnerOpt = Annotated[str | None, typer.Option(
    "--owner", help="Only the accounts whose CSM or AE this is (name or e-mail, as the exports "
                    "spell it; any case).")]
FormatOpt = Annotated[str | None, typer.Option(
    "--format", "-f", help="table, csv, json or xlsx (default: from --out, else table).")]
OutOpt = Annotated[Path | None, typer.Option(
    "--out", "-o", help="Write to this file (format from its suffix); '-' for stdout.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No notes on stderr.")]
NoCacheOpt = Annotated[bool, typer.Option(
    "--no-cache", help="Parse the exports again, neither reading nor writing the cache of "
                       "parsed exports (.csops/cache/ beside the history store).")]
LimitOpt = Annotated[int | None, typer.Option(
    "--limit", min=1, help="Show at most N rows, worst or most urgent first (default: 25 in a "
                           "terminal, all when piped or written to a file; given, it also "
                           "limits the rows of CSV and a JSON list).")]
AllOpt = Annotated[bool, typer.Option("--all", help="Show every row, even in a terminal.")]
TERMINAL_ROWS = 25
DEFAULT_HISTORY = Path(".csops/history.db")
HistoryOpt = Annotated[Path, typer.Option("--history", help="History store (SQLite file).")]
NoSaveOpt = Annotated[bool, typer.Option("--no-save", help="Do not store this snapshot.")]

AccountsOpt = Annotated[Path | None, typer.Option("--accounts", help="Accounts export file.")]
ContractsOpt = Annotated[Path | None, typer.Option("--contracts", help="Contracts export file.")]
UsageOpt = Annotated[Path | None, typer.Option("--usage", help="Usage export file.")]
ActivitiesOpt = Annotated[Path | None, typer.Option("--activities",
                                                    help="Activities export file.")]
TeamOpt = Annotated[Path | None, typer.Option("--team", help="Team export file.")]


@dataclass(frozen=True)
class Inputs:
    """What every data command is given: the folder, files named explicitly, the config,
    the as-of date and whether to keep quiet."""

    data: Path = Path(".")
    config: Path | None = None
    as_of: str | None = None
    quiet: bool = False
    no_cache: bool = False
    accounts: Path | None = None
    contracts: Path | None = None
    usage: Path | None = None
    activities: Path | None = None
    team: Path | None = None

    def files(self) -> dict[str, Path | None]:
        return {"accounts": self.accounts, "contracts": self.contracts, "usage": self.usage,
                "activities": self.activities, "team": self.team}


# --as-of dates csops computes with: a year back, windows and due dates ten years ahead all
# stay inside the dates pandas holds (1677-09-22 to 2262-04-11)
AS_OF_RANGE = (datetime.date(1900, 1, 1), datetime.date(2199, 12, 31))


def check_as_of(text: str | None) -> None:
    """Refuse an --as-of outside AS_OF_RANGE; one that is no date at all is refused where it
    is parsed (pipeline.parse_as_of)."""
    from .errors import UsageError

    try:
        day = datetime.date.fromisoformat(text) if text else None
    except ValueError:
        return
    first, last = AS_OF_RANGE
    if day is not None and not first <= day <= last:
        raise UsageError(f"--as-of {text} is outside the dates csops supports: give a date from "
                         f"{first:%Y-%m-%d} to {last:%Y-%m-%d}")


def row_limit(limit: int | None, all_rows: bool, fmt: str, out: Path | None) -> int | None:
    """How many rows a long table shows (None: all). ``--limit N`` wins in every format;
    ``--all`` shows all; otherwise a table on a terminal shows the first TERMINAL_ROWS and
    anything piped or written to a file shows all."""
    import sys

    from .errors import UsageError

    if limit is not None and all_rows:
        raise UsageError("--limit and --all contradict each other: give one of them")
    if limit is not None:
        return limit
    to_terminal = out is None or str(out) == "-"
    if all_rows or fmt != "table" or not to_terminal or not sys.stdout.isatty():
        return None
    return TERMINAL_ROWS


_SHARED = {"data": DataArg, "config": ConfigOpt, "as_of": AsOfOpt, "quiet": QuietOpt,
           "no_cache": NoCacheOpt,
           "accounts": AccountsOpt, "contracts": ContractsOpt, "usage": UsageOpt,
           "activities": ActivitiesOpt, "team": TeamOpt}


def data_options(without: tuple[str, ...] = ()) -> Callable[[Callable], Callable]:
    """Give a command the shared data options, declared once here; the command receives them
    as one ``inputs: Inputs`` argument. ``without`` names options the command has no use for."""
    return functools.partial(_with_data_options, without=without)


def _with_data_options(function: Callable, without: tuple[str, ...]) -> Callable:
    signature = inspect.signature(function, eval_str=True)  # resolve the Annotated aliases
    own = [p for name, p in signature.parameters.items() if name != "inputs"]
    defaults = {f.name: f.default for f in fields(Inputs)}
    shared = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                                default=defaults[name])
              for name, annotation in _SHARED.items() if name not in without]

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        inputs = Inputs(**{name: kwargs.pop(name) for name in _SHARED if name in kwargs})
        check_as_of(inputs.as_of)
        from .commands.common import progress_shown

        with progress_shown(inputs.quiet):
            return function(*args, inputs=inputs, **kwargs)

    # DATA follows the command's own arguments (explain's ACCOUNT comes first)
    parameters = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own]
    arguments = [p for p in parameters if _is_argument(p)]
    options = [p for p in parameters if not _is_argument(p)]
    wrapper.__signature__ = signature.replace(parameters=arguments + shared + options)
    return wrapper


def _is_argument(parameter: inspect.Parameter) -> bool:
    metadata = getattr(parameter.annotation, "__metadata__", ())
    return any(isinstance(item, typer.models.ArgumentInfo) for item in metadata)
