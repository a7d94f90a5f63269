"""Domain errors and exit codes.

The core raises these; the CLI turns them into a message on stderr and an exit code in one
place (``app.command``). Anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes shared by every command."""

    OK = 0
    FINDINGS = 1  # the command worked and found what --strict asks to fail on
    BAD_INPUT = 2  # bad input, bad configuration or bad usage
    INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as shells report it


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located well enough for a person to fix it."""

    file: str
    message: str
    line: int | None = None
    column: str | None = None
    value: str | None = None
    fix: str | None = None


class CsopsError(Exception):
    """Base of every error that is the user's input, not a bug."""

    exit_code = ExitCode.BAD_INPUT

    def __init__(self, message: str, problems: list[Problem] | None = None,
                 total: int | None = None):
        super().__init__(message)
        self.message = message
        self.problems = problems or []
        # ``problems`` may be a sample; ``total`` counts them all
        self.total = total if total is not None else len(self.problems)


class InputError(CsopsError):
    """An export cannot be read or holds values that cannot be used."""


class ConfigError(CsopsError):
    """playbooks.yaml is malformed or names something that does not exist."""


class UsageError(CsopsError):
    """The command line asks for something impossible (bad option value, unknown account)."""
