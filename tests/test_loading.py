"""Loader rules: formats, delimiters, encodings, aliases, presets, money, dates, footers."""

from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from conftest import FIVE_ACTIVITIES, FIVE_USAGE, write
from csops_cli.config import parse_config
from csops_cli.loading import load_exports, load_table
from csops_cli.signals import build_signals

ACCOUNTS = "account_id,account_name\n007,Acme\n008,Beta\n"


def contracts_path(folder: Path, text: str, name: str = "contracts.csv", **kw) -> Path:
    return write(folder, name, text, **kw)


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiter_is_detected(tmp_path, default_config, delimiter):
    text = ACCOUNTS.replace(",", delimiter)
    table = load_table("accounts", write(tmp_path, "accounts.csv", text), default_config)
    assert table.frame["account_name"].tolist() == ["Acme", "Beta"]


@pytest.mark.parametrize("row", ["1,a\tb", "1,a;b", "'-,'\t0"])
def test_a_delimiter_inside_a_value_does_not_outvote_the_header(tmp_path, default_config, row):
    text = f"account_id,account_name\n{row}\n"
    table = load_table("accounts", write(tmp_path, "accounts.csv", text), default_config)
    assert table.frame["account_name"].tolist() == [row.split(",", 1)[1]]


def test_ids_stay_text_with_leading_zeros(tmp_path, default_config):
    table = load_table("accounts", write(tmp_path, "accounts.csv", ACCOUNTS), default_config)
    assert table.frame["account_id"].tolist() == ["007", "008"]


def test_bom_and_cp1252_fallback(tmp_path, default_config):
    bom = write(tmp_path, "a.csv", "\ufeffaccount_id,account_name\n1,Zürich AG\n")
    assert load_table("accounts", bom, default_config).frame["account_id"].tolist() == ["1"]
    legacy = write(tmp_path, "b.csv", "account_id,account_name\n1,Café Crème\n",
                   encoding="cp1252")
    assert load_table("accounts", legacy, default_config).frame["account_name"].tolist() == [
        "Café Crème"]


def test_blank_lines_are_skipped(tmp_path, default_config):
    path = write(tmp_path, "accounts.csv", "account_id,account_name\n\n1,A\n\n2,B\n\n")
    assert load_table("accounts", path, default_config).frame["account_id"].tolist() == ["1", "2"]


def test_money_formats(tmp_path, default_config):
    text = """
    contract_id,account_id,start_date,end_date,arr
    c1,1,2026-01-01,2027-01-01,1200
    c2,1,2026-01-01,2027-01-01,"1,200.50"
    c3,1,2026-01-01,2027-01-01,"$1,200"
    c4,1,2026-01-01,2027-01-01,"USD 1,200.00"
    c5,1,2026-01-01,2027-01-01,"(1,200)"
    """
    table = load_table("contracts", write(tmp_path, "contracts.csv", text), default_config)
    assert table.frame["arr"].tolist() == [1200, 1200.5, 1200, 1200, -1200]


def test_date_formats_and_time_zones(tmp_path, default_config):
    text = """
    contract_id,account_id,start_date,end_date,arr
    c1,1,2026-03-01,2027-03-01,1
    c2,1,2026-03-01 14:05,2027-03-01,1
    c3,1,2026-03-01T14:05:00Z,2027-03-01,1
    c4,1,3/1/2026,2027-03-01,1
    c5,1,2026-02-28T22:00:00-05:00,2027-03-01,1
    """
    table = load_table("contracts", write(tmp_path, "contracts.csv", text), default_config)
    # the last one is 2026-03-01 03:00 in UTC
    assert table.frame["start_date"].tolist() == [pd.Timestamp("2026-03-01")] * 5


def test_day_first_dates_when_configured(tmp_path, default_config):
    config = default_config.model_copy(update={
        "inputs": default_config.inputs.model_copy(update={"dayfirst": True})})
    text = "contract_id,account_id,start_date,end_date,arr\nc1,1,01/03/2026,13/03/2027,1\n"
    table = load_table("contracts", write(tmp_path, "contracts.csv", text), config)
    assert table.frame["start_date"].iloc[0] == pd.Timestamp("2026-03-01")
    assert table.frame["end_date"].iloc[0] == pd.Timestamp("2027-03-13")


def test_headers_match_ignoring_case_spaces_and_punctuation(tmp_path, default_config):
    path = write(tmp_path, "accounts.csv", "Account-ID,  ACCOUNT name ,CSM Owner\n1,A,Ann\n")
    table = load_table("accounts", path, default_config)
    assert table.source_columns["account_id"] == "Account-ID"
    assert table.frame["csm_owner"].tolist() == ["Ann"]
    assert {k: table.source_columns[k] for k in ("account_id", "account_name", "csm_owner")} == {
        "account_id": "Account-ID", "account_name": "ACCOUNT name", "csm_owner": "CSM Owner"}
    assert table.frame[["account_id", "account_name"]].values.tolist() == [["1", "A"]]


