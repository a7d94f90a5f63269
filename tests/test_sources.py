"""Sources: the expression functions, each step of a source, each preset on a small file in its
real shape, and the checks that keep a tool's export from being read silently wrong."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import write
from csops_cli.condition_syntax import ConditionError
from csops_cli.conditions import compile_condition, compile_expression
from csops_cli.config import Source, default_config_text, parse_config
from csops_cli.errors import ConfigError, InputError, ProblemCode
from csops_cli.loading import load_exports
from csops_cli.loading.files import RawFile
from csops_cli.loading.source_rules import preset_sources, snake
from csops_cli.loading.sources import apply_source

# --- expression functions ----------------------------------------------------------------------

FRAME = pd.DataFrame({
    "start": ["2026-01-01", "1/15/2026", None],
    "end": ["2027-01-01", "2027-01-14", "2027-01-01"],
    "amount": [1200.0, np.nan, 300.0],
    "other": [5.0, 7.0, np.nan],
    "stage": ["Closed Won", "closed won", "Closed Lost"],
    "epoch": ["1763647500", "1763647500000", "1763647500000000"],
    "stamp": ["2026-11-20 14:05:00.123 UTC", "2026-11-20", None],
    "first_name": ["Ann", "Bob", "Cy"],
    "last_name": ["Lee", "Ray", None],
})


def value(text: str, frame: pd.DataFrame = FRAME) -> list:
    result = compile_expression(text, frame)(frame)
    return [None if pd.isna(v) else v for v in result.tolist()]


def day(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def test_months_between_counts_whole_calendar_months_end_excluded():
    assert value("months_between(start, end)") == [12, 11, None]


def test_add_months_and_add_days():
    assert value("add_months(start, 12)") == [day("2027-01-01"), day("2027-01-15"), None]
    assert value("add_days(start, 31)") == [day("2026-02-01"), day("2026-02-15"), None]
    assert value("days_between(start, end)") == [365, 364, None]


def test_coalesce_max_min():
    assert value("coalesce(amount, other, 0)") == [1200, 7, 300]
    assert value("max(amount, other)") == [1200, None, None]
    assert value("min(amount, 500)") == [500, None, 300]


def test_lower_contains_and_text_equality_ignore_case():
    assert value("lower(stage)") == ["closed won", "closed won", "closed lost"]
    assert value("contains(stage, 'WON')") == [True, True, False]
    assert compile_condition("stage == 'CLOSED WON'", FRAME)(FRAME).tolist() == [True, True,
                                                                                 False]


def test_date_reads_epoch_seconds_milliseconds_microseconds_and_utc_suffix():
    moment = day("2025-11-20 14:05:00")
    assert value("date(epoch)") == [moment, moment, moment]
    assert value("date(stamp)") == [day("2026-11-20"), day("2026-11-20"), None]


def test_if_else_and_text_concatenation():
    assert value("if_else(stage == 'closed won', 'yes', 'no')") == ["yes", "yes", "no"]
    assert value("first_name + ' ' + last_name") == ["Ann Lee", "Bob Ray", None]


def test_continues_term_tells_renewal_from_expansion():
    frame = pd.DataFrame({"account_id": ["A", "A", "A", "B"],
                          "start_date": pd.to_datetime(["2025-01-01", "2026-01-10", "2025-06-01",
                                                        "2026-01-01"]),
                          "end_date": pd.to_datetime(["2026-01-01", "2027-01-10", "2026-01-01",
                                                      "2027-01-01"])})
    # the second starts 9 days after the first ends; the third starts mid-term; B is alone
    assert value("continues_term(account_id, start_date)", frame) == [False, True, False, False]


@pytest.mark.parametrize("text, message", [
    ("__import__('os').system('true')", "function calls"),
    ("eval('1')", "function calls"),
    ("add_month(start, 1)", "did you mean add_months"),
    ("add_months(start)", "takes 2 argument(s), not 1"),
    ("coalesce(x=1)", "plain arguments"),
    ("months_between(stage, 1)", "must be a date or text, not a number"),
])
def test_functions_are_allow_listed_and_checked(text, message):
    with pytest.raises(ConditionError) as caught:
        compile_expression(text, FRAME)
    assert message in f"{caught.value} {caught.value.fix}"


# --- the steps of one source -------------------------------------------------------------------

def raw_file(rows: list[dict], headers: list[str] | None = None, path: str = "x.csv"
             ) -> RawFile:
    frame = pd.DataFrame(rows)
    headers = headers or list(frame.columns)
    return RawFile(Path(path), frame, headers, lambda positions: [p + 2 for p in positions])


def source(**fields) -> Source:
    return Source.model_validate({"id": "test", **fields})


def test_where_drops_rows_keeps_positions_and_counts_with_the_dropped_wording():
    raw = raw_file([{"Id": "1", "Stage": "Won", "Account": "A"},
                    {"Id": "2", "Stage": "Lost", "Account": "B"},
                    {"Id": "3", "Stage": "won", "Account": "C"}])
    result = apply_source(raw, "accounts", source(
        columns={"account_id": "Id", "account_name": "Account"}, where="stage == 'won'",
        dropped="lost ones left out"))
    assert list(result.frame.index) == [0, 2]
    assert [(a.text, a.count) for a in result.assumptions] == [("lost ones left out", 1)]


def test_split_repeats_the_row_position_and_first_keeps_the_first_value():
    raw = raw_file([{"Ids": "1;2", "Date": "2026-01-01"}, {"Ids": "3", "Date": "2026-01-02"}])
    split = apply_source(raw, "activities", source(
        columns={"account_id": "Ids", "date": "Date"}, split={"account_id": ";"},
        constant={"activity_type": "call"}))
    assert list(split.frame.index) == [0, 0, 1]
    assert list(split.frame["Ids"]) == ["1", "2", "3"]
    assert split.assumptions[0].count == 1
    first = apply_source(raw, "activities", source(
        columns={"account_id": "Ids", "date": "Date"}, first={"account_id": ";"},
        constant={"activity_type": "call"}))
    assert list(first.frame.index) == [0, 1] and list(first.frame["Ids"]) == ["1", "3"]
    assert "counted once, for the first" in first.assumptions[0].text


def test_usage_events_with_no_account_are_left_out_and_counted():
    raw = raw_file([{"event_type": "login", "event_time": "2026-11-20 14:05:00", "user_id": "u",
                     "amplitude_id": 1, "groups.company": company}
                    for company in (["A1"], [], None)])
    result = apply_source(raw, "usage", preset_sources("amplitude")["usage"][0])
    assert list(result.frame.index) == [0]
    assert [(a.text, a.count) for a in result.assumptions] == [
        ("events with no account left out", 2)]


def test_a_json_list_cell_gives_a_row_per_value():
    raw = raw_file([{"event": "login", "properties.time": 1763647500,
                     "properties.distinct_id": "u1", "properties.company_id": ["A1", "A2"]},
                    {"event": "view", "properties.time": 1763647600,
                     "properties.distinct_id": "u2", "properties.company_id": "A3"}])
    result = apply_source(raw, "usage", preset_sources("mixpanel")["usage"][0])
    account = result.mapping["account_id"]
    assert list(result.frame[account]) == ["A1", "A2", "A3"]
    assert list(result.frame.index) == [0, 0, 1]
    stamps = result.frame[result.mapping["timestamp"]]
    assert list(stamps) == [day("2025-11-20 14:05:00")] * 2 + [day("2025-11-20 14:06:40")]


def test_lookup_replaces_codes_by_names_from_the_folder(tmp_path):
    write(tmp_path, "features-2026.csv", "id,name\nf1,Dashboards\nf2,Reports\n")
    raw = raw_file([{"accountId": "A", "visitorId": "v", "featureId": code,
                     "day": 1763596800000, "numEvents": 3} for code in ("f1", "f2", "f9")])
    rule = source(columns={"account_id": "accountId", "timestamp": "day", "feature": "featureId"},
                  lookup={"feature": {"file": "features*.csv", "key": "id", "value": "name"}})
    result = apply_source(raw, "usage", rule, folder=tmp_path)
    assert list(result.frame[result.mapping["feature"]]) == ["Dashboards", "Reports", "f9"]
    assert [a.count for a in result.assumptions] == [1]  # f9 is not in the lookup


def test_derive_in_order_and_assumption_counts():
    raw = raw_file([{"Id": "1", "Acc": "A", "Close": "2026-01-01", "Amount": "$36,000"},
                    {"Id": "2", "Acc": "A", "Close": "2026-02-01", "Amount": "1,200"}])
    rule = source(columns={"contract_id": "Id", "account_id": "Acc"},
                  derive={"start_date": "date(close)",
                          "end_date": "add_months(start_date, if_else(amount > 10000, 36, 12))",
                          "arr": "amount * 12 / months_between(start_date, end_date)"},
                  assumptions=[{"text": "long terms", "rows": "months_between(start_date, "
                                                                "end_date) > 12"},
                               {"text": "every row"}])
    result = apply_source(raw, "contracts", rule)
    assert list(result.frame["arr"]) == [12000, 1200]
    assert [(a.text, a.count) for a in result.assumptions] == [("long terms", 1),
                                                               ("every row", 2)]


def test_an_unknown_name_in_an_expression_names_the_nearest_columns():
    raw = raw_file([{"Deal Stage": "Won", "Record ID": "1", "Acc": "A"}])
    with pytest.raises(ConfigError) as caught:
        apply_source(raw, "accounts", source(columns={"account_id": "Record ID",
                                                      "account_name": "Acc"},
                                             where="deal_stag == 'Won'"))
    problem = caught.value.problems[0]
    assert problem.code == ProblemCode.BAD_CONDITION
    assert "unknown name 'deal_stag'" in problem.message and "column 1" in problem.message
    assert "deal_stage" in problem.fix


def test_snake_names():
    assert snake("Associated Company IDs (Primary)") == "associated_company_ids_primary"
    assert snake("properties.time") == "properties_time"
    assert snake("properties.$insert_id") == "properties_insert_id"


# --- the sources: section of playbooks.yaml ----------------------------------------------------

def config_with(sources_text: str, label: str = "p.yaml"):
    return parse_config(default_config_text() + "\nsources:\n" + sources_text, label)


def refusal_of(sources_text: str):
    with pytest.raises(ConfigError) as caught:
        config_with(sources_text)
    return caught.value.problems[0]


def test_unknown_key_of_a_source_names_it_its_line_and_the_nearest_key():
    problem = refusal_of("  contracts:\n    - id: x\n      wher: \"a == 1\"\n")
    base = default_config_text().count("\n") + 2
    assert (problem.code, problem.line, problem.fix) == (ProblemCode.UNKNOWN_KEY, base + 3,
                                                         "did you mean 'where'?")


def test_unknown_canonical_column_of_a_source_is_refused_with_the_nearest():
    problem = refusal_of("  contracts:\n    - id: x\n      columns: {end_dat: \"End\"}\n")
    assert problem.code == ProblemCode.UNKNOWN_NAME and "end_date" in problem.message


def test_bad_expression_of_a_source_names_its_place_and_position():
    problem = refusal_of("  contracts:\n    - id: x\n      where: \"stage == 'won' and\"\n")
    assert problem.code == ProblemCode.BAD_CONDITION
    assert problem.column == "sources.contracts[0].where" and "column" in problem.message


def test_a_user_source_with_a_preset_id_replaces_the_preset(tmp_path):
    config = config_with("  contracts:\n    - id: hubspot_deals\n      tool: HubSpot\n"
                         "      detect: {all: [Record ID, Deal Name, Deal Stage]}\n"
                         "      columns: {contract_id: Record ID, account_id: Company,\n"
                         "                start_date: Start, end_date: End, arr: ARR}\n"
                         "      where: \"deal_stage == 'Won'\"\n")
    folder = hubspot_folder(tmp_path)
    write(folder, "hubspot-crm-exports-all-deals-2026-11-20.csv",
          "Record ID,Deal Name,Deal Stage,Company,Start,End,ARR\n"
          "9,X,Won,11,2026-01-01,2027-01-01,500\n9b,Y,Lost,11,2026-01-01,2027-01-01,1\n")
    contracts = load_exports(folder, config).contracts
    assert list(contracts.frame["arr"]) == [500] and contracts.source_id == "hubspot_deals"


# --- presets on files in their real shape ------------------------------------------------------

HUBSPOT_COMPANIES = """\
"Record ID","Company name","Company owner","Create Date","Lifecycle Stage"
"11","Alpha","Ann Lee","2024-03-01 10:00","Customer"
"12","Bravo","Bob Ray","2024-04-01 09:30","Customer"
"""
HUBSPOT_DEALS = """\
Record ID,Deal Name,Deal Stage,Close Date,Amount,Associated Company IDs (Primary),Deal Type,Pipeline
101,Alpha new,Closed Won,2025-01-15,120000,11,New Business,Sales Pipeline
102,Alpha renewal,Closed Won,2026-01-15,130000,11,Existing Business,Sales Pipeline
103,Alpha upsell,Closed Won,2025-06-01,20000,11,Existing Business,Sales Pipeline
104,Bravo lost,Closed Lost,2025-03-01,5000,12,New Business,Sales Pipeline
105,Bravo open,Appointment Scheduled,,5000,12,New Business,Sales Pipeline
106,Bravo new,Closed Won,2025-09-01,24000,12,New Business,Sales Pipeline
"""


def hubspot_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "hubspot"
    folder.mkdir(exist_ok=True)
    write(folder, "hubspot-crm-exports-all-companies-2026-11-20.csv", HUBSPOT_COMPANIES)
    return folder


def test_hubspot_companies_deals_and_activities(tmp_path, default_config):
    folder = hubspot_folder(tmp_path)
    write(folder, "hubspot-crm-exports-all-deals-2026-11-20.csv", HUBSPOT_DEALS)
    write(folder, "hubspot-crm-exports-all-calls-2026-11-20.csv",
          "Record ID,Call Title,Activity date,Activity assigned to,Associated Company IDs\n"
          "501,Kickoff,2026-11-20 14:05,Ann Lee,11;12\n502,Check-in,2026-11-18 09:00,Ann Lee,12\n")
    write(folder, "hubspot-crm-exports-all-meetings-2026-11-20.csv",
          "Record ID,Meeting name,Activity date,Activity assigned to,Associated Company IDs\n"
          "601,QBR,2026-10-01 15:00,Bob Ray,12;11\n")
    exports = load_exports(folder, default_config)
    accounts = exports.accounts.frame
    assert list(accounts["ae_owner"]) == list(accounts["csm_owner"]) == ["Ann Lee", "Bob Ray"]
    assert ("Company owner taken as CSM (no CSM column)", 2) in [
        (a.text, a.count) for a in exports.accounts.assumptions]
    contracts = exports.contracts.frame
    assert list(contracts["contract_id"]) == ["101", "102", "103", "106"]
    assert list(contracts["contract_type"]) == ["new", "renewal", "expansion", "new"]
    assert list(contracts["end_date"]) == [day("2026-01-15"), day("2027-01-15"),
                                           day("2026-06-01"), day("2026-09-01")]
    assert list(contracts["arr"]) == [120000, 130000, 20000, 24000]
    found = {a.text: a.count for a in exports.contracts.assumptions}
    assert found["open or lost deals left out"] == 2
    assert found["default 12-month term (no contract end date)"] == 4
    activities = exports.activities
    assert sorted(activities.frame["activity_type"]) == ["call", "call", "meeting"]
    assert sorted(activities.frame["account_id"]) == ["11", "12", "12"]  # 11;12 -> 11
    assert [(a.text, a.count) for a in activities.assumptions] == [
        ("activities with several associated companies counted once, for the first", 2)]
    assert {p.name for p in activities.paths} == {
        "hubspot-crm-exports-all-calls-2026-11-20.csv",
        "hubspot-crm-exports-all-meetings-2026-11-20.csv"}
    lines = activities.lines(list(activities.frame.index))
    assert sorted(lines) == [2, 2, 3]


def test_hubspot_users_are_the_team(tmp_path, default_config):
    folder = hubspot_folder(tmp_path)
    write(folder, "hubspot-crm-exports-all-deals-2026-11-20.csv", HUBSPOT_DEALS)
    write(folder, "users.csv", "First Name,Last Name,Email,Assigned role\n"
                               "Ann,Lee,ann@x.io,CSM\n")
    team = load_exports(folder, default_config).team
    assert list(team.frame["owner"]) == ["Ann Lee"] and list(team.frame["role"]) == ["CSM"]


SF_FOOTER = ('\n"Grand Totals (2 records)"\n\n"Confidential Information - Do Not Distribute"\n'
             '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."\n')


def salesforce_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "salesforce"
    folder.mkdir()
    write(folder, "report1795166040202.csv",
          '"Account ID","Account Name","Account Owner","Type","Created Date"\n'
          '"001A","Alpha","Ann Lee","Customer","3/1/2024"\n'
          '"001B","Bravo","Bob Ray","Customer","4/1/2024"\n' + SF_FOOTER)
    write(folder, "report1795166040203.csv",
          '"Opportunity ID","Opportunity Name","Account ID","Stage","Close Date","Amount",'
          '"Type","Contract Start Date","Contract End Date","Quantity"\n'
          '"006A","Alpha 3y","001A","Closed Won","1/10/2026","USD 300,000.00","New Business",'
          '"1/15/2026","1/15/2029","10"\n'
          '"006B","Bravo","001B","Closed Won","6/1/2025","$12,000.00","Renewal","","","5"\n'
          '"006C","Bravo up","001B","Closed Lost","7/1/2025","$1,000.00","Upsell","","",""\n'
          + SF_FOOTER)
    return folder


def test_salesforce_accounts_and_opportunities(tmp_path, default_config):
    exports = load_exports(salesforce_folder(tmp_path), default_config)
    accounts = exports.accounts
    assert list(accounts.frame["ae_owner"]) == ["Ann Lee", "Bob Ray"]  # the owner is the AE
    assert accounts.preset == "salesforce"
    contracts = exports.contracts.frame
    assert list(contracts["contract_id"]) == ["006A", "006B"]
    # 300,000 over 36 months is total contract value: 100,000 a year
    assert list(contracts["arr"]) == [100000, 12000]
    assert list(contracts["contract_type"]) == ["new", "renewal"]
    assert list(contracts["end_date"]) == [day("2029-01-15"), day("2026-06-01")]
    found = {a.text: a.count for a in exports.contracts.assumptions}
    assert found == {"open or lost opportunities left out": 1,
                     "default 12-month term (no Contract End Date)": 1,
                     "Amount taken as total contract value and spread over the term": 1}


def test_salesforce_activities_and_users(tmp_path, default_config):
    folder = salesforce_folder(tmp_path)
    write(folder, "report1795166040204.csv",
          '"Subject","Assigned","Date","Account ID","Activity Type"\n'
          '"Call","Ann Lee","11/20/2026","001A","Call"\n' + SF_FOOTER)
    write(folder, "report1795166040205.csv",
          '"Full Name","Role","Manager"\n"Ann Lee","CSM","Max Boss"\n' + SF_FOOTER)
    exports = load_exports(folder, default_config)
    assert list(exports.activities.frame["activity_type"]) == ["call"]
    assert list(exports.team.frame["manager"]) == ["Max Boss"]


def usage_with(tmp_path: Path, name: str, text: str, default_config):
    folder = hubspot_folder(tmp_path)
    write(folder, "hubspot-crm-exports-all-deals-2026-11-20.csv", HUBSPOT_DEALS)
    write(folder, name, text)
    return load_exports(folder, default_config).usage


def test_pendo_data_explorer_csv_carries_counts(tmp_path, default_config):
    usage = usage_with(tmp_path, "pendo-data-explorer.csv",
                       "Account ID,Visitor ID,Date,Feature Name,Number of Events,"
                       "Number of Minutes\n11,v1,2026-11-20,Dashboards,7,3\n", default_config)
    frame = usage.frame
    assert list(frame["count"]) == [7] and list(frame["feature"]) == ["dashboards"]
    assert usage.source_id == "pendo_data_explorer"


def test_segment_tracks_from_bigquery(tmp_path, default_config):
    usage = usage_with(
        tmp_path, "bq-results-20261120-140500-1732111500000.csv",
        "id,anonymous_id,user_id,event,event_text,context_group_id,timestamp,received_at,"
        "sent_at,original_timestamp,context_library_name,context_library_version\n"
        "e1,anon1,,login,Login,11,2026-11-20 14:05:00.123 UTC,2026-11-20 14:05:01 UTC,,,js,1\n"
        "e2,anon2,u2,view,View,12,2026-11-19 08:00:00 UTC,2026-11-19 08:00:01 UTC,,,js,1\n",
        default_config)
    frame = usage.frame
    assert list(frame["user_id"]) == ["anon1", "u2"]
    assert list(frame["timestamp"]) == [day("2026-11-20"), day("2026-11-19")]


def test_amplitude_and_pendo_api_rows_in_their_json_shape(tmp_path):
    raw = raw_file([{"event_type": "login", "event_time": "2026-11-20 14:05:00.123000",
                     "amplitude_id": 1, "user_id": None, "device_id": "d1",
                     "groups.company": ["A001"], "event_properties.business_unit": "Ops"}])
    result = apply_source(raw, "usage", preset_sources("amplitude")["usage"][0])
    row = result.frame.iloc[0]
    assert (row[result.mapping["account_id"]], row[result.mapping["user_id"]],
            row[result.mapping["business_unit"]]) == ("A001", "d1", "Ops")
    write(tmp_path, "features.json.csv", "")  # not a lookup file: the pattern is features*.json
    raw = raw_file([{"accountId": "A001", "visitorId": "v", "featureId": "f1",
                     "day": 1763596800000, "numEvents": 4, "numMinutes": 1}])
    result = apply_source(raw, "usage", preset_sources("pendo")["usage"][0], folder=tmp_path)
    assert result.frame.iloc[0][result.mapping["timestamp"]] == day("2025-11-20")
    assert ("no features*.json file: feature codes kept as they are", 1) in [
        (a.text, a.count) for a in result.assumptions]


def test_every_preset_validates_and_names_its_documentation():
    from importlib import resources

    for name in ("hubspot", "salesforce", "mixpanel", "amplitude", "pendo", "segment"):
        assert preset_sources(name)
        text = resources.files("csops_cli").joinpath("presets", f"{name}.yaml").read_text()
        assert "http" in text.split("\n\n")[0] or "github.com" in text.split("\n\n")[0]


# --- never silently wrong ----------------------------------------------------------------------

def test_open_or_lost_deals_in_a_contracts_file_without_where_are_refused(tmp_path,
                                                                          default_config):
    folder = hubspot_folder(tmp_path)
    write(folder, "contracts.csv",
          "contract_id,account_id,start_date,end_date,arr,Deal Stage\n"
          "c1,11,2026-01-01,2027-01-01,100,Closed Won\n"
          "c2,11,2026-01-01,2027-01-01,100,Closed Lost\n"
          "c3,12,2026-01-01,,100,Appointment Scheduled\n")
    with pytest.raises(InputError) as caught:
        load_exports(folder, default_config)
    problems = caught.value.problems
    assert problems[0].code == ProblemCode.OPEN_DEALS
    assert problems[0].message.startswith("2 deal(s) are not won")
    assert "where: \"deal_stage == 'Closed Won'\"" in problems[0].fix
    missing = [p for p in problems if p.code == ProblemCode.MISSING_VALUE]
    assert missing[0].line == 4 and "where" in missing[0].fix and "delete" not in missing[0].fix


def test_two_headers_for_one_canonical_column_are_refused(tmp_path, default_config):
    folder = hubspot_folder(tmp_path)
    write(folder, "hubspot-crm-exports-all-deals-2026-11-20.csv", HUBSPOT_DEALS)
    write(folder, "accounts.csv", "Account ID,account_id,Account Name\n1,2,A\n")
    with pytest.raises(InputError) as caught:
        load_exports(folder, default_config)
    problem = caught.value.problems[0]
    assert problem.code == ProblemCode.DUPLICATE_COLUMN
    assert "'Account ID' and 'account_id'" in problem.message


@pytest.mark.parametrize("table, text, canonical, never", [
    ("contracts", "Record ID,Company,Contract Type,Start,End,ARR\n"
                  "x,1,New Business,2026-01-01,2027-01-01,5\n", "contract_id", "Contract Type"),
    ("contracts", "Id,Company,Deal Stage,Start,ARR\n"
                  "x1,1,Closed Won,2026-01-01,5\n", "end_date", "Deal Stage"),
    ("activities", "Company ID,Activity date,Owner\n1,2026-01-01,Ann\n", "activity_type",
     "Activity date"),
])
def test_a_fix_hint_never_proposes_a_column_whose_values_do_not_fit(tmp_path, table, text,
                                                                   canonical, never):
    from csops_cli.loading.hints import missing_column_problem

    path = write(tmp_path, "file.csv", text)
    headers = text.splitlines()[0].split(",")
    # every other header is already mapped to its own column; only the look-alike is free
    problem = missing_column_problem(path, table, canonical, headers,
                                     taken=[h for h in headers if h != never])
    assert never not in problem.fix
    assert problem.fix.startswith("no column of this file fits")


def test_a_fix_hint_proposes_a_column_whose_values_fit(tmp_path):
    from csops_cli.loading.hints import missing_column_problem

    text = "Company,Deal Stage,Begins,Finishes,ARR\n1,Won,2026-01-01,2027-01-01,5\n"
    path = write(tmp_path, "file.csv", text)
    problem = missing_column_problem(path, "contracts", "end_date", text.split("\n")[0]
                                     .split(","), taken=["Begins"])
    assert '"Finishes"' in problem.fix


def test_activities_of_companies_missing_from_the_accounts_are_counted(tmp_path,
                                                                       default_config):
    folder = hubspot_folder(tmp_path)
    write(folder, "hubspot-crm-exports-all-deals-2026-11-20.csv", HUBSPOT_DEALS)
    write(folder, "hubspot-crm-exports-all-notes-2026-11-20.csv",
          "Record ID,Note body,Activity date,Activity assigned to,Associated Company IDs\n"
          "701,Hello,2026-11-19 10:00,Ann Lee,99\n702,Hi,2026-11-19 11:00,Ann Lee,11\n")
    activities = load_exports(folder, default_config).activities
    assert [(a.text, a.count) for a in activities.assumptions] == [
        ("activities for companies not in the accounts/companies export", 1)]


def test_an_unknown_name_found_when_the_file_is_read_names_the_config_line(tmp_path):
    text = ("  contracts:\n    - id: my_deals\n      detect: {all: [Record ID, Deal Name]}\n"
            "      columns: {contract_id: Record ID, account_id: Company,\n"
            "                start_date: Start, end_date: End, arr: ARR}\n"
            "      where: \"deal_stag == 'Won'\"\n")
    config = config_with(text)
    folder = hubspot_folder(tmp_path)
    write(folder, "deals.csv", "Record ID,Deal Name,Deal Stage,Company,Start,End,ARR\n"
                               "9,X,Won,11,2026-01-01,2027-01-01,500\n")
    with pytest.raises(ConfigError) as caught:
        load_exports(folder, config)
    problem = caught.value.problems[0]
    assert problem.line == default_config_text().count("\n") + 2 + 6
    assert problem.file == "p.yaml" and "did you mean deal_stage" in problem.fix


def test_every_preset_source_written_as_yaml_reads_back_the_same():
    from csops_cli.loading.source_rules import source_yaml

    for name in ("hubspot", "salesforce", "mixpanel", "amplitude", "pendo", "segment"):
        for table, entries in preset_sources(name).items():
            for entry in entries:
                config = parse_config(default_config_text() + "\n"
                                      + source_yaml(table, entry))
                assert config.sources[table][0] == entry


FUNCTION_NAMES = ["add_months", "add_days", "months_between", "days_between", "coalesce", "max",
                  "min", "lower", "contains", "date", "continues_term", "if_else", "nope"]


@st.composite
def calls(draw, depth=0):
    atoms = st.sampled_from(list(FRAME.columns) + ["12", "-1", "0.5", "'x'", "null", "true",
                                                   "'2026-01-01'", "stage == 'won'"])
    name = draw(st.sampled_from(FUNCTION_NAMES))
    count = draw(st.integers(0, 4))
    args = [draw(calls(depth + 1)) if depth < 2 and draw(st.booleans()) else draw(atoms)
            for _ in range(count)]
    return f"{name}({', '.join(args)})" + draw(st.sampled_from(["", " * 2", " > 1",
                                                                 " == 'a'", " + 'b'"]))


@settings(max_examples=300, deadline=None)
@given(calls())
def test_any_function_expression_compiles_and_runs_or_raises_the_projects_error(text):
    try:
        expression = compile_expression(text, FRAME)
    except ConditionError:
        return
    try:
        result = expression(FRAME)
    except ConditionError:  # a text constant that is not a date is found when run
        return
    assert len(result) == len(FRAME)


def test_problems_in_a_source_read_file_name_the_real_line_and_header(tmp_path,
                                                                      default_config):
    folder = hubspot_folder(tmp_path)
    write(folder, "hubspot-crm-exports-all-deals-2026-11-20.csv",
          "Record ID,Deal Name,Deal Stage,Close Date,Amount,Associated Company IDs (Primary)\n"
          "101,A,Closed Lost,2025-01-15,100,11\n"
          "102,B,Closed Won,2025-01-15,100,11\n"
          "103,C,Closed Won,soon,100,11\n")
    with pytest.raises(InputError) as caught:
        load_exports(folder, default_config)
    located = [(p.code, p.line, p.column, p.value) for p in caught.value.problems]
    assert (ProblemCode.NOT_A_DATE, 4, "Close Date", "soon") in located


def test_a_missing_derived_value_points_to_its_expression(tmp_path, default_config):
    folder = hubspot_folder(tmp_path)
    write(folder, "hubspot-crm-exports-all-deals-2026-11-20.csv",
          "Record ID,Deal Name,Deal Stage,Close Date,Amount,Associated Company IDs (Primary)\n"
          "102,B,Closed Won,2025-01-15,,11\n")
    with pytest.raises(InputError) as caught:
        load_exports(folder, default_config)
    problem = caught.value.problems[0]
    assert (problem.code, problem.line, problem.column) == (ProblemCode.MISSING_VALUE, 2, "arr")
    assert problem.fix.startswith("arr is derived by the source 'hubspot_deals' as coalesce(")


def test_the_columns_mapping_of_playbooks_yaml_wins_over_a_preset(tmp_path):
    text = default_config_text().replace("columns:\n  accounts: {}\n", "columns:\n  accounts:\n"
                                         "    csm_owner: \"Success Lead\"\n", 1)
    config = parse_config(text)
    folder = hubspot_folder(tmp_path)
    write(folder, "hubspot-crm-exports-all-companies-2026-11-20.csv",
          "Record ID,Company name,Company owner,Success Lead\n11,Alpha,Ann Lee,Cy Doe\n")
    write(folder, "hubspot-crm-exports-all-deals-2026-11-20.csv", HUBSPOT_DEALS)
    accounts = load_exports(folder, config).accounts
    assert list(accounts.frame["csm_owner"]) == ["Cy Doe"]
    assert accounts.assumptions == []


def test_a_fix_hint_skips_a_header_known_as_another_column(tmp_path):
    from csops_cli.loading.hints import missing_column_problem

    text = "Account ID,Activity date,Assigned\nA1,2026-03-02,Ann Lee\nA2,2026-03-05,Bob Roy\n"
    path = write(tmp_path, "activities.csv", text)
    problem = missing_column_problem(path, "activities", "activity_type",
                                     ["Account ID", "Activity date", "Assigned"],
                                     taken=["Account ID", "Activity date"])
    assert "Assigned" not in problem.fix  # the Salesforce preset reads it as the owner


def test_with_a_csm_column_a_blank_csm_stays_blank_and_nothing_is_assumed(tmp_path,
                                                                          default_config):
    folder = hubspot_folder(tmp_path)
    write(folder, "hubspot-crm-exports-all-companies-2026-11-20.csv",
          "Record ID,Company name,Company owner,Customer Success Manager\n"
          "11,Alpha,Ann Lee,Cy Doe\n12,Bravo,Bob Ray,\n")
    write(folder, "hubspot-crm-exports-all-deals-2026-11-20.csv", HUBSPOT_DEALS)
    accounts = load_exports(folder, default_config).accounts
    assert [None if pd.isna(v) else v for v in accounts.frame["csm_owner"]] == ["Cy Doe", None]
    assert list(accounts.frame["ae_owner"]) == ["Ann Lee", "Bob Ray"]
    assert accounts.assumptions == []


def test_absent_tells_a_missing_column_from_a_blank_cell():
    raw = raw_file([{"Id": "1", "Name": "A", "Owner": "Ann"}])
    rule = source(optional=["csm"], columns={"account_id": "Id", "account_name": "Name"},
                  assumptions=[{"text": "no csm column", "rows": "absent(csm)"},
                               {"text": "no owner column", "rows": "absent(owner)"}])
    result = apply_source(raw, "accounts", rule)
    assert [(a.text, a.count) for a in result.assumptions] == [("no csm column", 1)]
