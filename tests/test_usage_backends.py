"""The two usage backends answer the same query with the same aggregates, exactly: the fast
tally over coded event chunks (on any number of threads), and the plain group-by over a
canonical usage frame (the reference). On the five-account example, on sample_data, and on
generated event sets."""

import os
from dataclasses import fields, replace
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from csops_cli.dates import day_number
from csops_cli.loading import load_exports
from csops_cli.loading.events import EventChunk, UsageEvents, account_index, events_from_frame
from csops_cli.signals import _contract_rows, _onboarding_start
from csops_cli.usage import UsageQuery
from csops_cli.usage.frame import FrameBackend
from csops_cli.usage.tally import TallyBackend

SAMPLE_DATA = Path(__file__).resolve().parents[1] / "sample_data"


def assert_agree(query: UsageQuery, tally: TallyBackend, frame: FrameBackend) -> None:
    fast, plain = tally.aggregate(query), frame.aggregate(query)
    assert list(fast) == list(plain) == list(query.as_of_days)
    for day in query.as_of_days:
        for name in (f.name for f in fields(fast[day])):
            expected, actual = getattr(plain[day], name), getattr(fast[day], name)
            if expected is None or actual is None or np.isscalar(expected):
                assert actual == expected, (day, name)
            else:
                np.testing.assert_array_equal(np.asarray(actual, dtype=float),
                                              np.asarray(expected, dtype=float),
                                              err_msg=f"{name} as of day {day}")


def query_for(exports, config, dates) -> UsageQuery:
    ids = account_index(exports.accounts.frame)
    onboarding = _onboarding_start(_contract_rows(exports.contracts.frame, ids), len(ids))
    return UsageQuery.from_config(config, ids, tuple(day_number(pd.Timestamp(d))
                                                     for d in dates), onboarding)


def test_backends_agree_on_the_five_accounts(five, default_config):
    exports = load_exports(five, default_config)
    query = query_for(exports, default_config, ["2026-06-30", "2026-06-10", "2026-07-01"])
    events = exports.usage.events
    assert_agree(query, TallyBackend(events), FrameBackend(exports.usage.usage_frame()))
    # by hand for 2026-06-30: 002's u9 login is on 07-01 in UTC, after as_of
    june = TallyBackend(events).aggregate(query)[day_number(pd.Timestamp("2026-06-30"))]
    assert june.distinct_users.tolist() == [2, 2, 1, 0, 0]
    assert june.logins.tolist() == [1, 2, 0, 0, 0]


@pytest.mark.parametrize("threads", [1, 2, 3, 5])
def test_backends_agree_on_sample_data(default_config, monkeypatch, threads):
    exports = load_exports(SAMPLE_DATA, default_config)
    assert not exports.usage.has_frame  # the fast reader's events
    query = query_for(exports, default_config, ["2026-11-20", "2026-08-22", "2026-01-05"])
    events = in_pieces(exports.usage.events, 997)  # enough chunks for every thread
    assert len(events.chunks) > 5
    monkeypatch.setenv("CSOPS_THREADS", str(threads))
    assert_agree(query, TallyBackend(events), FrameBackend(exports.usage.usage_frame()))


def in_pieces(events: UsageEvents, size: int) -> UsageEvents:
    """The events cut into chunks of ``size`` rows, as the fast reader cuts them."""
    if len(events.chunks) > 1:
        events = replace(events, chunks=[joined(events.chunks)])
    (chunk,) = events.chunks
    n = len(events.ids)
    unknown_before = np.cumsum(np.append(0, chunk.account == n))
    pieces = []
    for start in range(0, len(chunk), size):
        stop = min(start + size, len(chunk))
        piece = EventChunk(chunk.account[start:stop], chunk.day[start:stop])
        for name in ("feature", "business_unit", "count", "active_users"):
            values = getattr(chunk, name)
            setattr(piece, name, None if values is None else values[start:stop])
        if chunk.user_id is not None:
            piece.user_id = chunk.user_id.slice(start, stop - start)
        first, last = unknown_before[start], unknown_before[stop]
        piece.unknown_ids = chunk.unknown_ids.slice(first, last - first)
        pieces.append(piece)
    return replace(events, chunks=pieces)


