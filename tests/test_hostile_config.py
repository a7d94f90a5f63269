"""Hostile configuration, conditions and dates, table-driven: each is refused with exit code 2
and a message naming the file, the line, the place (key path or column in the condition) and
the fix, never a traceback."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

from csops_cli.errors import ConfigError, ProblemCode

ROOT = Path(__file__).resolve().parents[1]
CONFIG = (ROOT / "playbooks.yaml").read_text()
ACCOUNTS = "account_id,account_name,segment,csm_owner,champion_status\n001,Acme,SMB,Ann,active\n"
CONTRACTS = ("contract_id,account_id,start_date,end_date,arr,licenses\n"
             "C1,001,2026-01-01,2027-01-01,1200,10\n")
USAGE = "account_id,timestamp,user_id,feature\n001,2026-06-01,u1,login\n"
ACTIVITIES = "account_id,date,activity_type\n001,2026-06-01,call\n"
BASE = {"accounts.csv": ACCOUNTS, "contracts.csv": CONTRACTS, "usage.csv": USAGE,
        "activities.csv": ACTIVITIES}
RENEWAL_WHEN = "when: days_to_renewal <= 120"


def data_folder(tmp_path: Path, **changed: str) -> Path:
    folder = tmp_path / "data"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (BASE | {f"{k}.csv": v for k, v in changed.items()}).items():
        (folder / name).write_text(text)
    return folder


def line_of(fragment: str, text: str = CONFIG) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def without_buckets(text: str) -> str:
    start, end = text.index("  buckets:\n"), text.index("\n# ---", text.index("  buckets:\n"))
    return text[:start] + "  buckets: {}" + text[end:]


def without_usage_signals(text: str) -> str:
    """The product_usage bucket with ``signals: {}``."""
    start = text.index("      signals:\n", text.index("    product_usage:\n"))
    end = text.index("    relationship_depth:\n", start)
    return text[:start] + "      signals: {}\n" + text[end:]


BUCKETS_LINE = line_of("  buckets:")
DEEP_FLOW = "version: 1\nx: " + "[" * 5000 + "]" * 5000 + "\n"
DEEP_BLOCK = "version: 1\n" + "".join(" " * level + f"k{level}:\n" for level in range(5000))
DIGITS_1900 = "9" * 1900
DIGITS_400 = "1" * 400

# (id, config text, [(code, line, column, in the message, in the fix)])
REFUSED = [
    ("yaml-nested-5000-deep-flow", DEEP_FLOW,
     # the root mapping is level 1, the n-th '[' level n + 1: the 50th, after "x: ", is too deep
     [(ProblemCode.YAML_TOO_DEEP, 2, None, "more than 50 levels deep (at column 53)",
       "remove the extra brackets")]),
    ("yaml-nested-5000-deep-block", DEEP_BLOCK,
     # k0 is held by level 1 (the root), k49 (line 51, column 50) by level 50: its value is
     # the 51st level
     [(ProblemCode.YAML_TOO_DEEP, 51, None, "more than 50 levels deep (at column 50)",
       "remove the extra brackets or indentation")]),
    ("yaml-duplicate-top-level-key", CONFIG.replace("version: 1\n", "version: 1\nversion: 1\n", 1),
     [(ProblemCode.DUPLICATE_KEY, line_of("version: 1") + 1, "version",
       f"key 'version' is given twice, on lines {line_of('version: 1')} and "
       f"{line_of('version: 1') + 1}", "keep one of them")]),
    ("yaml-duplicate-section", CONFIG + "plays: []\n",
     [(ProblemCode.DUPLICATE_KEY, len(CONFIG.splitlines()) + 1, "plays",
       f"on lines {line_of('plays:')} and {len(CONFIG.splitlines()) + 1}", "keep one")]),
    ("yaml-duplicate-nested-key", CONFIG.replace("    green: 70", "    green: 70\n    green: 75"),
     [(ProblemCode.DUPLICATE_KEY, line_of("green: 70") + 1, "health.bands.green",
       f"on lines {line_of('green: 70')} and {line_of('green: 70') + 1}", "keep one")]),
    ("yaml-duplicate-key-in-a-list-item",
     CONFIG.replace("    " + RENEWAL_WHEN, f"    {RENEWAL_WHEN}\n    when: arr > 0"),
     [(ProblemCode.DUPLICATE_KEY, line_of(RENEWAL_WHEN) + 1, "plays[3].when",
       f"on lines {line_of(RENEWAL_WHEN)} and {line_of(RENEWAL_WHEN) + 1}", "keep one")]),
    ("yaml-duplicate-key-on-one-line", "version: 1\nx: {a: 1, a: 2}\n",
     [(ProblemCode.DUPLICATE_KEY, 2, "x.a", "key 'a' is given twice, on line 2", "keep one")]),
    ("yaml-integer-over-4300-digits", CONFIG.replace("green: 70", "green: " + "7" * 4301),
     [(ProblemCode.INVALID_VALUE, line_of("green: 70"), None,
       "a number of 4,301 digits (at column 12)", "write a smaller number")]),
    ("yaml-hex-integer-of-5000-digits", "version: 0x" + "f" * 5000 + "\n",
     [(ProblemCode.INVALID_VALUE, 1, None, "a number of 5,002 digits", "smaller number")]),
    ("health-buckets-empty", without_buckets(CONFIG),
     [(ProblemCode.INVALID_VALUE, BUCKETS_LINE, "health.buckets",
       "no bucket: the health score has nothing to weigh", "at least one bucket")]),
    ("health-bucket-without-signals",
     without_usage_signals(CONFIG),
     [(ProblemCode.INVALID_VALUE, line_of("weight: 0.55") + 1,
       "health.buckets.product_usage.signals", "a bucket without signals scores nothing",
       "at least one signal")]),
    ("play-due-past-ten-years", CONFIG.replace("due_in_days: 7", "due_in_days: 100000", 1),
     [(ProblemCode.INVALID_VALUE, line_of("due_in_days: 7"), "plays[0].actions[2].due_in_days",
       "less than or equal to 3650", "range")]),
    ("metric-window-past-a-hundred-years", CONFIG.replace("window_days: 180",
                                                          "window_days: 1000000000", 1),
     [(ProblemCode.INVALID_VALUE, line_of("window_days: 180"), "metrics.ttfv.window_days",
       "less than or equal to 36500", "range")]),
    ("weight-infinite", CONFIG.replace("weight: 0.55", "weight: .inf", 1),
     [(ProblemCode.INVALID_VALUE, line_of("weight: 0.55"), "health.buckets.product_usage.weight",
       "a finite number", "write a plain number")]),
    ("band-not-a-number", CONFIG.replace("green: 70", "green: .nan", 1),
     [(ProblemCode.INVALID_VALUE, line_of("green: 70"), "health.bands.green",
       "a finite number", "write a plain number")]),
    ("segment-threshold-1e400", CONFIG.replace("min_arr: 20000", "min_arr: 1e400", 1),
     [(ProblemCode.INVALID_VALUE, line_of("min_arr: 20000"), "segments[1].min_arr",
       "a finite number", "write a plain number")]),
    ("condition-1900-digit-number", CONFIG.replace(RENEWAL_WHEN, "when: arr > " + DIGITS_1900),
     [(ProblemCode.BAD_CONDITION, line_of(RENEWAL_WHEN), "plays[3].when",
       "the number of 1,900 digits is larger than any value csops compares", "smaller")]),
    ("condition-400-digit-number-in-a-list",
     CONFIG.replace(RENEWAL_WHEN, f"when: arr in [1, {DIGITS_400}]"),
     [(ProblemCode.BAD_CONDITION, line_of(RENEWAL_WHEN), "plays[3].when",
       "the number of 400 digits is larger than any value csops compares (about 1.8e+308) "
       "(at column 12)", "write a smaller number")]),
    ("condition-negative-400-digit-number-in-a-list",
     CONFIG.replace(RENEWAL_WHEN, f"when: arr not in [-{DIGITS_400}]"),
     [(ProblemCode.BAD_CONDITION, line_of(RENEWAL_WHEN), "plays[3].when",
       "(at column 14)", "write a smaller number")]),
    ("condition-power-in-a-list", CONFIG.replace(RENEWAL_WHEN, "when: arr in [10**400]"),
     [(ProblemCode.BAD_CONDITION, line_of(RENEWAL_WHEN), "plays[3].when",
       "a list may only hold numbers, text, true, false or null (at column 9)",
       "write each item out")]),
    ("condition-infinite-float", CONFIG.replace(RENEWAL_WHEN, "when: arr > 1e400"),
     [(ProblemCode.BAD_CONDITION, line_of(RENEWAL_WHEN), "plays[3].when",
       "the number is larger than any value csops compares", "smaller")]),
    ("source-derive-huge-number", CONFIG.replace(
        "\ncolumns:\n", "\nsources:\n  contracts:\n    - id: mine\n      derive: {arr: arr * "
        + DIGITS_1900 + "}\ncolumns:\n", 1),
     [(ProblemCode.BAD_CONDITION, line_of("columns:") + 3,
       "sources.contracts[0].derive.arr", "of 1,900 digits", "smaller")]),
]


@pytest.mark.parametrize("case_id, text, expected", REFUSED, ids=[c[0] for c in REFUSED])
def test_config_refused_with_line_place_and_fix(cli, tmp_path, case_id, text, expected):
    from csops_cli.config import load_config

    folder = data_folder(tmp_path)
    config = folder / "playbooks.yaml"
    config.write_text(text)
    result = cli("validate", folder, "--config", config)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert str(config) in result.output

    with pytest.raises(ConfigError) as caught:
        load_config(config)
    problems = caught.value.problems
    assert len(problems) == len(expected), problems
    for problem, (code, line, column, message, fix) in zip(problems, expected, strict=True):
        assert (problem.file, problem.code, problem.line, problem.column) == (
            str(config), code, line, column)
        assert message in problem.message
        assert fix in (problem.fix or "")


def test_yaml_safe_load_semantics_are_kept():
    """Anchors, aliases and merge keys still work: a merge key is not a duplicate."""
    from csops_cli.config import parse_config

    text = CONFIG.replace("  bands:\n    green: 70", "  bands: &bands\n    green: 70", 1)
    text = text.replace("coverage:\n", "x_bands: {<<: *bands, <<: *bands}\ncoverage:\n", 1)
    with pytest.raises(ConfigError) as caught:  # only the unknown key is a problem
        parse_config(text)
    assert [p.code for p in caught.value.problems] == [ProblemCode.UNKNOWN_KEY]
    deep_enough = CONFIG.replace("inputs:", "x: " + "[" * 45 + "]" * 45 + "\ninputs:", 1)
    with pytest.raises(ConfigError) as caught:
        parse_config(deep_enough)
    assert [p.code for p in caught.value.problems] == [ProblemCode.UNKNOWN_KEY]
    big = CONFIG.replace("green: 70", "green: " + "7" * 300)  # a float holds 300 digits
    assert parse_config(big).health.bands.green == float("7" * 300)


# --- conditions against the signal table --------------------------------------------------

# (id, condition, message, column in the condition, fix)
REFUSED_WHEN_COMPILED = [
    ("text-that-is-no-date", "renewal_date > 'soon'", "'soon' is not a date", 16, "YYYY-MM-DD"),
    ("text-that-is-no-date-on-the-left", "arr > 0 and 'soon' < renewal_date",
     "'soon' is not a date", 13, "YYYY-MM-DD"),
    ("date-equal-to-text", "renewal_date == 'next week'", "'next week' is not a date", 17,
     "YYYY-MM-DD"),
    ("digit-pandas-cannot-read", "renewal_date > '\U0001d7ce'", "'\U0001d7ce' is not a date", 16,
     "YYYY-MM-DD"),
    ("the-clock-instead-of-as-of", "renewal_date < 'today'", "'today' is the clock's date, "
     "not as_of", 16, "days_to_renewal <= 30"),
]


@pytest.mark.parametrize("case_id, when, message, column, fix", REFUSED_WHEN_COMPILED,
                         ids=[c[0] for c in REFUSED_WHEN_COMPILED])
def test_condition_refused_with_play_line_position_and_fix(cli, tmp_path, case_id, when,
                                                          message, column, fix):
    folder = data_folder(tmp_path)
    config = folder / "playbooks.yaml"
    config.write_text(CONFIG.replace(RENEWAL_WHEN, f"when: {when}"))
    result = cli("plays", folder, "--config", config, "--as-of", "2026-06-30")
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert str(config) in result.stderr and "renewal_countdown" in result.stderr

    from csops_cli import jobs
    from csops_cli.config import load_config
    from csops_cli.history import History
    from csops_cli.loading import load_exports

    loaded = load_config(config)[1]
    with pytest.raises(ConfigError) as caught:
        jobs.run_plays(load_exports(folder, loaded), loaded, "2026-06-30",
                       History(tmp_path / "h.db"), record=False)
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.column, problem.code) == (
        str(config), line_of(RENEWAL_WHEN), "plays.renewal_countdown.when",
        ProblemCode.BAD_CONDITION)
    assert f"play 'renewal_countdown': {message}" in problem.message
    assert f"← here at column {column}" in problem.message
    assert fix in problem.fix


def test_condition_error_while_evaluating_names_the_play_line_and_fix(tmp_path, monkeypatch):
    """What compiling cannot know fails on the values; it is reported like a compile error."""
    from csops_cli import plays
    from csops_cli.conditions import Condition, ConditionError
    from csops_cli.config import parse_config

    config = parse_config(CONFIG, "my.yaml")

    def fails(frame):
        raise ConditionError("'x' is not a date", 16, fix="write a date as 'YYYY-MM-DD'")

    monkeypatch.setattr(plays, "compile_all", lambda config, frame: {
        play.id: Condition(play.when, (), fails) for play in config.plays})
    frame = pd.DataFrame({"health_band": ["green"], "arr": [1.0]}, index=["001"])
    with pytest.raises(ConfigError) as caught:
        plays.evaluate(frame, config, pd.Timestamp("2026-06-30"), None,
                       pd.DataFrame(columns=["account_id", "play_id", "opened"]))
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.column) == (
        "my.yaml", line_of("when: days_since_new_contract"), "plays.onboarding_checklist.when")
    assert "'x' is not a date" in problem.message and "column 16" in problem.message
    assert problem.fix == "write a date as 'YYYY-MM-DD'"


def test_text_against_date_prints_no_pandas_warning(cli, tmp_path):
    from csops_cli.conditions import compile_condition

    frame = pd.DataFrame({"renewal_date": pd.to_datetime(["2026-01-01", "2026-03-01", None]),
                          "segment": ["SMB", "2026-02-01", "x"]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = compile_condition("renewal_date < segment", frame)(frame)
    assert caught == []
    assert result.tolist() == [False, False, False]  # '2026-02-01' is read as a date
    assert compile_condition("renewal_date > segment", frame)(frame).tolist() == [
        False, True, False]

    folder = data_folder(tmp_path)
    config = folder / "playbooks.yaml"
    config.write_text(CONFIG.replace(RENEWAL_WHEN, "when: renewal_date > segment"))
    run = cli("plays", folder, "--config", config, "--as-of", "2026-06-30", "-q")
    assert run.exit_code == 0, run.output
    assert run.stderr == ""


# --- dates outside what csops computes with ------------------------------------------------

@pytest.mark.parametrize("command", ["health", "plays", "renewals", "metrics", "audit"])
@pytest.mark.parametrize("as_of", ["0001-01-01", "9999-12-31", "1899-12-31", "2200-01-01"])
def test_as_of_outside_the_supported_range(cli, tmp_path, command, as_of):
    result = cli(command, data_folder(tmp_path), "--as-of", as_of)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr.strip() == (f"error: --as-of {as_of} is outside the dates csops "
                                      "supports: give a date from 1900-01-01 to 2199-12-31")


@pytest.mark.parametrize("as_of", ["1900-01-01", "2199-12-31"])
def test_as_of_at_the_ends_of_the_range_works(cli, tmp_path, as_of):
    folder = data_folder(tmp_path)
    for command in ("health", "plays"):
        result = cli(command, folder, "--as-of", as_of, "-q", "-f", "json")
        assert result.exit_code == 0, result.output


def test_contracts_ending_in_year_9999_work(cli, tmp_path):
    folder = data_folder(tmp_path, contracts=CONTRACTS.replace("2027-01-01", "9999-12-31"))
    result = cli("plays", folder, "--as-of", "2026-06-30", "-q", "-f", "json")
    assert result.exit_code == 0, result.output
    health = cli("health", folder, "--as-of", "2026-06-30", "-q", "-f", "json")
    assert health.exit_code == 0, health.output
    assert json.loads(health.stdout)[0]["renewal_date"] == "9999-12-31"



# --- validate runs the audit's error checks; health notes them ------------------------------

# (id, export changed, row appended, check title, line of the row, example shown)
DATA_ERRORS = [
    ("negative-arr", "contracts", "C2,001,2026-01-01,2027-01-01,(500),1\n",
     "Contracts with negative ARR", 3, "C2: arr -500.00"),
    ("end-before-start", "contracts", "C2,001,2026-01-01,2025-06-01,500,1\n",
     "Contracts ending on or before their start", 3, "C2: 2026-01-01 → 2025-06-01"),
    ("duplicate-account-id", "accounts", "001,Acme again,SMB,Ann,active\n",
     "Duplicate account IDs", 3, "account_id 001 seen before"),
    ("contract-of-unknown-account", "contracts", "C2,ZZZ,2026-01-01,2027-01-01,500,1\n",
     "Contracts rows for accounts missing from the accounts export", 3, "account_id ZZZ"),
    ("usage-dated-2062", "usage", "001,2062-03-01,u1,login\n", "Usage dated after today", 3,
     "001: 2062-03-01"),
    ("activities-dated-2062", "activities", "001,2062-03-01,call\n",
     "Activities dated after today", 3, "001: 2062-03-01"),
]


@pytest.mark.parametrize("case_id, table, row, title, line, example", DATA_ERRORS,
                         ids=[c[0] for c in DATA_ERRORS])
def test_validate_refuses_what_the_audit_counts_as_an_error(cli, tmp_path, case_id, table, row,
                                                           title, line, example):
    folder = data_folder(tmp_path, **{table: BASE[f"{table}.csv"] + row})
    result = cli("validate", folder)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr == "error: 1 row(s) fail the audit's error checks (listed above)\n"
    assert "All exports and the configuration are valid" not in result.output
    listed = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert any(entry.startswith(f"{title.split(' (')[0]}") and f" 1 {table}.csv {line} "
               f"{example}" in entry for entry in listed), result.stdout
    # the same data fails the audit's --strict
    audit = cli("audit", folder, "--as-of", "2026-06-30", "--strict", "-q", "-f", "json")
    assert audit.exit_code == 1
    assert [f["title"] for f in json.loads(audit.stdout)["findings"]
            if f["severity"] == "error"] == [title if "today" not in title
                                             else f"{title} ({pd.Timestamp.today():%Y-%m-%d})"]


def test_validate_of_clean_exports_still_passes(cli, tmp_path):
    result = cli("validate", data_folder(tmp_path))
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith("All exports and the configuration are valid.")


def test_validate_lists_every_error_and_a_count_of_all(cli, tmp_path):
    contracts = CONTRACTS + "".join(f"N{i},001,2026-01-01,2027-01-01,-{i + 1},1\n"
                                    for i in range(7))
    folder = data_folder(tmp_path, contracts=contracts, usage=USAGE + "001,2062-03-01,u1,x\n")
    result = cli("validate", folder)
    assert result.exit_code == 2
    assert result.stderr == "error: 8 row(s) fail the audit's error checks (listed above)\n"
    listed = [" ".join(line.split()) for line in result.stdout.splitlines()]
    # the first five examples of a check are shown, with the count of all seven
    assert [entry for entry in listed if "contracts.csv" in entry and "│" not in entry] == [
        "Contracts with negative ARR 7 contracts.csv 3 N0: arr -1.00 credit notes are not "
        "contracts: remove them or fix the amount",
        "contracts.csv 4 N1: arr -2.00",
        "contracts.csv 5 N2: arr -3.00",
        "contracts.csv 6 N3: arr -4.00",
        "contracts.csv 7 N4: arr -5.00"]


def test_health_notes_rows_that_fail_the_error_checks(cli, tmp_path):
    folder = data_folder(tmp_path, contracts=CONTRACTS + "C2,001,2026-01-01,2025-06-01,-5,1\n")
    result = cli("health", folder, "--as-of", "2026-06-30", "--no-save", "-f", "json")
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if "error checks" in line]
    assert notes == ["note: 2 row(s) fail the audit's error checks (Contracts with negative ARR: "
                     "1; Contracts ending on or before their start: 1); see them with "
                     f"`csops audit {folder}`"]
    clean = cli("health", data_folder(tmp_path / "clean"), "--as-of", "2026-06-30", "--no-save",
                "-f", "json")
    assert clean.exit_code == 0 and "error checks" not in clean.stderr
