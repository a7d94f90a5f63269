"""Parsers for values as real exports carry them: money, plain numbers and dates.

Each parser takes a Series (text or already typed by the reader) and returns the parsed
values and a mask of the cells that were present but could not be parsed. Parsing works on
the distinct values only, so a column of ten million timestamps with few distinct values
costs little.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_CODES = ("USD|EUR|GBP|CAD|AUD|NZD|JPY|CHF|SEK|NOK|DKK|INR|BRL|MXN|SGD|HKD|ZAR|PLN|CZK|"
          "CNY|ILS|AED")
_CURRENCY = rf"(?:(?:{_CODES})\s*)?[$€£¥]?"
_GROUPED = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?"
_PLAIN = r"\d+(?:\.\d*)?|\.\d+"
# with ``inputs: decimal: ","``: 1.200,50 and 1 200,50 (a space or a no-break space groups)
_GROUPED_COMMA = r"\d{1,3}(?:[.\u00a0\u202f ']\d{3})+(?:,\d+)?"
_PLAIN_COMMA = r"\d+(?:,\d*)?|,\d+"
_NUMBER_PARTS = {".": (_GROUPED, _PLAIN, r"\d+(?:\.\d+)?[eE][-+]?\d+"),
                 ",": (_GROUPED_COMMA, _PLAIN_COMMA, r"\d+(?:,\d+)?[eE][-+]?\d+")}


def money_pattern(decimal: str = ".") -> str:
    grouped, plain, _ = _NUMBER_PARTS[decimal]
    return (rf"^\s*(?P<neg>-)?\s*{_CURRENCY}\s*(?P<neg2>-)?\s*(?P<number>{grouped}|{plain})"
            rf"\s*(?:{_CODES})?\s*$")


def number_pattern(decimal: str = ".") -> str:
    grouped, plain, scientific = _NUMBER_PARTS[decimal]
    return rf"^\s*(?P<neg>[-+])?(?P<number>{grouped}|{plain}|{scientific})\s*$"


MONEY_PATTERN = money_pattern()
# longer numbers are refused: no amount or count has them, and past 4,300 digits Python
# cannot even convert them
MAX_DIGITS = 400
NUMBER_PATTERN = number_pattern()

# Tried in order on what ISO 8601 parsing left; day-first exports swap the first two.
_US_FORMATS = ("%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M %p",
               "%m/%d/%Y %I:%M:%S %p", "%m/%d/%y", "%m-%d-%Y")
_DAYFIRST_FORMATS = ("%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d.%m.%Y",
                     "%d.%m.%Y %H:%M", "%d/%m/%y", "%d-%m-%Y")
_NAMED_FORMATS = ("%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%d %B %Y", "%b %d, %Y %I:%M %p",
                  "%B %d, %Y %I:%M %p", "%b %d, %Y %H:%M", "%b %d, %Y %I:%M:%S %p")


def clean_text(series: pd.Series) -> pd.Series:
    """Text with surrounding spaces removed and blanks missing. Categorical (dictionary-read)
    columns are cleaned on their categories only, and stay categorical."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return _on_categories(series, lambda text: text.str.strip())
    text = series.astype("string[pyarrow]").str.strip()
    return text.mask(text == "")


def lower_text(series: pd.Series) -> pd.Series:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return _on_categories(series, lambda text: text.str.lower())
    return series.str.lower()


def _on_categories(series: pd.Series, change) -> pd.Series:
    """Apply a text change to the categories, merging those that become equal."""
    categories = change(pd.Series(series.cat.categories.astype("string[pyarrow]")))
    categories = categories.mask(categories == "")
    if categories.notna().all() and categories.is_unique:  # nothing merges: codes stay
        return series.cat.rename_categories(pd.Index(categories, dtype="string[pyarrow]"))
    new_codes, merged = pd.factorize(categories)
    old_codes = series.cat.codes.to_numpy()
    codes = np.where(old_codes >= 0, new_codes[np.maximum(old_codes, 0)], -1)
    categories = pd.Index(merged, dtype="string[pyarrow]")
    return pd.Series(pd.Categorical.from_codes(codes, categories=categories), index=series.index)


def is_text(series: pd.Series) -> bool:
    return (pd.api.types.is_string_dtype(series.dtype) or series.dtype == object
            or isinstance(series.dtype, pd.CategoricalDtype))


