"""Refresh the terminal sessions shown in README.md from the commands they show.

Each ```console block is part of one session: the `$ ` lines of every block are run in order,
with bash, in one fresh folder holding a copy of sample_data/ (so the history store they write
is their own, and later blocks see what earlier ones stored, as a reader following along would),
and the output under each command is replaced by what the command prints now. Where the README
shortened an output with a `…` line, the new output is shortened the same way: as many lines
before the `…` and after it as before. Blocks whose commands need files the folder does not have
(the `bad` example) are left as they are.

    python scripts/readme_sessions.py            # rewrites README.md
    python scripts/readme_sessions.py --check    # exit 1 when a session is out of date
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```console\n(.*?)^```\n", re.DOTALL | re.MULTILINE)
ELLIPSIS = re.compile(r"^\s*…\s*$")
WIDTH = "120"  # the width the README's tables were captured at


def sessions(text: str) -> list[re.Match]:
    return list(BLOCK.finditer(text))


def steps(block: str) -> list[tuple[str, list[str]]]:
    """(command, output lines) for each `$ ` line of a block."""
    found: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            found.append((line[2:], []))
        elif found:
            found[-1][1].append(line)
    return found


def shortened(new: list[str], old: list[str]) -> list[str]:
    """``new`` cut as ``old`` was: the same number of lines around each `…`."""
    marks = [index for index, line in enumerate(old) if ELLIPSIS.match(line)]
    if not marks:
        return new
    mark = marks[0]
    head, tail = mark, len(old) - mark - 1
    if len(new) <= head + tail + 1:
        return new
    return new[:head] + [old[mark]] + (new[len(new) - tail:] if tail else [])


def run(command: str, folder: Path) -> list[str]:
    environment = dict(os.environ, COLUMNS=WIDTH, NO_COLOR="1", TERM="dumb")
    environment.pop("FORCE_COLOR", None)
    result = subprocess.run(["bash", "-c", command], cwd=folder, env=environment,
                            capture_output=True, text=True, check=False)
    # what a terminal shows: the output, then the notes (stderr) after it
    lines = result.stdout.splitlines() + result.stderr.splitlines()
    return [line.rstrip() for line in lines]


def refreshed(block: str, folder: Path) -> str | None:
    commands = steps(block)
    if not commands or any(re.search(r"(^|\s)bad(\s|/|$)", command) for command, _ in commands):
        return None
    out = []
    for command, old in commands:
        out.append(f"$ {command}")
        out += shortened(run(command, folder), old)
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    if shutil.which("csops") is None:
        sys.exit("csops is not on PATH: pip install -e . first")
    readme = ROOT / "README.md"
    text = readme.read_text()
    pieces, last, stale = [], 0, 0
    with tempfile.TemporaryDirectory(prefix="csops-readme-") as scratch:
        folder = Path(scratch)
        shutil.copytree(ROOT / "sample_data", folder / "sample_data")
        for match in sessions(text):
            block = match.group(1)
            new = refreshed(block, folder)
            pieces.append(text[last:match.start(1)])
            pieces.append(block if new is None else new)
            stale += new is not None and new != block
            last = match.end(1)
    pieces.append(text[last:])
    if args.check:
        print(f"{stale} session(s) out of date")
        return 1 if stale else 0
    readme.write_text("".join(pieces))
    print(f"{stale} session(s) refreshed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
