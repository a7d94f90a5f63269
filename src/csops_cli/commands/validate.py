"""csops validate: read every export and playbooks.yaml, report every problem."""

from __future__ import annotations

from ..cli import command
from ..options import (
    Inputs,
    data_options,
)


@command("validate")
@data_options(without=("as_of",))
def validate_command(
    inputs: Inputs,
) -> None:
    """Check the exports and playbooks.yaml; list every problem with file, line and fix.

    Example: csops validate sample_data --config playbooks.yaml
    """
    import functools

    from rich.table import Table

    from ..config import load_config
    from ..errors import CsopsError, InputError
    from ..loading import find_exports, load_table
    from ..loading.events import account_index
    from ..render import console, show_error

    label, settings = load_config(inputs.config)
    paths = find_exports(inputs.data, inputs.files())
    summary = Table(title=f"Exports in {inputs.data}", title_justify="left", header_style="bold")
    for name in ("Table", "File", "Rows", "Read as", "Columns found"):
        summary.add_column(name)
    failures: list[CsopsError] = []
    loaded: dict = {}
    for name in ("accounts", "contracts", "usage", "activities", "team"):
        if name not in paths:
            summary.add_row(name, "-", "", "", "not found: what needs it is skipped")
            continue
        ids = None
        if name == "usage" and "accounts" in loaded:  # the fast reader, as other commands
            ids = functools.partial(account_index, loaded["accounts"].frame)
        try:
            table = load_table(name, paths[name], settings, big=(name == "usage"), ids=ids)
        except InputError as error:
            failures.append(error)
            summary.add_row(name, paths[name].name, "", "", "[red]problems, see below[/red]")
            continue
        loaded[name] = table
        mapped = ", ".join(f"{canonical}←{header}" if header != canonical else canonical
                           for canonical, header in table.source_columns.items())
        summary.add_row(name, table.path.name, f"{table.rows:,}",
                        table.preset or "canonical", mapped)
    out = console()
    out.print(f"config: {label} (valid)")
    out.print(summary)
    for error in failures:
        show_error(error)
    if failures:
        total = sum(error.total for error in failures)
        raise InputError(f"{total} problem(s) in {len(failures)} export(s)")
    out.print("All exports and the configuration are valid.")
