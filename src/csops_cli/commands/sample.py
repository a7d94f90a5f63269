"""csops sample: write a realistic synthetic data set."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..app import command
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
    quiet: QuietOpt = False,
) -> None:
    """Write accounts, contracts, usage, activities and team CSVs for trying csops out.

    Example: csops sample demo --accounts 500 --seed 1 --as-of 2026-11-20
    """
    from ..pipeline import parse_as_of
    from ..render import note
    from ..sample import generate

    summary = generate(out, accounts=accounts, seed=seed, as_of=parse_as_of(as_of),
                       events=events)
    rows = ", ".join(f"{name} {count:,}" for name, count in summary.rows.items())
    note(f"wrote {out} as of {summary.as_of:%Y-%m-%d}: {rows}", quiet)
