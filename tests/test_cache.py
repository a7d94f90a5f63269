"""The cache of parsed usage exports: later commands on unchanged files read it instead of
parsing; a changed file or config, a damaged entry, --no-cache all parse again; outputs are the
same with and without it; entries are written whole and pruned. The tables built from the
exports (a day's signal table, the band rates) are read back exactly, and only for the whole
exports they were built from."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
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
    # neither a usage entry nor its temporary folder (other entries are there)
    assert [p.name for p in CACHE.iterdir() if p.name.startswith(("usage-", ".writing"))] == []
    monkeypatch.setattr(cache_module, "_write_events", real)
    health(cli, data)
    health(cli, data)
    assert len(parses) == 3


def fake_entry(folder: Path, path_part: str, key_part: str, age: float, size: int,
               kind: str = "usage") -> Path:
    entry = folder / f"{kind}-{path_part}-{key_part}"
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
    table = fake_entry(folder, "cccc", "1", age=50, size=10, kind="table")
    cache_module.prune(folder, keep=2, max_bytes=1000, max_entries=2)  # by count too
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == sorted(
        [table.name, newest.name])


def test_four_signal_tables_are_kept_per_accounts_export(tmp_path):
    folder = tmp_path / "cache"
    made = [fake_entry(folder, "aaaa", str(day), age=100 * (6 - day), size=10,
                       kind="signals") for day in range(6)]
    usage = [fake_entry(folder, "aaaa", str(day), age=10 * (3 - day), size=10)
             for day in range(3)]
    cache_module.prune(folder, keep=2, max_bytes=1000)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        entry.name for entry in made[2:] + usage[1:])


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


# --- the small tables --------------------------------------------------------------------------

def assert_same_table(cached, parsed) -> None:
    """Frame (values, dtypes, index type), preset, mapping, assumptions, warnings, lines."""
    pd.testing.assert_frame_equal(cached.frame, parsed.frame, check_exact=True,
                                  check_index_type=True, check_column_type=True,
                                  check_categorical=True)
    assert list(cached.frame.dtypes) == list(parsed.frame.dtypes)
    assert type(cached.frame.index) is type(parsed.frame.index)
    assert (cached.name, cached.path, cached.preset, cached.source_columns, cached.source_id,
            cached.raw.headers) == (parsed.name, parsed.path, parsed.preset,
                                    parsed.source_columns, parsed.source_id, parsed.raw.headers)
    assert cached.assumptions == parsed.assumptions
    assert cached.warnings == parsed.warnings
    positions = list(parsed.frame.index[:3])
    assert cached.lines(positions) == parsed.lines(positions)


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """The small-table files read by a loader (not from the cache), by name."""
    from csops_cli.loading import tables as tables_module

    read: list[str] = []
    real = tables_module.read_file

    def counting(path, *args, **kwargs):
        read.append(Path(path).name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(tables_module, "read_file", counting)
    return read


def test_the_small_tables_come_back_from_the_cache_exactly(data, reads, tmp_path):
    from csops_cli.config import load_config
    from csops_cli.loading import load_exports

    contracts = data / "contracts.csv"
    header, first, *rest = contracts.read_text().splitlines()
    contracts.write_text("\n".join([header, first, first, *rest]) + "\n")  # a repeated row
    accounts = data / "accounts.csv"
    lines = accounts.read_text().splitlines()
    # an extra column: numbers with a blank, kept for play conditions
    accounts.write_text("\n".join([lines[0] + ",seats"] + [
        line + ("," if n == 2 else f",{n}") for n, line in enumerate(lines[1:])]) + "\n")
    _, config = load_config(None, data)
    cache = cache_module.ExportCache(tmp_path / "cache")
    parsed = load_exports(data, config)
    read_before = len(reads)
    load_exports(data, config, cache=cache)
    assert len(reads) == 2 * read_before
    cached = load_exports(data, config, cache=cache)
    assert len(reads) == 2 * read_before  # nothing read a third time
    assert sorted(reads[:read_before]) == ["accounts.csv", "activities.csv", "contracts.csv",
                                          "team.csv"]
    assert [warning.code for warning in cached.contracts.warnings] == ["duplicate_id"]
    assert parsed.accounts.frame["seats"].isna().sum() == 1
    for name in ("accounts", "contracts", "activities", "team"):
        assert_same_table(getattr(cached, name), getattr(parsed, name))


def test_a_source_read_table_keeps_its_assumptions(tmp_path, default_config, reads):
    from csops_cli.loading import load_exports
    from test_sources import HUBSPOT_DEALS, hubspot_folder, write

    folder = hubspot_folder(tmp_path)
    write(folder, "hubspot-crm-exports-all-deals-2026-11-20.csv", HUBSPOT_DEALS)
    cache = cache_module.ExportCache(tmp_path / "cache")
    parsed = load_exports(folder, default_config)
    load_exports(folder, default_config, cache=cache)
    count = len(reads)
    cached = load_exports(folder, default_config, cache=cache)
    assert len(reads) == count
    found = {a.text: a.count for a in cached.contracts.assumptions}
    assert found["open or lost deals left out"] == 2  # two deals are not Closed Won
    for name in ("accounts", "contracts"):
        assert_same_table(getattr(cached, name), getattr(parsed, name))


def test_a_cache_hit_says_every_warning_again_in_the_same_words(cli, data, reads):
    contracts = data / "contracts.csv"
    header, first, *rest = contracts.read_text().splitlines()
    contracts.write_text("\n".join([header, first, first, *rest]) + "\n")
    parsed = health(cli, data)
    count = len(reads)
    cached = health(cli, data)
    assert len(reads) == count
    contract_id = first.split(",")[0].strip('"')
    assert f"warning: {contracts}, line 3: contract {contract_id} is on 2 identical rows " \
           "(lines 2, 3): counted once" in cached.stderr
    assert cached.stderr == parsed.stderr
    assert cached.stdout == parsed.stdout


def test_a_file_refused_is_never_cached_and_a_refused_command_leaves_no_entry(cli, data):
    accounts = data / "accounts.csv"
    good = accounts.read_text()
    lines = good.splitlines()
    date_column = [name.strip('"') for name in lines[0].split(",")].index("created_date")
    cells = lines[1].split(",")
    cells[date_column] = "not a date"
    accounts.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n")
    result = cli("health", data, "--as-of", AS_OF, "--no-save")
    assert result.exit_code == 2
    assert "not a date" in result.stderr
    assert not Path(".csops").exists()  # nor the folders made for the cache
    accounts.write_text(good)
    result = cli("metrics", data, "--as-of", AS_OF, "--out", data / "team.csv")
    assert result.exit_code == 2 and "--out" in result.stderr
    assert not Path(".csops").exists()  # written while loading, removed when refused
    result = cli("health", data, "--as-of", AS_OF, "--no-save", "--segment", "Nowhere")
    assert result.exit_code == 2 and "Nowhere" in result.stderr
    assert not Path(".csops").exists()
    health(cli, data)  # an entry another command wrote is not removed by a refused one
    kept = sorted(CACHE.iterdir())
    assert cli("metrics", data, "--as-of", AS_OF, "--out", data / "team.csv").exit_code == 2
    assert sorted(CACHE.iterdir()) == kept


def test_frames_of_every_dtype_round_trip_exactly(tmp_path):
    frame = pd.DataFrame({
        "arrow_text": pd.array(["a", None, "ç"], dtype="string[pyarrow]"),
        "python_text": pd.array(["x", None, "y"], dtype=pd.StringDtype("python")),
        "str": pd.Series(["p", None, "q"], dtype="str"),
        "category": pd.Categorical(["b", None, "b"], categories=pd.Index(
            ["b", "unused"], dtype="string[pyarrow]")),
        "ordered": pd.Categorical(["lo", "hi", "lo"], categories=["lo", "hi"], ordered=True)
        .set_categories(pd.Index(["lo", "hi"], dtype="string"), ordered=True),
        "seconds": pd.Series(["2026-01-02", None, "1969-12-31 23:59:59"],
                             dtype="datetime64[s]"),
        "nanoseconds": pd.to_datetime(["2026-01-02 03:04:05.000000001", None,
                                       "2020-02-29 00:00:00.5"]),
        "zoned": pd.to_datetime(["2026-01-02", None, "2026-03-04"]).tz_localize("UTC"),
        "nullable_int": pd.array([1, None, -(2**40)], dtype="Int64"),
        "nullable_bool": pd.array([True, None, False], dtype="boolean"),
        "nullable_float": pd.array([0.5, None, 2.0], dtype="Float64"),
        "float": [1.5, np.nan, -0.0],
        "int": np.array([1, 2, 3], dtype=np.int16),
        "bool": [True, False, True],
    }, index=pd.Index([4, 9, 12], dtype="int64"))
    spec = cache_module.write_frame(tmp_path / "frame.arrow", frame)
    back = cache_module.read_frame(tmp_path / "frame.arrow", json.loads(json.dumps(spec)))
    pd.testing.assert_frame_equal(back, frame, check_exact=True, check_index_type=True,
                                  check_categorical=True)
    assert list(back.dtypes) == list(frame.dtypes)
    assert list(back["category"].cat.categories) == ["b", "unused"]
    assert np.signbit(back["float"].iloc[2])
    ranged = frame.reset_index(drop=True)
    spec = cache_module.write_frame(tmp_path / "ranged.arrow", ranged)
    assert isinstance(cache_module.read_frame(tmp_path / "ranged.arrow", spec).index,
                      pd.RangeIndex)
    with pytest.raises(cache_module.NotCacheable):  # Python objects: not cached at all
        cache_module.write_frame(tmp_path / "objects.arrow",
                                 pd.DataFrame({"x": pd.Series([[1], "a"], dtype=object)}))


# --- the events, whatever their fields' types --------------------------------------------------

def events_read(chunks, features=("login",), units=()):
    ids = pd.Index(["A1", "A2", "A3"], name="account_id")
    events = events_module.UsageEvents(ids, chunks, list(features), list(units),
                                       ("account_id", "timestamp", "user_id", "feature"))
    return events_module.EventsRead(events, ["account_id", "timestamp", "user_id", "feature"],
                                    lambda positions: [None] * len(positions))


def test_each_field_of_the_events_is_stored_by_its_name_and_type(tmp_path):
    """A field of another type (user ids as int32 codes, days as int16) or a new field
    needs no change to the cache: numpy arrays come back as numpy arrays of their dtype,
    Arrow arrays as Arrow arrays."""
    Chunk = events_module.EventChunk
    chunks = [Chunk(np.array([0, 3, 1], np.int32), np.array([20000, 20001, 19000], np.int16),
                    feature=np.array([0, -1, 0], np.int32),
                    user_id=np.array([7, 7, 2**20], np.int32),
                    count=np.array([np.nan, 2.0, 1e300]),
                    unknown_ids=pa.array(["Z9"])),
              Chunk(np.array([2], np.int32), np.array([20002], np.int16),
                    feature=np.array([0], np.int32), user_id=np.array([5], np.int32),
                    count=np.array([3.0]))]
    cache = cache_module.ExportCache(tmp_path / "cache")
    source = tmp_path / "usage.csv"
    source.write_text("x\n")
    key = {"k": 1}
    cache_module.store_events(cache, source, key, events_read(chunks))
    entry = cache.lookup("usage", source, key)
    back = entry.events(pd.Index(["A1", "A2", "A3"], name="account_id"), None)
    assert len(back.events.chunks) == 2
    for got, put in zip(back.events.chunks, chunks, strict=True):
        for name in ("account", "day", "feature", "user_id", "count"):
            assert getattr(got, name).dtype == getattr(put, name).dtype, name
            np.testing.assert_array_equal(getattr(got, name), getattr(put, name))
        assert got.unknown_ids.equals(put.unknown_ids)
        assert got.business_unit is None and got.active_users is None
    assert back.events.features == ["login"] and back.events.columns[0] == "account_id"
    # on disk the codes are narrow: days in 16 bits, features in 8
    folder = entry.folder
    assert np.load(folder / "chunk.feature.npy").dtype == np.int8
    assert np.load(folder / "chunk.user_id.npy").dtype == np.int32
    assert np.load(folder / "chunk.count.npy").dtype == np.float64  # 1e300 needs 64 bits
    # coded against other accounts: a miss
    assert entry.events(pd.Index(["A1", "A3", "A2"]), None) is None


def test_narrowing_keeps_every_value():
    days = np.array([-5, 20000, 32767], np.int32)
    assert cache_module.narrow(days).dtype == np.int16
    assert cache_module.narrow(np.array([0, 2**31 - 1], np.int64)).dtype == np.int32
    assert cache_module.narrow(np.array([0, 2**31], np.int64)).dtype == np.int64
    counts = np.array([1.0, np.nan, 2048.0])
    assert cache_module.narrow(counts).dtype == np.float16
    assert cache_module.narrow(np.array([2049.0])).dtype == np.float32
    assert cache_module.narrow(np.array([0.1])).dtype == np.float64
    for values in (days, counts, np.array([0.1, 1e-40])):
        np.testing.assert_array_equal(cache_module.narrow(values).astype(values.dtype), values)


def test_an_entry_of_other_parsing_code_is_a_miss(cli, data, parses, reads, monkeypatch):
    health(cli, data)
    count = len(reads)
    monkeypatch.setattr(cache_module, "code_digest", lambda: "another reader")
    health(cli, data)
    assert len(parses) == 2
    assert len(reads) == 2 * count


# --- the usage aggregates of a day ------------------------------------------------------------

@pytest.fixture
def tallied(monkeypatch) -> list[tuple[int, ...]]:
    """The as_of days the tally was asked for (not found in the cache), call by call."""
    from csops_cli.usage import tally

    asked: list[tuple[int, ...]] = []
    real = tally.TallyBackend.aggregate

    def counting(self, query):
        asked.append(query.as_of_days)
        return real(self, query)

    monkeypatch.setattr(tally.TallyBackend, "aggregate", counting)
    return asked


def as_of_day() -> int:
    return int(np.datetime64(AS_OF, "D").astype(np.int64))


def test_a_day_tallied_once_is_read_by_the_next_command(cli, data, tallied):
    first = health(cli, data)
    assert as_of_day() in tallied[0]
    second = health(cli, data)
    assert len(tallied) == 1  # nothing tallied again
    assert second.stdout == first.stdout
    plays = cli("plays", data, "--as-of", AS_OF, "--dry-run")
    assert plays.exit_code == 0, plays.output
    assert all(as_of_day() not in days for days in tallied[1:])
    assert len(list(CACHE.glob("aggregates-*"))) == len(set(tallied[0]))


def test_changed_features_accounts_or_events_tally_again(cli, data, tallied, tmp_path):
    from csops_cli.config import default_config_text

    other = tmp_path / "core.yaml"
    other.write_text(default_config_text().replace(
        "core_features: [dashboards, reports, integrations, automations, alerts]",
        "core_features: [dashboards, reports]"))
    health(cli, data)
    assert len(tallied) == 1
    changed = health(cli, data, "--config", other)
    assert len(tallied) == 2
    assert changed.stdout == health(cli, data, "--config", other, "--no-cache").stdout
    assert len(tallied) == 3
    accounts = data / "accounts.csv"
    header, *rows = accounts.read_text().splitlines()
    accounts.write_text("\n".join([header, *rows[:-1]]) + "\n")  # one account fewer
    fewer = health(cli, data)
    assert len(tallied) == 4
    assert fewer.stdout == health(cli, data, "--no-cache").stdout
    usage = data / "usage.csv"
    usage.write_text(usage.read_text() + usage.read_text().splitlines()[1] + "\n")
    more = health(cli, data)
    assert len(tallied) == 6
    assert more.stdout == health(cli, data, "--no-cache").stdout


def test_a_damaged_aggregates_entry_is_tallied_again(cli, data, tallied):
    reference = health(cli, data).stdout
    for entry in CACHE.glob("aggregates-*"):
        for array in entry.glob("*.npy"):
            np.save(array, np.load(array)[:-1])  # one account short
    for entry in CACHE.glob("signals-*"):  # else the day's signal table is read instead
        shutil.rmtree(entry)
    assert health(cli, data).stdout == reference
    assert len(tallied) == 2


def test_a_cached_table_read_with_an_encoding_fallback_warns_again(cli, data, reads):
    team = data / "team.csv"
    text = team.read_bytes()
    header_end = text.index(b"\n") + 1
    first_end = text.index(b"\n", header_end)
    # one Windows byte (0xE9, é in cp1252) in a UTF-8 file, with UTF-8 text beside it
    first_row = text[header_end:first_end].replace(b",", b" Zo\xc3\xab\xe9,", 1)
    team.write_bytes(text[:header_end] + first_row + text[first_end:])
    parsed = health(cli, data)
    assert "warning: " in parsed.stderr and "is not UTF-8" in parsed.stderr
    count = len(reads)
    cached = health(cli, data)
    assert len(reads) == count
    assert cached.stderr == parsed.stderr


def test_parts_of_several_types_are_written_as_one_array(tmp_path):
    # chunks may code the same field in different widths; on disk they are one array, in the
    # narrowest type that holds all of them, read back in the widest
    parts = [np.array([1, -3], np.int8), np.array([300, 7], np.int16), np.array([], np.int8)]
    spec = cache_module._save_array(tmp_path, "codes", parts)
    back = cache_module._load_array(tmp_path, "codes", spec, 4)
    assert back.dtype == np.int16 and back.tolist() == [1, -3, 300, 7]
    # a float narrows only when every part's values survive
    floats = [np.array([1.0, 2.0]), np.array([0.1])]
    spec = cache_module._save_array(tmp_path, "floats", floats)
    assert spec["stored"] == np.dtype(np.float64).str
    assert cache_module._load_array(tmp_path, "floats", spec, 3).tolist() == [1.0, 2.0, 0.1]


# --- the signal table of a day ----------------------------------------------------------------

@pytest.fixture
def built(monkeypatch) -> list[dict]:
    """The signal tables built (not read from the cache), call by call: day -> a copy."""
    from csops_cli import signals

    calls: list[dict] = []
    real = signals._build_signals_at

    def counting(exports, config, dates, as_known):
        result = real(exports, config, dates, as_known)
        calls.append({date: (value.frame.copy(), value.skipped)
                      for date, value in result.items()})
        return result

    monkeypatch.setattr(signals, "_build_signals_at", counting)
    return calls


@pytest.fixture
def hits(monkeypatch) -> list[tuple]:
    """The signal tables read from the cache: (day, frame copy, skipped)."""
    from csops_cli.built_cache import BuiltCache

    found: list[tuple] = []
    real = BuiltCache.get

    def recording(self, day):
        hit = real(self, day)
        if hit is not None and self.kind == "signals":
            found.append((day, hit[0].copy(), tuple(hit[1]["skipped"])))
        return hit

    monkeypatch.setattr(BuiltCache, "get", recording)
    return found


def test_a_day_built_once_is_read_back_exactly_by_the_next_commands(cli, data, built, hits):
    health(cli, data)
    assert len(built) == 1 and len(built[0]) == 2  # as_of and a week earlier, one pass
    made = {int(np.datetime64(date.date(), "D").astype(np.int64)): value
            for date, value in built[0].items()}
    assert len(list(CACHE.glob("signals-*"))) == 2
    plays = cli("plays", data, "--as-of", AS_OF, "--dry-run")
    assert plays.exit_code == 0, plays.output
    assert len(built) == 1  # nothing built again
    assert sorted(day for day, *_ in hits) == sorted(made)  # plays too looks a week back
    for day, frame, skipped in hits:
        expected, expected_skipped = made[day]
        pd.testing.assert_frame_equal(frame, expected, check_exact=True)
        assert list(frame.dtypes) == list(expected.dtypes)
        assert frame.index.dtype == expected.index.dtype
        assert skipped == expected_skipped
    # metrics needs a day health did not build: only that one is built
    assert cli("metrics", data, "--as-of", AS_OF).exit_code == 0
    assert len(built) == 2 and as_of_day() not in {
        int(np.datetime64(date.date(), "D").astype(np.int64)) for date in built[1]}


def test_a_changed_config_or_export_builds_the_day_again(cli, data, built, tmp_path):
    from csops_cli.config import default_config_text

    first = health(cli, data).stdout
    other = tmp_path / "other.yaml"
    other.write_text(default_config_text().replace("expansion_utilization: 0.80",
                                                   "expansion_utilization: 0.5"))
    assert "expansion_utilization: 0.5" in other.read_text()
    changed = health(cli, data, "--config", other).stdout
    assert len(built) == 2
    assert changed == health(cli, data, "--config", other, "--no-cache").stdout
    assert health(cli, data).stdout == first
    assert len(built) == 3  # the --no-cache run, then nothing: the first entries still hold
    activities = data / "activities.csv"
    header, *rows = activities.read_text().splitlines()
    activities.write_text("\n".join([header, *rows[:-1]]) + "\n")  # one touch fewer
    assert health(cli, data).stdout == health(cli, data, "--no-cache").stdout
    assert len(built) == 5


def test_exports_cut_down_to_some_accounts_are_never_cached(cli, data, built):
    """The renewals' past panel narrows the exports: those tables are built, never stored
    under the whole exports' key (read back, they would be another table)."""
    from dataclasses import replace

    from csops_cli.loading import Exports

    assert cli("renewals", data, "--as-of", AS_OF).exit_code == 0
    narrowed = [call for call in built if any(len(frame) < 120 for frame, _ in call.values())]
    assert narrowed  # the past panel ran on the renewal cohort
    stored = list(CACHE.glob("signals-*"))
    assert len(stored) == 1  # today's table of every account, only
    exports = Exports(None, *[object()] * 2)
    exports.cached_as = ("cache", {})
    assert replace(exports).cached_as is None


