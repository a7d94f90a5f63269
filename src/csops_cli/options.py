"""Options shared by the commands, declared once. No pandas here: `csops --help` stays fast."""

from __future__ import annotations

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
OwnerOpt = Annotated[str | None, typer.Option("--owner", help="Only accounts of this owner.")]
FormatOpt = Annotated[str | None, typer.Option(
    "--format", "-f", help="table, csv or json (default: from --out, else table).")]
OutOpt = Annotated[Path | None, typer.Option(
    "--out", "-o", help="Write to this file (format from its suffix); '-' for stdout.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No notes on stderr.")]
DEFAULT_HISTORY = Path(".csops/history.db")
HistoryOpt = Annotated[Path, typer.Option("--history", help="History store (SQLite file).")]
NoSaveOpt = Annotated[bool, typer.Option("--no-save", help="Do not store this snapshot.")]

AccountsOpt = Annotated[Path | None, typer.Option("--accounts", help="Accounts export file.")]
ContractsOpt = Annotated[Path | None, typer.Option("--contracts", help="Contracts export file.")]
UsageOpt = Annotated[Path | None, typer.Option("--usage", help="Usage export file.")]
ActivitiesOpt = Annotated[Path | None, typer.Option("--activities",
                                                    help="Activities export file.")]
TeamOpt = Annotated[Path | None, typer.Option("--team", help="Team export file.")]
