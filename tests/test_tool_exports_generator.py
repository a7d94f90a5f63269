"""The fixture generator itself: each tool's files have the real shape and encode the truth.

The truth is recomputed from the written files with plain Python and the rules of the shared
sources spec (research/sources-spec.md), so a fixture that drifts from the spec fails here, not
in the equivalence tests that depend on it.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import zipfile
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

import tool_exports as tx


@pytest.fixture(scope="module")
def truth() -> tx.Truth:
    return tx.build_truth()


@pytest.fixture(scope="module")
def folders(truth, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tool-exports")
    out = {"hubspot": root / "hubspot", "salesforce": root / "salesforce",
           "salesforce_xlsx": root / "salesforce-xlsx"}
    tx.write_hubspot(out["hubspot"], truth)
    tx.write_salesforce(out["salesforce"], truth)
    out["salesforce_xlsx"].mkdir()
    tx.write_salesforce_formatted_accounts(out["salesforce_xlsx"], truth)
    for source in tx.USAGE_SOURCES:
        out[source] = root / source
        out[source].mkdir()
        tx.USAGE_WRITERS[source](out[source], truth, "hubspot")
    return out


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return next(csv.reader(handle))


def salesforce_rows(path: Path) -> list[dict[str, str]]:
    """Details Only CSV rows without the footer (rows of one cell after the data)."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        names = next(reader)
        return [dict(zip(names, r, strict=True)) for r in reader if len(r) == len(names)]


def iso(text: str) -> date:
    return date.fromisoformat(text[:10])


def us(text: str) -> date:
    return datetime.strptime(text, "%m/%d/%Y").date()


def add_months(day: date, months: int) -> date:
    stamp = pd.Timestamp(day) + pd.DateOffset(months=months)
    return stamp.date()


