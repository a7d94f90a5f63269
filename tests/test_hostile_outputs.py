"""Hostile outputs, table-driven: what csops writes and shows can be trusted. An output never
replaces an input; text from data is shown as written (no markup, no terminal escapes, no
Markdown or HTML); a write that fails is a message with exit code 2 and leaves nothing broken;
histories of two data sets never mix. Driven through the CLI."""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
import sqlite3
import stat
from pathlib import Path

import pytest

from csops_cli.errors import ProblemCode

AS_OF = "2026-06-30"
WEEK_EARLIER = "2026-06-23"
CONFIG = (Path(__file__).resolve().parents[1] / "playbooks.yaml").read_text()
# the shipped plays with the health drop as a state (below 70): these small exports have one
# usage day, so no score moves and the shipped drop (an event) would never fire
DROP = "when: (health_score < 70 and previous_health_score >= 70) or health_change <= -10"
BELOW_70 = CONFIG.replace(DROP, "when: health_score < 70")
assert BELOW_70 != CONFIG
# control characters a terminal obeys: C0 (but tab and line feed, which end lines), DEL, C1
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
SGR = re.compile("\x1b\\[[0-9;]*m")  # rich's own colours, when colour is on

# (account name, how csops shows it): markup shows literally, control characters visibly
NAMES = [
    ("[b]bold[/b]", "[b]bold[/b]"),
    ("[link=//e.x]a[/link]", "[link=//e.x]a[/link]"),
    ("broken [/x] tag", "broken [/x] tag"),
    (":smile: [/]", ":smile: [/]"),
    ("\x1b]0;pwned\x07T", "\\x1b]0;pwned\\x07T"),
    ("clear\x1b[2Jscreen", "clear\\x1b[2Jscreen"),
    ("red\x1b[31mtext", "red\\x1b[31mtext"),
    ("line\nfeed", "line\\nfeed"),
    ("c1\x9bcsi", "c1\\x9bcsi"),
]
CSM = ("[red]Ann[/red]\x1b[5m", "[red]Ann[/red]\\x1b[5m")
SEGMENT = ("[/seg]\x07", "[/seg]\\x07")


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def exports(folder: Path, names: list[str], csm: str = "Ann", segment: str = "SMB",
            usage_day: str = AS_OF) -> Path:
    """One paying account per name, each with a contract renewing on 2027-01-01."""
    folder.mkdir(parents=True, exist_ok=True)
    ids = [f"{n:03d}" for n in range(1, len(names) + 1)]
    write_csv(folder / "accounts.csv", [["account_id", "account_name", "segment", "csm_owner",
                                         "champion_status"]]
              + [[i, name, segment, csm, "active"] for i, name in zip(ids, names, strict=True)])
    write_csv(folder / "contracts.csv",
              [["contract_id", "account_id", "start_date", "end_date", "arr", "licenses"]]
              + [[f"C{i}", i, "2026-01-01", "2027-01-01", str(1000 * int(i)), "10"]
                 for i in ids])
    write_csv(folder / "usage.csv", [["account_id", "timestamp", "user_id", "feature"]]
              + [[i, usage_day, f"u{k}", "login"] for i in ids for k in range(int(i) % 4)])
    write_csv(folder / "activities.csv", [["account_id", "date", "activity_type", "owner"]]
              + [[i, "2026-06-01", "call", csm] for i in ids])
    return folder


def hostile(tmp_path: Path) -> Path:
    return exports(tmp_path / "hostile", [name for name, _ in NAMES], CSM[0], SEGMENT[0])


def plain(tmp_path: Path, name: str = "data") -> Path:
    return exports(tmp_path / name, ["Acme", "Beta", "Gamma"])


def no_raw_control(text: str) -> None:
    found = RAW_CONTROL.findall(SGR.sub("", text))
    assert found == [], text


# --- input destroyed: --out never replaces a file the run reads ---------------------------------

