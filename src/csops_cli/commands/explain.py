"""csops explain: one account's score, signal by signal, with its history."""

from __future__ import annotations

from typing import Annotated

import typer

from ..cli import command
from ..options import (
    DEFAULT_HISTORY,
    FormatOpt,
    HistoryOpt,
    Inputs,
    OutOpt,
    data_options,
)
from .common import load

BUCKET_TITLES = {"product_usage": "Product usage", "relationship_depth": "Relationship depth",
                 "commercial_context": "Commercial context"}


@command("explain")
@data_options()
def explain_command(
    account: Annotated[str, typer.Argument(help="Account id or exact account name.")],
    inputs: Inputs,
    format: FormatOpt = None,
    out: OutOpt = None,
    history: HistoryOpt = DEFAULT_HISTORY,
) -> None:
    """Show why an account scores what it does: every signal, its score, weight and points.

    Example: csops explain A00042 sample_data
    """
    from .. import output

    fmt = output.format_for(out, format)
    settings, exports = load(inputs)  # first: it starts reading while pandas imports
    from .. import pipeline
    from ..explain import explain, find_account
    from ..history import History

    store = History(history)
    result = pipeline.account_health(exports, settings, pipeline.parse_as_of(inputs.as_of), store)
    account_id = find_account(result.signals, account)
    explanation = explain(result, settings, account_id)
    trend = store.trend(account_id)
    if fmt == "json":
        output.write_text(out, output.json_text(explanation_record(explanation, result, trend)))
    elif fmt == "csv":
        output.write_text(out, output.csv_text(lines_frame(explanation)))
    else:
        output.write_text(out, render(explanation, result, trend))


def lines_frame(explanation):
    import pandas as pd

    return pd.DataFrame([{
        "account_id": explanation.account_id, "bucket": line.bucket, "signal": line.signal,
        "value": _plain(line.value), "score": None if line.score is None else round(line.score, 1),
        "weight": round(line.weight, 4), "points": line.points,
    } for line in explanation.lines])


def explanation_record(explanation, result, trend) -> dict:
    from .. import output

    account = explanation.account
    return {
        "as_of": f"{result.as_of:%Y-%m-%d}",
        "account_id": explanation.account_id,
        "account_name": _plain(account.get("account_name")),
        "segment": _plain(account.get("segment")),
        "health_score": None if explanation.health_score is None
        else round(explanation.health_score, 1),
        "health_band": _plain(account.get("health_band")),
        "partial": bool(account.get("partial")) if explanation.scored else None,
        "buckets": {k: None if v is None else round(v, 1)
                    for k, v in explanation.bucket_scores.items()},
        "signals": output.records(lines_frame(explanation)) if explanation.lines else [],
        "history": output.records(trend),
        "plays": [{"play_id": c.play_id, "name": c.name, "fires": c.fires, "reason": c.reason}
                  for c in explanation.plays],
    }


def _plain(value):
    import pandas as pd

    if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return value.item() if hasattr(value, "item") else value


def _value_text(value) -> str:
    value = _plain(value)
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 10 else f"{value:,.0f}"
    return str(value)


def render(explanation, result, trend) -> str:
    from rich.text import Text

    from ..render import console

    account = explanation.account
    out = console()
    with out.capture() as capture:
        title = Text(f"{account.get('account_name')} ({explanation.account_id})", style="bold")
        out.print(title)
        out.print(f"as of {result.as_of:%Y-%m-%d} · segment {_value_text(account.get('segment'))}"
                  f" · stage {_value_text(account.get('derived_stage'))}"
                  f" · ARR {_value_text(account.get('arr'))}"
                  f" · renewal {_value_text(account.get('renewal_date'))}"
                  f" · CSM {_value_text(account.get('csm_owner'))}")
        if not explanation.scored:
            out.print(f"No ARR on {result.as_of:%Y-%m-%d} (churned or not started): "
                      "no health score.")
        else:
            _render_score(out, explanation, account, trend)
        for check in explanation.plays:
            mark = Text("fires", style="bold yellow") if check.fires else Text("no", style="dim")
            out.print(Text(f"Play {check.name}: ") + mark + Text(f"  ({check.reason})"))
    return capture.get()


def _render_score(out, explanation, account, trend) -> None:
    from rich.table import Table
    from rich.text import Text

    from ..render import band_text, number

    header = Text("Health ") + Text(number(explanation.health_score), style="bold") + \
        Text(" ") + band_text(account.get("health_band"))
    if account.get("partial"):
        header += Text("  (partial: a whole bucket has no data)", style="yellow")
    out.print(header)
    table = Table(header_style="bold", show_footer=True)
    table.add_column("Bucket", footer="Total")
    table.add_column("Signal")
    table.add_column("Value", justify="right")
    table.add_column("Score 0-100", justify="right")
    table.add_column("Weight", justify="right", footer="100%")
    table.add_column("Points", justify="right", footer=number(explanation.health_score))
    for bucket in BUCKET_TITLES:
        lines = [line for line in explanation.lines if line.bucket == bucket]
        for index, line in enumerate(lines):
            bucket_score = number(explanation.bucket_scores.get(bucket))
            label = f"{BUCKET_TITLES[bucket]} {bucket_score}" if index == 0 else ""
            table.add_row(label, line.signal, _value_text(line.value),
                          "missing" if line.score is None else number(line.score),
                          f"{line.weight:.0%}", f"{line.points:.1f}")
        table.add_section()
    out.print(table)
    if len(trend):
        history = " → ".join(f"{row.as_of}: {row.health_score:.1f}"
                             for row in trend.itertuples() if row.health_score is not None)
        out.print(f"History: {history}")
    if account.get("health_change") == account.get("health_change") and \
            account.get("health_change") is not None:
        out.print(f"Change since the previous snapshot: "
                  f"{number(account.get('health_change'), signed=True)}")
