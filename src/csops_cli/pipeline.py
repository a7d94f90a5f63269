"""The one data flow: exports -> account signal table -> health (-> plays, metrics)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import health as health_model
from .config import Config
from .errors import UsageError
from .history import History
from .loading import Exports
from .signals import Signals, build_signals


@dataclass(frozen=True)
class AccountHealth:
    as_of: pd.Timestamp
    signals: pd.DataFrame  # every account, with health columns (NaN without ARR on as_of)
    health: health_model.Health  # the accounts with ARR on as_of
    skipped: tuple[str, ...]

    @property
    def scored(self) -> pd.DataFrame:
        """Accounts with ARR on as_of: the health table's rows."""
        return self.signals.loc[self.health.scores.index]

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
                   history: History | None = None) -> AccountHealth:
    signals: Signals = build_signals(exports, config, as_of)
    frame = signals.frame
    with_arr = frame[frame["arr"] > 0]
    health = health_model.score(with_arr, config)
    scores = health.scores.reindex(frame.index)
    for column in scores.columns:
        frame[column] = scores[column]
    frame["partial"] = frame["partial"].astype("boolean")
    frame["health_change"] = np.nan
    if history is not None:
        previous = history.previous(signals.as_of)
        if not previous.empty:
            before = pd.to_numeric(previous["health_score"]).reindex(frame.index)
            frame["health_change"] = frame["health_score"] - before
    return AccountHealth(signals.as_of, frame, health, signals.skipped)


def filter_accounts(frame: pd.DataFrame, segment: str | None, owner: str | None
                    ) -> pd.DataFrame:
    """--segment and --owner, both matched ignoring case; owner is the CSM or the AE."""
    if segment:
        frame = frame[frame["segment"].str.lower() == segment.lower()]
    if owner:
        owner = owner.lower()
        match = pd.Series(False, index=frame.index)
        for column in ("csm_owner", "ae_owner"):
            if column in frame:
                match |= (frame[column].str.lower() == owner).fillna(False)
        frame = frame[match]
    return frame
