"""The one data flow: exports -> account signal table -> health (-> plays, metrics)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import pandas as pd

from . import health as health_model
from . import progress
from .built_cache import BuiltCache
from .config import Config
from .dates import day_number
from .errors import UsageError
from .history import History
from .loading import Exports
from .signals import Signals, build_signals_at, default_as_of


@dataclass(frozen=True)
class AccountHealth:
    as_of: pd.Timestamp
    signals: pd.DataFrame  # every account, with health columns (NaN without ARR on as_of)
    health: health_model.Health  # the accounts with ARR on as_of
    skipped: tuple[str, ...]

    @cached_property
    def scored(self) -> pd.DataFrame:
        """Accounts with ARR on as_of: the health table's rows (the paying rows, which
        ``health`` scored in the same order)."""
        return self.signals[self.signals["paying"].to_numpy(dtype=bool)]

    @property
    def without_arr(self) -> int:
        return len(self.signals) - len(self.health.scores)


def parse_as_of(text: str | None) -> pd.Timestamp | None:
    if text is None:
        return None
    try:
        return pd.Timestamp(pd.to_datetime(text, format="%Y-%m-%d")).normalize()
    except (ValueError, TypeError):
        raise UsageError(f"--as-of {text!r} is not a date; write it as YYYY-MM-DD") from None


def account_health(exports: Exports, config: Config, as_of: pd.Timestamp | None = None,
                   history: History | None = None, change: bool = True) -> AccountHealth:
    """Signals and health as of ``as_of``, with ``previous_health_score``: the latest stored
    snapshot before as_of, else the score rebuilt from the exports as of a week earlier (in the
    same pass over the usage), so that the first run already knows what changed. Without
    ``change`` (what shows no change of score: renewals, the forecast) no earlier score is
    read or rebuilt."""
    as_of = (as_of or default_as_of(exports)).normalize()
    stored = pd.DataFrame()
    if history is not None and change:
        stored = history.previous(as_of, exports.accounts.frame["account_id"].unique().tolist())
    earlier = as_of - pd.Timedelta(days=PREVIOUS_DAYS)
    dates = [earlier, as_of] if change and stored.empty else [as_of]
    built = build_signals_at(exports, config, dates)
    signals: Signals = built[as_of]
    frame = signals.frame
    stored_scores = BuiltCache.of_exports(exports, config, "health")
    health = _scored(frame, config, stored_scores, as_of)
    if not change:
        return AccountHealth(signals.as_of, frame, health, signals.skipped)
    if not stored.empty:
        previous = pd.to_numeric(stored["health_score"]).reindex(frame.index)
    else:
        before = built[earlier].frame
        previous = _scored(before, config, stored_scores, earlier).scores["health_score"] \
            .reindex(frame.index)
    frame["previous_health_score"] = previous.astype("float64")
    frame["health_change"] = frame["health_score"] - frame["previous_health_score"]
    return AccountHealth(signals.as_of, frame, health, signals.skipped)


PREVIOUS_DAYS = 7  # without a stored snapshot, the previous score is rebuilt a week earlier


def _scored(frame: pd.DataFrame, config: Config, stored: BuiltCache | None = None,
            day: pd.Timestamp | None = None) -> health_model.Health:
    """Score the paying accounts of ``frame`` (the signal table of ``day``), or read their
    scores from ``stored``; the score columns are set on every row (NaN without ARR)."""
    paying = frame[frame["paying"]]
    health = None if stored is None else stored.get_health(day_number(day), paying.index)
    if health is None:
        with progress.phase("scoring"):
            health = health_model.score(paying, config)
        if stored is not None:
            stored.put_health(day_number(day), health)
    scores = health.scores.reindex(frame.index)
    for column in scores.columns:
        frame[column] = scores[column]
    frame["partial"] = frame["partial"].astype("boolean")
    return health