# (case, --out relative to tmp_path, extra options): every one names an input of the run
OUT_IS_INPUT = [
    ("export", "data/accounts.csv", []),
    ("dot-segments", "data/./sub/../contracts.csv", []),
    ("symlink", "link.csv", []),
    ("hard-link", "hard.csv", []),
    ("export-named-by-option", "elsewhere/usage.csv", ["--usage", "elsewhere/usage.csv"]),
    ("config-in-folder", "data/playbooks.yaml", ["-f", "csv"]),
    ("config-by-option", "my.yaml", ["--config", "my.yaml", "-f", "json"]),
    ("history", "h.db", ["--history", "h.db", "-f", "csv"]),
    ("history-not-yet-there", "new.db", ["--history", "new.db", "-f", "csv"]),
]


@pytest.mark.parametrize("case,out,options", OUT_IS_INPUT, ids=[c[0] for c in OUT_IS_INPUT])
def test_out_naming_an_input_is_refused_and_the_input_kept(cli, tmp_path, case, out, options):
    data = plain(tmp_path)
    (data / "sub").mkdir()
    (data / "playbooks.yaml").write_text(CONFIG)
    (tmp_path / "my.yaml").write_text(CONFIG)
    (tmp_path / "link.csv").symlink_to(data / "contracts.csv")
    os.link(data / "accounts.csv", tmp_path / "hard.csv")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "usage.csv").write_bytes((data / "usage.csv").read_bytes())
    assert cli("health", data, "--history", "h.db", "-q").exit_code == 0  # h.db exists
    before = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    result = cli("health", data, "--out", out, *options, "-q")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: --out "), result.stderr
    assert " is an export this run reads " in result.stderr or " is the " in result.stderr
    assert "choose another output file" in result.stderr
    after = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    assert after == before
    assert not (tmp_path / "new.db").exists()


@pytest.mark.parametrize("command", ["health", "plays", "renewals", "coverage", "metrics",
                                     "audit", "explain"])
def test_every_command_refuses_an_out_that_is_an_export(cli, tmp_path, command):
    data = plain(tmp_path)
    before = (data / "contracts.csv").read_bytes()
    arguments = ["001", data] if command == "explain" else [data]
    result = cli(command, *arguments, "--out", data / "contracts.csv")
    assert result.exit_code == 2, result.output
    assert "choose another output file" in result.stderr
    assert (data / "contracts.csv").read_bytes() == before


def test_an_out_beside_the_inputs_is_written(cli, tmp_path):
    data = plain(tmp_path)
    result = cli("health", data, "--no-save", "--out", data / "health.csv")
    assert result.exit_code == 0, result.output
    assert (data / "health.csv").read_text().startswith("account_id,account_name,")


def test_sample_refuses_a_folder_that_holds_files_unless_forced(cli, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "accounts.csv").write_text("account_id,account_name\nREAL,Real customer\n")
    small = ["--accounts", "5", "--events", "50", "--as-of", AS_OF, "-q"]
    refused = cli("sample", folder, *small)
    assert refused.exit_code == 2, refused.output
    assert refused.stderr.startswith(f"error: {folder} already holds files"), refused.stderr
    assert "--force" in refused.stderr
    assert (folder / "accounts.csv").read_text().startswith("account_id,account_name\nREAL,")
    assert sorted(p.name for p in folder.iterdir()) == ["accounts.csv"]
    forced = cli("sample", folder, *small, "--force")
    assert forced.exit_code == 0, forced.output
    assert "REAL" not in (folder / "accounts.csv").read_text()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli("sample", empty, *small).exit_code == 0
    assert (empty / "contracts.csv").exists()
    a_file = tmp_path / "a_file"
    a_file.write_text("keep")
    assert cli("sample", a_file, *small, "--force").exit_code == 2
    assert a_file.read_text() == "keep"


# --- markup and terminal escapes: text from data is shown as written ----------------------------

def hostile_config(tmp_path: Path) -> Path:
    """The packaged plays, one renamed and measured with markup and an escape sequence."""
    text = BELOW_70.replace("name: Health drop alert",
                            'name: "[/p] Drop [b]alert[/b] \\e[2J"', 1)
    text = text.replace("measure: time to risk resolution",
                        'measure: "[link=//e.x]time[/link]"', 1)
    assert text != CONFIG
    path = tmp_path / "hostile.yaml"
    path.write_text(text)
    return path