def _on_uniques(series: pd.Series, parse) -> tuple[pd.Series, pd.Series]:
    """Apply ``parse`` (uniques -> (values, bad)) to the distinct values of ``series``."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    parsed, bad = parse(pd.Series(uniques, dtype="string"))
    parsed_values = np.asarray(parsed)
    bad_values = np.asarray(bad, dtype=bool)
    valid = codes >= 0
    if not len(uniques):  # nothing but missing cells
        empty = parsed_values[:0]
        filler = np.datetime64("NaT") if np.issubdtype(empty.dtype, np.datetime64) else np.nan
        return (pd.Series(filler, index=series.index, dtype=empty.dtype),
                pd.Series(False, index=series.index))
    safe_codes = np.where(valid, codes, 0)
    taken = parsed_values.take(safe_codes)
    missing = np.datetime64("NaT") if np.issubdtype(taken.dtype, np.datetime64) else np.nan
    taken = np.where(valid, taken, missing)
    bad_mask = valid & bad_values.take(safe_codes)
    return pd.Series(taken, index=series.index), pd.Series(bad_mask, index=series.index)


def parse_money(series: pd.Series, decimal: str = ".") -> tuple[pd.Series, pd.Series]:
    """``1200``, ``1,200.50``, ``$1,200``, ``USD 1,200.00``, ``(1,200)`` -> float; with
    ``decimal=","``: ``1.200,50``, ``€1.200``, ``(1.200,00)``."""
    if not is_text(series):
        return _finite(series)
    pattern = money_pattern(decimal)
    return _on_uniques(series, lambda text: _parse_pattern(text, pattern, True, decimal))


def parse_number(series: pd.Series, decimal: str = ".") -> tuple[pd.Series, pd.Series]:
    """Plain numbers, thousands separators allowed -> float (``1.200,5`` with ``decimal=","``)."""
    if not is_text(series):
        return _finite(series)
    pattern = number_pattern(decimal)
    return _on_uniques(series, lambda text: _parse_pattern(text, pattern, False, decimal))


def _finite(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """A column the reader typed as numbers: an infinity (``inf``, or ``1e309``, past the
    largest float) is a bad value, never a number to add up or to write as JSON."""
    numbers = series.astype("float64")
    infinite = pd.Series(np.isinf(numbers.to_numpy()), index=series.index)
    return numbers.mask(infinite), infinite


# what exports write for "no value" in a number or date cell
MISSING_TOKENS = ("null", "none", "n/a", "na", "#n/a", "nan", "-", "--", "—")


def _blank(stripped: pd.Series) -> pd.Series:
    return stripped.isna() | (stripped == "") | stripped.str.lower().isin(MISSING_TOKENS)


def _parse_pattern(text: pd.Series, pattern: str, parens: bool, decimal: str = "."
                   ) -> tuple[pd.Series, pd.Series]:
    stripped = text.str.strip()
    stripped = stripped.mask(_blank(stripped))
    negative_parens = pd.Series(False, index=text.index)
    if parens:
        negative_parens = stripped.str.fullmatch(r"\(.*\)").fillna(False).astype(bool)
        stripped = stripped.str.replace(r"^\((.*)\)$", r"\1", regex=True)
    parts = stripped.str.extract(pattern)
    digits = parts["number"]
    if decimal == ",":
        digits = digits.str.replace(r"[.\u00a0\u202f ']", "", regex=True).str.replace(
            ",", ".", regex=False)
    else:
        digits = digits.str.replace(",", "", regex=False)
    # a number past the largest float (1e309, or thousands of digits) is infinite: bad
    number = pd.to_numeric(digits.where(digits.str.len() <= MAX_DIGITS), errors="coerce")
    number = number.where(~np.isinf(number.astype("float64")))
    negative = parts["neg"].isin(["-"]) | negative_parens
    if "neg2" in parts:
        negative |= parts["neg2"].isin(["-"])
    values = number.astype("float64").where(~negative, -number.astype("float64"))
    blank = stripped.isna() | (stripped == "")
    bad = ~blank & number.isna()
    return values.where(~blank), bad


def parse_dates(series: pd.Series, dayfirst: bool = False) -> tuple[pd.Series, pd.Series]:
    """Dates and date-times -> datetime64 at midnight (UTC date for zone-aware values).

    Numbers (typed by the reader, or digits in text that are not an ISO year or ``20261120``)
    are Unix epoch times or Excel serial dates, told apart by their size (see
    ``EPOCH_UNITS``)."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return _to_day(series), pd.Series(False, index=series.index)
    if isinstance(series.dtype, pd.ArrowDtype) and "date" in str(series.dtype):
        return _to_day(series.astype("datetime64[s]")), pd.Series(False, index=series.index)
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
            series.dtype):
        return _on_unique_numbers(series)
    if not is_text(series):
        bad = series.notna()
        return pd.Series(pd.NaT, index=series.index, dtype="datetime64[s]"), bad
    return _on_uniques(series, lambda text: _parse_date_text(text, dayfirst))


