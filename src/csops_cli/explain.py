"""Why an account's health score is what it is: every signal, its score, weight and points."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import pandas as pd

from .config import Config
from .errors import UsageError
from .health import rounded_parts
from .pipeline import AccountHealth
from .signal_catalogue import BUCKET_COLUMNS


@dataclass(frozen=True)
class SignalLine:
    bucket: str
    signal: str
    value: object
    score: float | None  # 0-100, None when missing
    weight: float  # share of the total score, 0-1 (0 when missing)
    points: float  # contribution, rounded so that the lines add up to the score shown


@dataclass(frozen=True)
class PlayCheck:
    play_id: str
    name: str
    fires: bool  # the condition and filters hold (an open play may still hold it back)
    reason: str  # the values the condition read


@dataclass(frozen=True)
class Explanation:
    account_id: str
    account: pd.Series  # the signal-table row
    lines: list[SignalLine]
    bucket_scores: dict[str, float | None]
    health_score: float | None
    scored: bool  # False when the account has no ARR on as_of
    plays: list[PlayCheck]




def find_account(signals: pd.DataFrame, query: str) -> str:
    """An account by id, else by name (ignoring case); suggest close ones when not found."""
    if query in signals.index:
        return query
    names = signals["account_name"].astype("string").str.lower()
    matches = signals.index[(names == query.lower()).fillna(False).to_numpy()]
    if len(matches) == 1:
        return str(matches[0])
    if len(matches) > 1:
        raise UsageError(f"{len(matches)} accounts are named {query!r}; give the account id "
                         f"({', '.join(map(str, matches[:5]))})")
    candidates = [str(i) for i in signals.index] + signals["account_name"].dropna().astype(
        str).tolist()
    close = difflib.get_close_matches(query, candidates, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise UsageError(f"no account {query!r} in the accounts export{hint}")


def explain(result: AccountHealth, config: Config, account_id: str) -> Explanation:
    account = result.signals.loc[account_id]
    scored = account_id in result.health.scores.index
    lines: list[SignalLine] = []
    buckets: dict[str, float | None] = {}
    score = float(account["health_score"]) if scored else None
    if scored:
        points = result.health.contributions.loc[account_id]
        signal_scores = result.health.signal_scores.loc[account_id]
        weights = result.health.weights.loc[account_id]
        keys = [key for key in points.index if pd.notna(weights[key])]  # its segment's model
        shown = rounded_parts([float(points[k]) for k in keys], score)
        for (bucket, signal), rounded in zip(keys, shown, strict=True):
            raw_score = signal_scores[(bucket, signal)]
            lines.append(SignalLine(bucket, signal, account.get(signal),
                                    None if pd.isna(raw_score) else float(raw_score),
                                    float(weights[(bucket, signal)]), rounded))
        for bucket, column in BUCKET_COLUMNS.items():
            value = account.get(column)
            buckets[bucket] = None if pd.isna(value) else float(value)
    return Explanation(account_id, account, lines, buckets, score, scored,
                       play_checks(result.signals, config, account_id))


def play_checks(signals: pd.DataFrame, config: Config, account_id: str) -> list[PlayCheck]:
    from .play_reasons import reasons, values_read
    from .plays import compile_all, matches

    conditions = compile_all(config, signals)
    row = signals.loc[[account_id]]
    checks = []
    for play in config.plays:
        condition = conditions[play.id]
        fires = bool(matches(play, condition, row).iloc[0])
        # a play that fires says what made it; one that does not, what it read
        why = reasons(condition.text, row) if fires else values_read(row, condition.names)
        checks.append(PlayCheck(play.id, play.name, fires, str(why.iloc[0])))
    return checks
