"""What the usage signals mean, written once above the backends that compute them.

A login is an event whose feature is one of ``product.login_events``; core features are
``product.core_features``; first value is the first use of a value feature
(``metrics.ttfv.value_features``, else the core features) on or after the account's onboarding
start. A window of N days ends on as_of, inclusive; events after as_of do not count. Feature
names are compared ignoring case. A backend (see :mod:`.backend`) computes, for each as_of, the
per-account aggregates below from these rules and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..dates import window_start

if TYPE_CHECKING:
    import pandas as pd

    from ..config import Config

USAGE_WINDOW_DAYS = 30


@dataclass(frozen=True, eq=False)
class UsageQuery:
    """The question every backend answers: plain names, day numbers and per-account days."""

    ids: pd.Index  # the accounts, in signal-table order; results are aligned to them
    as_of_days: tuple[int, ...]
    login_events: frozenset[str]  # lower case
    core_features: tuple[str, ...]  # lower case, in configured order
    value_features: frozenset[str]  # lower case
    onboarding_start: np.ndarray  # day number by account (NaN: no contract)
    window_days: int = USAGE_WINDOW_DAYS

    @classmethod
    def from_config(cls, config: Config, ids: pd.Index, as_of_days: tuple[int, ...],
                    onboarding_start: np.ndarray) -> UsageQuery:
        core = tuple(feature.lower() for feature in config.product.core_features)
        value = [feature.lower() for feature in config.metrics.ttfv.value_features]
        return cls(ids, tuple(as_of_days),
                   frozenset(name.lower() for name in config.product.login_events), core,
                   frozenset(value or core), onboarding_start)

    def first_day(self, as_of_day: int) -> int:
        """First day of the window ending on ``as_of_day``."""
        return window_start(as_of_day, self.window_days)

    def is_login(self, feature: str) -> bool:
        return feature.lower() in self.login_events

    def core_position(self, feature: str) -> int:
        """Position among the core features, or -1."""
        lowered = feature.lower()
        return self.core_features.index(lowered) if lowered in self.core_features else -1

    def is_value(self, feature: str) -> bool:
        return feature.lower() in self.value_features


@dataclass(frozen=True, eq=False)
class UsageAggregates:
    """Per-account usage as of one day, arrays aligned to ``UsageQuery.ids``. A field is None
    when the export lacks the column it needs."""

    as_of_day: int
    distinct_users: np.ndarray | None  # int64: distinct user ids in the window (user_id)
    busiest_day_users: np.ndarray | None  # float: max active_users of a day in the window
    logins: np.ndarray | None  # float: login events in the window (rows weighted by count)
    core_features_used: np.ndarray | None  # int64: distinct core features used in the window
    new_core_feature: np.ndarray | None  # bool: a core feature first used in the window
    new_business_unit: np.ndarray | None  # bool: a business unit first seen in the window,
    #                                       for an account whose usage is older than that
    first_value_day: np.ndarray | None  # float day number (NaN: not yet)

    def active_users(self) -> np.ndarray | None:
        """Distinct users in the window; pre-aggregated rows carry a day's distinct users, so
        there the busiest day is a floor."""
        if self.distinct_users is not None:
            return self.distinct_users.astype(float)
        if self.busiest_day_users is not None:
            return self.busiest_day_users.astype(float)
        return None
