"""csops sample: write a realistic synthetic data set."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..app import command
from ..errors import ProblemCode, UsageError
from ..options import QuietOpt


@command("sample")
def sample_command(
    out: Annotated[Path, typer.Argument(help="Folder to write the CSV exports into.")],
    accounts: Annotated[int, typer.Option("--accounts", min=1, help="Number of accounts.")] = 300,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same data).")] = 7,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Export date, YYYY-MM-DD (default: today).")] = None,
    events: Annotated[int | None, typer.Option(
        "--events", min=0, help="Usage events to draw (default: 250 per account); those "
                                "falling after an account churned are dropped.")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Write into a folder that already holds files (same-named files are "
                        "replaced).")] = False,
    quiet: QuietOpt = False,
) -> None:
    """Write accounts, contracts, usage, activities and team CSVs for trying csops out.

    Example: csops sample demo --accounts 500 --seed 1 --as-of 2026-11-20
    """
    from ..pipeline import parse_as_of
    from ..render import note
    from ..sample import generate
    from .common import progress_shown, slow_status

    when = parse_as_of(as_of)
    _check_folder(out, force)
    try:
        with progress_shown(quiet), slow_status("drawing the sample data"):
            summary = generate(out, accounts=accounts, seed=seed, as_of=when, events=events)
    except OSError as error:  # a read-only folder, a full disk
        raise UsageError(f"cannot write the sample into {out}: {error.strerror or error}; "
                         "choose another folder", code=ProblemCode.UNWRITABLE_OUTPUT) from None
    rows = ", ".join(f"{name} {count:,}" for name, count in summary.rows.items())
    note(f"wrote {out} as of {summary.as_of:%Y-%m-%d}: {rows}", quiet)


def _check_folder(out: Path, force: bool) -> None:
    """A folder of exports is never overwritten by accident: only an empty or new folder,
    unless --force."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} is a file; name a folder to write the sample into",
                         code=ProblemCode.UNWRITABLE_OUTPUT)
    if not force and out.is_dir() and any(out.iterdir()):
        raise UsageError(f"{out} already holds files, which the sample could replace; name a "
                         "new or empty folder, or add --force to write into it anyway",
                         code=ProblemCode.FOLDER_NOT_EMPTY)
