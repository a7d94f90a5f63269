"""The cache of parsed usage exports: later commands on unchanged files read it instead of
parsing; a changed file or config, a damaged entry, --no-cache all parse again; outputs are the
same with and without it; entries are written whole and pruned."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from csops_cli.loading import cache as cache_module
from csops_cli.loading import events as events_module
from csops_cli.sample import generate

AS_OF = "2026-11-20"
CACHE = Path(".csops/cache")  # beside the default history store, from the cli's folder


@pytest.fixture
def data(tmp_path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    generate(folder, accounts=120, seed=3, as_of=pd.Timestamp(AS_OF), events=6_000)
    return folder


@pytest.fixture
def parses(monkeypatch) -> list[Path]:
    """The usage files the fast reader parsed (not read from the cache), in order."""
    parsed: list[Path] = []
    real = events_module._read_events

    def counting(path, *args, **kwargs):
        parsed.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(events_module, "_read_events", counting)
    return parsed


def health(cli, data: Path, *extra: str):
    result = cli("health", data, "--as-of", AS_OF, "--format", "json", "--no-save", *extra)
    assert result.exit_code == 0, result.output
    return result


def entries() -> list[Path]:
    return sorted(CACHE.glob("usage-*")) if CACHE.exists() else []


def test_a_second_command_reads_the_cache_instead_of_parsing(cli, data, parses):
    first = health(cli, data)
    assert parses == [data / "usage.csv"]
    assert len(entries()) == 1
    assert (entries()[0] / "manifest.json").exists()
    second = health(cli, data)
    assert parses == [data / "usage.csv"]  # not parsed again
    assert second.stdout == first.stdout


def test_same_size_and_restored_mtime_but_other_content_is_parsed_again(cli, data, parses):
    health(cli, data)
    usage = data / "usage.csv"
    before = usage.stat()
    text = usage.read_text()
    header, first_row, rest = text.split("\n", 2)
    # the first event moved to another account of the same id length: same size
    account = first_row.split(",")[0]
    other = next(line.split(",")[0] for line in rest.splitlines()
                 if line.split(",")[0] != account and len(line.split(",")[0]) == len(account))
    usage.write_text("\n".join([header, first_row.replace(account, other, 1), rest]))
    os.utime(usage, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert usage.stat().st_size == before.st_size
    assert usage.stat().st_mtime_ns == before.st_mtime_ns
    cached = health(cli, data)
    assert parses == [usage, usage]
    assert cached.stdout == health(cli, data, "--no-cache").stdout


def test_the_fingerprint_sees_content_that_size_does_not():
    def print_of(tmp: Path, text: str) -> str:
        tmp.write_text(text)
        return cache_module.fingerprint(tmp, tmp.stat().st_size)

    tmp = Path("fingerprint.txt")
    try:
        assert print_of(tmp, "a,1\nb,2\n") != print_of(tmp, "a,1\nb,3\n")
        assert print_of(tmp, "a,1\nb,2\n") == print_of(tmp, "a,1\nb,2\n")
    finally:
        tmp.unlink()


def test_a_changed_config_reads_the_file_again(cli, data, parses, tmp_path):
    from csops_cli.config import default_config_text

    dayfirst = tmp_path / "dayfirst.yaml"
    dayfirst.write_text(default_config_text().replace("dayfirst: false", "dayfirst: true"))
    health(cli, data)
    health(cli, data, "--config", dayfirst)
    assert parses == [data / "usage.csv"] * 2
    health(cli, data, "--config", dayfirst)
    assert len(parses) == 2  # that config's entry is used in turn


@pytest.mark.parametrize("damage", ["truncated", "garbage manifest", "codes out of range",
                                    "foreign key", "missing array"])
def test_a_damaged_entry_is_ignored_and_rebuilt(cli, data, parses, damage):
    reference = health(cli, data, "--no-cache").stdout
    health(cli, data)
    entry = entries()[0]
    if damage == "truncated":
        account = entry / "chunk.account.npy"
        account.write_bytes(account.read_bytes()[:-100])
    elif damage == "garbage manifest":
        (entry / "manifest.json").write_bytes(b"\x00\xff not json")
    elif damage == "codes out of range":  # same shape, type and unknown accounts
        codes = np.load(entry / "chunk.account.npy")
        codes[np.flatnonzero(codes != codes.max())[0]] = codes.max() + 5
        np.save(entry / "chunk.account.npy", codes)
    elif damage == "foreign key":
        manifest = json.loads((entry / "manifest.json").read_text())
        manifest["key"]["format"] = 999
        (entry / "manifest.json").write_text(json.dumps(manifest))
    else:
        (entry / "chunk.day.npy").unlink()
    assert health(cli, data).stdout == reference
    assert len(parses) == 3  # --no-cache, the first, and again for the damaged entry
    if damage != "foreign key":  # that one's folder is another key's: left to pruning
        assert health(cli, data).stdout == reference
        assert len(parses) == 3  # rebuilt: read from the cache now


def test_accounts_in_another_order_code_the_events_again(cli, data, parses):
    health(cli, data)
    accounts = data / "accounts.csv"
    header, *rows = accounts.read_text().splitlines()
    accounts.write_text("\n".join([header, *reversed(rows)]) + "\n")
    assert health(cli, data).stdout == health(cli, data, "--no-cache").stdout
    assert len(parses) == 3


def test_no_cache_neither_reads_nor_writes_it(cli, data, parses):
    health(cli, data, "--no-cache")
    assert not CACHE.exists()
    health(cli, data)
    health(cli, data, "--no-cache")
    assert len(parses) == 3  # the entry written by the second is not read by the third


def test_the_cache_lies_beside_the_history_store(cli, data, tmp_path):
    health(cli, data, "--history", tmp_path / "elsewhere" / "history.db")
    assert len(list((tmp_path / "elsewhere" / "cache").glob("usage-*"))) == 1
    assert not CACHE.exists()


def test_an_interrupted_write_leaves_no_entry(cli, data, parses, monkeypatch):
    real = cache_module._write_events

    def failing(folder, result):
        real(folder, result)
        (folder / "chunk.account.npy").write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache_module, "_write_events", failing)
    reference = health(cli, data, "--no-cache").stdout
    assert health(cli, data).stdout == reference  # the command still succeeds
    # neither a usage entry nor its temporary folder (the small tables' entries are there)
    assert [p.name for p in CACHE.iterdir() if not p.name.startswith("table-")] == []
    monkeypatch.setattr(cache_module, "_write_events", real)
    health(cli, data)
    health(cli, data)
    assert len(parses) == 3


def fake_entry(folder: Path, path_part: str, key_part: str, age: float, size: int) -> Path:
    entry = folder / f"usage-{path_part}-{key_part}"
    entry.mkdir(parents=True)
    (entry / "day.npy").write_bytes(b"x" * size)
    moment = time.time() - age
    os.utime(entry, (moment, moment))
    return entry


def test_pruning_keeps_the_newest_entries_of_each_file_and_a_total_size(tmp_path):
    folder = tmp_path / "cache"
    old = fake_entry(folder, "aaaa", "1", age=300, size=10)
    newer = fake_entry(folder, "aaaa", "2", age=200, size=10)
    newest = fake_entry(folder, "aaaa", "3", age=100, size=10)
    other = fake_entry(folder, "bbbb", "1", age=400, size=10)
    leftover = folder / ".writing-abc"
    leftover.mkdir()
    os.utime(leftover, (time.time() - 7200,) * 2)
    fresh_writing = folder / ".writing-def"
    fresh_writing.mkdir()
    cache_module.prune(folder, keep=2, max_bytes=1000)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [newer.name, newest.name, other.name, fresh_writing.name])
    assert not old.exists() and not leftover.exists()
    cache_module.prune(folder, keep=2, max_bytes=25)  # two of 10 bytes fit: the oldest goes
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith("usage-")) == sorted(
        [newer.name, newest.name])


COMMANDS = [("health", "--no-save"), ("plays", "--dry-run"), ("renewals",), ("metrics",),
            ("audit",)]


def test_every_command_says_the_same_with_and_without_the_cache(cli, data, parses):
    def session(*extra: str) -> list[tuple[int, str, str]]:
        results = [cli(command, data, "--as-of", AS_OF, *options, *extra)
                   for command, *options in COMMANDS]
        return [(r.exit_code, r.stdout, r.stderr) for r in results]

    without = session("--no-cache")
    cold = session()
    warm = session()
    assert len(parses) == len(COMMANDS) + 1  # every --no-cache command, then the first only
    assert [code for code, _, _ in without] == [0] * len(COMMANDS)
    assert cold == without
    assert warm == without
