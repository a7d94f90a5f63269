"""`csops plays --target hubspot|salesforce`: task-import files as the CRMs take them, UTF-8 with
a BOM; and action ids that no spreadsheet turns into numbers."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from conftest import write

# one play firing for every paying account, one task for its CSM
PLAYS = """
plays:
  - id: paying
    name: Paying account
    when: arr > 0
    priority: high
    cooldown_days: 30
    measure: none
    actions:
      - {text: Call the customer, owner: csm, due_in_days: 3, channel: task}
"""
# account 001 has its Salesforce Account Id; 002 has none; 003 has no CSM
ACCOUNTS = """
account_id,account_name,segment,csm_owner,Salesforce Account ID
001,Zoë Café,SMB,Ann,001Aa000001ABCdEAF
002,Bravo,SMB,Bob,
003,Charlie,SMB,,
"""
CONTRACTS = """
contract_id,account_id,start_date,end_date,arr,licenses,signed_date,contract_type
C1,001,2026-01-01,2027-01-01,30000,10,,new
C2,002,2026-01-01,2027-01-01,20000,10,,new
C3,003,2026-01-01,2027-01-01,10000,10,,new
"""
# Ann has a Salesforce user id; Bob only an e-mail
TEAM = """
owner,role,manager,Salesforce User ID,Email Address
Ann,CSM,,0055g00000AbCdEAAZ,ann@example.com
Bob,CSM,,,bob@example.com
"""


@pytest.fixture
def data(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    write(folder, "accounts.csv", ACCOUNTS)
    write(folder, "contracts.csv", CONTRACTS)
    write(folder, "team.csv", TEAM)
    write(folder, "playbooks.yaml", config_text())
    return folder


def config_text() -> str:
    """The shipped playbooks.yaml with PLAYS for its plays."""
    from csops_cli.config import default_config_text

    text = default_config_text()
    start, end = text.index("\nplays:\n"), text.index("\nbudget:")
    return text[:start] + PLAYS + text[end:]


def plays(cli, data, tmp_path, *args):
    out = tmp_path / "tasks.csv"
    result = cli("plays", data, "--as-of", "2026-06-30", "--dry-run", "--out", out, *args)
    assert result.exit_code == 0, result.output
    return out.read_bytes(), result.output


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_crm_targets_have_a_bom_and_the_action_list_has_none(cli, data, tmp_path):
    for target in ("hubspot", "salesforce"):
        written, _ = plays(cli, data, tmp_path, "--target", target)
        assert written.startswith(b"\xef\xbb\xbf")
        assert "Zoë Café".encode() in written  # UTF-8 after the mark
    plain, _ = plays(cli, data, tmp_path)
    assert plain.startswith(b"action_id,")


def test_salesforce_data_loader_task_layout(cli, data, tmp_path):
    written, said = plays(cli, data, tmp_path, "--target", "salesforce")
    rows = rows_of(written)
    assert rows[0] == ["Subject", "Description", "ActivityDate", "Priority", "Status", "Type",
                       "OwnerId", "WhatId", "External_Id__c"]
    # sorted by due date, then priority, then ARR: 001, 002, 003
    assert [r[:8] for r in rows[1:]] == [
        ["Call the customer – Zoë Café", "Paying account: arr=30000", "2026-07-03", "High",
         "Not Started", "Other", "0055g00000AbCdEAAZ", "001Aa000001ABCdEAF"],
        ["Call the customer – Bravo", "Paying account: arr=20000", "2026-07-03", "High",
         "Not Started", "Other", "bob@example.com", "002"],
        ["Call the customer – Charlie", "Paying account: arr=10000", "2026-07-03", "High",
         "Not Started", "Other", "", "003"],
    ]
    flat = " ".join(said.split())
    assert "OwnerId: 1 of 3 task(s) carry the owner's e-mail" in flat
    assert "add a crm_user_id column" in flat
    assert "WhatId: 2 of 3 task(s) carry csops' account_id" in flat


def test_salesforce_ids_as_account_ids_need_no_note(cli, data, tmp_path):
    """Accounts exported from Salesforce: account_id is the Account Id itself."""
    for name, text in [("accounts.csv", ACCOUNTS), ("contracts.csv", CONTRACTS)]:
        for old, new in [("001,", "001Aa000001ABCdEAF,"), ("002,", "001Aa000002ABCdEAF,"),
                         ("003,", "001Aa000003ABCdEAF,")]:
            text = text.replace(f"\n{old}", f"\n{new}").replace(f",{old}", f",{new}")
        write(data, name, text.replace(",Salesforce Account ID", ",Region").replace(
            ",001Aa000001ABCdEAF\n", ",EMEA\n"))
    written, said = plays(cli, data, tmp_path, "--target", "salesforce")
    assert [r[7] for r in rows_of(written)[1:]] == [
        "001Aa000001ABCdEAF", "001Aa000002ABCdEAF", "001Aa000003ABCdEAF"]
    assert "WhatId" not in said


def test_hubspot_task_import_layout(cli, data, tmp_path):
    written, said = plays(cli, data, tmp_path, "--target", "hubspot")
    rows = rows_of(written)
    assert rows[0] == ["Task Title", "Task Notes", "Due Date", "Priority", "Task Type",
                       "Task Owner", "Associated Company ID", "External ID"]
    assert [r[:7] for r in rows[1:]] == [
        ["Call the customer – Zoë Café", "Paying account: arr=30000", "2026-07-03", "HIGH",
         "TODO", "ann@example.com", "001"],
        ["Call the customer – Bravo", "Paying account: arr=20000", "2026-07-03", "HIGH",
         "TODO", "bob@example.com", "002"],
        ["Call the customer – Charlie", "Paying account: arr=10000", "2026-07-03", "HIGH",
         "TODO", "", "003"],
    ]
    # all-digit ids are HubSpot record ids; every owner has an e-mail: nothing to say
    assert "e-mail" not in said and "Associated Company ID" not in said


def test_hubspot_owner_without_e_mail_is_said(cli, data, tmp_path):
    write(data, "team.csv", "owner,role\nAnn,CSM\nBob,CSM\n")
    written, said = plays(cli, data, tmp_path, "--target", "hubspot")
    assert [r[5] for r in rows_of(written)[1:]] == ["Ann", "Bob", ""]
    assert "2 of 3 task(s) name their owner without an e-mail" in " ".join(said.split())


def test_action_ids_start_with_a_letter_and_are_stable(cli, data, tmp_path):
    def ids():
        result = cli("plays", data, "--as-of", "2026-06-30", "--dry-run", "-f", "json", "-q")
        assert result.exit_code == 0, result.output
        return [row["action_id"] for row in json.loads(result.stdout)]

    first = ids()
    assert len(first) == 3 and ids() == first  # the same ids run after run
    for action_id in first:
        assert re.fullmatch(r"a[0-9a-f]{16}", action_id)
        assert not re.fullmatch(r"[0-9.eE+-]+", action_id)  # never read as a number


def test_action_id_shape_over_many_keys():
    from csops_cli.plays import action_id

    ids = {action_id(str(n), "play", 0, "2026-06-30") for n in range(5000)}
    assert len(ids) == 5000
    assert not [i for i in ids if re.fullmatch(r"[0-9.eE+-]+", i) or not i[0].isalpha()]


@pytest.mark.parametrize("crm", ["salesforce", "hubspot"])
def test_exports_from_the_crm_give_its_own_ids(cli, tmp_path, crm):
    """Exports as the CRM downloads them: Salesforce's users report carries the User ID (005...)
    and the accounts report the Account ID (001...); HubSpot's users export the e-mail and its
    companies the numeric record id. The import then needs no fallback."""
    import tool_exports as tx

    folder = tmp_path / crm
    folder.mkdir()
    truth = tx.build_truth()
    (tx.write_salesforce if crm == "salesforce" else tx.write_hubspot)(folder, truth)
    written, said = plays(cli, folder, tmp_path, "--target", crm, "--as-of", "2026-11-20")
    rows = rows_of(written)
    header, body = rows[0], rows[1:]
    assert body
    owner = [r[header.index("OwnerId" if crm == "salesforce" else "Task Owner")] for r in body]
    account = [r[header.index("WhatId" if crm == "salesforce" else "Associated Company ID")]
               for r in body]
    people = [o for o in owner if o != "Automation queue"]  # the tech-touch sequence
    assert people
    if crm == "salesforce":
        assert all(re.fullmatch(r"005[0-9A-Za-z]{12}(?:[0-9A-Za-z]{3})?", o) for o in people)
        assert all(re.fullmatch(r"001[0-9A-Za-z]{12}(?:[0-9A-Za-z]{3})?", a) for a in account)
        assert "WhatId" not in said and "OwnerId" not in said
    else:
        assert all(o.endswith("@csops-demo.example") for o in people)
        assert all(a.isdigit() for a in account)
        assert "without an e-mail" not in said and "Associated Company ID" not in said
