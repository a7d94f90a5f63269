"""The package's entry point: the app with every command registered."""

from __future__ import annotations

from . import commands  # noqa: F401  (registers the commands with the app)
from .app import app, run

__all__ = ["app", "main"]


def main() -> None:
    run()
