"""Health score: three buckets of scaled signals, weighted, explainable to the point.

Every signal is scaled to 0-100 between its configured ``bad`` and ``good`` values and clipped;
a bucket is the weighted mean of its available signals, the score the weighted mean of the
available buckets. A bucket holding a signal whose export is missing altogether (no
activities export) is not scored, rather than scored from its other signals alone: an active
champion does not make a relationship without any relationship data; such an account's score
is partial. Each signal's contribution is its share of the score, so the contributions
of an account add up to its score exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .config import Config, HealthConfig, SignalScale
from .signal_catalogue import BUCKET_COLUMNS, SIGNAL_EXPORTS

# the columns of Health.scores and their types, in order
SCORE_DTYPES = {"health_score": "float64", "health_band": "string",
                **dict.fromkeys(BUCKET_COLUMNS.values(), "float64"), "partial": "bool"}


@dataclass(frozen=True)
class Health:
    """Scores for the accounts with ARR on as_of.

    ``scores``: health_score, health_band, the three bucket scores and partial, per account.
    ``signal_scores``, ``weights``, ``contributions``: one column per (bucket, signal): its
    0-100 score, its share of the total score after renormalisation (0 when missing), and its
    points (score x weight), which add up to health_score.
    """

    scores: pd.DataFrame
    signal_scores: pd.DataFrame
    weights: pd.DataFrame
    contributions: pd.DataFrame


def scale(values: pd.Series, spec: SignalScale) -> pd.Series:
    """A signal's 0-100 score; NaN where the value is missing or not scored."""
    if spec.scores is not None:
        mapping = {str(k).lower(): v for k, v in spec.scores.items()}
        return values.astype("string").str.lower().map(mapping).astype("float64")
    raw = pd.to_numeric(values, errors="coerce").astype("float64")
    return ((raw - spec.bad) / (spec.good - spec.bad)).clip(0, 1) * 100


def band(score: pd.Series, config: HealthConfig) -> pd.Series:
    """Band of the score as shown (one decimal): 49.99 shows as 50.0 and is yellow."""
    score = score.round(1)
    bands = np.select([score >= config.bands.green, score >= config.bands.yellow],
                      ["green", "yellow"], default="red")
    return pd.Series(bands, index=score.index, dtype="string").where(score.notna())


def score(signals: pd.DataFrame, config: Config) -> Health:
    """Health of every row of ``signals`` (callers pass the accounts with ARR on as_of), each
    account by its segment's model (``health.segments``). A signal outside an account's model
    has no weight there (NaN) and no points."""
    health = config.health
    if not health.segments or "segment" not in signals:
        return _score_model(signals, health)
    segment = signals["segment"].astype("string")
    overridden = segment.isin(list(health.segments)).fillna(False).to_numpy(bool)
    groups = [(health, ~overridden)] + [
        (health.for_segment(name), (segment == name).fillna(False).to_numpy(bool))
        for name in health.segments]
    groups = [(model, rows) for model, rows in groups if rows.any()]
    parts = [_score_model(signals[rows], model) for model, rows in groups]
    if len(parts) < 2:
        return parts[0] if parts else _score_model(signals, health)
    columns = list(dict.fromkeys(c for part in parts for c in part.signal_scores.columns))
    # the groups split the rows: put each part's rows back in place by position, not by id
    # (a look-up of 100,000 text ids costs more than the scoring)
    back = np.argsort(np.concatenate([np.flatnonzero(rows) for _, rows in groups]))

    def joined(name: str) -> pd.DataFrame:
        frame = pd.concat([getattr(part, name) for part in parts])
        if name != "scores":
            frame = frame.reindex(columns=columns)
        return frame.iloc[back].set_axis(signals.index)

    return Health(joined("scores"), joined("signal_scores"), joined("weights"),
                  joined("contributions").fillna(0.0))


