"""Every bad-input path: exit code 2 and no traceback from the CLI; from the core, the problems
by code, file, line, column and value, exactly."""

from pathlib import Path

import pytest

from conftest import FIVE_ACCOUNTS, FIVE_CONTRACTS, write
from csops_cli.errors import CsopsError, ProblemCode

CONTRACTS_HEADER = "contract_id,account_id,start_date,end_date,arr\n"


def folder_with(tmp_path, accounts=FIVE_ACCOUNTS, contracts=FIVE_CONTRACTS, **extra):
    folder = tmp_path / "data"
    folder.mkdir(exist_ok=True)
    if accounts is not None:
        write(folder, "accounts.csv", accounts)
    if contracts is not None:
        write(folder, "contracts.csv", contracts)
    for name, text in extra.items():
        write(folder, name.replace("_", "."), text)
    return folder


def assert_clean_failure(result, *fragments):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception,
                                                                     SystemExit)
    for fragment in fragments:
        assert fragment in result.output, (fragment, result.output)


def refusal(folder: Path, config: Path | None = None) -> CsopsError:
    """The error the core raises for what `csops health FOLDER [--config CONFIG]` reads."""
    from csops_cli.config import load_config
    from csops_cli.loading import load_exports

    with pytest.raises(CsopsError) as caught:
        _, settings = load_config(config)
        load_exports(folder, settings)
    return caught.value


def located(error: CsopsError) -> list[tuple]:
    """(file name, code, line, column, value) of each problem."""
    return [(Path(p.file).name, p.code, p.line, p.column, p.value) for p in error.problems]


def test_missing_required_column(cli, tmp_path):
    folder = folder_with(tmp_path, contracts="contract_id,account_id,start_date,arr\n"
                                             "c1,001,2026-01-01,5\n")
    assert_clean_failure(cli("health", folder), "contracts.csv")
    error = refusal(folder)
    assert located(error) == [("contracts.csv", ProblemCode.MISSING_COLUMN, 1, "end_date", None)]
    # start_date is the only date column and is already start_date: nothing else fits
    assert error.problems[0].fix == ("no column of this file fits end_date; map it in sources: "
                                     "(contracts: columns: end_date: \"Your header\")")


def test_bad_date_names_file_line_column_and_value(cli, tmp_path):
    folder = folder_with(tmp_path, contracts=CONTRACTS_HEADER
                         + "c1,001,2026-01-01,2027-01-01,5\n\nc2,001,2026-02-31,2027-01-01,5\n")
    assert_clean_failure(cli("health", folder), "contracts.csv", "2026-02-31")
    # the blank line 3 counts: the bad row is line 4
    assert located(refusal(folder)) == [
        ("contracts.csv", ProblemCode.NOT_A_DATE, 4, "start_date", "2026-02-31")]


def test_bad_number(cli, tmp_path):
    folder = folder_with(tmp_path, contracts=CONTRACTS_HEADER
                         + "c1,001,2026-01-01,2027-01-01,twelve\n")
    assert_clean_failure(cli("health", folder), "contracts.csv", "twelve")
    assert located(refusal(folder)) == [
        ("contracts.csv", ProblemCode.NOT_AN_AMOUNT, 2, "arr", "twelve")]


def test_all_problems_of_a_file_are_shown_together_with_a_count(cli, tmp_path):
    rows = "".join(f"c{i},001,2026-01-01,2027-01-01,bad{i}\n" for i in range(25))
    folder = folder_with(tmp_path, contracts=CONTRACTS_HEADER + rows)
    result = cli("health", folder)
    assert_clean_failure(result, "25 problem(s)", "bad0", "bad19", "and 5 more")
    assert "bad20" not in result.output
    error = refusal(folder)
    assert error.total == 25
    assert located(error) == [("contracts.csv", ProblemCode.NOT_AN_AMOUNT, i + 2, "arr",
                               f"bad{i}") for i in range(20)]


def test_problems_of_a_file_are_in_line_order_whatever_their_column(tmp_path):
    folder = folder_with(tmp_path, contracts=CONTRACTS_HEADER
                         + "c1,001,2026-01-01,2027-01-01,lots\nc2,001,later,2027-01-01,5\n")
    assert located(refusal(folder)) == [
        ("contracts.csv", ProblemCode.NOT_AN_AMOUNT, 2, "arr", "lots"),
        ("contracts.csv", ProblemCode.NOT_A_DATE, 3, "start_date", "later")]


