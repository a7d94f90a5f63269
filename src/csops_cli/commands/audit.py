"""csops audit: the week-1 audit of metric definitions and data quality."""

from __future__ import annotations

from typing import Annotated

import typer

from ..cli import command
from ..options import (
    FormatOpt,
    Inputs,
    OutOpt,
    data_options,
)
from .common import load

StrictOpt = Annotated[bool, typer.Option(
    "--strict", help="Exit 1 when a finding of severity error exists.")]


@command("audit")
@data_options()
def audit_command(
    inputs: Inputs,
    strict: StrictOpt = False,
    format: FormatOpt = None,
    out: OutOpt = None,
) -> None:
    """Week-1 audit: each metric's definition and coverage, and data-quality findings.

    Example: csops audit sample_data --out audit.md --strict
    """
    from .. import output
    from ..errors import ExitCode
    from ..render import console, note

    fmt = "markdown" if out is not None and out.suffix.lower() == ".md" and not format \
        else output.format_for(out, format)
    settings, exports = load(inputs)  # first: it starts reading while pandas imports
    from .. import audit, metrics, pipeline

    signals, earlier = metrics.signals_with_lookback(exports, settings,
                                                     pipeline.parse_as_of(inputs.as_of))
    report = metrics.compute(exports, signals, settings, earlier=earlier)
    result = audit.run(exports, signals, report, settings)
    if fmt == "json":
        output.write_text(out, output.json_text(record(result)))
    elif fmt == "csv":
        output.write_text(out, output.csv_text(findings_frame(result)))
    elif fmt == "markdown" or out is not None:
        output.write_text(out, markdown(result))
    else:
        from rich.markdown import Markdown

        console().print(Markdown(markdown(result)))
    errors = sum(f.severity == "error" for f in result.findings)
    note(f"{len(result.findings)} finding(s), {errors} error(s)", inputs.quiet)
    if strict and result.has_errors:
        raise typer.Exit(int(ExitCode.FINDINGS))


def record(result) -> dict:
    from dataclasses import asdict

    return {"as_of": f"{result.as_of:%Y-%m-%d}",
            "metrics": [asdict(m) for m in result.metrics],
            "findings": [asdict(f) for f in result.findings],
            "coverage": {table: {"first": first, "last": last, "days": days}
                         for table, (first, last, days) in result.coverage.items()}}


def findings_frame(result):
    import pandas as pd

    return pd.DataFrame([{"check": f.check, "severity": f.severity, "title": f.title,
                          "count": f.count, "fix": f.fix,
                          "examples": "; ".join(f"{e.file}:{e.line or ''} {e.detail}"
                                                for e in f.examples)}
                         for f in result.findings],
                        columns=["check", "severity", "title", "count", "fix", "examples"])


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _value(metric) -> str:
    from ..render import metric_value

    if metric.value is None and metric.note:
        return f"n/a ({metric.note})"
    return metric_value(metric.unit, metric.value)


def markdown(result) -> str:
    """The audit as Markdown: what a CS leader reads, and what the terminal shows."""
    lines = [f"# Week-1 audit, as of {result.as_of:%Y-%m-%d}", ""]
    errors = [f for f in result.findings if f.severity == "error"]
    warnings = [f for f in result.findings if f.severity == "warning"]
    lines += [f"{len(result.findings)} data-quality finding(s): {len(errors)} error(s), "
              f"{len(warnings)} warning(s). Errors change what the metrics say; fix them "
              "first.", ""]
    lines += ["## Data quality", ""]
    if not result.findings:
        lines += ["No findings.", ""]
    for finding in result.findings:
        lines += [f"### {finding.severity.upper()}: {finding.title} ({finding.count:,})", "",
                  f"Fix: {finding.fix}", ""]
        if finding.examples:
            lines += ["| file | line | example |", "| --- | ---: | --- |"]
            lines += [f"| {_cell(e.file)} | {e.line or ''} | {_cell(e.detail)} |"
                      for e in finding.examples]
            lines.append("")
    lines += ["## Export coverage", "", "| export | first date | last date | days |",
              "| --- | --- | --- | ---: |"]
    lines += [f"| {table} | {first} | {last} | {days:,} |"
              for table, (first, last, days) in result.coverage.items()]
    lines += ["", "## Metric definitions", ""]
    for metric in result.metrics:
        excluded = ", ".join(f"{n:,} {reason}" for reason, n in metric.excluded.items()) or \
            "none"
        lines += [f"### {metric.name} (`{metric.id}`)", "", metric.definition, "",
                  f"- Formula: {metric.formula}", f"- Inputs: {metric.inputs}",
                  f"- Window: {metric.window}", f"- Value: {_value(metric)}",
                  f"- Coverage: {metric.included:,} accounts included; excluded: {excluded}",
                  ""]
    return "\n".join(lines)