def _score_model(signals: pd.DataFrame, health: HealthConfig) -> Health:
    """Scores by one model, in numpy arrays (rows: accounts): a signal's share of its bucket
    is its weight over the weights of the bucket's available signals, a bucket's share of
    the score likewise among the available buckets."""
    n = len(signals)
    keys: list[tuple[str, str]] = []
    signal_columns: list[np.ndarray] = []
    share_columns: list[np.ndarray] = []
    share_bucket: list[int] = []  # the bucket of each signal column
    bucket_names = list(health.buckets)
    bucket_scores = np.full((n, len(bucket_names)), np.nan)
    for position, (bucket_name, bucket) in enumerate(health.buckets.items()):
        scored = np.column_stack([
            scale(signals[name], spec).to_numpy(dtype=np.float64, na_value=np.nan)
            if name in signals else np.full(n, np.nan)
            for name, spec in bucket.signals.items()]).reshape(n, len(bucket.signals))
        weighted = ~np.isnan(scored) * np.array([s.weight for s in bucket.signals.values()])
        weight_sum = weighted.sum(axis=1)
        lost = _export_missing(signals, list(bucket.signals)).to_numpy(dtype=bool)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = weighted / np.where(weight_sum > 0, weight_sum, np.nan)[:, None]
        share = share * ~lost[:, None]
        scoring = (weight_sum > 0) & ~lost
        total = (np.nan_to_num(scored, nan=0.0) * np.nan_to_num(share, nan=0.0)).sum(axis=1)
        bucket_scores[:, position] = np.where(scoring, total, np.nan)
        for column, name in enumerate(bucket.signals):
            keys.append((bucket_name, name))
            signal_columns.append(scored[:, column])
            share_columns.append(np.nan_to_num(share[:, column], nan=0.0))
            share_bucket.append(position)

    available = ~np.isnan(bucket_scores)
    weighted = available * np.array([bucket.weight for bucket in health.buckets.values()])
    weight_sum = weighted.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        bucket_share = weighted / np.where(weight_sum > 0, weight_sum, np.nan)[:, None]
    bucket_share = np.nan_to_num(bucket_share, nan=0.0)
    total = (np.nan_to_num(bucket_scores, nan=0.0) * bucket_share).sum(axis=1)
    total = np.where(weight_sum > 0, total, np.nan)

    index = signals.index
    columns = pd.MultiIndex.from_tuples(keys)
    signal_frame = pd.DataFrame(np.column_stack(signal_columns).reshape(n, len(keys)),
                                index=index, columns=columns)
    weights = pd.DataFrame(
        (np.column_stack(share_columns).reshape(n, len(keys))
         * bucket_share[:, share_bucket]), index=index, columns=columns)
    points = pd.DataFrame(np.nan_to_num(signal_frame.to_numpy(), nan=0.0) * weights.to_numpy(),
                          index=index, columns=columns)

    scores = pd.DataFrame(index=index)
    scores["health_score"] = total
    scores["health_band"] = band(scores["health_score"], health)
    for bucket_name, column in BUCKET_COLUMNS.items():
        scores[column] = (bucket_scores[:, bucket_names.index(bucket_name)]
                          if bucket_name in health.buckets else np.nan)
    scores["partial"] = ~available.all(axis=1)
    return Health(scores, signal_frame, weights, points)


def _export_missing(signals: pd.DataFrame, names: list[str]) -> pd.Series:
    """By account: is an export that one of these signals comes from missing altogether?"""
    lost = pd.Series(False, index=signals.index)
    for export in {SIGNAL_EXPORTS[name] for name in names if name in SIGNAL_EXPORTS}:
        if export in signals:
            lost |= ~signals[export].astype(bool)
    return lost


def rounded_parts(parts: list[float], total: float, decimals: int = 1) -> list[float]:
    """Round ``parts`` to ``decimals`` so that they add up to ``total`` rounded the same way
    (largest remainder), so an explanation never disagrees with the score shown."""
    unit = 10 ** decimals
    target = round(round(total, decimals) * unit)
    scaled = [p * unit for p in parts]
    floors = [int(np.floor(s)) for s in scaled]
    remainder = target - sum(floors)
    order = sorted(range(len(parts)), key=lambda i: scaled[i] - floors[i], reverse=True)
    step = 1 if remainder >= 0 else -1
    if step < 0:
        order = order[::-1]
    for i in order[: abs(remainder)]:
        floors[i] += step
    return [f / unit for f in floors]