def test_empty_file(cli, tmp_path):
    folder = folder_with(tmp_path, contracts="")
    assert_clean_failure(cli("health", folder), "contracts.csv")
    assert located(refusal(folder)) == [("contracts.csv", ProblemCode.EMPTY_FILE, 1, None, None)]


def test_header_only_file(cli, tmp_path):
    folder = folder_with(tmp_path, contracts=CONTRACTS_HEADER)
    assert_clean_failure(cli("health", folder), "contracts.csv")
    assert located(refusal(folder)) == [
        ("contracts.csv", ProblemCode.NO_DATA_ROWS, 2, None, None)]


def test_missing_folder(cli, tmp_path):
    assert_clean_failure(cli("health", tmp_path / "nope"), "nope")
    assert located(refusal(tmp_path / "nope")) == [
        ("nope", ProblemCode.NO_SUCH_FOLDER, None, None, None)]


def test_a_file_given_as_the_folder(cli, tmp_path):
    folder = folder_with(tmp_path)
    assert_clean_failure(cli("health", folder / "accounts.csv"), "accounts.csv")
    error = refusal(folder / "accounts.csv")
    assert (error.code, error.problems) == (ProblemCode.NOT_A_FOLDER, [])


def test_two_files_for_one_table(cli, tmp_path):
    folder = folder_with(tmp_path, contracts_xlsx="not really a workbook")
    assert_clean_failure(cli("health", folder), "contracts.csv, contracts.xlsx")
    error = refusal(folder)
    assert (error.code, error.problems) == (ProblemCode.DUPLICATE_EXPORT, [])


def test_a_named_file_that_is_not_there(cli, tmp_path):
    folder = folder_with(tmp_path)
    assert_clean_failure(cli("health", folder, "--usage", tmp_path / "u.csv"), "u.csv")
    from csops_cli.config import default_config_text, parse_config
    from csops_cli.loading import load_exports

    with pytest.raises(CsopsError) as caught:
        load_exports(folder, parse_config(default_config_text()),
                     {"usage": tmp_path / "u.csv"})
    assert (caught.value.code, caught.value.problems) == (ProblemCode.FILE_NOT_FOUND, [])


def test_missing_required_export(cli, tmp_path):
    folder = folder_with(tmp_path, contracts=None)
    assert_clean_failure(cli("health", folder), "add contracts.csv")
    assert located(refusal(folder)) == [("data", ProblemCode.MISSING_EXPORT, None, None, None)]


def test_missing_required_value(cli, tmp_path):
    folder = folder_with(tmp_path, contracts=CONTRACTS_HEADER + "c1,,2026-01-01,2027-01-01,5\n")
    assert_clean_failure(cli("health", folder), "contracts.csv")
    assert located(refusal(folder)) == [
        ("contracts.csv", ProblemCode.MISSING_VALUE, 2, "account_id", "")]


def test_ragged_row(cli, tmp_path):
    folder = folder_with(tmp_path, contracts=CONTRACTS_HEADER
                         + "c1,001,2026-01-01,2027-01-01,5\nc2,001,2026-01-01,2027-01-01,5,9\n")
    assert_clean_failure(cli("health", folder), "contracts.csv")
    error = refusal(folder)
    assert located(error) == [("contracts.csv", ProblemCode.RAGGED_ROW, 3, None,
                               "c2,001,2026-01-01,2027-01-01,5,9")]
    assert error.problems[0].message == "expected 5 fields, found 6"


def test_binary_file(cli, tmp_path):
    folder = folder_with(tmp_path)
    (folder / "contracts.csv").write_bytes(b"\x00\x01\x02PK\x03\x04" * 50)
    assert_clean_failure(cli("health", folder), "contracts.csv")
    assert located(refusal(folder)) == [("contracts.csv", ProblemCode.BINARY_FILE, 1, None, None)]


def test_problems_in_two_files_are_reported_together(cli, tmp_path):
    folder = folder_with(tmp_path, contracts=CONTRACTS_HEADER + "c1,001,x,2027-01-01,5\n",
                         usage_csv="account_id,timestamp\n001,yesterday\n")
    assert_clean_failure(cli("health", folder), "contracts.csv", "usage.csv")
    assert located(refusal(folder)) == [
        ("contracts.csv", ProblemCode.NOT_A_DATE, 2, "start_date", "x"),
        ("usage.csv", ProblemCode.NOT_A_DATE, 2, "timestamp", "yesterday")]


