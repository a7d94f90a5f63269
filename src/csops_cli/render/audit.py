"""The week-1 audit: Markdown for documents and the terminal, CSV of findings, JSON."""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd

from ..audit import Audit
from . import View, captured, metric_value


def record(result: Audit) -> dict:
    return {"as_of": f"{result.as_of:%Y-%m-%d}",
            "metrics": [asdict(m) for m in result.metrics],
            "findings": [asdict(f) for f in result.findings],
            "coverage": {table: {"first": first, "last": last, "days": days}
                         for table, (first, last, days) in result.coverage.items()}}


def rows(result: Audit) -> pd.DataFrame:
    return pd.DataFrame([{"check": f.check, "severity": f.severity, "title": f.title,
                          "count": f.count, "fix": f.fix,
                          "examples": "; ".join(f"{e.file}:{e.line or ''} {e.detail}"
                                                for e in f.examples)}
                         for f in result.findings],
                        columns=["check", "severity", "title", "count", "fix", "examples"])


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _value(metric) -> str:
    if metric.value is None and metric.note:
        return f"n/a ({metric.note})"
    return metric_value(metric.unit, metric.value)


def markdown(result: Audit) -> str:
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


def table(result: Audit) -> str:
    from rich.markdown import Markdown

    return captured(Markdown(markdown(result)))


VIEW = View(Audit, table=table, rows=rows, record=record, markdown=markdown)
