"""Usage events in little memory: user ids packed, days and codes in narrow types, accounts
coded in runs of batches, window users coded as they come. Every count stays exact: a user
seen in several parts of the file, chunks or runs is one user."""

import threading
from concurrent.futures import Future

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csops_cli.dates import day_number
from csops_cli.loading import events as events_module
from csops_cli.loading.csvtext import csv_layout
from csops_cli.loading.events import (
    EventChunk,
    UsageEvents,
    narrow_codes,
    narrow_days,
    pack_text,
    unpack_text,
)
from csops_cli.usage import UsageQuery
from csops_cli.usage import tally as tally_module
from csops_cli.usage.frame import FrameBackend
from csops_cli.usage.tally import TallyBackend

IDS = pd.Index(["A1", "A2", "A3"], name="account_id")
AS_OF = pd.Timestamp("2026-06-30")


def query(dates=(AS_OF,), ids=IDS) -> UsageQuery:
    return UsageQuery(ids, tuple(day_number(date) for date in dates), frozenset({"login"}),
                      ("reports", "alerts"), frozenset({"reports"}),
                      np.full(len(ids), np.nan))


# --- packed text -------------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.one_of(st.none(), st.text(max_size=12), st.just(" u1 "))),
       start=st.integers(0, 3))
def test_packed_text_gives_back_every_value(values, start):
    array = pa.array(values, pa.string()).slice(min(start, len(values)))
    back = unpack_text(pack_text(array), len(array))
    assert back.to_pylist() == array.to_pylist()


@pytest.mark.parametrize("length", [254, 255, 256, 65_535, 70_000])
def test_packed_text_keeps_long_values(length):
    """A length is stored plus one, so 255 bytes already need two bytes a length."""
    values = ["x" * length, "", None, "é" * 3]
    back = unpack_text(pack_text(pa.array(values, pa.string())), 4)
    assert back.to_pylist() == values
    assert back.null_count == 1


def test_packed_user_ids_take_less_than_a_third_of_their_text():
    users = pa.array([f"A{account:05d}-u{user}" for account, user in
                      zip(range(0, 90_000, 7), range(13_000), strict=False)], pa.string())
    assert len(pack_text(users)) < users.nbytes / 3


# --- narrow types ------------------------------------------------------------------------------

def test_days_fit_two_bytes_up_to_their_limits():
    inside = np.array([-32_768, 0, 20_604, 32_767], dtype=np.int32)  # 1880-03-05 .. 2059-09-18
    assert narrow_days(inside).dtype == np.int16
    assert narrow_days(inside).tolist() == inside.tolist()
    for outside in (-32_769, 32_768):
        days = np.array([0, outside], dtype=np.int32)
        assert narrow_days(days).dtype == np.int32
        assert narrow_days(days).tolist() == [0, outside]


@pytest.mark.parametrize(("names", "kind"), [(1, np.int8), (127, np.int8), (128, np.int16),
                                             (32_767, np.int16), (32_768, np.int32)])
def test_codes_take_the_narrowest_type_their_names_allow(names, kind):
    codes = np.array([-1, 0, names - 1], dtype=np.int64)
    narrow = narrow_codes(codes, names)
    assert narrow.dtype == kind
    assert narrow.tolist() == [-1, 0, names - 1]


def test_a_spare_column_past_a_narrow_codes_range_stays_in_its_account():
    """Chunks coded while there were few units keep one-byte codes; once 200 units are known
    the tally's column for "no unit" is 200, past a byte: it must not wrap into the
    account before (A1 would then show a unit new in the window)."""
    today = day_number(AS_OF)
    old, recent = today - 60, today - 3
    units = [f"unit {i}" for i in range(200)]
    early = EventChunk(np.array([0, 1], np.int32), np.array([old, recent], np.int16),
                       business_unit=np.array([0, -1], np.int8))
    late = EventChunk(np.array([2], np.int32), np.array([recent], np.int16),
                      business_unit=np.array([199], np.int16))
    events = UsageEvents(IDS, [early, late], [], units, ("account_id", "timestamp",
                                                           "business_unit"))
    # A1: only unit 0, long ago; A2: no unit; A3: unit 199 is new, but A3 has no older usage
    result = TallyBackend(events).aggregate(query())[today]
    assert result.new_business_unit.tolist() == [False, False, False]
    plain = FrameBackend(events.frame()).aggregate(query())[today]
    assert plain.new_business_unit.tolist() == [False, False, False]


# --- the fast reader: narrow columns, exact users ----------------------------------------------

def usage_csv(tmp_path, rows: list[str]):
    path = tmp_path / "usage.csv"
    path.write_text("account_id,timestamp,user_id,feature,business_unit\n"
                    + "".join(row + "\n" for row in rows))
    return path


def read(path, ids=IDS, ids_later: float | None = None) -> UsageEvents:
    layout = csv_layout(path)
    mapping = {header: header for header in layout[2]}
    known: Future = Future()
    if ids_later is None:
        known.set_result(ids)
    else:  # the accounts arrive while the file is being read
        threading.Timer(ids_later, known.set_result, [ids]).start()
    result = events_module._read_events(path, layout, mapping, known, threading.Event())
    assert result is not None  # read by the fast reader
    return result.events


