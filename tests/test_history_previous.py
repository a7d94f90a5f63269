"""The previous snapshot of each account (what `health` compares with): the fast look-up of
given accounts (the latest date whole, then a seek per account missing from it) gives the same
rows as grouping every snapshot; the index it needs is added to older stores."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csops_cli.history import History

ACCOUNTS = ["A1", "A2", "A3", "A4", "Zoë", "x'; DROP TABLE health_snapshots; --"]


def scores(pairs: dict[str, float]) -> pd.DataFrame:
    frame = pd.DataFrame({"health_score": list(pairs.values())},
                         index=pd.Index(list(pairs), name="account_id"))
    frame["health_band"] = ["green" if score >= 70 else "red" for score in frame["health_score"]]
    for column in ("usage_score", "relationship_score", "commercial_score", "arr"):
        frame[column] = 1.0
    frame["partial"] = False
    return frame


def stored(path: Path, snapshots: dict[str, dict[str, float]], dataset: str = "d") -> History:
    history = History(path, dataset)
    for day, pairs in snapshots.items():
        history.save(pd.Timestamp(day), scores(pairs))
    return history


def test_each_account_gets_its_own_latest_snapshot_by_hand(tmp_path):
    """A3 was not scored on 11-13 (no ARR that week): its previous is 11-06's; A4 never was;
    A2 is in the store but not asked for."""
    history = stored(tmp_path / "h.db", {
        "2026-11-06": {"A1": 40, "A3": 55, "A2": 10},
        "2026-11-13": {"A1": 60, "A2": 20},
        "2026-11-20": {"A1": 99},  # not before the as_of below
    })
    found = history.previous(pd.Timestamp("2026-11-20"), ["A1", "A3", "A4"])
    assert found.to_dict("index") == {
        "A1": {"as_of": "2026-11-13", "health_score": 60.0, "health_band": "red"},
        "A3": {"as_of": "2026-11-06", "health_score": 55.0, "health_band": "red"},
    }
    earlier = history.previous(pd.Timestamp("2026-11-13"), ["A1", "A2"])
    assert earlier["health_score"].to_dict() == {"A1": 40.0, "A2": 10.0}
    assert history.previous(pd.Timestamp("2026-11-06"), ["A1"]).empty
    assert History(tmp_path / "none.db", "d").previous(pd.Timestamp("2026-11-20"), ["A1"]).empty


def test_another_data_set_is_never_read(tmp_path):
    path = tmp_path / "h.db"
    stored(path, {"2026-11-06": {"A1": 40}}, dataset="other")
    history = stored(path, {"2026-10-30": {"A1": 10}})
    found = history.previous(pd.Timestamp("2026-11-20"), ["A1"])
    assert found["health_score"].to_dict() == {"A1": 10.0}


snapshot_sets = st.dictionaries(
    st.sampled_from([f"2026-{month:02d}-{day:02d}" for month in (9, 10, 11)
                     for day in (2, 9, 16, 23)]),
    st.dictionaries(st.sampled_from(ACCOUNTS), st.floats(0, 100, allow_nan=False),
                    max_size=len(ACCOUNTS)),
    max_size=6)


@settings(max_examples=60, deadline=None)
@given(snapshots=snapshot_sets, asked=st.lists(st.sampled_from(ACCOUNTS + ["new"]),
                                               max_size=8),
       as_of=st.sampled_from(["2026-09-01", "2026-10-09", "2026-10-10", "2026-12-01"]))
def test_the_look_up_of_given_accounts_is_the_grouping_of_every_snapshot(
        tmp_path_factory, snapshots, asked, as_of):
    history = stored(tmp_path_factory.mktemp("h") / "h.db", snapshots)
    day = pd.Timestamp(as_of)
    every = history.previous(day)
    expected = every[every.index.isin(asked)].sort_index()
    actual = history.previous(day, asked).sort_index()
    if expected.empty:
        assert actual.empty
    else:
        pd.testing.assert_frame_equal(actual, expected)


def test_the_snapshot_of_a_day_and_whether_any_is_older_by_hand(tmp_path):
    history = stored(tmp_path / "h.db", {
        "2026-11-06": {"A1": 40, "A3": 55},
        "2026-11-13": {"A1": 60},
    })
    stored(tmp_path / "h.db", {"2026-10-30": {"A1": 1}}, dataset="other")
    on = history.snapshot_on(pd.Timestamp("2026-11-06"))
    assert on["health_score"].to_dict() == {"A1": 40.0, "A3": 55.0}
    assert set(on["as_of"]) == {"2026-11-06"}
    assert history.snapshot_on(pd.Timestamp("2026-11-07")).empty
    assert history.snapshot_on(pd.Timestamp("2026-10-30")).empty  # the other data set's
    assert not history.has_before(pd.Timestamp("2026-11-06"))
    assert history.has_before(pd.Timestamp("2026-11-07"))
    assert not History(tmp_path / "none.db", "d").has_before(pd.Timestamp("2026-11-20"))


@settings(max_examples=40, deadline=None)
@given(snapshots=snapshot_sets,
       day=st.sampled_from(["2026-09-02", "2026-10-09", "2026-10-16", "2026-11-23"]))
def test_the_snapshot_of_a_day_is_the_grouping_cut_to_that_day(tmp_path_factory, snapshots,
                                                              day):
    """What the backtest's --from-history and diff's note read, against the grouping."""
    history = stored(tmp_path_factory.mktemp("h") / "h.db", snapshots)
    date = pd.Timestamp(day)
    latest = history.previous(date + pd.Timedelta(days=1))
    expected = latest[latest["as_of"] == day].sort_index()
    actual = history.snapshot_on(date).sort_index()
    if expected.empty:
        assert actual.empty
    else:
        pd.testing.assert_frame_equal(actual, expected)
    assert history.has_before(date) == (not history.previous(date).empty)


def test_a_schema_4_store_gets_the_index_and_keeps_its_rows(tmp_path):
    path = tmp_path / "h.db"
    stored(path, {"2026-11-06": {"A1": 40, "A2": 30}})
    with sqlite3.connect(path) as db:  # as csops 4 left it: no index by account
        db.execute("DROP INDEX snapshots_by_account")
        db.execute("PRAGMA user_version = 4")
    history = History(path, "d")
    found = history.previous(pd.Timestamp("2026-11-20"), ["A1", "A2"])
    assert found["health_score"].to_dict() == {"A1": 40.0, "A2": 30.0}
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (5,)
        indexes = {name for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "snapshots_by_account" in indexes


@pytest.mark.parametrize("asked", [[], ["A9"]])
def test_nothing_asked_or_nothing_stored_is_an_empty_frame(tmp_path, asked):
    history = stored(tmp_path / "h.db", {"2026-11-06": {"A1": 40}})
    assert history.previous(pd.Timestamp("2026-11-20"), asked).empty


def test_a_schema_4_store_is_read_as_it_is_by_diff(tmp_path):
    """`csops diff` writes nothing, not even the index: the same tables are read by grouping
    every snapshot, and give the same rows."""
    from csops_cli.config_diff import ReadOnlyHistory

    path = tmp_path / "h.db"
    stored(path, {"2026-11-06": {"A1": 40, "A3": 55}, "2026-11-13": {"A1": 60}})
    with sqlite3.connect(path) as db:
        db.execute("DROP INDEX snapshots_by_account")
        db.execute("PRAGMA user_version = 4")
    before = path.read_bytes()
    found = ReadOnlyHistory(path, "d").previous(pd.Timestamp("2026-11-20"), ["A1", "A3", "A4"])
    assert found["health_score"].to_dict() == {"A1": 60.0, "A3": 55.0}
    assert found.index.name == "account_id"
    assert path.read_bytes() == before