def test_a_damaged_signals_entry_is_built_again(cli, data, built):
    reference = health(cli, data).stdout
    cut_short("signals")
    assert health(cli, data).stdout == reference
    assert len(built) == 2


def cut_short(kind: str) -> None:
    """Damage every built table of ``kind``: its frame file cut after 200 bytes."""
    for entry in CACHE.glob(f"{kind}-*"):
        frame = entry / "frame.arrow"
        frame.write_bytes(frame.read_bytes()[:200])


def test_the_backtests_past_tables_are_not_kept(cli, data, tmp_path, built):
    """Tables with contracts counted from the day they were known: only the backtest builds
    them, a dozen dates at a time. A model reading a signal of older usage makes it build
    them from the whole exports."""
    import yaml

    from csops_cli.config import default_config_text

    settings = yaml.safe_load(default_config_text())
    settings["health"]["buckets"]["product_usage"]["signals"]["new_feature_used"] = {
        "weight": 0.2, "scores": {"true": 100, "false": 0}}
    config = tmp_path / "history-reading.yaml"
    config.write_text(yaml.safe_dump(settings))
    result = cli("backtest", data, "--as-of", AS_OF, "--config", config)
    assert result.exit_code == 0, result.output
    whole = [call for call in built if len(call) > 2]
    assert whole and all(len(frame) == 120 for call in whole for frame, _ in call.values())
    assert not list(CACHE.glob("signals-*"))


