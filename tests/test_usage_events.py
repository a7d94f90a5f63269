"""The fast usage reader (a CSV parsed in parts, a thread each, straight into codes) against the
general reader (checked pandas frame, then codes): same events, same signals, same lines, for
any number of parts; and it steps aside, so that the general reader reports the problem,
whenever the file is not plain."""

import time

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from csops_cli.errors import InputError, ProblemCode
from csops_cli.loading import events as events_module
from csops_cli.loading import load_exports, load_table
from csops_cli.loading.events import account_index, events_from_frame
from csops_cli.sample import generate
from csops_cli.signals import build_signals
from csops_cli.usage.tally import _FirstSeen

AS_OF = pd.Timestamp("2026-11-20")


@pytest.fixture(params=[1, 2, 3, 5], ids=lambda threads: f"CSOPS_THREADS={threads}")
def small_pieces(request, monkeypatch):
    """As many parts as threads, and many batches, even for a small file: the threads given."""
    monkeypatch.setenv("CSOPS_THREADS", str(request.param))
    monkeypatch.setattr(events_module, "MIN_PART_BYTES", 1)
    monkeypatch.setattr(events_module, "BLOCK_BYTES", 64 * 1024)
    return request.param


@pytest.fixture
def parts_read(monkeypatch):
    """The byte ranges each fast read cut its file into, in the order of the reads."""
    seen: list[list[tuple[int, int]]] = []
    pieces = events_module._Reader._pieces

    def spy(reader):
        seen.append(pieces(reader))
        return seen[-1]

    monkeypatch.setattr(events_module._Reader, "_pieces", spy)
    return seen


@pytest.fixture
def messy_sample(tmp_path):
    """Generated exports whose usage holds what a real export holds besides clean rows:
    spaces around ids, features in other cases, blank units, accounts not in the CRM."""
    generate(tmp_path, accounts=300, seed=5, as_of=AS_OF, events=40_000)
    usage = pd.read_csv(tmp_path / "usage.csv", dtype=str, keep_default_na=False)
    rows = np.arange(len(usage))
    usage.loc[rows % 97 == 0, "account_id"] = " " + usage["account_id"] + " "
    usage.loc[rows % 89 == 0, "feature"] = usage["feature"].str.upper()
    usage.loc[rows % 83 == 0, "feature"] = " " + usage["feature"].str.title()
    usage.loc[rows % 79 == 0, "business_unit"] = ""
    usage.loc[rows % 71 == 0, "user_id"] = ""
    usage.loc[rows % 997 == 0, "account_id"] = "NOT-IN-CRM"
    usage.to_csv(tmp_path / "usage.csv", index=False)
    return tmp_path


def general_events(folder, config, ids):
    frame = load_table("usage", folder / "usage.csv", config, big=True).frame
    return events_from_frame(frame, ids), frame


def test_fast_reader_gives_the_general_readers_table(messy_sample, default_config,
                                                     small_pieces, parts_read):
    exports = load_exports(messy_sample, default_config)
    [parts] = parts_read
    assert len(parts) == small_pieces  # a part per thread
    table = exports.usage
    assert table._frame is None and len(table.events.chunks) > 10  # the fast reader ran
    ids = account_index(exports.accounts.frame)
    _, general = general_events(messy_sample, default_config, ids)
    fast = table.usage_frame()
    assert len(fast) == len(general) > 30_000
    for column in general.columns:
        expected = general[column].astype(object).where(general[column].notna(), None)
        actual = fast[column].astype(object).where(fast[column].notna(), None)
        assert actual.tolist() == expected.tolist(), column
    assert (fast["account_id"] == "NOT-IN-CRM").sum() == len(range(0, len(fast), 997))


def test_fast_reader_gives_the_general_readers_signals(messy_sample, default_config,
                                                       small_pieces):
    exports = load_exports(messy_sample, default_config)
    assert exports.usage._frame is None
    fast = build_signals(exports, default_config, AS_OF).frame
    ids = account_index(exports.accounts.frame)
    exports.usage.events, _ = general_events(messy_sample, default_config, ids)
    general = build_signals(exports, default_config, AS_OF).frame
    assert_frame_equal(fast, general)
    assert fast["active_users_30d"].gt(0).sum() > 100 and fast["new_feature_used"].any()


def test_many_business_units_give_the_same_signals_as_few(messy_sample, default_config,
                                                          monkeypatch):
    exports = load_exports(messy_sample, default_config)
    dense = build_signals(exports, default_config, AS_OF).frame
    monkeypatch.setattr(_FirstSeen, "DENSE_LIMIT", 0)  # sets of pairs instead of arrays
    sparse = build_signals(exports, default_config, AS_OF).frame
    assert_frame_equal(dense, sparse)
    assert dense["new_business_unit"].any() and dense["new_feature_used"].any()


def test_record_positions_map_to_file_lines_across_all_parts(messy_sample, default_config,
                                                           small_pieces):
    table = load_exports(messy_sample, default_config).usage
    assert table._frame is None
    orphans = table.usage_frame().index[table.usage_frame()["account_id"] == "NOT-IN-CRM"]
    lines = table.lines(orphans)
    text = (messy_sample / "usage.csv").read_text().splitlines()
    expected = [number for number, line in enumerate(text, start=1)
                if line.startswith("NOT-IN-CRM,")]
    assert lines == expected and len(lines) > 30


