"""Broken and odd inputs, table-driven: each is either accepted with the right values or
refused with exit code 2, a message naming the file and line, and never a traceback."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import pytest

from csops_cli.errors import CsopsError, ProblemCode
from csops_cli.loading import load_exports

ACCOUNTS = "account_id,account_name,segment,csm_owner,champion_status\n001,Acme,SMB,Ann,active\n"
CONTRACTS = ("contract_id,account_id,start_date,end_date,arr,licenses\n"
             "C1,001,2026-01-01,2027-01-01,1200,10\n")
USAGE = "account_id,timestamp,user_id,feature\n001,2026-06-01,u1,login\n"
ACTIVITIES = "account_id,date,activity_type\n001,2026-06-01,call\n"
TEAM = "owner,role,manager\nAnn,CSM,Max\n"
BASE = {"accounts.csv": ACCOUNTS, "contracts.csv": CONTRACTS, "usage.csv": USAGE,
        "activities.csv": ACTIVITIES, "team.csv": TEAM}
CONFIG = (Path(__file__).resolve().parents[1] / "playbooks.yaml").read_text()


def folder_with(tmp_path: Path, name: str, content: bytes | str) -> Path:
    folder = tmp_path / "data"
    folder.mkdir(parents=True)
    for file, text in BASE.items():
        (folder / file).write_text(text)
    data = content if isinstance(content, bytes) else textwrap.dedent(content).lstrip("\n")
    (folder / name).write_bytes(data if isinstance(data, bytes) else data.encode())
    return folder


def line_of(fragment: str) -> int:
    """Line of the packaged config where ``fragment`` first appears."""
    return next(n for n, line in enumerate(CONFIG.splitlines(), 1) if fragment in line)


MISSING_COLUMN, NOT_A_DATE = ProblemCode.MISSING_COLUMN, ProblemCode.NOT_A_DATE
HUGE = " or ".join(["arr > 1"] * 20000)

# (id, file, content, what the core refuses it with: the problems as (code, line, column,
# value), or the error's own code when there is no problem to locate)
REFUSED = [
    ("accounts-missing-id", "accounts.csv", "name,segment\nAcme,SMB\n",
     [(MISSING_COLUMN, 1, "account_id", None)]),
    ("accounts-empty", "accounts.csv", "", [(ProblemCode.EMPTY_FILE, 1, None, None)]),
    ("accounts-header-only", "accounts.csv", "account_id,account_name\n",
     [(ProblemCode.NO_DATA_ROWS, 2, None, None)]),
    ("accounts-blank-lines-only", "accounts.csv", "\n\n  \n",
     [(ProblemCode.EMPTY_FILE, 1, None, None)]),
    ("accounts-binary", "accounts.csv", bytes(range(256)) * 4,
     [(ProblemCode.BINARY_FILE, 1, None, None)]),
    ("accounts-ragged-row", "accounts.csv", "account_id,account_name\n1,A\n2,B,extra,more\n",
     [(ProblemCode.RAGGED_ROW, 3, None, "2,B,extra,more")]),
    ("accounts-open-quote", "accounts.csv", 'account_id,account_name\n1,"Acme\n2,Beta\n',
     [(ProblemCode.OPEN_QUOTE, 2, None, None)]),
    ("accounts-blank-id", "accounts.csv", "account_id,account_name\n1,A\n  ,B\n",
     [(ProblemCode.MISSING_VALUE, 3, "account_id", "  ")]),
    ("accounts-blank-name", "accounts.csv", "account_id,account_name\n1,\n",
     [(ProblemCode.MISSING_VALUE, 2, "account_name", "")]),
    ("accounts-bad-created-date", "accounts.csv",
     "account_id,account_name,created_date\n1,A,31/31/2020\n",
     [(NOT_A_DATE, 2, "created_date", "31/31/2020")]),
    ("contracts-missing-end", "contracts.csv",
     "contract_id,account_id,start_date,arr\nC1,001,2026-01-01,5\n",
     [(MISSING_COLUMN, 1, "end_date", None)]),
    ("contracts-impossible-date", "contracts.csv",
     "contract_id,account_id,start_date,end_date,arr\nC1,001,2026-02-30,2027-01-01,5\n",
     [(NOT_A_DATE, 2, "start_date", "2026-02-30")]),
    ("contracts-day-first-without-setting", "contracts.csv",
     "contract_id,account_id,start_date,end_date,arr\nC1,001,13/01/2026,13/01/2027,5\n",
     [(NOT_A_DATE, 2, "start_date", "13/01/2026"), (NOT_A_DATE, 2, "end_date", "13/01/2027")]),
    ("contracts-number-with-text", "contracts.csv",
     "contract_id,account_id,start_date,end_date,arr\nC1,001,2026-01-01,2027-01-01,12k\n",
     [(ProblemCode.NOT_AN_AMOUNT, 2, "arr", "12k")]),
    ("contracts-decimal-comma", "contracts.csv",
     "contract_id;account_id;start_date;end_date;arr\nC1;001;2026-01-01;2027-01-01;1.200,50\n",
     [(ProblemCode.NOT_AN_AMOUNT, 2, "arr", "1.200,50")]),
    ("contracts-negative-licenses", "contracts.csv",
     "contract_id,account_id,start_date,end_date,arr,licenses\n"
     "C1,001,2026-01-01,2027-01-01,5,-3\n", [(ProblemCode.NEGATIVE_VALUE, 2, "licenses", "-3")]),
    ("contracts-licenses-text", "contracts.csv",
     "contract_id,account_id,start_date,end_date,arr,licenses\n"
     "C1,001,2026-01-01,2027-01-01,5,ten\n", [(ProblemCode.NOT_A_NUMBER, 2, "licenses", "ten")]),
    ("contracts-late-bad-amount", "contracts.csv",
     "contract_id,account_id,start_date,end_date,arr\n"
     + "".join(f"C{i},001,2026-01-01,2027-01-01,{i}\n" for i in range(3000))
     + "CX,001,2026-01-01,2027-01-01,lots\n", [(ProblemCode.NOT_AN_AMOUNT, 3002, "arr", "lots")]),
    ("usage-missing-timestamp", "usage.csv", "account_id,user_id\n001,u1\n",
     [(MISSING_COLUMN, 1, "timestamp", None)]),
    ("usage-unparseable-timestamp", "usage.csv",
     "account_id,timestamp\n001,2026-06-01\n001,yesterday\n",
     [(NOT_A_DATE, 3, "timestamp", "yesterday")]),
    ("usage-negative-count", "usage.csv", "account_id,timestamp,count\n001,2026-06-01,-4\n",
     [(ProblemCode.NEGATIVE_VALUE, 2, "count", "-4")]),
    ("usage-count-text", "usage.csv", "account_id,timestamp,count\n001,2026-06-01,many\n",
     [(ProblemCode.NOT_A_NUMBER, 2, "count", "many")]),
    ("activities-missing-type", "activities.csv", "account_id,date\n001,2026-06-01\n",
     [(MISSING_COLUMN, 1, "activity_type", None)]),
    ("activities-bad-date", "activities.csv",
     "account_id,date,activity_type\n001,2026-06-01,call\n001,06/31/2026,call\n",
     [(NOT_A_DATE, 3, "date", "06/31/2026")]),
    ("team-missing-owner", "team.csv", "role,manager\nCSM,Max\n",
     [(MISSING_COLUMN, 1, "owner", None)]),
    ("yaml-tabs", "playbooks.yaml", "version: 1\ninputs:\n\tdayfirst: true\n",
     [(ProblemCode.BAD_YAML, 3, None, None)]),
    ("yaml-syntax", "playbooks.yaml", "version: 1\nhealth: [\n",
     [(ProblemCode.BAD_YAML, 3, None, None)]),
    ("yaml-alias-bomb", "playbooks.yaml",
     "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
         f"a{i}: &a{i} [{', '.join(['*a' if i == 1 else f'*a{i - 1}'] * 10)}]\n"
         for i in range(1, 8)), ProblemCode.YAML_TOO_LARGE),
    ("yaml-python-tag", "playbooks.yaml",
     'version: 1\nx: !!python/object/apply:os.system ["echo PWNED"]\n',
     [(ProblemCode.UNSUPPORTED_YAML, 2, None, None)]),
    ("yaml-unknown-key", "playbooks.yaml", CONFIG.replace("coverage:", "coverag:"),
     [(ProblemCode.UNKNOWN_KEY, line_of("coverage:"), "coverag", None)]),
    ("yaml-wrong-type", "playbooks.yaml", CONFIG.replace("green: 70", "green: high"),
     [(ProblemCode.INVALID_VALUE, line_of("green: 70"), "health.bands.green", "high")]),
    ("yaml-negative-weight", "playbooks.yaml", CONFIG.replace("weight: 0.55\n", "weight: -1\n"),
     [(ProblemCode.INVALID_VALUE, line_of("weight: 0.55"), "health.buckets.product_usage.weight",
       "-1")]),
    ("yaml-top-level-list", "playbooks.yaml", "- a\n- b\n", ProblemCode.NOT_A_MAPPING),
    ("yaml-empty", "playbooks.yaml", "", ProblemCode.EMPTY_FILE),
    ("yaml-not-utf8", "playbooks.yaml", b"version: 1\nx: \xff\xfe\n",
     ProblemCode.UNSUPPORTED_ENCODING),
    ("yaml-unknown-owner-role", "playbooks.yaml",
     CONFIG.replace("owner: ae, due_in_days: 7", "owner: ceo, due_in_days: 7"),
     [(ProblemCode.INVALID_VALUE, line_of("owner: ae, due_in_days: 7"),
       "plays[2].actions[0].owner", "ceo")]),
    ("yaml-duplicate-play", "playbooks.yaml",
     CONFIG.replace("id: renewal_countdown", "id: expansion_signal"),
     [(ProblemCode.DUPLICATE_ID, line_of("id: renewal_countdown"), "plays[3].id", None)]),
    ("yaml-hostile-condition", "playbooks.yaml",
     CONFIG.replace("when: days_to_renewal <= 120", "when: open('/etc/passwd').read()"),
     [(ProblemCode.BAD_CONDITION, line_of("when: days_to_renewal <= 120"), "plays[3].when",
       "open('/etc/passwd').read()")]),
    ("yaml-attribute-condition", "playbooks.yaml",
     CONFIG.replace("when: days_to_renewal <= 120", "when: arr.__class__ == 1"),
     [(ProblemCode.BAD_CONDITION, line_of("when: days_to_renewal <= 120"), "plays[3].when",
       "arr.__class__ == 1")]),
    ("yaml-huge-condition", "playbooks.yaml",
     CONFIG.replace("when: days_to_renewal <= 120", "when: " + HUGE),
     [(ProblemCode.BAD_CONDITION, line_of("when: days_to_renewal <= 120"), "plays[3].when",
       HUGE[:80])]),
    ("yaml-unknown-column-mapping", "playbooks.yaml",
     CONFIG.replace("  accounts: {}", "  accounts: {owner: CSM}"),
     [(ProblemCode.UNKNOWN_NAME, line_of("  accounts: {}"), "columns.accounts.owner", None)]),
]


@pytest.mark.parametrize("case_id, file, content, expected", REFUSED,
                         ids=[case[0] for case in REFUSED])
def test_refused_with_file_line_and_fix(cli, tmp_path, case_id, file, content, expected):
    folder = folder_with(tmp_path, file, content)
    args = ["validate", folder]
    if file == "playbooks.yaml":
        args += ["--config", folder / file]
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert file in result.output, result.output

    from csops_cli.config import default_config_text, load_config, parse_config

    with pytest.raises(CsopsError) as caught:
        if file == "playbooks.yaml":
            load_config(folder / file)
        else:
            load_exports(folder, parse_config(default_config_text()))
    error = caught.value
    if isinstance(expected, ProblemCode):  # nothing to locate: the whole file is refused
        assert (error.code, error.problems) == (expected, [])
        return
    assert all(problem.file == str(folder / file) for problem in error.problems)
    assert [(p.code, p.line, p.column, p.value) for p in error.problems] == expected


def load(tmp_path, file, content, config=None):
    from csops_cli.config import default_config_text, parse_config

    folder = folder_with(tmp_path, file, content)
    return load_exports(folder, config or parse_config(default_config_text()))


def test_duplicated_header_keeps_the_first_and_the_second_as_extra(tmp_path):
    exports = load(tmp_path, "accounts.csv", "account_id,account_name,account_name\n1,A,B\n")
    frame = exports.accounts.frame
    assert frame["account_name"].tolist() == ["A"]
    assert frame["account_name_2"].tolist() == ["B"]


def test_ids_with_leading_zeros_and_spaces(tmp_path):
    exports = load(tmp_path, "accounts.csv", "account_id,account_name\n  007  , Acme \n")
    assert exports.accounts.frame[["account_id", "account_name"]].values.tolist() == [
        ["007", "Acme"]]


def test_cp1252_text(tmp_path):
    exports = load(tmp_path, "accounts.csv", "account_id,account_name\n1,Müller Café\n"
                   .encode("cp1252"))
    assert exports.accounts.frame["account_name"].tolist() == ["Müller Café"]


def test_utf16_text(tmp_path):
    exports = load(tmp_path, "accounts.csv", "account_id\taccount_name\n1\tMüller\n"
                   .encode("utf-16"))
    assert exports.accounts.frame["account_name"].tolist() == ["Müller"]


def test_very_long_field(tmp_path):
    name = "x" * 200_000
    exports = load(tmp_path, "accounts.csv", f"account_id,account_name\n1,{name}\n")
    assert exports.accounts.frame["account_name"].str.len().tolist() == [200_000]


def test_mixed_date_formats_in_one_column(tmp_path):
    exports = load(tmp_path, "contracts.csv",
                   "contract_id,account_id,start_date,end_date,arr\n"
                   "C1,001,2026-01-05,2027-01-05,1\nC2,001,1/5/2026,1/5/2027,1\n"
                   "C3,001,2026-01-05T23:30:00-05:00,2027-01-05,1\n")
    assert exports.contracts.frame["start_date"].tolist() == [
        pd.Timestamp("2026-01-05"), pd.Timestamp("2026-01-05"), pd.Timestamp("2026-01-06")]


def test_formulas_in_cells_are_kept_as_text(tmp_path):
    exports = load(tmp_path, "accounts.csv",
                   "account_id,account_name\n1,=cmd|' /C calc'!A0\n2,@SUM(A1:A2)\n")
    assert exports.accounts.frame["account_name"].tolist() == ["=cmd|' /C calc'!A0",
                                                               "@SUM(A1:A2)"]


def test_contract_ending_before_it_starts_is_accepted_and_audited(tmp_path):
    exports = load(tmp_path, "contracts.csv",
                   "contract_id,account_id,start_date,end_date,arr\n"
                   "C1,001,2026-01-01,2025-01-01,5\n")
    assert len(exports.contracts.frame) == 1  # the audit reports it (test_audit.py)


def test_negative_arr_in_parentheses(tmp_path):
    exports = load(tmp_path, "contracts.csv", "contract_id,account_id,start_date,end_date,arr\n"
                   'C1,001,2026-01-01,2027-01-01,"(1,200.50)"\n')
    assert exports.contracts.frame["arr"].tolist() == [-1200.5]


def test_unknown_champion_status_is_kept_and_scores_missing(tmp_path):
    exports = load(tmp_path, "accounts.csv",
                   "account_id,account_name,champion_status\n001,A,Maybe\n")
    assert exports.accounts.frame["champion_status"].tolist() == ["maybe"]


def test_salesforce_footer_and_whitespace_lines_are_dropped(tmp_path):
    exports = load(tmp_path, "accounts.csv",
                   'account_id,account_name\n001,A\n   \n\n"Grand Totals (1 records)"\n'
                   '"Confidential Information - Do Not Distribute"\n'
                   '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."\n')
    assert exports.accounts.frame["account_id"].tolist() == ["001"]


def test_future_and_orphan_usage_is_accepted(tmp_path):
    exports = load(tmp_path, "usage.csv", "account_id,timestamp\n001,2030-01-01\nZZZ,2026-01-01\n")
    assert len(exports.usage.usage_frame()) == 2  # ignored by signals, reported by the audit


def test_yaml_anchors_within_limits_are_fine():
    from csops_cli.config import parse_config

    text = CONFIG.replace("  bands:\n", "  bands: &bands\n", 1)
    assert parse_config(text).health.bands.green == 70


def test_missing_tokens_are_missing_in_numbers_but_text_in_names(tmp_path):
    exports = load(tmp_path, "contracts.csv",
                   "contract_id,account_id,start_date,end_date,arr,licenses\n"
                   "C1,001,2026-01-01,2027-01-01,5,N/A\nC2,001,2026-01-01,2027-01-01,5,-\n")
    assert exports.contracts.frame["licenses"].isna().tolist() == [True, True]
    named = load(tmp_path / "n", "accounts.csv", "account_id,account_name\nNaN,Null Inc\n")
    assert named.accounts.frame[["account_id", "account_name"]].values.tolist() == [
        ["NaN", "Null Inc"]]
