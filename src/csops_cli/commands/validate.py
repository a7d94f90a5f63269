"""csops validate: read every export and playbooks.yaml, report every problem."""

from __future__ import annotations

from pathlib import Path

from ..app import command
from ..options import Inputs, OutOpt, data_options


@command("validate")
@data_options(without=("as_of",))
def validate_command(
    inputs: Inputs,
    out: OutOpt = None,
) -> None:
    """Check the exports and playbooks.yaml; list every problem with file, line and fix.

    Example: csops validate sample_data --config playbooks.yaml --out problems.xlsx
    """
    from ..errors import InputError
    from ..render import console, emit, show_error
    from ..validation import validate
    from .common import output_format

    fmt = output_format(out, None)
    result = validate(inputs.data, inputs.files(), inputs.config)
    emit(result, "table")
    if out is not None and str(out) != "-":  # every problem, for a spreadsheet or a script
        from ..config import DEFAULT_CONFIG_NAME
        from ..output import refuse_inputs

        configs = [inputs.config] if inputs.config is not None else \
            [inputs.data / DEFAULT_CONFIG_NAME, Path(DEFAULT_CONFIG_NAME)]
        refuse_inputs(out, [("a file", match.path) for match in result.files]
                      + [("the configuration", path) for path in configs])
        emit(result, fmt, out)
    for error in result.failures:
        show_error(error)
    found = []
    if result.failures:
        found.append(f"{result.problems:,} problem(s) in {len(result.failures)} export(s)")
    if result.data_errors:
        found.append(f"{result.rows_in_error:,} row(s) fail the audit's error checks (listed "
                     "above)")
    if found:
        raise InputError("; ".join(found))
    console().print("All exports and the configuration are valid.")