def test_pre_aggregated_usage_is_read_fast(tmp_path, default_config, small_pieces):
    generate(tmp_path, accounts=50, seed=3, as_of=AS_OF, events=2_000)
    rows = ["account_id,date,events,active_users"]
    rows += [f"A{i:05d},2026-11-{day:02d},{i % 7},{i % 3}" for i in range(1, 51)
             for day in range(1, 21)]
    (tmp_path / "usage.csv").write_text("\n".join(rows) + "\n")
    exports = load_exports(tmp_path, default_config)
    assert exports.usage._frame is None
    assert exports.usage.usage_frame()["count"].sum() == sum(i % 7 for i in range(1, 51)) * 20
    signals = build_signals(exports, default_config, AS_OF).frame
    assert signals.loc["A00004", "active_users_30d"] == 1


@pytest.mark.parametrize("timestamp", ["2026-11-03T10:00:00Z", "2026-11-03 10:00:00.250",
                                       "2026-11-03"])
def test_iso_timestamps_in_other_forms_are_read_fast(tmp_path, default_config, timestamp):
    generate(tmp_path, accounts=5, seed=3, as_of=AS_OF, events=10)
    (tmp_path / "usage.csv").write_text(
        f"account_id,timestamp,user_id,feature\nA00001,{timestamp},u1,login\n"
        f"A00002,{timestamp},u2,reports\n")
    exports = load_exports(tmp_path, default_config)
    assert exports.usage._frame is None
    assert exports.usage.usage_frame()["timestamp"].tolist() == [pd.Timestamp("2026-11-03")] * 2


@pytest.mark.parametrize("row, expected", [
    ("A00001,11/03/2026 10:00,u1,login", None),  # US dates: read by the general parser
    (",2026-11-03,u1,login", (ProblemCode.MISSING_VALUE, "account_id", "")),
    ("   ,2026-11-03,u1,login", (ProblemCode.MISSING_VALUE, "account_id", "   ")),
    ("A00001,not a date,u1,login", (ProblemCode.NOT_A_DATE, "timestamp", "not a date")),
    ("A00001,2026-11-03,u1,login,extra",
     (ProblemCode.RAGGED_ROW, None, "A00001,2026-11-03,u1,login,extra")),
])
def test_the_fast_reader_steps_aside_and_the_general_one_reports(tmp_path, default_config,
                                                                  small_pieces, row, expected):
    generate(tmp_path, accounts=5, seed=3, as_of=AS_OF, events=10)
    good = "\n".join(f"A0000{i % 5 + 1},2026-11-0{i % 9 + 1},u{i},login" for i in range(400))
    (tmp_path / "usage.csv").write_text(
        f"account_id,timestamp,user_id,feature\n{good}\n{row}\n{good}\n")
    if expected is None:
        exports = load_exports(tmp_path, default_config)
        assert exports.usage._frame is not None  # the general reader read it
        assert exports.usage.usage_frame()["timestamp"].iloc[400] == pd.Timestamp("2026-11-03")
        return
    with pytest.raises(InputError) as raised:
        load_exports(tmp_path, default_config)
    [problem] = raised.value.problems
    assert (problem.code, problem.column, problem.value, problem.line) == (*expected, 402)


def test_a_read_started_early_is_used_or_stopped(tmp_path, default_config):
    from csops_cli.loading.events import begin_usage_read

    generate(tmp_path, accounts=20, seed=3, as_of=AS_OF, events=500)
    early = begin_usage_read(tmp_path, None, default_config)
    exports = load_exports(tmp_path, default_config, early=early)
    assert exports.usage._frame is None and early._result.done()
    again = load_exports(tmp_path, default_config).usage
    assert len(exports.usage.events) == len(again.usage_frame())

    unused = begin_usage_read(tmp_path, None, default_config)
    unused.cancel()  # e.g. the command failed first: the reading thread steps aside
    assert unused._result.result(timeout=60) is None

    (tmp_path / "usage.csv").write_text("account_id,user_id\nA00001,u1\n")  # no timestamp
    assert begin_usage_read(tmp_path, None, default_config) is None
    with pytest.raises(InputError) as raised:
        load_exports(tmp_path, default_config)
    [problem] = raised.value.problems
    assert (problem.code, problem.line, problem.column) == (ProblemCode.MISSING_COLUMN, 1,
                                                            "timestamp")


def test_a_usage_read_is_cancelled_on_every_way_out(tmp_path, default_config, small_pieces):
    import threading

    from csops_cli.loading.events import usage_read

    generate(tmp_path, accounts=200, seed=3, as_of=AS_OF, events=20_000)
    with pytest.raises(KeyboardInterrupt), usage_read(tmp_path, None, default_config) as early:
        raise KeyboardInterrupt  # before the account ids were given: nobody waits for them
    assert early._result.result(timeout=60) is None
    with usage_read(tmp_path, None, default_config) as used:
        exports = load_exports(tmp_path, default_config, early=used)
    assert not exports.usage.has_frame and used._result.result() is not None
    deadline = time.monotonic() + 10
    while any(not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        assert time.monotonic() < deadline, threading.enumerate()
        time.sleep(0.01)