@pytest.fixture
def calibrated(monkeypatch) -> list[pd.DataFrame]:
    """The band rates calibrated (not read from the cache), call by call."""
    from csops_cli import forecast

    made: list[pd.DataFrame] = []
    real = forecast._band_rates

    def counting(exports, config, as_of):
        rates = real(exports, config, as_of)
        made.append(rates.copy())
        return rates

    monkeypatch.setattr(forecast, "_band_rates", counting)
    return made


def test_forecast_after_renewals_reads_the_band_rates_back_exactly(cli, data, calibrated,
                                                                     monkeypatch):
    from csops_cli import forecast

    returned: list[pd.DataFrame] = []
    real = forecast.band_rates
    monkeypatch.setattr(forecast, "band_rates", lambda *args: returned.append(
        real(*args)) or returned[-1])
    renewals = cli("renewals", data, "--as-of", AS_OF)
    assert renewals.exit_code == 0, renewals.output
    assert len(calibrated) == 1 and len(list(CACHE.glob("rates-*"))) == 1
    forecast_run = cli("forecast", data, "--as-of", AS_OF, "--no-save", "--format", "json")
    assert forecast_run.exit_code == 0, forecast_run.output
    assert len(calibrated) == 1  # read back, not calibrated again
    pd.testing.assert_frame_equal(returned[-1], calibrated[0], check_exact=True)
    assert returned[-1].index.dtype == calibrated[0].index.dtype
    fresh = cli("forecast", data, "--as-of", AS_OF, "--no-save", "--format", "json",
                "--no-cache")
    assert fresh.stdout == forecast_run.stdout
    assert len(calibrated) == 2