@pytest.fixture
def many_parts(monkeypatch):
    """Every few rows a batch, three parts, runs of a batch, user ids packed: what a big
    file gives."""
    monkeypatch.setenv("CSOPS_THREADS", "3")
    monkeypatch.setattr(events_module, "PACK_USERS_BYTES", 0)
    monkeypatch.setattr(events_module, "MIN_PART_BYTES", 1)
    monkeypatch.setattr(events_module, "BLOCK_BYTES", 256)
    monkeypatch.setattr(events_module, "ACCOUNT_BATCHES", 1)
    monkeypatch.setattr(tally_module._UserSet, "RUN_ROWS", 2)


def test_the_reader_keeps_narrow_columns(tmp_path, monkeypatch):
    path = usage_csv(tmp_path, [f"A{1 + i % 3},2026-06-{1 + i % 28:02d},u{i % 40},reports,"
                                f"Sales" for i in range(3_000)])
    (chunk,) = read(path).chunks
    assert isinstance(chunk.user_id, pa.StringArray)  # a small export: text as parsed
    monkeypatch.setattr(events_module, "PACK_USERS_BYTES", path.stat().st_size)
    (chunk,) = read(path).chunks
    assert chunk.day.dtype == np.int16
    assert chunk.feature.dtype == np.int8
    assert chunk.business_unit.dtype == np.int8
    assert chunk.account.dtype == np.int32
    assert chunk.user_id.dtype == np.uint8
    assert len(chunk.user_id) < 3_000 * 4 / 3  # under a byte and a half a user id
    assert chunk.users().to_pylist() == [f"u{i % 40}" for i in range(3_000)]


def test_a_user_seen_in_every_part_and_run_counts_once(tmp_path, many_parts):
    """u1 of A1 appears all through the file, written three ways; A2's users differ only by
    their account; a blank user is nobody."""
    rows = []
    for i in range(400):
        day = f"2026-06-{1 + i % 30:02d}"
        user = ("u1", " u1 ", "u1 ")[i % 3]
        rows += [f"A1,{day},{user},reports,Sales", f"A2,{day},u{i % 5},alerts,Sales",
                 f"A2,{day},,alerts,Sales", f"A3,2026-05-01,u{i},reports,Sales"]
    events = read(usage_csv(tmp_path, rows))
    assert len(events.chunks) > 20
    today = day_number(AS_OF)
    result = TallyBackend(events).aggregate(query())[today]
    assert result.distinct_users.tolist() == [1, 5, 0]  # A3's users are all before the window
    plain = FrameBackend(events.frame()).aggregate(query())[today]
    assert plain.distinct_users.tolist() == [1, 5, 0]


def test_distinct_users_do_not_change_with_parts_threads_or_runs(tmp_path, monkeypatch):
    rng = np.random.default_rng(3)
    days = pd.date_range("2026-05-15", "2026-06-30")
    rows = [f"A{1 + rng.integers(3)},{days[rng.integers(len(days))].date()},"
            f"u{rng.integers(300)},reports,Sales" for _ in range(5_000)]
    path = usage_csv(tmp_path, rows)
    dates = (AS_OF, AS_OF - pd.Timedelta(days=10))
    frame = pd.read_csv(path, dtype=str)
    frame = frame[pd.to_datetime(frame["timestamp"]) >= AS_OF - pd.Timedelta(days=39)]
    expected = {}
    for date in dates:
        window = frame[pd.to_datetime(frame["timestamp"]).between(
            date - pd.Timedelta(days=29), date)]
        expected[day_number(date)] = [window.loc[window["account_id"] == account,
                                                 "user_id"].nunique() for account in IDS]
    for threads, block, run, pack in ((1, 1 << 20, 1 << 15, False), (2, 2_000, 7, True),
                                      (5, 300, 1, True), (3, 700, 3, False)):
        monkeypatch.setenv("CSOPS_THREADS", str(threads))
        monkeypatch.setattr(events_module, "PACK_USERS_BYTES", 0 if pack else 1 << 30)
        monkeypatch.setattr(events_module, "MIN_PART_BYTES", 1)
        monkeypatch.setattr(events_module, "BLOCK_BYTES", block)
        monkeypatch.setattr(tally_module._UserSet, "RUN_ROWS", run)
        result = TallyBackend(read(path)).aggregate(query(dates))
        for day, users in expected.items():
            assert result[day].distinct_users.tolist() == users, (threads, block, run, pack)


def test_accounts_that_arrive_late_code_every_batch(tmp_path, many_parts):
    rows = [f"{account},2026-06-{1 + i % 28:02d},u{i},reports,Sales"
            for i in range(600) for account in ("A3", " A1 ", "NOT-IN-CRM")]
    events = read(usage_csv(tmp_path, rows), ids_later=0.2)
    account = np.concatenate([chunk.account for chunk in events.chunks])
    assert account.tolist() == [2, 0, 3] * 600
    assert events.unknown_accounts()[1] == ["NOT-IN-CRM"] * 600
