"""csops init: recognise the exports of a folder and write its playbooks.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..app import command
from ..options import DataArg, QuietOpt


@command("init")
def init_command(
    data: DataArg = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    quiet: QuietOpt = False,
) -> None:
    """Recognise each export in the folder and write DATA/playbooks.yaml with how it is read.

    Example: csops init exports/
    """
    from ..initialise import initialise
    from ..render import emit

    result = initialise(data, force)
    if not quiet:
        emit(result, "table")