def test_other_configured_rates_calibrate_again(cli, data, calibrated, tmp_path):
    from csops_cli.config import default_config_text

    other = tmp_path / "rates.yaml"
    other.write_text(default_config_text().replace("red: 0.50", "red: 0.40"))
    assert "red: 0.40" in other.read_text()
    for config in ((), ("--config", other), ()):
        assert cli("renewals", data, "--as-of", AS_OF, *config).exit_code == 0
    assert len(calibrated) == 2


def test_a_signals_entry_without_its_skipped_list_is_built_again(cli, data, built):
    reference = health(cli, data).stdout
    for entry in CACHE.glob("signals-*"):
        manifest = json.loads((entry / "manifest.json").read_text())
        manifest["beside"] = {}
        (entry / "manifest.json").write_text(json.dumps(manifest))
    assert health(cli, data).stdout == reference
    assert len(built) == 2


# --- the health scores of a day ---------------------------------------------------------------

@pytest.fixture
def scorings(monkeypatch) -> list:
    """The Health of each scoring (not read from the cache), call by call."""
    from csops_cli import health as health_model

    made: list = []
    real = health_model.score

    def counting(signals, config):
        result = real(signals, config)
        made.append(result)
        return result

    monkeypatch.setattr(health_model, "score", counting)
    return made