# (command and options, texts its output shows, as written); `H` stands for the folder
SHOWN = [
    (["health", "H", "--no-save"], [shown for _, shown in NAMES] + [SEGMENT[1]]),
    (["plays", "H", "--dry-run", "--config", "C"],
     [NAMES[0][1], NAMES[5][1], CSM[1], "[/p] Drop [b]alert[/b] \\x1b[2J",
      "[link=//e.x]time[/link]"]),
    (["renewals", "H", "--days", "400"], [NAMES[0][1], NAMES[4][1], CSM[1]]),
    (["coverage", "H"], [CSM[1], SEGMENT[1]]),
    (["metrics", "H", "--by", "owner"], [CSM[1]]),
    (["explain", "002", "H"], [NAMES[1][1], CSM[1], SEGMENT[1]]),
    (["explain", "005", "H"], [NAMES[4][1]]),
    (["audit", "H"], [SEGMENT[1].replace("\\", "\\")]),
]


@pytest.mark.parametrize("colour", [False, True], ids=["no-colour", "colour"])
@pytest.mark.parametrize("arguments,expected", SHOWN, ids=[" ".join(s[0][:2]) for s in SHOWN])
def test_text_from_data_is_shown_as_written(cli, tmp_path, monkeypatch, arguments, expected,
                                            colour):
    if colour:
        monkeypatch.delenv("NO_COLOR")
        monkeypatch.setenv("FORCE_COLOR", "1")
    folder, config = hostile(tmp_path), hostile_config(tmp_path)
    arguments = [{"H": folder, "C": config}.get(a, a) for a in arguments]
    history = [] if arguments[0] in ("metrics", "audit") else ["--history", tmp_path / "h.db"]
    result = cli(*arguments, "--as-of", AS_OF, *history)
    assert result.exit_code == 0, result.output
    no_raw_control(result.stdout)
    no_raw_control(result.stderr)
    shown = SGR.sub("", result.stdout)
    for text in expected:
        assert text in shown, (text, shown)
    assert "\x1b]8;" not in result.stdout  # no live hyperlink
    if colour:
        assert SGR.search(result.stdout)  # colour was on: only data lost its power


def test_markup_and_escapes_in_names_of_files_and_folders(cli, tmp_path):
    folder = plain(tmp_path, "[/x] exports \x1b]0;t\x07")
    (folder / "accounts.csv").rename(folder / "[b]acc[i]\x1b[2J.csv")
    config = tmp_path / "[b]play[i]\x1bbooks.yaml"
    config.write_text(CONFIG)
    validated = cli("validate", folder, "--config", config)
    assert validated.exit_code == 0, validated.output
    no_raw_control(validated.output)
    assert "Exports in " + str(folder).replace("\x1b", "\\x1b").replace("\x07", "\\x07") \
        in validated.stdout
    assert "[b]acc[i]\\x1b[2J.csv" in validated.stdout
    assert "[b]play[i]\\x1bbooks.yaml" in validated.stdout
    noted = cli("health", folder, "--no-save", "--config", config)  # a note names the config
    assert noted.exit_code == 0, noted.output
    no_raw_control(noted.stderr)
    assert "config: " + str(config).replace("\x1b", "\\x1b") in noted.stderr
    initialised = cli("init", folder)  # last: it writes the folder's playbooks.yaml
    assert initialised.exit_code == 0, initialised.output
    no_raw_control(initialised.output)
    assert "the next command in " + str(folder).replace("\x1b", "\\x1b").replace(
        "\x07", "\\x07") in initialised.stdout


# (column, bad value, as the error table shows it)
BAD_VALUES = [
    ("arr", "[/x]", "[/x]"),
    ("arr", "[b]12[/b]", "[b]12[/b]"),
    ("arr", "1\x1b[2J2", "1\\x1b[2J2"),
    ("start_date", "[link=//e.x]d[/link]", "[link=//e.x]d[/link]"),
    ("start_date", "\x1b]0;t\x07", "\\x1b]0;t\\x07"),
]


