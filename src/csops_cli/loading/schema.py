"""The export schema: the canonical tables and their columns, the header aliases that map an
export's headers onto them, and the CRM presets (HubSpot, Salesforce). To teach csops a new
header spelling, add it here.

Kept free of pandas so that configuration can be validated against it cheaply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["id", "text", "date", "money", "number"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = False


TABLES: dict[str, tuple[Column, ...]] = {
    "accounts": (
        Column("account_id", "id", True),
        Column("account_name", "text", True),
        Column("segment", "text"),
        Column("lifecycle_stage", "text"),
        Column("csm_owner", "text"),
        Column("ae_owner", "text"),
        Column("champion_status", "text"),
        Column("created_date", "date"),
    ),
    "contracts": (
        Column("contract_id", "id", True),
        Column("account_id", "id", True),
        Column("start_date", "date", True),
        Column("end_date", "date", True),
        Column("arr", "money", True),
        Column("licenses", "number"),
        Column("signed_date", "date"),
        Column("contract_type", "text"),
    ),
    "usage": (
        Column("account_id", "id", True),
        Column("timestamp", "date", True),
        Column("user_id", "id"),
        Column("feature", "text"),
        Column("business_unit", "text"),
        Column("count", "number"),
        # pre-aggregated usage (one row per account and day) may carry distinct users itself
        Column("active_users", "number"),
    ),
    "activities": (
        Column("account_id", "id", True),
        Column("date", "date", True),
        Column("activity_type", "text", True),
        Column("owner", "text"),
    ),
    "team": (
        Column("owner", "text", True),
        Column("role", "text"),
        Column("manager", "text"),
        # the owner's user id in the CRM (Salesforce: 005...), for task imports
        Column("crm_user_id", "id"),
        Column("owner_email", "text"),
    ),
}

# The table names, in the order they are read and reported.
TABLE_NAMES = tuple(TABLES)
# Tables every command needs; the others are needed by what uses them.
REQUIRED_TABLES = ("accounts", "contracts")


def normalize_header(header: str) -> str:
    """Header key used for matching: case, spaces and punctuation ignored."""
    return re.sub(r"[^0-9a-z]", "", str(header).lower())


# Generic aliases, for exports that are neither HubSpot nor Salesforce (normalized keys).
GENERIC_ALIASES: dict[str, dict[str, str]] = {
    "accounts": {
        "id": "account_id", "accountid": "account_id", "customerid": "account_id",
        "companyid": "account_id", "name": "account_name", "accountname": "account_name",
        "company": "account_name", "companyname": "account_name", "customer": "account_name",
        "customername": "account_name", "tier": "segment", "customersegment": "segment",
        "stage": "lifecycle_stage", "lifecyclestage": "lifecycle_stage",
        "csm": "csm_owner", "csmowner": "csm_owner", "customersuccessmanager": "csm_owner",
        "ae": "ae_owner", "aeowner": "ae_owner", "accountexecutive": "ae_owner",
        "champion": "champion_status", "championstatus": "champion_status",
        "created": "created_date", "createdat": "created_date", "createddate": "created_date",
    },
    "contracts": {
        "id": "contract_id", "contractid": "contract_id", "dealid": "contract_id",
        "accountid": "account_id", "customerid": "account_id", "companyid": "account_id",
        "start": "start_date", "startdate": "start_date", "contractstartdate": "start_date",
        "end": "end_date", "enddate": "end_date", "contractenddate": "end_date",
        "annualrecurringrevenue": "arr", "arrusd": "arr", "amount": "arr",
        "seats": "licenses", "quantity": "licenses", "licences": "licenses",
        "signed": "signed_date", "signeddate": "signed_date", "closedate": "signed_date",
        "type": "contract_type", "contracttype": "contract_type", "dealtype": "contract_type",
    },
    "usage": {
        "accountid": "account_id", "customerid": "account_id", "companyid": "account_id",
        "groupid": "account_id", "time": "timestamp", "eventtime": "timestamp",
        "date": "timestamp", "day": "timestamp", "occurredat": "timestamp",
        "userid": "user_id", "visitorid": "user_id", "distinctid": "user_id",
        "event": "feature", "eventname": "feature", "featurename": "feature",
        "bu": "business_unit", "department": "business_unit", "team": "business_unit",
        "events": "count", "eventcount": "count", "numevents": "count",
        "users": "active_users", "activeusers": "active_users", "distinctusers": "active_users",
    },
    "activities": {
        "accountid": "account_id", "customerid": "account_id", "companyid": "account_id",
        "activitydate": "date", "timestamp": "date", "createddate": "date",
        "type": "activity_type", "activitytype": "activity_type", "engagementtype": "activity_type",
        "assignedto": "owner", "activityowner": "owner", "user": "owner",
    },
    "team": {
        "name": "owner", "email": "owner", "user": "owner", "title": "role",
        "reportsto": "manager", "managername": "manager",
        "crmuserid": "crm_user_id", "salesforceuserid": "crm_user_id",
        "sfdcuserid": "crm_user_id",
        "emailaddress": "owner_email", "workemail": "owner_email", "useremail": "owner_email",
        "owneremail": "owner_email",
    },
}

# Header-alias presets (table -> normalized header -> canonical column), the fallback for a file
# that no source recognises (see csops_cli/presets/*.yaml and loading/sources.py, which read
# the tools' exports as they are). A preset is detected for a file when its `markers` appear.
PRESETS: dict[str, dict[str, dict[str, str]]] = {
    "hubspot": {
        "accounts": {
            "recordid": "account_id", "companyname": "account_name",
            "companyowner": "csm_owner", "createdate": "created_date",
            "lifecyclestage": "lifecycle_stage",
        },
        "contracts": {
            "recordid": "contract_id", "associatedcompanyid": "account_id",
            "associatedcompanyidsprimary": "account_id", "amount": "arr",
            "closedate": "signed_date", "dealtype": "contract_type",
            "contractstartdate": "start_date", "contractenddate": "end_date",
        },
        "activities": {
            "associatedcompanyid": "account_id", "activitydate": "date",
            "activitytype": "activity_type", "activityassignedto": "owner",
        },
        "team": {"email": "owner"},
        "usage": {},
    },
    "salesforce": {
        "accounts": {
            "accountid": "account_id", "accountname": "account_name",
            "accountowner": "csm_owner", "createddate": "created_date",
        },
        "contracts": {
            "opportunityid": "contract_id", "accountid": "account_id", "amount": "arr",
            "closedate": "signed_date", "type": "contract_type",
            "contractstartdate": "start_date", "contractenddate": "end_date",
            "quantity": "licenses",
        },
        "activities": {
            "accountid": "account_id", "date": "date", "tasktype": "activity_type",
            "assigned": "owner", "activitytype": "activity_type",
        },
        "team": {"fullname": "owner"},
        "usage": {},
    },
}

PRESET_MARKERS: dict[str, frozenset[str]] = {
    # exact header spellings (case and spaces kept): "account_id" is not a Salesforce marker,
    # "Account ID" is
    "hubspot": frozenset({"Record ID", "Company name", "Company owner", "Create Date",
                          "Associated Company ID", "Associated Company IDs (Primary)",
                          "Deal Name", "Deal Stage", "Annual Revenue", "Lifecycle Stage"}),
    "salesforce": frozenset({"Account ID", "Account Name", "Account Owner", "Opportunity Name",
                             "Opportunity ID", "Opportunity Owner", "Close Date", "Amount",
                             "Created Date"}),
}

# Values of contract_type as CRMs write them.
CONTRACT_TYPES: dict[str, str] = {
    "new": "new", "newbusiness": "new", "newlogo": "new", "newcustomer": "new",
    "renewal": "renewal", "renew": "renewal",
    "expansion": "expansion", "upsell": "expansion", "addon": "expansion",
    "existingbusiness": "expansion", "crosssell": "expansion",
}