@pytest.fixture
def health_hits(monkeypatch) -> list:
    """The Health read from the cache, call by call."""
    from csops_cli.built_cache import BuiltCache

    found: list = []
    real = BuiltCache.get_health

    def recording(self, day, index):
        hit = real(self, day, index)
        if hit is not None:
            found.append(hit)
        return hit

    monkeypatch.setattr(BuiltCache, "get_health", recording)
    return found


def assert_same_health(read, made) -> None:
    for part in ("scores", "signal_scores", "weights", "contributions"):
        pd.testing.assert_frame_equal(getattr(read, part), getattr(made, part),
                                      check_exact=True)
        assert list(getattr(read, part).dtypes) == list(getattr(made, part).dtypes)


def test_scores_made_once_are_read_back_exactly_by_the_next_commands(cli, data, scorings,
                                                                       health_hits):
    first = health(cli, data)
    assert len(scorings) == 2 and not health_hits  # as_of and a week earlier
    assert len(list(CACHE.glob("health-*"))) == 2
    plays = cli("plays", data, "--as-of", AS_OF, "--dry-run", "--format", "json")
    assert plays.exit_code == 0, plays.output
    assert len(scorings) == 2 and len(health_hits) == 2  # plays too looks a week back
    made = sorted(scorings, key=lambda h: float(h.scores["health_score"].sum()))
    read = sorted(health_hits, key=lambda h: float(h.scores["health_score"].sum()))
    for read_health, made_health in zip(read, made, strict=True):
        assert_same_health(read_health, made_health)
    assert cli("renewals", data, "--as-of", AS_OF).exit_code == 0
    assert len(scorings) == 2 + 1  # only the renewals' past dates are scored
    assert health(cli, data).stdout == first.stdout
    assert plays.stdout == cli("plays", data, "--as-of", AS_OF, "--dry-run", "--format",
                               "json", "--no-cache").stdout


