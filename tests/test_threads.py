"""Reading and tallying use the cores the process may run on, or what CSOPS_THREADS says; a file
is cut into parts at line ends, never smaller than the least part size."""

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from csops_cli import threads
from csops_cli.cli import app
from csops_cli.errors import ProblemCode, UsageError
from csops_cli.loading import events as events_module
from csops_cli.usage import tally as tally_module

SAMPLE_DATA = Path(__file__).resolve().parents[1] / "sample_data"


@pytest.fixture
def cores(monkeypatch):
    """Pretend the process may run on this many cores."""
    monkeypatch.delenv("CSOPS_THREADS", raising=False)

    def allow(count: int) -> None:
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(count)),
                            raising=False)
        monkeypatch.setattr(os, "cpu_count", lambda: 128)  # the machine has more

    return allow


@pytest.mark.parametrize("allowed, expected", [(1, 1), (3, 3), (8, 8), (64, 8)])
def test_one_thread_per_core_the_process_may_use_up_to_the_cap(cores, allowed, expected):
    cores(allowed)
    assert threads.thread_count() == expected


def test_without_affinity_the_machine_counts(cores, monkeypatch):
    cores(1)
    monkeypatch.delattr(os, "sched_getaffinity")
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert threads.thread_count() == 6
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # unknown: one
    assert threads.thread_count() == 1


@pytest.mark.parametrize("text, expected", [("1", 1), ("5", 5), (" 3 ", 3), ("40", 40)])
def test_csops_threads_overrides_the_cores(cores, monkeypatch, text, expected):
    cores(2)
    monkeypatch.setenv("CSOPS_THREADS", text)
    assert threads.thread_count() == expected


@pytest.mark.parametrize("text", ["0", "-2", "two", "", "2.5"])
def test_csops_threads_must_be_a_positive_whole_number(monkeypatch, text):
    monkeypatch.setenv("CSOPS_THREADS", text)
    with pytest.raises(UsageError) as raised:
        threads.thread_count()
    assert raised.value.code == ProblemCode.INVALID_VALUE
    assert raised.value.message.startswith(f"CSOPS_THREADS={text!r} is not a number of threads")


def test_a_bad_csops_threads_is_a_usage_error_not_a_traceback(monkeypatch, tmp_path):
    monkeypatch.setenv("CSOPS_THREADS", "lots")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["health", str(SAMPLE_DATA), "--no-save"])
    assert result.exit_code == 2, result.output
    assert "CSOPS_THREADS='lots' is not a number of threads" in result.output
    assert "Traceback" not in result.output and list(tmp_path.iterdir()) == []


def write_usage(path: Path, lines: list[str]) -> Path:
    path.write_text("account_id,timestamp\n" + "".join(line + "\n" for line in lines))
    return path


def pieces_of(path: Path) -> list[tuple[int, int]]:
    reader = events_module._Reader(path, ",", ["account_id", "timestamp"],
                                   {"account_id": "account_id", "timestamp": "timestamp"},
                                   lambda: None, None)
    return reader._pieces()


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8])
def test_a_file_is_cut_into_a_part_per_thread_at_line_ends(tmp_path, monkeypatch, count):
    monkeypatch.setenv("CSOPS_THREADS", str(count))
    monkeypatch.setattr(events_module, "MIN_PART_BYTES", 1)
    lines = [f"A{i:05d},2026-11-{i % 28 + 1:02d}" for i in range(1000)]
    path = write_usage(tmp_path / "usage.csv", lines)
    pieces = pieces_of(path)
    data = path.read_bytes()
    header = len("account_id,timestamp\n")
    assert len(pieces) == count
    assert pieces[0][0] == header and pieces[-1][1] == len(data)
    for (_, stop), (start, _) in zip(pieces, pieces[1:], strict=False):
        assert stop == start and data[stop - 1:stop] == b"\n"
    assert b"".join(data[start:stop] for start, stop in pieces) == data[header:]


def test_long_lines_give_fewer_parts_never_a_broken_line(tmp_path, monkeypatch):
    monkeypatch.setenv("CSOPS_THREADS", "5")
    monkeypatch.setattr(events_module, "MIN_PART_BYTES", 1)
    path = write_usage(tmp_path / "usage.csv", ["A1," + "x" * 5000, "A2,2026-11-01"])
    pieces = pieces_of(path)
    data = path.read_bytes()
    assert [data[start:stop].count(b"\n") for start, stop in pieces] == [1, 1]


def test_small_files_are_read_in_one_part(tmp_path, monkeypatch):
    monkeypatch.setenv("CSOPS_THREADS", "8")
    monkeypatch.setattr(events_module, "MIN_PART_BYTES", 1000)
    lines = [f"A{i:05d},2026-11-01" for i in range(200)]  # 18 bytes a line: 3,600 in all
    assert len(pieces_of(write_usage(tmp_path / "usage.csv", lines))) == 3
    assert len(pieces_of(write_usage(tmp_path / "usage.csv", lines[:100]))) == 1


def test_tally_threads_follow_the_threads_but_not_past_chunks_or_memory(monkeypatch):
    workers = tally_module._workers
    assert workers(8, chunks=100, n=1000, widths=(3, 4), dates=1) == 8
    assert workers(8, chunks=3, n=1000, widths=(3, 4), dates=1) == 3
    assert workers(1, chunks=100, n=1000, widths=(3, 4), dates=1) == 1
    # partial tallies of 10 million accounts, 2 dates: ~0.8 GB each, past the 1 GB budget
    assert workers(8, chunks=100, n=10_000_000, widths=(3, 4), dates=2) == 2
    monkeypatch.setattr(tally_module, "TALLY_MEMORY_BYTES", 1 << 40)
    assert workers(8, chunks=100, n=10_000_000, widths=(3, 4), dates=2) == 8


def test_limited_holds_on_its_own_thread_only(cores):
    """Inside limited(1) this thread counts one; another thread, and this one after the
    block (an error too), count the cores."""
    from concurrent.futures import ThreadPoolExecutor

    cores(4)
    with ThreadPoolExecutor(1) as pool:
        with threads.limited(1):
            assert threads.thread_count() == 1
            with threads.limited(3):
                assert threads.thread_count() == 3
            assert threads.thread_count() == 1
            assert pool.submit(threads.thread_count).result() == 4
        assert threads.thread_count() == 4
        with pytest.raises(ValueError), threads.limited(2):
            raise ValueError
        assert threads.thread_count() == 4
