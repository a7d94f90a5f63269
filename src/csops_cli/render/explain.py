"""One account explained: every signal, its score, weight and points, its history and plays."""

from __future__ import annotations

import re

import pandas as pd
from rich import box
from rich.text import Text

from ..jobs import AccountExplanation
from . import Column, View, band_text, console, data_text, fit, money, number

# signals that count whole things: days, users, logins, meetings, features
_WHOLE = re.compile(r"(^|_)(days|count)(_|$)|_\d+d$")

BUCKET_TITLES = {"product_usage": "Product usage", "relationship_depth": "Relationship depth",
                 "commercial_context": "Commercial context"}


def rows(result: AccountExplanation) -> pd.DataFrame:
    explanation = result.explanation
    return pd.DataFrame([{
        "account_id": explanation.account_id, "bucket": line.bucket, "signal": line.signal,
        "value": _plain(line.value), "score": None if line.score is None else round(line.score, 1),
        "weight": round(line.weight, 4), "points": line.points,
    } for line in explanation.lines])


def record(result: AccountExplanation) -> dict:
    from ..output import records

    explanation = result.explanation
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
        "signals": records(rows(result)) if explanation.lines else [],
        "history": records(result.trend),
        "plays": [{"play_id": c.play_id, "name": c.name, "fires": c.fires, "reason": c.reason}
                  for c in explanation.plays],
    }


def _plain(value):
    if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return value.item() if hasattr(value, "item") else value


def _value_text(value, name: str = "") -> str:
    """A signal's value as people read it: ARR as money, counts of days, users or events as
    whole numbers, ratios with two decimals."""
    value = _plain(value)
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        if name == "arr" or name.endswith("_arr"):
            return money(value)
        if (_WHOLE.search(name) and "_per_" not in name) or isinstance(value, int):
            return f"{value:,.0f}"
        return f"{value:,.2f}" if abs(value) < 10 else f"{value:,.0f}"
    return str(value)


def table(result: AccountExplanation, limit: int | None = None) -> str:
    explanation = result.explanation
    account = explanation.account
    out = console()
    with out.capture() as capture:
        title = data_text(f"{account.get('account_name')} ({explanation.account_id})",
                          style="bold")
        out.print(title)
        out.print(data_text(f"as of {result.as_of:%Y-%m-%d}"
                       f" · segment {_value_text(account.get('segment'))}"
                       f" · stage {_value_text(account.get('derived_stage'))}"
                       f" · ARR {_value_text(account.get('arr'), 'arr')}"
                       f" · renewal {_value_text(account.get('renewal_date'))}"
                       f" · CSM {_value_text(account.get('csm_owner'))}"))  # data: not markup
        if not explanation.scored:
            out.print(f"No ARR on {result.as_of:%Y-%m-%d} (churned or not started): "
                      "no health score.")
        else:
            _score(out, explanation, account, result.trend)
        for check in explanation.plays:
            mark = Text("fires", style="bold yellow") if check.fires else Text("no", style="dim")
            out.print(data_text(f"Play {check.name}: ") + mark + data_text(f"  ({check.reason})"))
    return capture.get()


def _score(out, explanation, account, trend) -> None:
    header = Text("Health ") + Text(number(explanation.health_score), style="bold") + \
        Text(" ") + band_text(account.get("health_band"))
    if account.get("partial"):
        header += Text("  (partial: a whole bucket has no data)", style="yellow")
    out.print(header)
    columns = [Column("Bucket", flex="fold", min_width=12, footer="Total"),
               Column("Signal"), Column("Value", "right"), Column("Score", "right"),
               Column("Weight", "right", footer="100%"),
               Column("Points", "right", footer=number(explanation.health_score))]
    cells, sections = [], set()
    for bucket in BUCKET_TITLES:
        lines = [line for line in explanation.lines if line.bucket == bucket]
        for index, line in enumerate(lines):
            bucket_score = number(explanation.bucket_scores.get(bucket))
            label = f"{BUCKET_TITLES[bucket]} {bucket_score}" if index == 0 else ""
            cells.append([label, data_text(line.signal),
                          data_text(_value_text(line.value, line.signal)),
                          "missing" if line.score is None else number(line.score),
                          f"{line.weight:.0%}", f"{line.points:.1f}"])
        sections.add(len(cells) - 1)
    # boxed: the one table of this page, read row by row
    for part in fit(columns, cells, sections=sections, box=box.HEAVY_HEAD, pad_edge=True,
                    collapse_padding=False).shown():
        out.print(part)
    if len(trend):
        history = " → ".join(f"{row.as_of}: {row.health_score:.1f}"
                             for row in trend.itertuples() if row.health_score is not None)
        out.print(data_text(f"History: {history}"))
    if account.get("health_change") == account.get("health_change") and \
            account.get("health_change") is not None:
        out.print(f"Change since the previous snapshot: "
                  f"{number(account.get('health_change'), signed=True)}")


VIEW = View(AccountExplanation, table=table, rows=rows, record=record)