def test_user_column_mapping_wins(tmp_path):
    config = parse_config(Path("playbooks.yaml").read_text().replace(
        "  accounts: {}", '  accounts: {csm_owner: "Customer Success Lead"}'))
    path = write(tmp_path, "accounts.csv", "id,name,Customer Success Lead\n1,A,Ann\n")
    table = load_table("accounts", path, config)
    assert table.frame["csm_owner"].tolist() == ["Ann"]


def test_extra_account_columns_are_kept_and_typed(tmp_path, default_config):
    path = write(tmp_path, "accounts.csv",
                 "account_id,account_name,NPS Score,Zip Code,Region\n"
                 "1,A,9,02134,EU\n2,B,7,10001,US\n")
    frame = load_table("accounts", path, default_config).frame
    assert frame["nps_score"].tolist() == [9, 7]  # numbers stay numbers for play conditions
    assert frame["zip_code"].tolist() == ["02134", "10001"]  # leading zeros: a code, kept as text
    assert frame["region"].tolist() == ["EU", "US"]


def test_excel_and_parquet(tmp_path, default_config):
    frame = pd.DataFrame({"account_id": ["007", "008"], "account_name": ["Acme", "Beta"]})
    frame.to_excel(tmp_path / "accounts.xlsx", index=False)
    frame.to_parquet(tmp_path / "accounts.parquet", index=False)
    for name in ("accounts.xlsx", "accounts.parquet"):
        table = load_table("accounts", tmp_path / name, default_config)
        assert table.frame["account_id"].tolist() == ["007", "008"]


def test_excel_dates_and_numbers(tmp_path, default_config):
    frame = pd.DataFrame({"contract_id": ["c1"], "account_id": [7],
                          "start_date": [pd.Timestamp("2026-03-01")],
                          "end_date": [pd.Timestamp("2027-03-01")], "arr": [1200.5]})
    frame.to_excel(tmp_path / "contracts.xlsx", index=False)
    table = load_table("contracts", tmp_path / "contracts.xlsx", default_config)
    row = table.frame.iloc[0]
    assert (row["account_id"], row["start_date"], row["arr"]) == (
        "7", pd.Timestamp("2026-03-01"), 1200.5)


def test_a_late_non_number_falls_back_to_text_parsing(tmp_path, default_config):
    """pyarrow types a column from its first block; a bad value further down still gets a
    located error instead of a crash."""
    rows = "".join(f"c{i},1,2026-01-01,2027-01-01,{i}\n" for i in range(20000))
    path = write(tmp_path, "contracts.csv",
                 "contract_id,account_id,start_date,end_date,arr\n" + rows
                 + "cx,1,2026-01-01,2027-01-01,lots\n")
    from csops_cli.errors import InputError, ProblemCode

    with pytest.raises(InputError) as caught:
        load_table("contracts", path, default_config)
    [problem] = caught.value.problems
    assert (problem.code, problem.line, problem.column, problem.value) == (
        ProblemCode.NOT_AN_AMOUNT, 20002, "arr", "lots")


# --- the same data dressed as CRM exports gives the same signals -------------------------------

CANONICAL_ACCOUNTS = [
    ("001", "Alpha", "Strategic", "Ann", "active"),
    ("002", "Bravo", "", "Bob", "none"),
    ("003", "Charlie", "SMB", "Ann", "left"),
]
CANONICAL_CONTRACTS = [
    ("C1", "001", "2025-01-01", "2026-01-01", 100000.0, 10, "2024-12-15", "new"),
    ("C2", "001", "2026-01-01", "2027-01-01", 120000.0, 10, "2025-12-20", "renewal"),
    ("C3", "001", "2026-03-01", "2027-01-01", 1200.5, 5, "2026-02-20", "expansion"),
    ("C4", "002", "2024-07-01", "2026-07-01", 50000.0, 20, "2024-06-15", "new"),
    ("C6", "003", "2026-06-30", "2027-06-30", 8000.0, 4, "2026-06-25", "new"),
]


def _us_date(iso: str) -> str:
    year, month, day = iso.split("-")
    return f"{int(month)}/{int(day)}/{year}"


def _dress_canonical(folder: Path) -> None:
    rows = ["account_id,account_name,segment,csm_owner,champion_status"]
    rows += [",".join(r) for r in CANONICAL_ACCOUNTS]
    write(folder, "accounts.csv", "\n".join(rows) + "\n")
    rows = ["contract_id,account_id,start_date,end_date,arr,licenses,signed_date,contract_type"]
    rows += [",".join(map(str, r)) for r in CANONICAL_CONTRACTS]
    write(folder, "contracts.csv", "\n".join(rows) + "\n")


