"""--segment and --owner: which accounts a command shows, decided the same way everywhere.

A value is matched on trimmed text, ignoring case. An owner matches an account whose CSM
(``csm_owner``) or AE (``ae_owner``) it is, spelled as the exports spell it: a name or an
e-mail, whichever the accounts and team exports use. A value that matches no account at all is
a usage error that lists the values the data holds, so that a typo never reads as "no risk".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .errors import ProblemCode, UsageError

OWNER_COLUMNS = ("csm_owner", "ae_owner")
SHOWN_VALUES = 20  # a refused value lists this many of the values that exist
CLOSE_VALUES = 3  # and first the ones it is closest to


def comparable(values: pd.Series) -> pd.Series:
    """Values as filters compare them: text, trimmed, lower case (missing stays missing)."""
    return values.astype("string").str.strip().str.lower()


def segment_mask(segments: pd.Series, segment: str) -> np.ndarray:
    """Which of ``segments`` are ``segment``."""
    return (comparable(segments) == segment.strip().lower()).fillna(False).to_numpy(dtype=bool)


def owner_mask(accounts: pd.DataFrame, owner: str) -> np.ndarray:
    """Which accounts have ``owner`` as their CSM or their AE."""
    wanted = owner.strip().lower()
    match = np.zeros(len(accounts), dtype=bool)
    for column in OWNER_COLUMNS:
        if column in accounts:
            match |= (comparable(accounts[column]) == wanted).fillna(False).to_numpy(dtype=bool)
    return match


def select(accounts: pd.DataFrame, segment: str | None = None, owner: str | None = None,
           segment_columns: Sequence[str] = ("segment",)) -> pd.Index:
    """The ids (``accounts``' index) of the accounts of ``segment`` and ``owner``; all of them
    when neither is given. A value that no account has is refused with the values that exist.
    ``segment_columns``: where an account's segment may be read (metrics also put accounts
    in their segment 12 months earlier)."""
    keep = np.ones(len(accounts), dtype=bool)
    if segment is not None:
        columns = [accounts[column] for column in segment_columns if column in accounts]
        matched = np.zeros(len(accounts), dtype=bool)
        for column in columns:
            matched |= segment_mask(column, segment)
        if not matched.any():
            raise UsageError(refusal("--segment", segment, "segment", columns),
                             code=ProblemCode.NO_MATCH)
        keep &= matched
    if owner is not None:
        matched = owner_mask(accounts, owner)
        if not matched.any():
            columns = [accounts[column] for column in OWNER_COLUMNS if column in accounts]
            raise UsageError(refusal("--owner", owner, "CSM or AE", columns),
                             code=ProblemCode.NO_MATCH)
        keep &= matched
    return accounts.index[keep]


def refusal(option: str, given: str, what: str, columns: Sequence[pd.Series]) -> str:
    """The message for a value that matches no account: the values that look like what was
    meant, then the values that exist, sorted."""
    values = existing(columns)
    head = f"{option} {given!r} matches no account's {what}"
    if not values:
        return f"{head}: the accounts export has none; leave out {option}"
    close = closest(given, values)
    shown = values[:SHOWN_VALUES]
    listing = ", ".join(shown)
    if len(values) > len(shown):
        listing += f" and {len(values) - len(shown):,} more"
    return f"{head}{meant(close)} Values in the data (any case will do): {listing}"


def meant(close: list[str]) -> str:
    """The sentence's end: "; did you mean 'A', 'B' or 'C'?" (at most CLOSE_VALUES named, the
    rest counted), or a full stop when nothing looks like what was meant."""
    if not close:
        return "."
    named = [repr(value) for value in close[:CLOSE_VALUES]]
    if len(close) > len(named):
        more = len(close) - len(named)
        named.append(f"one of {more:,} more like {'it' if more == 1 else 'them'}")
    choices = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " or " + named[-1]
    return f"; did you mean {choices}?"


def existing(columns: Sequence[pd.Series]) -> list[str]:
    """The distinct values of ``columns``, trimmed, one spelling per value ignoring case,
    sorted ignoring case."""
    spelled: dict[str, str] = {}
    for column in columns:
        for value in column.dropna().astype(str).str.strip().unique():
            if value:
                spelled.setdefault(value.lower(), value)
    return sorted(spelled.values(), key=lambda value: (value.lower(), value))


def closest(given: str, values: list[str]) -> list[str]:
    """The values ``given`` most likely means: all those containing it as a word start
    (``lucas`` in ``Lucas Moreau``, ``lucas.moreau@…``), else the few spelled nearly like
    it."""
    import difflib
    import re

    wanted = given.strip().lower()
    if not wanted:
        return []
    starts = re.compile(rf"(^|[^0-9a-z]){re.escape(wanted)}")
    found = [value for value in values if starts.search(value.lower())]
    if found:
        return found
    lowered = {value.lower(): value for value in values}
    near = difflib.get_close_matches(wanted, list(lowered), n=CLOSE_VALUES, cutoff=0.75)
    return [lowered[value] for value in near]
