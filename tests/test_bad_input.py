"""Every bad-input path: exit code 2, the file and line named, a fix, and no traceback."""

import pytest

from conftest import FIVE_ACCOUNTS, FIVE_CONTRACTS, write

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


def test_missing_required_column(cli, tmp_path):
    folder = folder_with(tmp_path, contracts="contract_id,account_id,start_date,arr\n"
                                             "c1,001,2026-01-01,5\n")
    result = cli("health", folder)
    assert_clean_failure(result, "contracts.csv", "end_date", "required column",
                         "map it in playbooks.yaml")


def test_bad_date_names_file_line_column_and_value(cli, tmp_path):
    folder = folder_with(tmp_path, contracts=CONTRACTS_HEADER
                         + "c1,001,2026-01-01,2027-01-01,5\n\nc2,001,2026-02-31,2027-01-01,5\n")
    result = cli("health", folder)
    assert_clean_failure(result, "contracts.csv", "not a date", "2026-02-31", "start_date")
    assert " 4 " in result.output  # the blank line 3 counts: the bad row is line 4


def test_bad_number(cli, tmp_path):
    folder = folder_with(tmp_path, contracts=CONTRACTS_HEADER
                         + "c1,001,2026-01-01,2027-01-01,twelve\n")
    result = cli("health", folder)
    assert_clean_failure(result, "contracts.csv", "not an amount", "twelve", " 2 ")


def test_all_problems_of_a_file_are_shown_together_with_a_count(cli, tmp_path):
    rows = "".join(f"c{i},001,2026-01-01,2027-01-01,bad{i}\n" for i in range(25))
    folder = folder_with(tmp_path, contracts=CONTRACTS_HEADER + rows)
    result = cli("health", folder)
    assert_clean_failure(result, "25 problem(s)", "bad0", "bad19", "and 5 more")
    assert "bad20" not in result.output


def test_empty_file(cli, tmp_path):
    folder = folder_with(tmp_path, contracts="")
    assert_clean_failure(cli("health", folder), "contracts.csv", "empty")


def test_header_only_file(cli, tmp_path):
    folder = folder_with(tmp_path, contracts=CONTRACTS_HEADER)
    assert_clean_failure(cli("health", folder), "contracts.csv", "no data rows")


def test_missing_folder(cli, tmp_path):
    assert_clean_failure(cli("health", tmp_path / "nope"), "nope", "no such folder")


def test_missing_required_export(cli, tmp_path):
    folder = folder_with(tmp_path, contracts=None)
    assert_clean_failure(cli("health", folder), "contracts", "add contracts.csv")


def test_missing_required_value(cli, tmp_path):
    folder = folder_with(tmp_path, contracts=CONTRACTS_HEADER + "c1,,2026-01-01,2027-01-01,5\n")
    assert_clean_failure(cli("health", folder), "contracts.csv", "missing value", "account_id")


def test_ragged_row(cli, tmp_path):
    folder = folder_with(tmp_path, contracts=CONTRACTS_HEADER
                         + "c1,001,2026-01-01,2027-01-01,5\nc2,001,2026-01-01,2027-01-01,5,9\n")
    assert_clean_failure(cli("health", folder), "contracts.csv", "expected 5 fields", " 3 ")


def test_binary_file(cli, tmp_path):
    folder = folder_with(tmp_path)
    (folder / "contracts.csv").write_bytes(b"\x00\x01\x02PK\x03\x04" * 50)
    assert_clean_failure(cli("health", folder), "contracts.csv", "binary")


def test_problems_in_two_files_are_reported_together(cli, tmp_path):
    folder = folder_with(tmp_path, contracts=CONTRACTS_HEADER + "c1,001,x,2027-01-01,5\n",
                         usage_csv="account_id,timestamp\n001,yesterday\n")
    assert_clean_failure(cli("health", folder), "contracts.csv", "usage.csv", "yesterday")


def test_unknown_yaml_key_names_line_and_nearest_key(cli, tmp_path):
    folder = folder_with(tmp_path)
    config = write(tmp_path, "playbooks.yaml", "version: 1\ninputs:\n  dayfrist: true\n")
    assert_clean_failure(cli("health", folder, "--config", config), "playbooks.yaml",
                         "dayfrist", "dayfirst", " 3 ")


def test_yaml_syntax_error_names_the_line(cli, tmp_path):
    folder = folder_with(tmp_path)
    config = write(tmp_path, "bad.yaml", "version: 1\nhealth:\n  bands: [green\n  x: 1\n")
    assert_clean_failure(cli("health", folder, "--config", config), "bad.yaml",
                         "YAML syntax error")


def test_yaml_tabs_get_a_specific_fix(cli, tmp_path):
    folder = folder_with(tmp_path)
    config = write(tmp_path, "tabs.yaml", "version: 1\ninputs:\n\tdayfirst: true\n")
    assert_clean_failure(cli("validate", folder, "--config", config), "tabs.yaml", "tabs")


def test_unknown_signal_in_health_model(cli, tmp_path):
    from csops_cli.config import default_config_text

    text = default_config_text().replace("meetings_90d: {", "meetings_90: {")
    folder = folder_with(tmp_path)
    config = write(tmp_path, "p.yaml", text)
    assert_clean_failure(cli("health", folder, "--config", config), "meetings_90",
                         "did you mean 'meetings_90d'")


def test_missing_config_file(cli, tmp_path):
    folder = folder_with(tmp_path)
    assert_clean_failure(cli("health", folder, "--config", tmp_path / "none.yaml"),
                         "none.yaml", "no such file")


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
    assert_clean_failure(cli("health", folder, "--config", config), "aliases")


def test_validate_lists_problems_of_every_file_and_exits_2(cli, tmp_path):
    folder = folder_with(tmp_path, contracts=CONTRACTS_HEADER + "c1,001,x,2027-01-01,5\n",
                         activities_csv="account_id,date,activity_type\n001,2026-01-01,call\n"
                                        "002,soon,call\n")
    result = cli("validate", folder)
    assert_clean_failure(result, "contracts.csv", "activities.csv", "soon", "2 problem(s)")
