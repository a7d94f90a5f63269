"""The one way signals ask for usage: a backend answers a :class:`UsageQuery`."""

from __future__ import annotations

from typing import Protocol

from .rules import UsageAggregates, UsageQuery


class UsageBackend(Protocol):
    """Computes the per-account usage aggregates of a query, for each of its as_of days, in
    one pass over the usage data. Inputs are plain (rules, day numbers, account ids), so a
    backend may equally tally events in memory, group a frame, or push the work to a
    warehouse and bring back per-account rows."""

    def aggregate(self, query: UsageQuery) -> dict[int, UsageAggregates]:
        """Aggregates by as_of day, arrays aligned to ``query.ids``."""
        ...