@pytest.mark.parametrize("column,value,shown", BAD_VALUES)
@pytest.mark.parametrize("command", ["health", "validate"])
def test_a_bad_value_is_shown_as_written_in_the_error_table(cli, tmp_path, column, value, shown,
                                                            command):
    folder = plain(tmp_path)
    rows = list(csv.reader((folder / "contracts.csv").open()))
    rows[2][rows[0].index(column)] = value
    write_csv(folder / "contracts.csv", rows)
    result = cli(command, folder, "--no-save") if command == "health" else \
        cli(command, folder)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    no_raw_control(result.stderr)
    assert shown in result.stderr
    assert f"{folder / 'contracts.csv'}:\n" in result.stderr  # the file, above its table


def test_a_long_path_is_shown_whole_above_its_table(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    folder = plain(tmp_path / ("a-long-folder-name-" * 6) / ("and-deeper-" * 6))
    rows = list(csv.reader((folder / "contracts.csv").open()))
    rows[1][rows[0].index("end_date")] = "soon"
    rows[2][rows[0].index("end_date")] = "later"
    write_csv(folder / "contracts.csv", rows)
    result = cli("health", folder, "--no-save")
    assert result.exit_code == 2, result.output
    path = str(folder / "contracts.csv")
    assert len(path) > 200
    lines = result.stderr.splitlines()
    assert lines.count(f"{path}:") == 1
    table = lines[lines.index(f"{path}:") + 1:]
    assert table[0].split() == ["line", "column", "value", "problem", "fix"]
    assert [row.split()[:3] for row in table[1:] if row[:6].strip().isdigit()] == [
        ["2", "end_date", "soon"], ["3", "end_date", "later"]]


# --- Markdown: audit.md shows names, it does not run them ---------------------------------------

MARKDOWN_NAMES = [
    "<img src=x onerror=alert(1)>",
    "![](http://tracker.example/p.gif)",
    "[click](javascript:alert(1))",
    "pipe | in | name",
    "line\nbreak",
    "<script>alert(2)</script>",
    "# heading",
    "**strong** _em_ `code`",
]


@pytest.mark.parametrize("names", [MARKDOWN_NAMES[:5], MARKDOWN_NAMES[5:]])  # 5 shown
def test_audit_markdown_escapes_markdown_and_html_in_every_cell(cli, tmp_path, names):
    from markdown_it import MarkdownIt

    folder = exports(tmp_path / "md", names, csm="", segment="<b>Seg|ment</b>")
    result = cli("audit", folder, "--out", tmp_path / "audit.md", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    text = (tmp_path / "audit.md").read_text()
    html = MarkdownIt("commonmark").enable("table").render(text)
    for tag in ("<img", "<script", "<a ", "<b>", "<strong>", "<em>"):
        assert tag not in html, tag
    findings = text.split("## Metric definitions")[0]  # csops' own metric ids are code
    assert "<code>" not in MarkdownIt("commonmark").enable("table").render(findings)
    # the paying accounts without a CSM: one table row each, the name shown as written
    section = text.split("Paying accounts without a CSM owner")[1].split("###")[0]
    rows = [line for line in section.splitlines() if re.match(r"\| accounts\.csv \|", line)]
    assert len(rows) == len(names)
    cells = MarkdownIt("commonmark").enable("table").render(section)
    for number, name in enumerate(names, 1):
        written = name.replace("\n", "\\n")
        escaped = written.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert f"<td>{number:03d} {escaped}</td>" in cells, (escaped, cells)
    assert "&lt;b&gt;Seg|ment&lt;/b&gt;" in html


# --- permissions: a replaced file keeps its mode, a new one follows the umask -------------------

@pytest.mark.parametrize("existing_mode,umask,expected", [
    (0o644, 0o022, 0o644), (0o640, 0o022, 0o640), (0o664, 0o077, 0o664),
    (None, 0o022, 0o644), (None, 0o027, 0o640), (None, 0o077, 0o600),
])
def test_written_files_keep_their_mode_or_follow_the_umask(cli, tmp_path, existing_mode, umask,
                                                           expected):
    data = plain(tmp_path)
    out = tmp_path / "health.csv"
    if existing_mode is not None:
        out.write_text("old")
        out.chmod(existing_mode)
    previous = os.umask(umask)
    try:
        result = cli("health", data, "--no-save", "--out", out)
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == expected
    assert out.read_text().startswith("account_id,")


# --- writes that fail: a message and exit code 2, the old file intact, no temporary file --------

def read_only(folder: Path) -> Path:
    folder.mkdir()
    folder.chmod(0o555)
    return folder / "health.csv"


def no_permission(monkeypatch):
    """What a read-only folder does to a user who is not root."""
    from csops_cli import output

    def refused(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(output.os, "open", refused)


def full_disk(monkeypatch):
    from csops_cli import output

    def no_space(descriptor):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(output.os, "fsync", no_space)


# (case, --out, setup, start of the message)
WRITE_FAILURES = [
    ("a-folder", lambda tmp, mp: tmp, "is a folder; name a file in it"),
    ("no-such-folder", lambda tmp, mp: tmp / "missing" / "x.csv", "the folder "),
    ("dev-full", lambda tmp, mp: Path("/dev/full"), "the disk is full"),
    ("read-only-folder", lambda tmp, mp: read_only(tmp / "ro"), "no permission to write"),
    ("no-permission", lambda tmp, mp: no_permission(mp) or tmp / "old.csv",
     "no permission to write"),
    ("disk-full-mid-write", lambda tmp, mp: full_disk(mp) or tmp / "old.csv",
     "the disk is full"),
]


@pytest.mark.parametrize("case,target,message", WRITE_FAILURES,
                         ids=[c[0] for c in WRITE_FAILURES])
def test_a_write_that_fails_is_a_message_and_leaves_nothing_broken(cli, tmp_path, monkeypatch,
                                                                   case, target, message):
    if case == "read-only-folder" and os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    if case == "dev-full" and not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    data = plain(tmp_path)
    (tmp_path / "old.csv").write_text("the previous output\n")
    out = target(tmp_path, monkeypatch)
    result = cli("health", data, "--no-save", "--out", out, "-f", "csv", "-q")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stderr.startswith("error: ") and str(out) in result.stderr
    assert message in result.stderr, result.stderr
    assert (tmp_path / "old.csv").read_text() == "the previous output\n"
    leftovers = [p.name for p in tmp_path.rglob("*.tmp")]
    assert leftovers == []


# --- the history store: refused when unusable, never stamped when foreign -----------------------

def foreign_tables(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("INSERT INTO customers (name) VALUES ('Acme')")


def foreign_columns(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE health_snapshots (as_of TEXT, account_id TEXT, score REAL)")
        db.execute("INSERT INTO health_snapshots VALUES ('2026-06-01', '001', 50)")


def extra_table_in_csops_history(path: Path) -> None:
    v1_history(path, [])
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (text TEXT)")


def corrupt_pages(path: Path) -> None:
    """A real history, then every page after the first two overwritten."""
    v1_history(path, [("2026-06-01", f"{n:05d}", 50.0) for n in range(3000)])
    size = path.stat().st_size
    assert size > 5 * 4096
    with path.open("r+b") as handle:
        handle.seek(2 * 4096)
        handle.write(bytes([0xA5]) * (size - 2 * 4096))


def not_a_database(path: Path) -> None:
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)


# (case, how the file is made, what stderr says)
UNUSABLE_HISTORIES = [
    ("foreign-tables", foreign_tables, "not a csops history database"),
    ("foreign-columns", foreign_columns, "not a csops history database"),
    ("extra-table", extra_table_in_csops_history, "not a csops history database"),
    ("corrupt-page", corrupt_pages, "not a usable history database"),
    ("not-a-database", not_a_database, "not a usable history database"),
]


@pytest.mark.parametrize("case,make,message", UNUSABLE_HISTORIES,
                         ids=[c[0] for c in UNUSABLE_HISTORIES])
@pytest.mark.parametrize("command", ["health", "plays"])
def test_an_unusable_history_is_refused_and_left_untouched(cli, tmp_path, case, make, message,
                                                           command):
    data = plain(tmp_path)
    path = tmp_path / "h.db"
    make(path)
    before = path.read_bytes()
    result = cli(command, data, "--history", path, "-q")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stderr.startswith(f"error: {path}: {message}"), result.stderr
    assert "point --history at another file" in result.stderr
    assert path.read_bytes() == before  # not stamped, not changed


def test_a_history_whose_folder_cannot_be_made_is_refused(cli, tmp_path):
    data = plain(tmp_path)
    (tmp_path / "a_file").write_text("not a folder")
    path = tmp_path / "a_file" / "sub" / "h.db"
    result = cli("health", data, "--history", path, "-q")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {path}: cannot create its folder"), result.stderr
    assert "--no-save" in result.stderr
    assert cli("health", data, "--history", path, "--no-save", "-q").exit_code == 0


def test_an_unusable_history_says_so_by_code(tmp_path):
    from csops_cli.errors import InputError
    from csops_cli.history import History

    path = tmp_path / "h.db"
    foreign_tables(path)
    with pytest.raises(InputError) as caught:
        History.open(path, "anything")
    assert [p.code for p in caught.value.problems] == [ProblemCode.UNUSABLE_HISTORY]


# --- item 10: one history file, several data sets, never mixed ----------------------------------

def health(cli, folder, history, as_of) -> dict:
    result = cli("health", folder, "--history", history, "--as-of", as_of, "-f", "json")
    assert result.exit_code == 0, result.output
    return {r["account_id"]: r for r in json.loads(result.stdout)}


def other_company(tmp_path: Path) -> Path:
    """Another data set with the same account ids: usage only a month ago."""
    return exports(tmp_path / "other", ["Zeta", "Eta", "Theta"], usage_day="2026-05-20")


def test_two_data_sets_in_one_history_never_mix(cli, tmp_path):
    data, other = plain(tmp_path), other_company(tmp_path)
    shared = tmp_path / "h.db"
    first = health(cli, data, shared, WEEK_EARLIER)
    on_its_own = health(cli, other, tmp_path / "own.db", AS_OF)
    assert health(cli, other, shared, AS_OF) == on_its_own  # data's snapshot not used
    again = health(cli, data, shared, AS_OF)  # its own snapshot of a week earlier is used
    for account, row in again.items():
        assert row["health_change"] == pytest.approx(
            row["health_score"] - first[account]["health_score"], abs=0.11)
    with sqlite3.connect(shared) as db:
        counts = db.execute("SELECT dataset, as_of, COUNT(*) FROM health_snapshots "
                            "GROUP BY dataset, as_of ORDER BY dataset, as_of").fetchall()
    assert counts == [(str(data.resolve()), WEEK_EARLIER, 3), (str(data.resolve()), AS_OF, 3),
                      (str(other.resolve()), AS_OF, 3)]


def test_the_same_folder_by_another_path_is_the_same_data_set(cli, tmp_path):
    data = plain(tmp_path)
    (tmp_path / "link").symlink_to(data)
    first = health(cli, data, tmp_path / "h.db", WEEK_EARLIER)
    for spelling in (tmp_path / "link", tmp_path / "data" / ".." / "data"):
        later = health(cli, spelling, tmp_path / "h.db", AS_OF)
        assert [r["health_change"] for r in later.values()] == pytest.approx(
            [r["health_score"] - first[a]["health_score"] for a, r in later.items()], abs=0.11)


def test_plays_of_one_data_set_are_not_open_for_another(cli, tmp_path):
    data, other = plain(tmp_path), exports(tmp_path / "other", ["Zeta", "Eta", "Theta"])
    shared = tmp_path / "h.db"
    config = tmp_path / "below-70.yaml"
    config.write_text(BELOW_70)

    def actions(folder, history, as_of=AS_OF):
        result = cli("plays", folder, "--history", history, "--as-of", as_of, "-f", "json", "-q",
                     "--config", config)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    assert actions(data, shared, WEEK_EARLIER)  # plays fired and were recorded for data
    assert actions(other, shared) == actions(other, tmp_path / "fresh.db")
    with sqlite3.connect(shared) as db:  # other's run replaced nothing of data's
        opened = db.execute("SELECT dataset, opened, COUNT(*) FROM plays GROUP BY dataset, "
                            "opened ORDER BY dataset").fetchall()
    assert [(dataset, day) for dataset, day, _ in opened] == [
        (str(data.resolve()), WEEK_EARLIER), (str(other.resolve()), AS_OF)]


def v1_history(path: Path, snapshots: list[tuple[str, str, float]]) -> None:
    """A history as csops wrote it before data sets (schema version 1)."""
    with sqlite3.connect(path) as db:
        db.executescript("""
            CREATE TABLE health_snapshots (as_of TEXT NOT NULL, account_id TEXT NOT NULL,
                health_score REAL, health_band TEXT, usage_score REAL, relationship_score REAL,
                commercial_score REAL, partial INTEGER, arr REAL, recorded_at TEXT NOT NULL,
                PRIMARY KEY (as_of, account_id));
            CREATE TABLE plays (account_id TEXT NOT NULL, play_id TEXT NOT NULL,
                opened TEXT NOT NULL, resolved TEXT, risk INTEGER NOT NULL DEFAULT 0,
                reason TEXT, PRIMARY KEY (account_id, play_id, opened));
            PRAGMA user_version = 1;
        """)
        db.executemany("INSERT INTO health_snapshots VALUES (?, ?, ?, 'red', 0, 0, 0, 0, 1, "
                       "'2026-06-01T00:00:00+00:00')", snapshots)
        db.execute("INSERT INTO plays VALUES ('001', 'health_drop_alert', '2026-06-23', NULL, "
                   "1, 'old')")


def test_a_history_of_the_old_schema_is_kept_apart_not_mixed(cli, tmp_path):
    data = plain(tmp_path)
    path = tmp_path / "h.db"
    v1_history(path, [(WEEK_EARLIER, "001", 0.0), (WEEK_EARLIER, "002", 0.0)])
    fresh = health(cli, data, tmp_path / "fresh.db", AS_OF)
    result = cli("health", data, "--history", path, "--as-of", AS_OF, "-f", "json")
    assert result.exit_code == 0, result.output
    assert {r["account_id"]: r for r in json.loads(result.stdout)} == fresh
    assert "1 earlier snapshot(s) were recorded before csops kept data sets apart" \
        in result.stderr
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (5,)
        kept = db.execute("SELECT dataset, account_id, health_score FROM health_snapshots "
                          "WHERE as_of = ? ORDER BY account_id", (WEEK_EARLIER,)).fetchall()
        plays = db.execute("SELECT dataset, account_id, reason FROM plays").fetchall()
    old = "(recorded before data sets were kept apart)"
    assert kept == [(old, "001", 0.0), (old, "002", 0.0)]
    assert plays == [(old, "001", "old")]
    again = cli("health", data, "--history", path, "--as-of", AS_OF)
    assert again.exit_code == 0, again.output
    assert "before csops kept data sets apart" not in again.stderr  # said until it has its own


# every control character a terminal obeys but tab (NUL makes a file binary, CR ends a line
# of a CSV): one account name each, shown as \xNN
CONTROLS = [c for c in [*range(0x01, 0x20), *range(0x7f, 0xa0)] if c not in (0x09, 0x0a, 0x0d)]


def test_every_control_character_is_shown_visibly_on_a_pipe(tmp_path):
    import subprocess
    import sys

    folder = exports(tmp_path / "controls", [f"n{chr(c)}x" for c in CONTROLS])
    import csops_cli

    environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    environment["PYTHONPATH"] = str(Path(csops_cli.__file__).parents[1])
    result = subprocess.run(
        [sys.executable, "-m", "csops_cli", "health", folder, "--no-save", "--as-of", AS_OF],
        capture_output=True, text=True, env={**environment, "COLUMNS": "200"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    no_raw_control(result.stdout)
    for c in CONTROLS:
        assert f" n\\x{c:02x}x " in result.stdout, hex(c)
