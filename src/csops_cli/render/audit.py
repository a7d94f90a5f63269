"""The week-1 audit: Markdown for documents and the terminal, CSV of findings, JSON."""

from __future__ import annotations

import re
from dataclasses import asdict

import pandas as pd

from ..audit import Audit
from . import View, captured, metric_value, visible


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


# what Markdown or HTML would read as syntax: emphasis (``_`` only at a word's edge: inside
# one, as in as_of, it is a letter), code, links and images, table pipes, tags and entities
_MARKDOWN_SYNTAX = re.compile(r"[\\`*\[\]|~<>&]|(?<![^\W_])_|_(?![^\W_])")
_EMPHASIS = re.compile(r"\*|(?<![^\W_])_|_(?![^\W_])")
_HTML = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
# a heading, list item or underline where a line starts
_BLOCK_START = re.compile(r"^(\s*)([-+=#]|\d+[.)])")


def md(text) -> str:
    """Text from data or the config as Markdown that shows it literally, in a table cell or a
    paragraph: syntax escaped, HTML as entities, control characters (CR, LF) visible."""
    escaped = _MARKDOWN_SYNTAX.sub(lambda found: _HTML.get(found.group(), "\\" + found.group()),
                                   visible(str(text)))
    return _BLOCK_START.sub(r"\1\\\2", escaped)


def _prose(text: str) -> str:
    """csops' own text (formulas, inputs such as ``contracts.*``): no emphasis by accident."""
    return _EMPHASIS.sub(lambda found: "\\" + found.group(), text)


def _code(name: str) -> str:
    """An identifier as code; anything else as escaped text (a code span shows no escape)."""
    return f"`{name}`" if re.fullmatch(r"\w+", name, re.ASCII) else md(name)


def _value(metric) -> str:
    if metric.value is None and metric.note:
        return f"n/a ({metric.note})"
    return metric_value(metric.unit, metric.value)


def markdown(result: Audit, limit: int | None = None) -> str:
    """The audit as Markdown: what a CS leader reads, and what the terminal shows (its first
    ``limit`` findings; all when None). Text from the exports or the config goes through
    :func:`md`; csops' own formulas and notes do not."""
    lines = [f"# Week-1 audit, as of {result.as_of:%Y-%m-%d}", ""]
    errors = [f for f in result.findings if f.severity == "error"]
    warnings = [f for f in result.findings if f.severity == "warning"]
    lines += [f"{len(result.findings):,} data-quality finding(s): {len(errors):,} error(s), "
              f"{len(warnings):,} warning(s). Errors change what the metrics say; fix them "
              "first.", ""]
    lines += ["## Data quality", ""]
    if not result.findings:
        lines += ["No findings.", ""]
    for finding in result.findings[:limit]:
        lines += [f"### {finding.severity.upper()}: {md(finding.title)} ({finding.count:,})", "",
                  f"Fix: {md(finding.fix)}", ""]
        if finding.examples:
            lines += ["| file | line | example |", "| --- | ---: | --- |"]
            lines += [f"| {md(e.file)} | {'' if e.line is None else f'{e.line:,}'} | "
                      f"{md(e.detail)} |" for e in finding.examples]
            lines.append("")
    if limit is not None and len(result.findings) > limit:
        lines += [f"… and {len(result.findings) - limit:,} more finding(s) (--all to show "
                  "every row)", ""]
    lines += ["## Export coverage", "", "| export | first date | last date | days |",
              "| --- | --- | --- | ---: |"]
    lines += [f"| {md(table)} | {md(first)} | {md(last)} | {days:,} |"
              for table, (first, last, days) in result.coverage.items()]
    lines += ["", "## Metric definitions", ""]
    for metric in result.metrics:
        excluded = ", ".join(f"{n:,} {reason}" for reason, n in metric.excluded.items()) or \
            "none"
        lines += [f"### {md(metric.name)} ({_code(metric.id)})", "", md(metric.definition), "",
                  f"- Formula: {_prose(metric.formula)}", f"- Inputs: {_prose(metric.inputs)}",
                  f"- Window: {metric.window}", f"- Value: {_value(metric)}",
                  f"- Coverage: {metric.included:,} accounts included; excluded: {excluded}",
                  ""]
    return "\n".join(lines)


def table(result: Audit, limit: int | None = None) -> str:
    from rich.markdown import Markdown

    return captured(Markdown(markdown(result, limit)))


def sheets(result: Audit) -> list[tuple[str, pd.DataFrame]]:
    """The findings, each metric's definition and each export's date range, a sheet each."""
    metrics = pd.DataFrame([{**asdict(m), "excluded": ", ".join(
        f"{n} {reason}" for reason, n in m.excluded.items())} for m in result.metrics])
    coverage = pd.DataFrame([{"table": table, "first": first, "last": last, "days": days}
                             for table, (first, last, days) in result.coverage.items()],
                            columns=["table", "first", "last", "days"])
    return [("Findings", rows(result)), ("Metric definitions", metrics),
            ("Export coverage", coverage)]


VIEW = View(Audit, table=table, rows=rows, record=record, markdown=markdown, sheets=sheets)
