"""Hand-worked cases for how repeated contract IDs count (PRODUCT.md §1: identical rows are
counted once and reported; different rows under one ID are an error naming both lines). The
expected values are worked out on paper from the contract, not taken from csops' output."""

from __future__ import annotations

import json

from conftest import write
from csops_cli.errors import CsopsError, ProblemCode

ACCOUNTS = """
account_id,account_name,segment,csm_owner,champion_status
001,Acme,SMB,Ann,active
002,Beta,SMB,Ann,active
"""
USAGE = """
account_id,timestamp,user_id,feature
001,2026-06-01,u1,login
002,2026-06-01,u2,login
"""
HEADER = "contract_id,account_id,start_date,end_date,arr,licenses\n"


def folder(tmp_path, contracts: str):
    data = tmp_path / "data"
    data.mkdir()
    write(data, "accounts.csv", ACCOUNTS)
    write(data, "usage.csv", USAGE)
    write(data, "contracts.csv", HEADER + contracts)
    return data


def health_arr(cli, data) -> dict[str, float]:
    result = cli("health", data, "--as-of", "2026-06-30", "--format", "json")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    return {record["account_id"]: record["arr"] for record in records}


def test_two_identical_rows_count_once(cli, tmp_path, default_config):
    # 001 holds one contract of ARR 1,200 exported twice: its ARR on 2026-06-30 is 1,200, not
    # 2,400. 002's contract of 500 is on one row, and stays 500.
    data = folder(tmp_path, "C1,001,2026-01-01,2027-01-01,1200,10\n"
                            "C2,002,2026-01-01,2027-01-01,500,5\n"
                            "C1,001,2026-01-01,2027-01-01,1200,10\n")
    assert health_arr(cli, data) == {"001": 1200.0, "002": 500.0}

    from csops_cli.loading import load_exports

    exports = load_exports(data, default_config)
    assert exports.contracts.rows == 2
    [warning] = exports.contracts.warnings
    assert (warning.code, warning.line, warning.value) == (ProblemCode.DUPLICATE_ID, 4, "C1")
    assert "2 identical rows (lines 2, 4)" in warning.message


def test_identical_once_written_differently_still_count_once(cli, tmp_path):
    # "$1,200" and "1200.00" are the same amount, 2026-01-01 and 1/1/2026 the same date
    data = folder(tmp_path, 'C1,001,2026-01-01,2027-01-01,"$1,200",10\n'
                            "C1,001,1/1/2026,1/1/2027,1200.00,10\n")
    assert health_arr(cli, data)["001"] == 1200.0


def test_different_rows_under_one_id_are_refused_naming_both_lines(cli, tmp_path,
                                                                   default_config):
    data = folder(tmp_path, "C1,001,2026-01-01,2027-01-01,1200,10\n"
                            "C2,002,2026-01-01,2027-01-01,500,5\n"
                            "C1,001,2026-01-01,2027-01-01,1300,10\n")
    result = cli("health", data, "--as-of", "2026-06-30")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "contract C1 is also on line 2" in result.output

    from csops_cli.loading import load_exports

    try:
        load_exports(data, default_config)
    except CsopsError as error:
        [problem] = error.problems
    else:
        raise AssertionError("different rows under one contract ID were accepted")
    assert (problem.code, problem.line, problem.column, problem.value) == (
        ProblemCode.DUPLICATE_ID, 4, "contract_id", "C1")
    assert "arr 1,200 vs 1,300" in problem.message
    assert "line 2 or line 4" in problem.fix


def test_a_contract_split_over_accounts_by_a_source_is_not_a_repeat(tmp_path):
    # a source's `split` makes one row per account of one deal: one contract on purpose
    from csops_cli.config import default_config_text, parse_config
    from csops_cli.loading import load_exports

    config = parse_config(default_config_text() + "\nsources:\n  contracts:\n    - id: shared\n"
                          "      detect: {all: [Deal, Companies]}\n"
                          "      columns: {contract_id: Deal, account_id: Companies,\n"
                          "                start_date: Start, end_date: End, arr: ARR}\n"
                          "      split: {account_id: \";\"}\n")
    data = tmp_path / "data"
    data.mkdir()
    write(data, "accounts.csv", ACCOUNTS)
    write(data, "usage.csv", USAGE)
    write(data, "deals.csv", "Deal,Companies,Start,End,ARR\nD1,001;002,2026-01-01,2027-01-01,900\n")
    contracts = load_exports(data, config).contracts
    assert contracts.frame["account_id"].tolist() == ["001", "002"]
    assert contracts.warnings == []
