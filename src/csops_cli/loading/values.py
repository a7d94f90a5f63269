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
MONEY_PATTERN = (
    rf"^\s*(?P<neg>-)?\s*{_CURRENCY}\s*(?P<neg2>-)?\s*(?P<number>{_GROUPED}|{_PLAIN})"
    rf"\s*(?:{_CODES})?\s*$"
)
NUMBER_PATTERN = rf"^\s*(?P<neg>[-+])?(?P<number>{_GROUPED}|{_PLAIN}|\d+(?:\.\d+)?[eE][-+]?\d+)\s*$"

# Tried in order on what ISO 8601 parsing left; day-first exports swap the first two.
_US_FORMATS = ("%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M %p",
               "%m/%d/%Y %I:%M:%S %p", "%m/%d/%y", "%m-%d-%Y")
_DAYFIRST_FORMATS = ("%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d.%m.%Y",
                     "%d.%m.%Y %H:%M", "%d/%m/%y", "%d-%m-%Y")
_NAMED_FORMATS = ("%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%d %B %Y")


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


def parse_money(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``1200``, ``1,200.50``, ``$1,200``, ``USD 1,200.00``, ``(1,200)`` -> float."""
    if not is_text(series):
        return series.astype("float64"), pd.Series(False, index=series.index)
    return _on_uniques(series, lambda text: _parse_pattern(text, MONEY_PATTERN, parens=True))


def parse_number(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Plain numbers, thousands separators allowed -> float."""
    if not is_text(series):
        return series.astype("float64"), pd.Series(False, index=series.index)
    return _on_uniques(series, lambda text: _parse_pattern(text, NUMBER_PATTERN, parens=False))


# what exports write for "no value" in a number or date cell
MISSING_TOKENS = ("null", "none", "n/a", "na", "#n/a", "nan", "-", "--", "—")


def _blank(stripped: pd.Series) -> pd.Series:
    return stripped.isna() | (stripped == "") | stripped.str.lower().isin(MISSING_TOKENS)


def _parse_pattern(text: pd.Series, pattern: str, parens: bool) -> tuple[pd.Series, pd.Series]:
    stripped = text.str.strip()
    stripped = stripped.mask(_blank(stripped))
    negative_parens = pd.Series(False, index=text.index)
    if parens:
        negative_parens = stripped.str.fullmatch(r"\(.*\)").fillna(False).astype(bool)
        stripped = stripped.str.replace(r"^\((.*)\)$", r"\1", regex=True)
    parts = stripped.str.extract(pattern)
    number = pd.to_numeric(parts["number"].str.replace(",", "", regex=False), errors="coerce")
    negative = parts["neg"].isin(["-"]) | negative_parens
    if "neg2" in parts:
        negative |= parts["neg2"].isin(["-"])
    values = number.astype("float64").where(~negative, -number.astype("float64"))
    blank = stripped.isna() | (stripped == "")
    bad = ~blank & number.isna()
    return values.where(~blank), bad


def parse_dates(series: pd.Series, dayfirst: bool = False) -> tuple[pd.Series, pd.Series]:
    """Dates and date-times -> datetime64 at midnight (UTC date for zone-aware values)."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return _to_day(series), pd.Series(False, index=series.index)
    if isinstance(series.dtype, pd.ArrowDtype) and "date" in str(series.dtype):
        return _to_day(series.astype("datetime64[s]")), pd.Series(False, index=series.index)
    if not is_text(series):
        bad = series.notna()
        return pd.Series(pd.NaT, index=series.index, dtype="datetime64[s]"), bad
    return _on_uniques(series, lambda text: _parse_date_text(text, dayfirst))


def _to_day(values: pd.Series) -> pd.Series:
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    as_days = values.to_numpy(dtype="datetime64[s]").astype("datetime64[D]")
    return pd.Series(as_days.astype("datetime64[s]"), index=values.index)


def _parse_date_text(text: pd.Series, dayfirst: bool) -> tuple[pd.Series, pd.Series]:
    stripped = text.str.strip()
    blank = _blank(stripped)
    parsed = pd.to_datetime(stripped.where(~blank), format="ISO8601", errors="coerce", utc=True)
    result = parsed.dt.tz_localize(None)
    formats = (_DAYFIRST_FORMATS if dayfirst else _US_FORMATS) + _NAMED_FORMATS
    for fmt in formats:
        todo = result.isna() & ~blank
        if not todo.any():
            break
        result = result.where(~todo, pd.to_datetime(stripped.where(todo), format=fmt,
                                                    errors="coerce"))
    bad = ~blank & result.isna()
    return result.dt.floor("D").astype("datetime64[s]"), bad
