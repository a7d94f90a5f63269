"""Commands computed column-wise give the same values as row by row (PRODUCT.md §7, §10)."""

import pandas as pd
import pytest

from csops_cli import audit, plays
from test_budget import with_budget

# each id worked out by hand: "a" and the first 16 hex digits of the SHA-256 of
# account, play, action index and as_of joined by the unit separator (0x1F), e.g.
#   printf 'A00001\x1frenewal_risk\x1f0\x1f2026-11-20' | sha256sum
HAND_IDS = [
    ("A00001", "renewal_risk", 0, "2026-11-20", "a619b73e74cf0b263"),
    ("A00219", "usage_drop", 1, "2026-11-13", "a5497f3fea3e19062"),
    ("Zoë 7", "expansion", 2, "2026-01-05", "afa128e0bb8abbecc"),
]


@pytest.mark.parametrize(("account", "play_id", "index", "opened", "expected"), HAND_IDS)
def test_an_action_id_is_the_same_one_by_one_and_many_at_once(account, play_id, index, opened,
                                                              expected):
    assert plays.action_id(account, play_id, index, opened) == expected
    many = plays.action_ids(pd.Index(["A00002", account, "A00003"], dtype="string"), play_id,
                            index, opened)
    assert many[1] == expected
    assert many[0] == plays.action_id("A00002", play_id, index, opened)
    assert len(set(many)) == 3


def test_action_ids_of_no_accounts():
    assert plays.action_ids(pd.Index([], dtype="string"), "p", 0, "2026-01-01") == []


def actions(owners: list[str], index: list[int]) -> pd.DataFrame:
    """One high-priority action per owner entry, ARR falling: the first are ranked first."""
    count = len(owners)
    return pd.DataFrame({
        "owner": owners, "play_id": ["renewal_countdown"] * count,
        "priority": ["high"] * count, "arr": [1000.0 * (count - n) for n in range(count)],
        "due_date": ["2026-07-01"] * count, "account_id": [f"A{n}" for n in range(count)],
        "_play_order": 0, "_action_order": 0,
    }, index=index)


def test_the_budget_marks_rows_by_position_whatever_the_index(default_config):
    # five of Cara's actions and one of Ben's, with a budget of two a week each: Cara's three
    # smallest wait; the rows carry labels that are neither 0..n nor in order
    config = with_budget(default_config, per_owner_per_week=2)
    frame = actions(["Cara", "Cara", "Ben", "Cara", "Cara", "Cara"], [50, 7, 3, 12, 0, 99])
    status = plays.budgeted(frame, config, None)["status"]
    assert status.to_dict() == {50: "new", 7: "new", 3: "new", 12: "queued", 0: "queued",
                                99: "queued"}
    assert str(status.dtype) == "string"


def test_the_budget_counts_what_was_issued_earlier_in_the_week(default_config):
    config = with_budget(default_config, per_owner_per_week=2)
    issued = pd.DataFrame({"owner": ["Cara"], "play_id": ["renewal_countdown"]})
    status = plays.budgeted(actions(["Cara", "Cara"], [4, 2]), config, issued)["status"]
    assert status.tolist() == ["new", "queued"]


@pytest.mark.parametrize("dtype", ["string[python]", "string[pyarrow]", "object"])
def test_ids_are_matched_as_pandas_matches_them(dtype):
    values = pd.Series(["A1", None, "A3", "a1", "A2"], dtype=dtype)
    known = pd.Series(["A1", "A2"], dtype="string")
    assert audit._is_in(values, known).tolist() == [True, False, False, False, True]
    # a missing id is known when the known ids have a missing one (as pandas' isin says)
    with_missing = pd.Series(["A1", None], dtype="string")
    assert audit._is_in(values, with_missing).tolist() == [True, True, False, False, False]


def test_ids_of_other_types_are_matched_by_pandas():
    assert audit._is_in(pd.Series([1, 2, 3]), pd.Series([2])).tolist() == [False, True, False]