def joined(chunks: list[EventChunk]) -> EventChunk:
    """Consecutive chunks as one."""
    def join(name):
        values = [getattr(chunk, name) for chunk in chunks]
        return None if values[0] is None else np.concatenate(values)

    whole = EventChunk(join("account"), join("day"))
    for name in ("feature", "business_unit", "count", "active_users"):
        setattr(whole, name, join(name))
    if chunks[0].user_id is not None:
        whole.user_id = pa.concat_arrays([chunk.user_id for chunk in chunks])
    whole.unknown_ids = pa.concat_arrays([chunk.unknown_ids for chunk in chunks])
    return whole


IDS = pd.Index(["A1", "A2", "A3", "A4"], name="account_id")
AS_OF = day_number(pd.Timestamp("2026-06-30"))
rows = st.tuples(
    st.sampled_from(["A1", "A2", "A3", "A4", "UNKNOWN"]),
    st.integers(AS_OF - 70, AS_OF + 3),  # before, in and after the window
    st.sampled_from(["u1", "u2", " u1 ", "", None]),
    st.sampled_from(["login", "signin", "reports", "dashboards", "alerts", "export", None]),
    st.sampled_from(["Finance", "Sales", None]),  # canonical: blank units are missing
    st.sampled_from([1.0, 3.0, np.nan]),
    st.sampled_from([0.0, 2.0, 5.0]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.lists(rows, min_size=1, max_size=60),
       onboarding=st.lists(st.one_of(st.just(np.nan), st.integers(AS_OF - 80, AS_OF)),
                           min_size=4, max_size=4),
       columns=st.sets(st.sampled_from(["user_id", "feature", "business_unit", "count",
                                        "active_users"])),
       chunk_size=st.integers(1, 8),
       threads=st.sampled_from([1, 2, 3, 5]))
@example(events=[("A1", AS_OF, "u1", "login", "Finance", 1.0, 0.0),
                 ("A1", AS_OF - 40, " u1 ", "reports", "Sales", np.nan, 2.0),
                 ("A1", AS_OF - 1, " u1 ", "reports", "Sales", 3.0, 2.0)],
         onboarding=[AS_OF - 50, np.nan, np.nan, np.nan],
         columns={"user_id", "feature", "business_unit", "count", "active_users"},
         chunk_size=1, threads=3)
def test_backends_agree_on_generated_events(events, onboarding, columns, chunk_size, threads):
    account, day, user, feature, unit, count, active = zip(*events, strict=True)
    frame = pd.DataFrame({
        "account_id": pd.array(account, dtype="string"),
        "timestamp": np.asarray(day, dtype="datetime64[D]").astype("datetime64[s]")})
    optional = {"user_id": pd.array(user, dtype="string"),
                "feature": pd.array(feature, dtype="string"),
                "business_unit": pd.array(unit, dtype="string"),
                "count": np.asarray(count), "active_users": np.asarray(active)}
    for column in sorted(columns):
        frame[column] = optional[column]
    query = UsageQuery(IDS, (AS_OF, AS_OF - 20, AS_OF + 2),
                       login_events=frozenset({"login", "signin"}),
                       core_features=("reports", "dashboards", "alerts"),
                       value_features=frozenset({"reports", "export"}),
                       onboarding_start=np.asarray(onboarding, dtype=float))
    tally = TallyBackend(in_pieces(events_from_frame(frame, IDS), chunk_size))
    with mock.patch.dict(os.environ, {"CSOPS_THREADS": str(threads)}):
        assert_agree(query, tally, FrameBackend(frame))


def test_user_ids_are_counted_as_text(default_config):
    """A guard on the guard: the generated frames hold Arrow strings like the reader's."""
    frame = pd.DataFrame({"account_id": ["A1"], "timestamp": [pd.Timestamp("2026-06-30")],
                          "user_id": pd.array(["u1"], dtype="string")})
    assert events_from_frame(frame, IDS).chunks[0].user_id.type == pa.string()
