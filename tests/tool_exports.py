"""Tool exports as downloaded, written from a known canonical truth (fixtures for the presets).

`build_truth()` makes one canonical data set (accounts, contracts, usage, activities, team) from
`csops_cli.sample.generate`, reshaped so that every CRM can express it exactly: calendar-month
contract terms (some multi-year), co-termed expansions, ARR in multiples of 1,200 (so an Amount
spread over any whole-month term is a whole number), activity types the CRMs export, and a few
anonymous users. `assemble()` writes one combination of CRM and usage source the way the tools
download their files (names, headers, quoting, footers, date formats, JSON nesting, zip layout,
title rows, epoch times), following the shared sources spec (research/sources-spec.md);
`write_canonical()` writes the same truth as canonical CSVs, so that a test can compare csops on
both.

Account and contract ids differ per CRM (HubSpot record ids are numbers, Salesforce ids are
18-character keys), so the canonical truth is asked for per CRM: `canonical_tables(truth, crm)`.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import tempfile
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

AS_OF = pd.Timestamp("2026-11-20")
CRMS = ("hubspot", "salesforce")
USAGE_SOURCES = ("mixpanel", "amplitude", "pendo_api", "pendo_csv", "segment")
# usage sources whose files carry a business unit; the others are compared with a truth without it
USAGE_WITH_BUSINESS_UNIT = frozenset({"mixpanel", "amplitude"})
CANONICAL_COLUMNS = {
    "accounts": ["account_id", "account_name", "segment", "lifecycle_stage", "csm_owner",
                 "ae_owner", "created_date"],
    "contracts": ["contract_id", "account_id", "start_date", "end_date", "arr", "licenses",
                  "signed_date", "contract_type"],
    "usage": ["account_id", "timestamp", "user_id", "feature", "business_unit"],
    "activities": ["account_id", "date", "activity_type", "owner"],
    "team": ["owner", "role", "manager"],
}
ORPHAN_ACCOUNT = "A99999"  # usage and two activities of an account the CRM export lacks
UNKNOWN_COMPANY = "Unknown company"

HUBSPOT_FILES = {
    "companies": "hubspot-crm-exports-all-companies-2026-11-20.csv",
    "deals": "hubspot-crm-exports-all-deals-2026-11-20.csv",
    "calls": "hubspot-crm-exports-all-calls-2026-11-20.csv",
    "meetings": "hubspot-crm-exports-all-meetings-2026-11-20.csv",
    "emails": "hubspot-crm-exports-all-emails-2026-11-20.csv",
    "notes": "hubspot-crm-exports-all-notes-2026-11-20.csv",
    "users": "hubspot-users-export-2026-11-20.csv",
}
SALESFORCE_FILES = {
    "accounts": "report1795166040202.csv",
    "accounts_xlsx": "Accounts by Owner-2026-11-20-14-05-33.xlsx",
    "opportunities": "report1795166041517.csv",
    "activities": "report1795166043120.csv",
    "users": "report1795166044883.csv",
}
USAGE_FILES = {
    "mixpanel": ("export.json",),
    "amplitude": ("export-412873.zip",),
    "pendo_api": ("featureEvents.json", "features.json"),
    "pendo_csv": ("pendo-data-explorer-feature-events-2026-11-20.csv",),
    "segment": ("bq-results-20261120-140500-1732111500000.csv",),
}
AMPLITUDE_PROJECT = 412873

HUBSPOT_COMPANY_HEADER = [
    "Record ID", "Company name", "Company owner", "Customer Success Manager", "Create Date",
    "Lifecycle Stage", "Customer Segment", "Industry", "Company Domain Name", "Phone Number",
    "City", "Country/Region", "Last Activity Date"]
HUBSPOT_DEAL_HEADER = [
    "Record ID", "Deal Name", "Deal Stage", "Pipeline", "Amount", "Close Date", "Create Date",
    "Deal owner", "Deal Type", "Associated Company (Primary)",
    "Associated Company IDs (Primary)", "Contract start date", "Contract end date",
    "Annual recurring revenue", "Seats", "Last Activity Date"]
HUBSPOT_ACTIVITY_HEADERS = {
    "call": ["Record ID", "Call Title", "Activity date", "Activity assigned to", "Call outcome",
             "Call direction", "Call notes", "Associated Company IDs", "Associated Contact IDs"],
    "meeting": ["Record ID", "Meeting name", "Activity date", "Activity assigned to",
                "Meeting outcome", "Meeting location", "Associated Company IDs",
                "Associated Contact IDs"],
    "email": ["Record ID", "Email subject", "Activity date", "Activity assigned to",
              "Email direction", "Email send status", "Associated Company IDs",
              "Associated Contact IDs"],
    "note": ["Record ID", "Note body", "Activity date", "Activity assigned to",
             "Associated Company IDs", "Associated Contact IDs"],
}
HUBSPOT_USER_HEADER = ["First Name", "Last Name", "Email", "Assigned role", "Assigned teams",
                       "Last login date", "User ID"]
SALESFORCE_ACCOUNT_HEADER = [
    "Account Name", "Account Owner", "Customer Success Manager", "Type", "Segment", "Industry",
    "Billing State/Province", "Created Date", "Account ID"]
SALESFORCE_OPPORTUNITY_HEADER = [
    "Opportunity Owner", "Account Name", "Opportunity Name", "Type", "Stage", "Amount",
    "Probability (%)", "Close Date", "Created Date", "Contract Start Date", "Contract End Date",
    "Quantity", "Opportunity ID", "Account ID"]
SALESFORCE_ACTIVITY_HEADER = [
    "Subject", "Activity Type", "Date", "Assigned", "Company / Account", "Status", "Priority",
    "Activity ID", "Account ID"]
SALESFORCE_USER_HEADER = ["Full Name", "Username", "Email", "Role", "Profile", "Manager",
                          "Active", "User ID"]
PENDO_CSV_HEADER = ["Account ID", "Visitor ID", "Date", "Feature Name", "Number of Events",
                    "Number of Minutes"]
SEGMENT_HEADER = ["id", "anonymous_id", "user_id", "event", "event_text", "context_group_id",
                  "timestamp", "received_at", "sent_at", "original_timestamp",
                  "context_library_name", "context_library_version"]
SALESFORCE_FOOTER = ["Confidential Information - Do Not Distribute",
                     "Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."]
HUBSPOT_TYPES = {"new": "New Business", "renewal": "Existing Business",
                 "expansion": "Existing Business"}
SALESFORCE_TYPES = {"new": "New Business", "renewal": "Renewal", "expansion": "Expansion"}
HUBSPOT_OPEN_STAGES = ("Appointment Scheduled", "Qualified To Buy", "Contract Sent",
                       "Decision Maker Bought-In")
SALESFORCE_OPEN_STAGES = ("Prospecting", "Qualification", "Needs Analysis",
                          "Negotiation/Review")
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Truth:
    """The canonical truth in neutral ids (A00001, C000001), with what the CRMs need besides.

    contracts has, beyond the canonical columns: `months` (term length), `dated` (the CRM holds
    contract start/end dates; else the term is 12 months from the close date) and `arr_given`
    (HubSpot's "Annual recurring revenue" is filled). `other_deals` are the open and lost deals
    that a contracts source must leave out: account_id, outcome (open | lost), close_date,
    amount, contract_type, months.
    """

    accounts: pd.DataFrame
    contracts: pd.DataFrame
    usage: pd.DataFrame
    activities: pd.DataFrame
    team: pd.DataFrame
    other_deals: pd.DataFrame
    multi_company_activities: frozenset[int]  # activity row positions listed with two companies


# ---------------------------------------------------------------------------------------------
# ids per CRM

def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, rest = divmod(number, 62)
        digits.append(BASE62[rest])
    return "".join(reversed(digits))


def _index(neutral: str) -> int:
    return int(neutral[1:])


def account_key(crm: str, neutral: str) -> str:
    """The CRM's id of a truth account (A00007 -> HubSpot record id or Salesforce Account ID)."""
    i = _index(neutral)
    if crm == "hubspot":
        return str(18273640000 + 1009 * i)
    return f"0015g00000{_base62(7919 * i, 5)}AAV"


def contract_key(crm: str, neutral: str) -> str:
    i = _index(neutral)
    if crm == "hubspot":
        return str(9810000000 + 37 * i)
    return f"0065g00000{_base62(104729 * i, 5)}AAQ"


def _other_deal_key(crm: str, i: int) -> str:
    return contract_key(crm, f"C{500000 + i}")


def _user_key(crm: str, i: int) -> str:
    return str(51234000 + 11 * i) if crm == "hubspot" else f"0055g00000{_base62(31 * i, 5)}AAE"


# ---------------------------------------------------------------------------------------------
# the truth

@lru_cache(maxsize=4)
def build_truth(accounts: int = 40, seed: int = 11, events: int = 20_000) -> Truth:
    """The canonical truth (deterministic); do not modify the frames it returns."""
    from csops_cli.sample import generate

    with tempfile.TemporaryDirectory() as folder:
        generate(Path(folder), accounts=accounts, seed=seed, as_of=AS_OF, events=events)
        sample = {name: pd.read_csv(Path(folder) / f"{name}.csv", dtype=str,
                                    keep_default_na=False)
                  for name in ("accounts", "contracts", "usage", "activities", "team")}
    rng = np.random.default_rng(seed + 1000)
    contracts = _truth_contracts(rng, sample["contracts"])
    account_frame = sample["accounts"][["account_id", "account_name", "segment", "csm_owner",
                                        "ae_owner", "created_date"]].copy()
    account_frame["created_date"] = pd.to_datetime(account_frame["created_date"])
    # an account is created in the CRM before its first contract starts
    first_start = contracts.groupby("account_id")["start_date"].min()
    account_frame["created_date"] = np.minimum(
        account_frame["created_date"],
        account_frame["account_id"].map(first_start) - pd.Timedelta(days=3))
    activities = _truth_activities(rng, sample["activities"])
    # two calls logged on a company that is not in the companies export
    orphans = activities.tail(2).assign(account_id=ORPHAN_ACCOUNT, activity_type="call")
    activities = pd.concat([activities, orphans], ignore_index=True)
    several = (rng.random(len(activities)) < 0.08) & (activities["account_id"] != ORPHAN_ACCOUNT)
    multi = frozenset(np.flatnonzero(several.to_numpy()).tolist())
    return Truth(
        accounts=account_frame.reset_index(drop=True),
        contracts=contracts,
        usage=_truth_usage(rng, sample["usage"]),
        activities=activities,
        team=sample["team"].copy(),
        other_deals=_other_deals(rng, contracts),
        multi_company_activities=multi,
    )


def _clamp_day(day: pd.Timestamp) -> pd.Timestamp:
    # days 29-31 do not exist in every month: keep terms whole calendar months exactly
    return day.replace(day=min(day.day, 28))


def _round_arr(value: float) -> float:
    return float(max(1200, round(float(value) / 1200) * 1200))


def _truth_contracts(rng: np.random.Generator, sample: pd.DataFrame) -> pd.DataFrame:
    sample = sample.assign(start_date=pd.to_datetime(sample["start_date"]),
                           end_date=pd.to_datetime(sample["end_date"]),
                           arr=sample["arr"].astype(float),
                           licenses=sample["licenses"].astype(int))
    rows = []
    for account, group in sample.groupby("account_id", sort=True):
        terms = group[group["contract_type"] != "expansion"].sort_values("start_date")
        churned = group["end_date"].max() <= AS_OF
        arrs = [_round_arr(a) for a in terms["arr"]]
        licenses = list(terms["licenses"])
        start = _clamp_day(terms["start_date"].iloc[0])
        k = 0
        while (k < len(terms)) if churned else (start <= AS_OF):
            months = 12 if churned else int(rng.choice([12, 12, 12, 12, 24, 36]))
            end = start + pd.DateOffset(months=months)
            dated = months != 12 or rng.random() < 0.6
            signed = start - pd.Timedelta(days=int(rng.integers(0, 21))) if dated else start
            arr = arrs[min(k, len(arrs) - 1)]
            lic = int(licenses[min(k, len(licenses) - 1)])
            rows.append({"account_id": account, "start_date": start, "end_date": end,
                         "arr": arr, "licenses": lic, "signed_date": signed,
                         "contract_type": "new" if k == 0 else "renewal", "months": months,
                         "dated": bool(dated), "arr_given": False})
            # a co-termed expansion: starts 2+ months into the term, ends with it
            if months >= 12 and rng.random() < 0.3:
                offsets = [m for m in range(2, months - 1)
                           if start + pd.DateOffset(months=m) <= AS_OF]
                if offsets:
                    m = int(rng.choice(offsets))
                    exp_start = start + pd.DateOffset(months=m)
                    rows.append({"account_id": account, "start_date": exp_start,
                                 "end_date": end, "arr": _round_arr(arr * 0.2),
                                 "licenses": max(1, round(lic * 0.2)),
                                 "signed_date": exp_start - pd.Timedelta(days=4),
                                 "contract_type": "expansion", "months": months - m,
                                 "dated": True, "arr_given": bool(rng.random() < 0.4)})
            start, k = end, k + 1
    frame = pd.DataFrame(rows).sort_values(["account_id", "start_date", "contract_type"],
                                           kind="stable", ignore_index=True)
    frame.insert(0, "contract_id", [f"C{i:06d}" for i in range(1, len(frame) + 1)])
    return frame


def _other_deals(rng: np.random.Generator, contracts: pd.DataFrame) -> pd.DataFrame:
    """Open and lost deals: lost renewals of churned accounts, open renewals and upsells."""
    rows = []
    for account, group in contracts.groupby("account_id", sort=True):
        last = group.loc[group["end_date"].idxmax()]
        if last["end_date"] <= AS_OF:  # churned: the renewal was lost
            rows.append({"account_id": account, "outcome": "lost",
                         "close_date": last["end_date"] - pd.Timedelta(days=10),
                         "amount": last["arr"], "contract_type": "renewal", "months": 12})
        elif last["end_date"] <= AS_OF + pd.Timedelta(days=150):  # the renewal is in progress
            rows.append({"account_id": account, "outcome": "open",
                         "close_date": last["end_date"], "amount": last["arr"],
                         "contract_type": "renewal", "months": 12})
        if rng.random() < 0.2:
            rows.append({"account_id": account, "outcome": "open",
                         "close_date": AS_OF + pd.Timedelta(days=int(rng.integers(20, 90))),
                         "amount": _round_arr(last["arr"] * 0.3), "contract_type": "expansion",
                         "months": 12})
        if rng.random() < 0.15:
            rows.append({"account_id": account, "outcome": "lost",
                         "close_date": AS_OF - pd.Timedelta(days=int(rng.integers(20, 300))),
                         "amount": _round_arr(last["arr"] * 0.25),
                         "contract_type": "expansion", "months": 12})
    return pd.DataFrame(rows)


def _anonymous_id(account: str, k: int) -> str:
    h = hashlib.md5(f"{account}-anon-{k}".encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def _truth_usage(rng: np.random.Generator, sample: pd.DataFrame) -> pd.DataFrame:
    frame = sample.copy()
    millis = rng.integers(1, 1000, len(frame))
    millis[rng.random(len(frame)) < 0.1] = 0  # some events on a whole second
    frame["timestamp"] = pd.to_datetime(frame["timestamp"]) + pd.to_timedelta(millis, unit="ms")
    # a few events before the user logged in: the only identity is the anonymous/device id
    anonymous = rng.random(len(frame)) < 0.03
    slot = rng.integers(0, 3, len(frame))
    frame.loc[anonymous, "user_id"] = [
        _anonymous_id(a, int(k)) for a, k in zip(frame.loc[anonymous, "account_id"],
                                                  slot[anonymous], strict=True)]
    return frame[CANONICAL_COLUMNS["usage"]].reset_index(drop=True)


def _truth_activities(rng: np.random.Generator, sample: pd.DataFrame) -> pd.DataFrame:
    frame = sample.copy()
    # the CRMs export calls, meetings, e-mails and notes (a QBR is a meeting there)
    frame["activity_type"] = frame["activity_type"].replace({"qbr": "meeting",
                                                             "training": "note"})
    seconds = rng.integers(8 * 3600, 18 * 3600, len(frame))
    frame["date"] = pd.to_datetime(frame["date"])
    frame["time"] = frame["date"] + pd.to_timedelta(seconds // 60 * 60, unit="s")
    return frame[["account_id", "date", "activity_type", "owner", "time"]].reset_index(
        drop=True)


# ---------------------------------------------------------------------------------------------
# the canonical tables per CRM

def canonical_tables(truth: Truth, crm: str, business_unit: bool = True
                     ) -> dict[str, pd.DataFrame]:
    """The truth in the CRM's ids and values, in csops' canonical columns."""
    acc = lambda series: series.map(lambda a: account_key(crm, a))  # noqa: E731
    accounts = truth.accounts.copy()
    accounts["account_id"] = acc(accounts["account_id"])
    accounts["lifecycle_stage"] = "Customer" if crm == "hubspot" else "Customer - Direct"
    contracts = truth.contracts.copy()
    contracts["contract_id"] = contracts["contract_id"].map(lambda c: contract_key(crm, c))
    contracts["account_id"] = acc(contracts["account_id"])
    usage = truth.usage.copy()
    usage["account_id"] = acc(usage["account_id"])
    if not business_unit:
        usage = usage.drop(columns="business_unit")
    activities = truth.activities.copy()
    activities["account_id"] = acc(activities["account_id"])
    if crm == "salesforce":  # a Salesforce note is a task
        activities["activity_type"] = activities["activity_type"].replace({"note": "task"})
    team = truth.team.copy()
    if crm == "hubspot":  # HubSpot's users export has no manager
        team["manager"] = ""
    tables = {"accounts": accounts, "contracts": contracts, "usage": usage,
              "activities": activities, "team": team}
    return {name: frame[[c for c in CANONICAL_COLUMNS[name] if c in frame.columns]]
            for name, frame in tables.items()}


def write_canonical(folder: Path, tables: dict[str, pd.DataFrame]) -> Path:
    """Write canonical CSVs (accounts.csv, contracts.csv, ...) into folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        out = frame.copy()
        for column in out.columns:
            if column == "timestamp":
                out[column] = out[column].dt.strftime("%Y-%m-%d %H:%M:%S.%f").str[:-3]
            elif pd.api.types.is_datetime64_any_dtype(out[column]):
                out[column] = out[column].dt.strftime("%Y-%m-%d")
        out.to_csv(folder / f"{name}.csv", index=False)
    return folder


# ---------------------------------------------------------------------------------------------
# writing helpers

def _write_rows(path: Path, header: list[str], rows: list[list], *, quote_all: bool,
                newline: str = "\r\n", bom: bool = False, footer: list[str] | None = None,
                grand_total: int | None = None) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
                        lineterminator=newline)
    writer.writerow(header)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    if footer is not None:  # Salesforce: blank lines, totals, confidentiality and copyright
        buffer.write(newline + newline)
        if grand_total is not None:
            writer.writerow([f"Grand Totals ({grand_total} records)"])
            buffer.write(newline)
        for line in footer:
            writer.writerow([line])
    path.write_bytes((("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8"))
    return path


def _day(value: pd.Timestamp | None) -> str:
    return "" if value is None or pd.isna(value) else value.strftime("%Y-%m-%d")


def _us_day(value: pd.Timestamp | None) -> str:
    return "" if value is None or pd.isna(value) else f"{value.month}/{value.day}/{value.year}"


def _minute(value: pd.Timestamp) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _amount(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def _names(truth: Truth) -> dict[str, str]:
    names = dict(zip(truth.accounts["account_id"], truth.accounts["account_name"], strict=True))
    names[ORPHAN_ACCOUNT] = UNKNOWN_COMPANY
    return names


def _domain(name: str) -> str:
    return name.lower().replace(" ", "") + ".example.com"


def _email(person: str) -> str:
    return person.lower().replace(" ", ".") + "@csops-demo.example"


# ---------------------------------------------------------------------------------------------
# HubSpot

def write_hubspot(folder: Path, truth: Truth, csm_column: bool = True) -> list[Path]:
    """HubSpot: companies, deals, calls/meetings/emails/notes and users, as exported."""
    folder.mkdir(parents=True, exist_ok=True)
    key = lambda a: account_key("hubspot", a)  # noqa: E731
    names = _names(truth)
    header = [h for h in HUBSPOT_COMPANY_HEADER if csm_column or h != "Customer Success Manager"]
    company_rows = []
    for i, row in enumerate(truth.accounts.itertuples(index=False)):
        values = {
            "Record ID": key(row.account_id), "Company name": row.account_name,
            "Company owner": row.ae_owner, "Customer Success Manager": row.csm_owner,
            "Create Date": _minute(row.created_date + pd.Timedelta(minutes=9 * 60 + 7 * i)),
            "Lifecycle Stage": "Customer", "Customer Segment": row.segment,
            "Industry": ("Computer Software", "Hospital & Health Care", "Retail")[i % 3],
            "Company Domain Name": _domain(row.account_name),
            "Phone Number": f"+1 617 555 {1000 + i:04d}", "City": ("Boston", "Austin")[i % 2],
            "Country/Region": "United States",
            "Last Activity Date": _minute(AS_OF - pd.Timedelta(days=i % 9, hours=-10)),
        }
        company_rows.append([values[h] for h in header])
    paths = [_write_rows(folder / HUBSPOT_FILES["companies"], header, company_rows,
                         quote_all=True, bom=True)]

    deal_rows = []
    for row in truth.contracts.itertuples(index=False):
        values = {
            "Record ID": contract_key("hubspot", row.contract_id),
            "Deal Name": f"{names[row.account_id]} - {row.contract_type} {row.start_date.year}",
            "Deal Stage": "Closed Won", "Pipeline": "Sales Pipeline",
            # Amount is what the deal is worth over its whole term
            "Amount": _amount(row.arr * row.months / 12),
            "Close Date": _day(row.signed_date),
            "Create Date": _minute(row.signed_date - pd.Timedelta(days=30, hours=-11)),
            "Deal owner": _owner_of(truth, row.account_id, "ae_owner"),
            "Deal Type": HUBSPOT_TYPES[row.contract_type],
            "Associated Company (Primary)": names[row.account_id],
            "Associated Company IDs (Primary)": key(row.account_id),
            "Contract start date": _day(row.start_date) if row.dated else "",
            "Contract end date": _day(row.end_date) if row.dated else "",
            "Annual recurring revenue": _amount(row.arr) if row.arr_given else "",
            "Seats": str(row.licenses),
            "Last Activity Date": _minute(row.signed_date + pd.Timedelta(hours=15)),
        }
        deal_rows.append([values[h] for h in HUBSPOT_DEAL_HEADER])
    for i, row in enumerate(truth.other_deals.itertuples(index=False)):
        stage = ("Closed Lost" if row.outcome == "lost"
                 else HUBSPOT_OPEN_STAGES[i % len(HUBSPOT_OPEN_STAGES)])
        values = {
            "Record ID": _other_deal_key("hubspot", i),
            "Deal Name": f"{names[row.account_id]} - {row.contract_type} "
                         f"{row.close_date.year} ({stage})",
            "Deal Stage": stage, "Pipeline": "Sales Pipeline", "Amount": _amount(row.amount),
            "Close Date": _day(row.close_date),
            "Create Date": _minute(min(row.close_date, AS_OF) - pd.Timedelta(days=40)),
            "Deal owner": _owner_of(truth, row.account_id, "ae_owner"),
            "Deal Type": HUBSPOT_TYPES[row.contract_type],
            "Associated Company (Primary)": names[row.account_id],
            "Associated Company IDs (Primary)": key(row.account_id),
            # an open renewal already carries its planned term
            "Contract start date": _day(row.close_date) if i % 2 else "",
            "Contract end date": (_day(row.close_date + pd.DateOffset(months=12))
                                  if i % 2 else ""),
            "Annual recurring revenue": "", "Seats": "",
            "Last Activity Date": _minute(min(row.close_date, AS_OF)),
        }
        deal_rows.append([values[h] for h in HUBSPOT_DEAL_HEADER])
    order = np.random.default_rng(5).permutation(len(deal_rows))  # exports are not sorted
    paths.append(_write_rows(folder / HUBSPOT_FILES["deals"], HUBSPOT_DEAL_HEADER,
                             [deal_rows[i] for i in order], quote_all=True))

    all_keys = [key(a) for a in truth.accounts["account_id"]]
    for kind, file_key in (("call", "calls"), ("meeting", "meetings"), ("email", "emails"),
                           ("note", "notes")):
        rows = []
        for position, row in enumerate(truth.activities.itertuples(index=False)):
            if row.activity_type != kind:
                continue
            companies = key(row.account_id)
            if position in truth.multi_company_activities:  # the first company owns the touch
                other = all_keys[(all_keys.index(companies) + 7) % len(all_keys)]
                companies = f"{companies};{other}"
            record = str(70100000000 + 13 * position)
            contact = str(551000 + position % 97)
            values = {
                "Record ID": record, "Activity date": _minute(row.time),
                "Activity assigned to": row.owner, "Associated Company IDs": companies,
                "Associated Contact IDs": contact,
                "Call Title": f"Check-in with {names[row.account_id]}",
                "Call outcome": ("Connected", "Left voicemail", "No answer")[position % 3],
                "Call direction": "Outbound",
                "Call notes": "Talked about adoption, \"dashboards\" and next steps",
                "Meeting name": ("Quarterly business review" if position % 4 == 0
                                 else f"Sync: {names[row.account_id]}"),
                "Meeting outcome": "Completed", "Meeting location": "Zoom",
                "Email subject": f"Re: {names[row.account_id]} onboarding, next steps",
                "Email direction": "Outgoing", "Email send status": "Sent",
                "Note body": f"Training session held.\nAttendees: 4, \"power users\"; "
                             f"account {names[row.account_id]}",
            }
            rows.append([values[h] for h in HUBSPOT_ACTIVITY_HEADERS[kind]])
        paths.append(_write_rows(folder / HUBSPOT_FILES[file_key],
                                 HUBSPOT_ACTIVITY_HEADERS[kind], rows, quote_all=True))

    user_rows = []
    for i, row in enumerate(truth.team.itertuples(index=False)):
        first, last = row.owner.split(" ", 1)
        user_rows.append([first, last, _email(row.owner), row.role,
                          "Customer Success" if row.role == "CSM" else "Sales",
                          _minute(AS_OF - pd.Timedelta(days=i % 4, hours=-9)),
                          _user_key("hubspot", i)])
    paths.append(_write_rows(folder / HUBSPOT_FILES["users"], HUBSPOT_USER_HEADER, user_rows,
                             quote_all=False))
    return paths


def _owner_of(truth: Truth, account: str, column: str) -> str:
    frame = truth.accounts
    return str(frame.loc[frame["account_id"] == account, column].iloc[0])


# ---------------------------------------------------------------------------------------------
# Salesforce

def _salesforce_account_rows(truth: Truth) -> list[dict]:
    rows = []
    for i, row in enumerate(truth.accounts.itertuples(index=False)):
        rows.append({
            "Account Name": row.account_name, "Account Owner": row.ae_owner,
            "Customer Success Manager": row.csm_owner, "Type": "Customer - Direct",
            "Segment": row.segment,
            "Industry": ("Technology", "Healthcare", "Retail", "Banking")[i % 4],
            "Billing State/Province": ("MA", "TX", "CA")[i % 3],
            "Created Date": row.created_date,
            "Account ID": account_key("salesforce", row.account_id)})
    return rows


def write_salesforce(folder: Path, truth: Truth, accounts_format: str = "csv") -> list[Path]:
    """Salesforce report exports: accounts (Details Only CSV or Formatted xlsx), opportunities,
    activities and users (Details Only CSV: every cell quoted, M/D/YYYY, footer lines)."""
    folder.mkdir(parents=True, exist_ok=True)
    key = lambda a: account_key("salesforce", a)  # noqa: E731
    names = _names(truth)
    accounts = _salesforce_account_rows(truth)
    if accounts_format == "xlsx":
        paths = [write_salesforce_formatted_accounts(folder, truth)]
    else:
        rows = [[_us_day(r[h]) if h == "Created Date" else r[h]
                 for h in SALESFORCE_ACCOUNT_HEADER] for r in accounts]
        paths = [_write_rows(folder / SALESFORCE_FILES["accounts"], SALESFORCE_ACCOUNT_HEADER,
                             rows, quote_all=True, newline="\n", footer=SALESFORCE_FOOTER)]

    opportunity_rows = []
    for i, row in enumerate(truth.contracts.itertuples(index=False)):
        # Amount over a term longer than 12 months is the total contract value
        amount = row.arr * max(row.months, 12) / 12
        shown = (f"${_money(amount)}", f"USD {_money(amount)}", _amount(amount))[i % 3]
        values = {
            "Opportunity Owner": _owner_of(truth, row.account_id, "ae_owner"),
            "Account Name": names[row.account_id],
            "Opportunity Name": f"{names[row.account_id]} - "
                                f"{SALESFORCE_TYPES[row.contract_type]} {row.start_date.year}",
            "Type": SALESFORCE_TYPES[row.contract_type], "Stage": "Closed Won",
            "Amount": shown, "Probability (%)": "100%", "Close Date": _us_day(row.signed_date),
            "Created Date": _us_day(row.signed_date - pd.Timedelta(days=35)),
            "Contract Start Date": _us_day(row.start_date) if row.dated else "",
            "Contract End Date": _us_day(row.end_date) if row.dated else "",
            "Quantity": str(row.licenses),
            "Opportunity ID": contract_key("salesforce", row.contract_id),
            "Account ID": key(row.account_id)}
        opportunity_rows.append([values[h] for h in SALESFORCE_OPPORTUNITY_HEADER])
    for i, row in enumerate(truth.other_deals.itertuples(index=False)):
        stage = ("Closed Lost" if row.outcome == "lost"
                 else SALESFORCE_OPEN_STAGES[i % len(SALESFORCE_OPEN_STAGES)])
        values = {
            "Opportunity Owner": _owner_of(truth, row.account_id, "ae_owner"),
            "Account Name": names[row.account_id],
            "Opportunity Name": f"{names[row.account_id]} - "
                                f"{SALESFORCE_TYPES[row.contract_type]} {row.close_date.year}",
            "Type": SALESFORCE_TYPES[row.contract_type], "Stage": stage,
            "Amount": f"${_money(row.amount)}",
            "Probability (%)": "0%" if row.outcome == "lost" else "60%",
            "Close Date": _us_day(row.close_date),
            "Created Date": _us_day(min(row.close_date, AS_OF) - pd.Timedelta(days=40)),
            "Contract Start Date": "", "Contract End Date": "", "Quantity": "",
            "Opportunity ID": _other_deal_key("salesforce", i),
            "Account ID": key(row.account_id)}
        opportunity_rows.append([values[h] for h in SALESFORCE_OPPORTUNITY_HEADER])
    paths.append(_write_rows(folder / SALESFORCE_FILES["opportunities"],
                             SALESFORCE_OPPORTUNITY_HEADER, opportunity_rows, quote_all=True,
                             newline="\n", footer=SALESFORCE_FOOTER,
                             grand_total=len(opportunity_rows)))

    activity_rows = []
    sf_types = {"call": "Call", "email": "Email", "meeting": "Meeting", "note": "Task"}
    for position, row in enumerate(truth.activities.itertuples(index=False)):
        activity_rows.append([
            {"call": "Call", "email": "Email: follow-up", "meeting": "Meeting",
             "note": "Send training recap"}[row.activity_type],
            sf_types[row.activity_type], _us_day(row.date), row.owner,
            names[row.account_id], "Completed", "Normal",
            f"00T5g00000{_base62(977 * (position + 1), 5)}AAA", key(row.account_id)])
    paths.append(_write_rows(folder / SALESFORCE_FILES["activities"],
                             SALESFORCE_ACTIVITY_HEADER, activity_rows, quote_all=True,
                             newline="\n", footer=SALESFORCE_FOOTER,
                             grand_total=len(activity_rows)))

    user_rows = []
    for i, row in enumerate(truth.team.itertuples(index=False)):
        user_rows.append([row.owner, _email(row.owner), _email(row.owner), row.role,
                          "Standard User" if row.role != "Manager" else "Custom: Manager",
                          row.manager, "1", _user_key("salesforce", i)])
    paths.append(_write_rows(folder / SALESFORCE_FILES["users"], SALESFORCE_USER_HEADER,
                             user_rows, quote_all=True, newline="\n", footer=SALESFORCE_FOOTER))
    return paths


def write_salesforce_formatted_accounts(folder: Path, truth: Truth) -> Path:
    """The accounts report as "Formatted Report" xlsx: title rows, the header, rows grouped by
    Account Owner with a subtotal row per group, a grand total, then the footer lines."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Accounts by Owner"
    sheet.append(["Accounts by Owner"])
    sheet.append(["As of Nov 20, 2026 2:05 PM"])
    sheet.append(["Filtered By: Type equals Customer - Direct"])
    sheet.append(["Generated By: Dana Whitfield"])
    sheet.append([])
    sheet.append(SALESFORCE_ACCOUNT_HEADER)
    header_row = sheet.max_row
    rows = sorted(_salesforce_account_rows(truth), key=lambda r: (r["Account Owner"],
                                                                  r["Account Name"]))
    owners = sorted({r["Account Owner"] for r in rows})
    for owner in owners:
        group = [r for r in rows if r["Account Owner"] == owner]
        for record in group:
            sheet.append([record[h].to_pydatetime() if h == "Created Date" else record[h]
                          for h in SALESFORCE_ACCOUNT_HEADER])
            sheet.cell(row=sheet.max_row, column=SALESFORCE_ACCOUNT_HEADER.index(
                "Created Date") + 1).number_format = "m/d/yyyy"
        sheet.append(["Subtotal", f"{len(group)} records"])
    sheet.append([f"Grand Total ({len(rows)} records)"])
    sheet.append([])
    for line in SALESFORCE_FOOTER:
        sheet.append([line])
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
    path = folder / SALESFORCE_FILES["accounts_xlsx"]
    workbook.save(path)
    return path


# ---------------------------------------------------------------------------------------------
# usage

def _usage_in(truth: Truth, crm: str) -> pd.DataFrame:
    usage = truth.usage.copy()
    usage["account_id"] = usage["account_id"].map(lambda a: account_key(crm, a))
    return usage


def _epoch_seconds(stamps: pd.Series) -> np.ndarray:
    return (stamps.to_numpy().astype("datetime64[s]").astype(np.int64))


def _insert_id(i: int) -> str:
    return hashlib.sha1(f"event-{i}".encode()).hexdigest()[:32]


def write_mixpanel(folder: Path, truth: Truth, crm: str) -> list[Path]:
    """Mixpanel raw export: JSON lines, `time` in unix seconds, company_id sometimes a list."""
    usage = _usage_in(truth, crm)
    seconds = _epoch_seconds(usage["timestamp"])
    lines = []
    for i, row in enumerate(usage.itertuples(index=False)):
        company = [row.account_id] if i % 3 == 0 else row.account_id
        lines.append(json.dumps({"event": row.feature, "properties": {
            "time": int(seconds[i]), "distinct_id": row.user_id, "$insert_id": _insert_id(i),
            "mp_processing_time_ms": int(seconds[i]) * 1000 + 2113,
            "$lib_version": "2.55.1", "mp_lib": "web", "company_id": company,
            "business_unit": row.business_unit}}, separators=(",", ":")))
    path = folder / USAGE_FILES["mixpanel"][0]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [path]


def write_amplitude(folder: Path, truth: Truth, crm: str) -> list[Path]:
    """Amplitude export: a zip of `<project>/<project>_<date>_<hour>#<part>.json.gz` files,
    each a gzip of JSON lines; event_time in UTC; the account in groups.company (a list)."""
    usage = _usage_in(truth, crm)
    project = AMPLITUDE_PROJECT
    # the file's hour is the upload hour: a few events arrive an hour late
    late = np.arange(len(usage)) % 25 == 0
    uploaded = usage["timestamp"] + pd.to_timedelta(np.where(late, 3700, 37), unit="s")
    event_time = usage["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S.%f").tolist()
    upload_time = uploaded.dt.strftime("%Y-%m-%d %H:%M:%S.%f").tolist()
    upload_day = uploaded.dt.strftime("%Y-%m-%d").tolist()
    upload_hour = uploaded.dt.hour.tolist()
    session = (_epoch_seconds(usage["timestamp"]) // 1800 * 1800 * 1000).tolist()
    files: dict[str, list[str]] = {}
    for i, row in enumerate(usage.itertuples(index=False)):
        anonymous = row.user_id.count("-") == 4
        part = i % 2 if i % 7 == 0 else 0
        name = f"{project}/{project}_{upload_day[i]}_{upload_hour[i]}#{part}.json.gz"
        device = (row.user_id if anonymous
                  else "dev-" + hashlib.md5(row.user_id.encode()).hexdigest()[:12])
        record = {
            "$insert_id": _insert_id(i), "amplitude_id": 100000000 + i % 5000, "app": project,
            "client_event_time": event_time[i], "client_upload_time": upload_time[i],
            "device_id": device, "event_id": i,
            "event_properties": {"business_unit": row.business_unit},
            "event_time": event_time[i], "event_type": row.feature,
            "group_properties": {}, "groups": {"company": [row.account_id]},
            "language": "English", "library": "amplitude-ts/2.11.0", "os_name": "Chrome",
            "platform": "Web", "processed_time": upload_time[i],
            "server_received_time": upload_time[i], "server_upload_time": upload_time[i],
            "session_id": session[i], "user_id": None if anonymous else row.user_id,
            "user_properties": {}, "uuid": hashlib.md5(f"uuid-{i}".encode()).hexdigest(),
        }
        files.setdefault(name, []).append(json.dumps(record, separators=(",", ":")))
    path = folder / USAGE_FILES["amplitude"][0]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in sorted(files):
            body = ("\n".join(files[name]) + "\n").encode("utf-8")
            archive.writestr(name, gzip.compress(body, mtime=0))
    return [path]


def feature_id(name: str) -> str:
    """A Pendo-like feature id: 27 url-safe base64 characters."""
    import base64

    digest = hashlib.sha1(f"feature:{name}".encode()).digest()  # 20 bytes -> 27 characters
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _pendo_days(usage: pd.DataFrame) -> pd.DataFrame:
    usage = usage.assign(day=usage["timestamp"].dt.normalize())
    grouped = (usage.groupby(["account_id", "user_id", "feature", "day"], sort=True)
               .size().rename("events").reset_index())
    grouped["minutes"] = np.maximum(1, (grouped["events"] * 3 + 1) // 2)
    return grouped


def write_pendo_api(folder: Path, truth: Truth, crm: str) -> list[Path]:
    """Pendo aggregation API responses: featureEvents (per account, visitor, feature and day,
    `day` in epoch ms at midnight UTC) and the features lookup (id -> name)."""
    days = _pendo_days(_usage_in(truth, crm))
    epoch_ms = days["day"].to_numpy().astype("datetime64[ms]").astype(np.int64)
    results = [{
        "accountId": row.account_id, "appId": -323232, "day": int(epoch_ms[i]),
        "featureId": feature_id(row.feature), "numEvents": int(row.events),
        "numMinutes": int(row.minutes), "remoteIp": f"203.0.113.{i % 250}",
        "server": "app.csops-demo.example", "userAgent": "Mozilla/5.0 (Macintosh)",
        "visitorId": row.user_id} for i, row in enumerate(days.itertuples(index=False))]
    events = folder / USAGE_FILES["pendo_api"][0]
    events.write_text(json.dumps({"results": results}), encoding="utf-8")
    names = sorted(set(truth.usage["feature"])) + ["onboarding_wizard"]  # one never used
    lookup = folder / USAGE_FILES["pendo_api"][1]
    lookup.write_text(json.dumps({"results": [{"id": feature_id(n), "name": n} for n in names]},
                                 indent=1), encoding="utf-8")
    return [events, lookup]


def write_pendo_csv(folder: Path, truth: Truth, crm: str) -> list[Path]:
    """Pendo Data Explorer CSV download: one row per account, visitor, feature and day."""
    days = _pendo_days(_usage_in(truth, crm))
    rows = [[r.account_id, r.user_id, _day(r.day), r.feature, str(r.events), str(r.minutes)]
            for r in days.itertuples(index=False)]
    return [_write_rows(folder / USAGE_FILES["pendo_csv"][0], PENDO_CSV_HEADER, rows,
                        quote_all=False)]


def _bigquery_times(stamps: pd.Series) -> list[str]:
    """BigQuery's CSV rendering of a TIMESTAMP: the fraction only when it is not zero."""
    text = stamps.dt.strftime("%Y-%m-%d %H:%M:%S")
    millis = stamps.dt.microsecond // 1000
    fraction = np.where(millis > 0, "." + millis.astype(str).str.zfill(3), "")
    return (text + fraction + " UTC").tolist()


def write_segment(folder: Path, truth: Truth, crm: str) -> list[Path]:
    """Segment `tracks` table downloaded from BigQuery as CSV (timestamps end in " UTC")."""
    usage = _usage_in(truth, crm)
    stamps = usage["timestamp"]
    timestamp = _bigquery_times(stamps)
    received = _bigquery_times(stamps + pd.Timedelta(milliseconds=420))
    sent = _bigquery_times(stamps + pd.Timedelta(milliseconds=150))
    rows = []
    for i, row in enumerate(usage.itertuples(index=False)):
        anonymous = row.user_id.count("-") == 4
        anonymous_id = row.user_id if anonymous else _anonymous_id(row.user_id, 99)
        rows.append([f"ajs-next-{_insert_id(i)}", anonymous_id,
                     "" if anonymous else row.user_id, row.feature,
                     row.feature.replace("_", " ").title(), row.account_id, timestamp[i],
                     received[i], sent[i], timestamp[i], "analytics.js", "next-1.70.0"])
    return [_write_rows(folder / USAGE_FILES["segment"][0], SEGMENT_HEADER, rows,
                        quote_all=False, newline="\n")]


USAGE_WRITERS = {"mixpanel": write_mixpanel, "amplitude": write_amplitude,
                 "pendo_api": write_pendo_api, "pendo_csv": write_pendo_csv,
                 "segment": write_segment}


# ---------------------------------------------------------------------------------------------
# one data folder as downloaded

def assemble(folder: Path, crm: str, usage: str, truth: Truth | None = None,
             accounts_format: str = "csv", csm_column: bool = True) -> Path:
    """Write the files of one CRM and one usage source, as downloaded, into folder."""
    truth = truth or build_truth()
    folder.mkdir(parents=True, exist_ok=True)
    if crm == "hubspot":
        write_hubspot(folder, truth, csm_column=csm_column)
    elif crm == "salesforce":
        write_salesforce(folder, truth, accounts_format=accounts_format)
    else:
        raise ValueError(f"unknown CRM {crm!r}; one of {CRMS}")
    USAGE_WRITERS[usage](folder, truth, crm)
    return folder


def truth_folder(folder: Path, crm: str, usage: str, truth: Truth | None = None) -> Path:
    """The canonical CSVs behind assemble(folder, crm, usage): what csops should read there."""
    truth = truth or build_truth()
    return write_canonical(folder, canonical_tables(
        truth, crm, business_unit=usage in USAGE_WITH_BUSINESS_UNIT))