def test_other_bands_score_again(cli, data, scorings, tmp_path):
    """The signal tables stay the same; the scores, keyed by the whole config, do not."""
    from csops_cli.config import default_config_text

    health(cli, data)
    other = tmp_path / "bands.yaml"
    text = default_config_text()
    assert "green: 70" in text
    other.write_text(text.replace("green: 70", "green: 40"))
    changed = health(cli, data, "--config", other).stdout
    assert len(scorings) == 4
    assert changed == health(cli, data, "--config", other, "--no-cache").stdout
    assert '"green"' in changed


def test_a_damaged_or_foreign_health_entry_is_scored_again(cli, data, scorings):
    from csops_cli.built_cache import BuiltCache
    from csops_cli.commands.common import load
    from csops_cli.options import Inputs

    reference = health(cli, data).stdout
    cut_short("health")
    assert health(cli, data).stdout == reference
    assert len(scorings) == 4
    # an entry read for other accounts than the table's is not theirs
    config, exports = load(Inputs(data=data, quiet=True))
    stored = BuiltCache.of_exports(exports, config, "health")
    assert stored is not None
    day = int(np.datetime64(AS_OF, "D").astype(np.int64))
    index = scorings[2].scores.index  # the second run's first scoring: as_of's
    good = stored.get_health(day, index)
    assert good is not None
    assert stored.get_health(day, index[1:]) is None
    assert stored.get_health(day, index[::-1]) is None
    # an entry that says of itself other columns or types than scoring makes is not used
    from dataclasses import replace

    for odd in (good.scores.drop(columns="partial"),
                good.scores.astype({"health_score": "string"}),
                good.scores[list(reversed(good.scores.columns))]):
        stored.put_health(day + 1, replace(good, scores=odd))
        assert stored.get_health(day + 1, index) is None
    stored.put_health(day + 1, replace(good, weights=good.weights.astype("float32")))
    assert stored.get_health(day + 1, index) is None
    stored.put_health(day + 1, good)
    assert_same_health(stored.get_health(day + 1, index), good)