def test_unknown_yaml_key_names_line_and_nearest_key(cli, tmp_path):
    folder = folder_with(tmp_path)
    config = write(tmp_path, "playbooks.yaml", "version: 1\ninputs:\n  dayfrist: true\n")
    assert_clean_failure(cli("health", folder, "--config", config), "playbooks.yaml")
    error = refusal(folder, config)
    assert located(error)[0] == ("playbooks.yaml", ProblemCode.UNKNOWN_KEY, 3,
                                 "inputs.dayfrist", None)
    assert error.problems[0].fix == "did you mean 'dayfirst'?"


def test_yaml_syntax_error_names_the_line(cli, tmp_path):
    folder = folder_with(tmp_path)
    config = write(tmp_path, "bad.yaml", "version: 1\nhealth:\n  bands: [green\n  x: 1\n")
    assert_clean_failure(cli("health", folder, "--config", config), "bad.yaml")
    assert located(refusal(folder, config)) == [("bad.yaml", ProblemCode.BAD_YAML, 4, None, None)]


def test_yaml_tabs_get_a_specific_fix(cli, tmp_path):
    folder = folder_with(tmp_path)
    config = write(tmp_path, "tabs.yaml", "version: 1\ninputs:\n\tdayfirst: true\n")
    assert_clean_failure(cli("validate", folder, "--config", config), "tabs.yaml")
    error = refusal(folder, config)
    assert located(error) == [("tabs.yaml", ProblemCode.BAD_YAML, 3, None, None)]
    assert error.problems[0].fix == "YAML does not allow tabs for indentation; use spaces"


def test_unknown_signal_in_health_model(cli, tmp_path):
    from csops_cli.config import default_config_text

    text = default_config_text().replace("meetings_90d: {", "meetings_90: {")
    folder = folder_with(tmp_path)
    config = write(tmp_path, "p.yaml", text)
    assert_clean_failure(cli("health", folder, "--config", config), "p.yaml")
    error = refusal(folder, config)
    line = text.splitlines().index("        meetings_90: {weight: 0.35, bad: 0, good: 2}") + 1
    assert located(error) == [("p.yaml", ProblemCode.UNKNOWN_NAME, line,
                               "health.buckets.relationship_depth.signals.meetings_90", None)]
    assert error.problems[0].message.endswith("did you mean 'meetings_90d'?")


def test_missing_config_file(cli, tmp_path):
    folder = folder_with(tmp_path)
    assert_clean_failure(cli("health", folder, "--config", tmp_path / "none.yaml"), "none.yaml")
    error = refusal(folder, tmp_path / "none.yaml")
    assert (error.code, error.problems) == (ProblemCode.FILE_NOT_FOUND, [])


@pytest.mark.parametrize("as_of", ["yesterday", "2026-13-01", "06/30/2026"])
def test_bad_as_of(cli, tmp_path, as_of):
    folder = folder_with(tmp_path)
    assert_clean_failure(cli("health", folder, "--as-of", as_of), "--as-of", "YYYY-MM-DD")


def test_unknown_account_in_explain_suggests_close_ones(cli, five):
    result = cli("explain", "Alpah", five, "--as-of", "2026-06-30")
    assert_clean_failure(result, "no account 'Alpah'", "Alpha")


def test_bad_output_suffix(cli, five):
    assert_clean_failure(cli("health", five, "--out", "x.pdf"), ".pdf")


def test_alias_bomb_is_refused(cli, tmp_path):
    folder = folder_with(tmp_path)
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    config = write(tmp_path, "bomb.yaml", "\n".join(lines) + "\n")
    assert_clean_failure(cli("health", folder, "--config", config), "bomb.yaml")
    error = refusal(folder, config)
    assert (error.code, error.problems) == (ProblemCode.YAML_TOO_LARGE, [])


def test_validate_lists_problems_of_every_file_and_exits_2(cli, tmp_path):
    folder = folder_with(tmp_path, contracts=CONTRACTS_HEADER + "c1,001,x,2027-01-01,5\n",
                         activities_csv="account_id,date,activity_type\n001,2026-01-01,call\n"
                                        "002,soon,call\n")
    result = cli("validate", folder)
    assert_clean_failure(result, "contracts.csv", "activities.csv", "soon", "2 problem(s)")
    assert located(refusal(folder)) == [
        ("contracts.csv", ProblemCode.NOT_A_DATE, 2, "start_date", "x"),
        ("activities.csv", ProblemCode.NOT_A_DATE, 3, "date", "soon")]