def _dress_salesforce(folder: Path) -> None:
    footer = ('\n"Grand Totals (3 records)"\n\n"Confidential Information - Do Not Distribute"\n'
              '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."\n')
    rows = ['"Account ID","Account Name","Segment","Account Owner","Champion Status"']
    rows += [",".join(f'"{v}"' for v in r) for r in CANONICAL_ACCOUNTS]
    write(folder, "accounts.csv", "\n".join(rows) + "\n" + footer)
    types = {"new": "New Business", "renewal": "Renewal", "expansion": "Upsell"}
    rows = ['"Opportunity ID","Account ID","Contract Start Date","Contract End Date","Amount",'
            '"Quantity","Close Date","Type"']
    for cid, aid, start, end, arr, licenses, signed, kind in CANONICAL_CONTRACTS:
        values = [cid, aid, _us_date(start), _us_date(end), f"USD {arr:,.2f}", licenses,
                  _us_date(signed), types[kind]]
        rows.append(",".join(f'"{v}"' for v in values))
    write(folder, "contracts.csv", "\n".join(rows) + "\n" + footer)


def _dress_hubspot(folder: Path) -> None:
    rows = ["Record ID,Company name,Segment,Company owner,Champion Status"]
    rows += [",".join(r) for r in CANONICAL_ACCOUNTS]
    write(folder, "accounts.csv", "\ufeff" + "\n".join(rows) + "\n")
    rows = ["Record ID,Associated Company ID,Contract Start Date,Contract End Date,Amount,"
            "Licenses,Close Date,Deal Type"]
    kinds = {"new": "newbusiness", "renewal": "Renewal", "expansion": "existingbusiness"}
    for cid, aid, start, end, arr, licenses, signed, kind in CANONICAL_CONTRACTS:
        rows.append(",".join(map(str, [cid, aid, f"{start} 00:00", f"{end} 00:00", arr,
                                       licenses, f"{signed} 00:00", kinds[kind]])))
    write(folder, "contracts.csv", "\ufeff" + "\n".join(rows) + "\n")


def _signals(folder: Path, config) -> pd.DataFrame:
    write(folder, "usage.csv", FIVE_USAGE)
    write(folder, "activities.csv", FIVE_ACTIVITIES)
    exports = load_exports(folder, config)
    return build_signals(exports, config, pd.Timestamp("2026-06-30")).frame


@pytest.mark.parametrize("dress, preset", [(_dress_salesforce, "salesforce"),
                                           (_dress_hubspot, "hubspot")])
def test_crm_exports_give_the_same_signals_as_canonical_csv(tmp_path, default_config, dress,
                                                            preset):
    canonical, dressed = tmp_path / "canonical", tmp_path / preset
    canonical.mkdir()
    dressed.mkdir()
    _dress_canonical(canonical)
    dress(dressed)
    assert load_exports(dressed, default_config).contracts.preset == preset
    expected = _signals(canonical, default_config)
    actual = _signals(dressed, default_config)
    assert len(expected) == 3
    # the CRM's account/company owner is the AE; with no CSM column it is also taken as the
    # CSM (an assumption the source reports), so the dressed files carry one column more
    assert list(actual["ae_owner"]) == list(actual["csm_owner"])
    assert_frame_equal(actual.drop(columns="ae_owner"), expected, check_like=True)


def test_line_numbers_are_read_only_as_far_as_asked(tmp_path, monkeypatch):
    """Record positions map to the file's lines (a quoted line break and a blank line
    between); the file is read up to the furthest position asked first, and whole when a
    later look-up asks further: never more than twice."""
    from csops_cli.loading import csvtext

    path = write(tmp_path, "accounts.csv", 'account_id,note\nA1,one\nA2,"two\nlines"\n\n'
                 'A3,three\nA4,four\nA5,five\n')
    read = []
    records = csvtext.records

    def counted(*args):
        for record in records(*args):
            read.append(record[0])
            yield record
    monkeypatch.setattr(csvtext, "records", counted)
    line_of = csvtext.csv_line_mapper(path, "utf-8", ",", 2)
    assert line_of([1, 0]) == [3, 2]
    assert read == [2, 3]  # A3, A4 and A5 not read
    assert line_of([2, -1]) == [6, None]
    assert read == [2, 3, 2, 3, 6, 7, 8]  # asked further: read whole
    assert line_of([4, 9, 0]) == [8, None, 2]  # every line known: no new read
    assert read == [2, 3, 2, 3, 6, 7, 8]
    assert csvtext.csv_line_mapper(path, "utf-8", ",", 2)([]) == []
