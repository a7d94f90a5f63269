"""csops init: write a starter playbooks.yaml next to the data, with the detected preset."""

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
    """Write a commented starter playbooks.yaml into the data folder.

    Example: csops init exports/
    """
    from ..config import default_config_text
    from ..errors import UsageError
    from ..loading.columns import SUFFIXES, detect_preset
    from ..loading.files import read_headers
    from ..output import atomic_write
    from ..render import note

    if not data.is_dir():
        raise UsageError(f"{data}: not a folder; give the folder that holds your exports")
    target = data / "playbooks.yaml"
    if target.exists() and not force:
        raise UsageError(f"{target} exists; use --force to replace it")
    detected: set[str] = set()
    for path in sorted(data.iterdir()):
        if path.is_file() and path.suffix.lower() in SUFFIXES and path.stem.lower() in (
                "accounts", "contracts", "usage", "activities", "team"):
            preset = detect_preset(read_headers(path), path.stem.lower(), "auto")
            if preset:
                detected.add(preset)
    text = default_config_text()
    if len(detected) == 1:
        preset = detected.pop()
        text = text.replace("  preset: auto\n", f"  preset: {preset}  # detected by csops init\n",
                            1)
        note(f"detected {preset} exports", quiet)
    atomic_write(target, lambda handle: handle.write(text))
    note(f"wrote {target}; edit it, then run `csops validate {data} --config {target}`", quiet)
