"""csops audit: the week-1 audit of metric definitions and data quality."""

from __future__ import annotations

from typing import Annotated

import typer

from ..app import command
from ..options import AllOpt, FormatOpt, Inputs, LimitOpt, OutOpt, data_options, row_limit
from .common import load, output_format, refuse_out_over_inputs

StrictOpt = Annotated[bool, typer.Option(
    "--strict", help="Exit 1 when a finding of severity error exists.")]


@command("audit")
@data_options()
def audit_command(
    inputs: Inputs,
    strict: StrictOpt = False,
    format: FormatOpt = None,
    out: OutOpt = None,
    limit: LimitOpt = None,
    all_rows: AllOpt = False,
) -> None:
    """Week-1 audit: each metric's definition and coverage, and data-quality findings.

    Example: csops audit sample_data --out audit.md --strict
    """
    from ..errors import ExitCode

    fmt = output_format(out, format)
    shown = row_limit(limit, all_rows, fmt, out)
    if fmt == "table" and out is not None:  # a document: Markdown, not terminal text
        fmt = "markdown"
    config, exports = load(inputs)  # first: it starts reading while pandas imports
    refuse_out_over_inputs(out, inputs, exports)
    from ..jobs import week_one_audit
    from ..render import emit, note

    result = week_one_audit(exports, config, inputs.as_of)
    emit(result, fmt, out, shown)
    errors = sum(f.severity == "error" for f in result.findings)
    note(f"{len(result.findings):,} finding(s), {errors:,} error(s)", inputs.quiet)
    if strict and result.has_errors:
        raise typer.Exit(int(ExitCode.FINDINGS))
