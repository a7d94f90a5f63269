"""Per-account usage aggregates: the domain rules (``rules``), the interface every backend
implements (``backend``), and three backends: the fast tally over coded event chunks
(``tally``), a plain group-by over a canonical usage frame (``frame``), and the aggregation
pushed down into a warehouse (``warehouse``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .backend import UsageBackend
from .rules import USAGE_WINDOW_DAYS, UsageAggregates, UsageQuery

if TYPE_CHECKING:
    import pandas as pd

    from ..loading import Table

__all__ = ["USAGE_WINDOW_DAYS", "UsageAggregates", "UsageBackend", "UsageQuery", "backend_for"]


def backend_for(table: Table, ids: pd.Index) -> UsageBackend:
    """The backend for a loaded usage table: the tally over its coded events when they are
    coded against ``ids`` (always, as the exports are loaded), else a group-by over its
    frame; a warehouse's usage is aggregated there."""
    if table.warehouse is not None:
        return table.warehouse
    from .tally import TallyBackend

    if table.events is not None and table.events.ids.equals(ids):
        if table.cached_as is not None:  # kept between the commands of a session
            from .cached import CachedBackend

            return CachedBackend(TallyBackend(table.events), *table.cached_as)
        return TallyBackend(table.events)
    from .frame import FrameBackend

    return FrameBackend(table.usage_frame())
