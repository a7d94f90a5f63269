"""csops validate: read every export and playbooks.yaml, report every problem."""

from __future__ import annotations

from ..app import command
from ..options import Inputs, data_options


@command("validate")
@data_options(without=("as_of",))
def validate_command(
    inputs: Inputs,
) -> None:
    """Check the exports and playbooks.yaml; list every problem with file, line and fix.

    Example: csops validate sample_data --config playbooks.yaml
    """
    from ..errors import InputError
    from ..render import console, emit, show_error
    from ..validation import validate

    result = validate(inputs.data, inputs.files(), inputs.config)
    emit(result, "table")
    for error in result.failures:
        show_error(error)
    found = []
    if result.failures:
        found.append(f"{result.problems} problem(s) in {len(result.failures)} export(s)")
    if result.data_errors:
        found.append(f"{result.rows_in_error} row(s) fail the audit's error checks (listed "
                     "above)")
    if found:
        raise InputError("; ".join(found))
    console().print("All exports and the configuration are valid.")