# A number in a date column, by its size (absolute value):
#   EXCEL_SERIAL_MIN (1927-05-18) .. 1e6 (year 4637): Excel serial days since 1899-12-30
#     (the epoch that absorbs Excel's 1900 leap-year bug for dates after February 1900);
#     smaller numbers are refused: a count or a code mapped to a date by mistake
#   1e6 .. 1e8: refused, no unit makes a plausible date of them, except whole numbers that
#     read as yyyymmdd (19000101 .. 29991231: 20261120 is 2026-11-20)
#   1e8 .. 1e11: Unix seconds (1973-03-03 .. 5138-11-16)
#   1e11 .. 1e14: milliseconds, 1e14 .. 1e17: microseconds, 1e17 .. 1e20: nanoseconds (the
#     same span of dates in each unit, so the units cannot be confused with one another)
EXCEL_SERIAL_MIN = 10_000
EPOCH_UNITS = ((1e8, 1e11, 1), (1e11, 1e14, 1e3), (1e14, 1e17, 1e6), (1e17, 1e20, 1e9))
EXCEL_EPOCH = np.datetime64("1899-12-30", "D")


def epoch_or_serial_days(numbers: np.ndarray) -> np.ndarray:
    """Float numbers -> datetime64[D] (NaT where no rule applies). Zone: UTC."""
    numbers = np.asarray(numbers, dtype="float64")
    days = np.full(numbers.shape, np.nan)
    with np.errstate(invalid="ignore"):
        serial = (numbers >= EXCEL_SERIAL_MIN) & (numbers < 1e6)
        days[serial] = np.floor(numbers[serial])
        compact = (numbers >= 19_000_101) & (numbers <= 29_991_231) & (numbers % 1 == 0)
        days[compact] = _compact_days(numbers[compact])
        for low, high, per_second in EPOCH_UNITS:
            unit = (numbers >= low) & (numbers < high)
            days[unit] = np.floor(numbers[unit] / per_second / 86_400)
            days[unit] -= (EXCEL_EPOCH - np.datetime64("1970-01-01", "D")).astype(int)
    result = np.full(numbers.shape, np.datetime64("NaT"), dtype="datetime64[D]")
    known = ~np.isnan(days)
    result[known] = EXCEL_EPOCH + days[known].astype("int64")
    return result


def _compact_days(numbers: np.ndarray) -> np.ndarray:
    """20261120 as a number (a yyyymmdd column typed by the reader) -> days since the Excel
    epoch; NaN for an impossible month or day."""
    text = pd.Series(numbers.astype("int64").astype(str))
    dates = pd.to_datetime(text, format="%Y%m%d", errors="coerce").to_numpy("datetime64[D]")
    days = (dates - EXCEL_EPOCH).astype("float64")
    days[np.isnat(dates)] = np.nan
    return days


def _on_unique_numbers(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    days = epoch_or_serial_days(np.asarray(uniques, dtype="float64"))
    valid = codes >= 0
    taken = np.where(valid, days.take(np.where(valid, codes, 0)), np.datetime64("NaT"))
    bad = valid & np.isnat(taken)
    return (pd.Series(taken.astype("datetime64[s]"), index=series.index),
            pd.Series(bad, index=series.index))


def _to_day(values: pd.Series) -> pd.Series:
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    as_days = values.to_numpy(dtype="datetime64[s]").astype("datetime64[D]")
    return pd.Series(as_days.astype("datetime64[s]"), index=values.index)


_ZONE_NAME = r"\s*(?:UTC|GMT)$"  # BigQuery's "2026-11-20 14:05:00.123 UTC": naive is UTC here
# "3/4/2025, 10:22 AM" and "Aug 23, 2026, 10:22 AM": the comma after the year goes
_COMMA_AFTER_YEAR = r"^(\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|[A-Za-z]{3,9}\.? \d{1,2}, \d{4}),\s*"
_NUMERIC = r"[-+]?[0-9]+(?:\.[0-9]+)?"  # ASCII digits: pandas reads no others


def _parse_date_text(text: pd.Series, dayfirst: bool) -> tuple[pd.Series, pd.Series]:
    stripped = text.str.strip()
    blank = _blank(stripped)
    stripped = stripped.str.replace(_ZONE_NAME, "", regex=True, case=False).str.replace(
        _COMMA_AFTER_YEAR, r"\1 ", regex=True)
    parsed = pd.to_datetime(stripped.where(~blank), format="ISO8601", errors="coerce", utc=True)
    result = parsed.dt.tz_localize(None)
    numeric = ~blank & result.isna() & stripped.str.fullmatch(_NUMERIC).fillna(False).astype(
        bool) & (stripped.str.len() <= MAX_DIGITS).fillna(False).astype(bool)
    if numeric.any():
        days = epoch_or_serial_days(pd.to_numeric(stripped.where(numeric)).to_numpy())
        result = result.where(~numeric, pd.Series(days.astype("datetime64[ns]"),
                                                  index=text.index))
    formats = (_DAYFIRST_FORMATS if dayfirst else _US_FORMATS) + _NAMED_FORMATS
    for fmt in formats:
        todo = result.isna() & ~blank & ~numeric
        if not todo.any():
            break
        result = result.where(~todo, pd.to_datetime(stripped.where(todo), format=fmt,
                                                    errors="coerce"))
    bad = ~blank & result.isna()
    return result.dt.floor("D").astype("datetime64[s]"), bad