def months_between(start: date, end: date) -> int:
    """Whole calendar months, end exclusive (the spec's months_between)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if end.day < start.day else months


def money(text: str) -> float:
    return float(re.sub(r"^(USD\s*|\$)", "", text.strip()).replace(",", ""))


def truth_contracts(truth, crm) -> set[tuple]:
    frame = tx.canonical_tables(truth, crm)["contracts"]
    return {(r.contract_id, r.account_id, r.start_date.date(), r.end_date.date(), r.arr,
             int(r.licenses), r.signed_date.date(), r.contract_type)
            for r in frame.itertuples(index=False)}


def continues_term(row: dict, others: list[dict]) -> bool:
    return any(o is not row and o["account_id"] == row["account_id"]
               and abs((row["start_date"] - o["end_date"]).days) <= 31 for o in others)


# ---------------------------------------------------------------------------------------------
# the truth covers every case the presets must handle

def test_truth_holds_every_case_the_presets_handle(truth):
    contracts = truth.contracts
    assert (contracts["months"] > 12).sum() >= 5  # multi-year: Amount is total contract value
    assert (~contracts["dated"]).sum() >= 5  # no contract dates: 12 months from the close date
    undated = contracts[~contracts["dated"]]
    assert (undated["signed_date"] == undated["start_date"]).all()
    assert (undated["months"] == 12).all()
    assert contracts["arr_given"].sum() >= 2  # HubSpot "Annual recurring revenue" filled
    assert set(contracts["contract_type"]) == {"new", "renewal", "expansion"}
    assert set(truth.other_deals["outcome"]) == {"open", "lost"}
    assert len(truth.multi_company_activities) >= 5
    assert set(truth.activities["activity_type"]) == {"call", "meeting", "email", "note"}
    anonymous = truth.usage["user_id"].str.count("-") == 4
    assert 0 < anonymous.sum() < len(truth.usage) * 0.1
    assert (truth.usage["account_id"] == tx.ORPHAN_ACCOUNT).sum() == 3
    assert (truth.activities["account_id"] == tx.ORPHAN_ACCOUNT).sum() == 2
    assert len(truth.accounts) == 40 and len(truth.usage) == 20_000 + 3  # and 3 orphans


# ---------------------------------------------------------------------------------------------
# HubSpot

def test_hubspot_files_have_the_download_names_and_headers(folders):
    names = sorted(p.name for p in folders["hubspot"].iterdir())
    assert names == sorted(tx.HUBSPOT_FILES.values())
    files = {key: folders["hubspot"] / name for key, name in tx.HUBSPOT_FILES.items()}
    raw = files["companies"].read_bytes()
    assert raw.startswith(b'\xef\xbb\xbf"Record ID","Company name","Company owner",')
    assert header(files["companies"]) == tx.HUBSPOT_COMPANY_HEADER
    assert header(files["deals"]) == tx.HUBSPOT_DEAL_HEADER
    for kind, key in (("call", "calls"), ("meeting", "meetings"), ("email", "emails"),
                      ("note", "notes")):
        names = header(files[key])
        assert names == tx.HUBSPOT_ACTIVITY_HEADERS[kind]
        assert not {"Activity type", "Type", "activity_type"} & set(names)  # the file says it
    assert header(files["users"]) == tx.HUBSPOT_USER_HEADER
    # every cell quoted; a note body holds a comma, doubled quotes and a line break
    notes = files["notes"].read_text(encoding="utf-8")
    assert '""power users""' in notes and "held.\nAttendees" in notes
    assert all(line.startswith('"') for line in files["deals"].read_text().splitlines())


def test_hubspot_companies_encode_the_accounts(folders, truth):
    companies = rows(folders["hubspot"] / tx.HUBSPOT_FILES["companies"])
    expected = tx.canonical_tables(truth, "hubspot")["accounts"]
    got = {(r["Record ID"], r["Company name"], r["Company owner"], r["Customer Success Manager"],
            r["Customer Segment"]) for r in companies}
    assert got == {(r.account_id, r.account_name, r.ae_owner, r.csm_owner, r.segment)
                   for r in expected.itertuples(index=False)}
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", r["Create Date"]) for r in companies)
    assert any(r["Company owner"] != r["Customer Success Manager"] for r in companies)


def test_hubspot_deals_give_the_truth_contracts_by_the_spec_rules(folders, truth):
    deals = rows(folders["hubspot"] / tx.HUBSPOT_FILES["deals"])
    won = [d for d in deals if d["Deal Stage"] == "Closed Won"]
    assert len(deals) - len(won) == len(truth.other_deals)  # "open or lost deals left out"
    assert {d["Deal Stage"] for d in deals} > {"Closed Won", "Closed Lost"}
    contracts = []
    for d in won:
        start = iso(d["Contract start date"] or d["Close Date"])
        end = iso(d["Contract end date"]) if d["Contract end date"] else add_months(start, 12)
        arr = (float(d["Annual recurring revenue"]) if d["Annual recurring revenue"]
               else float(d["Amount"]) * 12 / months_between(start, end))
        contracts.append({"contract_id": d["Record ID"],
                          "account_id": d["Associated Company IDs (Primary)"],
                          "start_date": start, "end_date": end, "arr": arr,
                          "licenses": int(d["Seats"]), "signed_date": iso(d["Close Date"]),
                          "deal_type": d["Deal Type"]})
    for c in contracts:
        c["contract_type"] = ("new" if c["deal_type"] == "New Business" else
                              "renewal" if continues_term(c, contracts) else "expansion")
    got = {(c["contract_id"], c["account_id"], c["start_date"], c["end_date"],
            round(c["arr"], 2), c["licenses"], c["signed_date"], c["contract_type"])
           for c in contracts}
    assert sorted(got, key=str) == sorted(truth_contracts(truth, "hubspot"), key=str)
    # each rule is exercised: default term, Amount spread over a longer term, ARR given
    assert sum(not d["Contract end date"] for d in won) == (~truth.contracts["dated"]).sum()
    assert any(months_between(c["start_date"], c["end_date"]) > 12 for c in contracts)
    assert sum(bool(d["Annual recurring revenue"]) for d in won) == truth.contracts[
        "arr_given"].sum()


def test_hubspot_activities_give_the_truth_activities(folders, truth):
    expected = tx.canonical_tables(truth, "hubspot")["activities"]
    got, several = Counter(), 0
    for kind, key in (("call", "calls"), ("meeting", "meetings"), ("email", "emails"),
                      ("note", "notes")):
        for r in rows(folders["hubspot"] / tx.HUBSPOT_FILES[key]):
            companies = r["Associated Company IDs"].split(";")
            several += len(companies) > 1
            assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", r["Activity date"])
            got[(companies[0], iso(r["Activity date"]), kind, r["Activity assigned to"])] += 1
    assert got == Counter((r.account_id, r.date.date(), r.activity_type, r.owner)
                          for r in expected.itertuples(index=False))
    assert several == len(truth.multi_company_activities)


def test_hubspot_users_give_the_team(folders, truth):
    users = rows(folders["hubspot"] / tx.HUBSPOT_FILES["users"])
    assert {(u["First Name"] + " " + u["Last Name"], u["Assigned role"]) for u in users} == {
        (r.owner, r.role) for r in truth.team.itertuples(index=False)}


def test_hubspot_without_a_csm_column_has_only_the_company_owner(truth, tmp_path):
    tx.write_hubspot(tmp_path, truth, csm_column=False)
    names = header(tmp_path / tx.HUBSPOT_FILES["companies"])
    assert "Company owner" in names and "Customer Success Manager" not in names


# ---------------------------------------------------------------------------------------------
# Salesforce

def test_salesforce_reports_are_details_only_csv_with_the_footer(folders):
    names = sorted(p.name for p in folders["salesforce"].iterdir())
    expected = sorted(v for k, v in tx.SALESFORCE_FILES.items() if k != "accounts_xlsx")
    assert names == expected
    assert all(re.fullmatch(r"report\d{13}\.csv", n) for n in names)
    headers = {"accounts": tx.SALESFORCE_ACCOUNT_HEADER,
               "opportunities": tx.SALESFORCE_OPPORTUNITY_HEADER,
               "activities": tx.SALESFORCE_ACTIVITY_HEADER, "users": tx.SALESFORCE_USER_HEADER}
    for key, names in headers.items():
        path = folders["salesforce"] / tx.SALESFORCE_FILES[key]
        text = path.read_text(encoding="utf-8")
        assert "\r" not in text
        lines = text.split("\n")
        assert header(path) == names
        assert lines[-3:] == ['"Confidential Information - Do Not Distribute"',
                              '"Copyright (c) 2000-2026 salesforce.com, inc. All rights '
                              'reserved."', ""]
        data = salesforce_rows(path)
        body = lines[1:1 + len(data)]
        assert all(re.fullmatch(r'"[^"]*(?:""[^"]*)*"(?:,"[^"]*(?:""[^"]*)*")*', line)
                   for line in body)  # every cell quoted, empty ones too
        after = lines[1 + len(data):]
        assert after[:2] == ["", ""]  # two blank lines before the footer
        totals = [line for line in after if line.startswith('"Grand Totals')]
        if key in ("opportunities", "activities"):
            assert totals == [f'"Grand Totals ({len(data)} records)"']
        else:
            assert totals == []


def test_salesforce_accounts_keep_the_ae_apart_from_the_csm(folders, truth):
    accounts = salesforce_rows(folders["salesforce"] / tx.SALESFORCE_FILES["accounts"])
    expected = tx.canonical_tables(truth, "salesforce")["accounts"]
    assert {(a["Account ID"], a["Account Name"], a["Account Owner"],
             a["Customer Success Manager"], a["Segment"], us(a["Created Date"]))
            for a in accounts} == {
        (r.account_id, r.account_name, r.ae_owner, r.csm_owner, r.segment,
         r.created_date.date()) for r in expected.itertuples(index=False)}
    assert all(len(a["Account ID"]) == 18 and a["Account ID"].startswith("001")
               for a in accounts)


def test_salesforce_opportunities_give_the_truth_contracts_by_the_spec_rules(folders, truth):
    opportunities = salesforce_rows(folders["salesforce"] / tx.SALESFORCE_FILES["opportunities"])
    won = [o for o in opportunities if o["Stage"] == "Closed Won"]
    assert len(opportunities) - len(won) == len(truth.other_deals)
    kinds = {"New Business": "new", "Renewal": "renewal", "Expansion": "expansion"}
    got = set()
    for o in won:
        start = us(o["Contract Start Date"] or o["Close Date"])
        end = us(o["Contract End Date"]) if o["Contract End Date"] else add_months(start, 12)
        arr = money(o["Amount"]) * 12 / max(months_between(start, end), 12)
        got.add((o["Opportunity ID"], o["Account ID"], start, end, round(arr, 2),
                 int(o["Quantity"]), us(o["Close Date"]), kinds[o["Type"]]))
    assert sorted(got, key=str) == sorted(truth_contracts(truth, "salesforce"), key=str)
    amounts = [o["Amount"] for o in opportunities]
    assert any(a.startswith("$") and "," in a for a in amounts)
    assert any(a.startswith("USD ") for a in amounts)
    assert any(re.fullmatch(r"\d+", a) for a in amounts)


def test_salesforce_activities_and_users(folders, truth):
    expected = tx.canonical_tables(truth, "salesforce")
    activities = salesforce_rows(folders["salesforce"] / tx.SALESFORCE_FILES["activities"])
    assert Counter((a["Account ID"], us(a["Date"]), a["Activity Type"].lower(), a["Assigned"])
                   for a in activities) == Counter(
        (r.account_id, r.date.date(), r.activity_type, r.owner)
        for r in expected["activities"].itertuples(index=False))
    users = salesforce_rows(folders["salesforce"] / tx.SALESFORCE_FILES["users"])
    assert {(u["Full Name"], u["Role"], u["Manager"]) for u in users} == {
        (r.owner, r.role, r.manager) for r in expected["team"].itertuples(index=False)}


def test_salesforce_formatted_report_has_title_rows_groups_totals_and_footer(folders, truth):
    from openpyxl import load_workbook

    path = folders["salesforce_xlsx"] / tx.SALESFORCE_FILES["accounts_xlsx"]
    assert re.fullmatch(r"Accounts by Owner-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.xlsx", path.name)
    sheet = load_workbook(path).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    header_at = values.index(tx.SALESFORCE_ACCOUNT_HEADER)
    assert header_at >= 3 and values[0][0] == "Accounts by Owner"
    below = values[header_at + 1:]
    id_column = tx.SALESFORCE_ACCOUNT_HEADER.index("Account ID")
    data = [r for r in below if r[id_column]]
    expected = tx.canonical_tables(truth, "salesforce")["accounts"]
    assert sorted(r[id_column] for r in data) == sorted(expected["account_id"])
    created = tx.SALESFORCE_ACCOUNT_HEADER.index("Created Date")
    assert all(isinstance(r[created], datetime) for r in data)  # real Excel dates
    firsts = [r[0] for r in below if not r[id_column] and r[0]]
    assert firsts.count("Subtotal") == expected["ae_owner"].nunique()
    assert f"Grand Total ({len(expected)} records)" in firsts
    assert firsts[-2:] == tx.SALESFORCE_FOOTER


# ---------------------------------------------------------------------------------------------
# usage

def expected_usage(truth, by_day: bool = True) -> Counter:
    usage = tx.canonical_tables(truth, "hubspot")["usage"]
    return Counter(zip(usage["account_id"], usage["user_id"], usage["feature"],
                       usage["timestamp"].dt.date, strict=True))


def test_mixpanel_export_is_json_lines_with_unix_seconds(folders, truth):
    path = folders["mixpanel"] / "export.json"
    got, lists, scalars = Counter(), 0, 0
    for line in path.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        assert set(event) == {"event", "properties"}
        props = event["properties"]
        assert isinstance(props["time"], int) and 1.7e9 < props["time"] < 1.8e9
        company = props["company_id"]
        if isinstance(company, list):
            assert len(company) == 1
            lists += 1
            company = company[0]
        else:
            scalars += 1
        day = datetime.fromtimestamp(props["time"], UTC).date()
        got[(company, props["distinct_id"], event["event"], day)] += 1
    assert lists and scalars
    assert got == expected_usage(truth)


def test_amplitude_export_is_a_zip_of_gzipped_hourly_json_lines(folders, truth):
    path = folders["amplitude"] / "export-412873.zip"
    got = Counter()
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert all(re.fullmatch(r"412873/412873_\d{4}-\d\d-\d\d_\d{1,2}#\d\.json\.gz", n)
                   for n in names)
        assert any(re.search(r"_\d#", n) for n in names)  # hour not zero-padded
        assert any(n.endswith("#1.json.gz") for n in names)
        for name in names:
            for line in gzip.decompress(archive.read(name)).decode("utf-8").splitlines():
                event = json.loads(line)
                assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", event["event_time"])
                assert isinstance(event["groups"]["company"], list)
                assert {"amplitude_id", "event_type", "device_id"} <= set(event)
                user = event["user_id"] or event["device_id"]
                got[(event["groups"]["company"][0], user, event["event_type"],
                     iso(event["event_time"]))] += 1
    assert got == expected_usage(truth)


def test_pendo_api_gives_per_day_counts_with_feature_ids(folders, truth):
    events = json.loads((folders["pendo_api"] / "featureEvents.json").read_text())
    lookup = json.loads((folders["pendo_api"] / "features.json").read_text())
    assert set(events) == {"results"} and set(lookup) == {"results"}
    names = {f["id"]: f["name"] for f in lookup["results"]}
    assert all(set(f) == {"id", "name"} and len(f["id"]) == 27 for f in lookup["results"])
    got = Counter()
    for r in events["results"]:
        assert {"accountId", "visitorId", "featureId", "day", "numEvents", "numMinutes"} <= set(r)
        assert r["day"] % 86_400_000 == 0  # midnight UTC, epoch milliseconds
        day = (datetime(1970, 1, 1) + timedelta(milliseconds=r["day"])).date()
        got[(r["accountId"], r["visitorId"], names[r["featureId"]], day)] += r["numEvents"]
    assert got == expected_usage(truth)
    assert len(events["results"]) < len(truth.usage)  # aggregated, counts above 1


def test_pendo_data_explorer_csv_gives_per_day_counts(folders, truth):
    path = folders["pendo_csv"] / tx.USAGE_FILES["pendo_csv"][0]
    assert header(path) == tx.PENDO_CSV_HEADER
    got = Counter()
    for r in rows(path):
        got[(r["Account ID"], r["Visitor ID"], r["Feature Name"], iso(r["Date"]))] += int(
            r["Number of Events"])
    assert got == expected_usage(truth)


def test_segment_tracks_csv_has_utc_suffixed_timestamps(folders, truth):
    path = folders["segment"] / "bq-results-20261120-140500-1732111500000.csv"
    assert header(path) == tx.SEGMENT_HEADER
    got, anonymous = Counter(), 0
    for r in rows(path):
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{3})? UTC", r["timestamp"])
        assert r["anonymous_id"]
        anonymous += not r["user_id"]
        got[(r["context_group_id"], r["user_id"] or r["anonymous_id"], r["event"],
             iso(r["timestamp"]))] += 1
    assert anonymous > 0
    assert got == expected_usage(truth)


# ---------------------------------------------------------------------------------------------
# the truth folder and assemble()

def test_assemble_writes_each_combination_as_downloaded(truth, tmp_path):
    for crm in tx.CRMS:
        for source in tx.USAGE_SOURCES:
            folder = tx.assemble(tmp_path / f"{crm}-{source}", crm, source, truth)
            crm_files = tx.HUBSPOT_FILES if crm == "hubspot" else tx.SALESFORCE_FILES
            expected = {v for k, v in crm_files.items() if k != "accounts_xlsx"}
            assert {p.name for p in folder.iterdir()} == expected | set(tx.USAGE_FILES[source])
    xlsx = tx.assemble(tmp_path / "xlsx", "salesforce", "mixpanel", truth, accounts_format="xlsx")
    names = {p.name for p in xlsx.iterdir()}
    assert tx.SALESFORCE_FILES["accounts_xlsx"] in names
    assert tx.SALESFORCE_FILES["accounts"] not in names  # one accounts file, no ambiguity


def test_csops_reads_the_truth_folder(truth, tmp_path, cli):
    folder = tx.truth_folder(tmp_path / "truth", "hubspot", "mixpanel", truth)
    result = cli("health", folder, "--format", "json", "--no-save", "--as-of", "2026-11-20",
                 "--history", tmp_path / "history.db")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    contracts = tx.canonical_tables(truth, "hubspot")["contracts"]
    as_of = tx.AS_OF
    active = contracts[(contracts["start_date"] <= as_of) & (as_of < contracts["end_date"])]
    arr = active.groupby("account_id")["arr"].sum()
    paying = {a: float(v) for a, v in arr.items() if v > 0}
    # the table lists the paying accounts, each with the ARR its contracts add up to
    assert {r["account_id"]: r["arr"] for r in records} == pytest.approx(paying)
    assert 25 <= len(paying) < len(truth.accounts)
