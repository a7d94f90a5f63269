"""Dates as whole days: day numbers (days since 1970-01-01) and back, defined once.

Signals compare dates as day numbers, cheap integer arithmetic; pandas is imported only by the
functions that take or give pandas objects, so the usage reader can use this module before
pandas is loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

NEVER = np.iinfo(np.int32).max  # "no such day" in int32 day arrays


def days(values: pd.Series) -> np.ndarray:
    """Whole days of a date column as float (NaN for missing), for cheap date arithmetic.
    A column without gaps (event timestamps) comes back as int32, half the memory traffic."""
    as_days = values.to_numpy(dtype="datetime64[s]").astype("datetime64[D]")
    missing = np.isnat(as_days)
    if not missing.any():
        return as_days.astype(np.int32)
    result = as_days.astype(np.int64).astype(np.float64)
    result[missing] = np.nan
    return result


def day_number(timestamp: pd.Timestamp) -> int:
    return int(np.datetime64(timestamp.date(), "D").astype(np.int64))


def day_numbers(moments: np.ndarray) -> np.ndarray:
    """int32 day numbers of datetime64 values without gaps."""
    return moments.astype("datetime64[D]").astype(np.int64).astype(np.int32)


def as_datetimes(day_numbers: np.ndarray) -> np.ndarray:
    """datetime64[s] midnights of whole day numbers."""
    return np.asarray(day_numbers).astype(np.int64).astype("datetime64[D]").astype(
        "datetime64[s]")


def from_days(values: np.ndarray) -> pd.Series:
    """Day numbers (float, NaN: none) as a datetime column (NaT: none)."""
    import pandas as pd

    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[s]")
    known = ~np.isnan(values)
    out[known] = as_datetimes(values[known])
    return pd.Series(out)


def to_timestamp(day: int) -> pd.Timestamp:
    import pandas as pd

    return pd.Timestamp(np.datetime64(day, "D"))


def today_date() -> pd.Timestamp:
    """Today, the machine's local date: rows dated after it are future-dated."""
    import pandas as pd

    return pd.Timestamp.today().normalize()


def window_start(as_of_day: int, window_days: int) -> int:
    """First day of a window of N days ending on as_of, inclusive."""
    return as_of_day - window_days + 1


def year_before(as_of: pd.Timestamp) -> pd.Timestamp:
    """t0: the same calendar day twelve months earlier (29 February falls back to the 28th).
    "The last 12 months" are the days after t0 up to as_of, inclusive."""
    import pandas as pd

    return as_of - pd.DateOffset(years=1)
