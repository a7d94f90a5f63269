"""--segment and --owner: one meaning in every command, and a value that matches nothing says
so with the values that exist."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from conftest import write
from csops_cli import filters
from csops_cli.errors import ProblemCode, UsageError

AS_OF = "2026-06-30"
# Ann Lee is the CSM of A1 and A4 (written " ann lee " there) and the AE of A2; Zoe Park is
# the AE of A1, A3 and A5; A5 has no CSM. Every contract ends on 2026-09-30: 92 days after
# as_of, so every account is a renewal due within 120 days.
ACCOUNTS = """
account_id,account_name,segment,csm_owner,ae_owner
A1,Alpha,Strategic,Ann Lee,Zoe Park
A2,Bravo,Commercial,Bob Ray,Ann Lee
A3,Charlie,SMB,Bob Ray,Zoe Park
A4,Delta,Commercial," ann lee ",Cy Moss
A5,Echo,SMB,,Zoe Park
"""
CONTRACTS = """
contract_id,account_id,start_date,end_date,arr
C1,A1,2025-09-30,2026-09-30,150000
C2,A2,2025-09-30,2026-09-30,40000
C3,A3,2025-09-30,2026-09-30,9000
C4,A4,2025-09-30,2026-09-30,30000
C5,A5,2025-09-30,2026-09-30,5000
"""
USAGE = """
account_id,timestamp,user_id,feature
A1,2026-06-29,u1,login
A2,2026-06-29,u1,login
A3,2026-06-30,u1,login
A4,2026-06-30,u1,login
A5,2026-06-30,u1,login
"""
ANN = {"A1", "A2", "A4"}  # as CSM: A1, A4; as AE: A2
ZOE = {"A1", "A3", "A5"}  # as AE only


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    write(folder, "accounts.csv", ACCOUNTS)
    write(folder, "contracts.csv", CONTRACTS)
    write(folder, "usage.csv", USAGE)
    return folder


def ids(cli, *args: str) -> set[str]:
    result = cli(*args, "--as-of", AS_OF, "-f", "json", "-q")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    if isinstance(rows, dict):  # forecast: the renewals beside the rates and totals
        rows = rows["renewals"]
    return {row["account_id"] for row in rows}


# --- what matches ---------------------------------------------------------------------------

@pytest.mark.parametrize("owner", ["Ann Lee", "ann lee", "  ANN LEE "])
def test_owner_is_the_accounts_csm_or_ae_in_any_case(cli, data, owner):
    assert ids(cli, "health", data, "--no-save", "--owner", owner) == ANN


def test_owner_who_is_only_an_ae(cli, data):
    assert ids(cli, "health", data, "--no-save", "--owner", "zoe park") == ZOE


def test_the_same_owner_gives_the_same_accounts_in_every_command(cli, data):
    for owner, expected in (("Ann Lee", ANN), ("Zoe Park", ZOE)):
        assert ids(cli, "health", data, "--no-save", "--owner", owner) == expected
        assert ids(cli, "renewals", data, "--owner", owner) == expected
        assert ids(cli, "forecast", data, "--no-save", "--owner", owner) == expected
        # every account is due for renewal: the renewal play fires for each of them, and the
        # action list holds exactly the owner's accounts (whoever the action goes to)
        assert ids(cli, "plays", data, "--dry-run", "--owner", owner) == expected


def test_segment_is_matched_on_trimmed_text_in_any_case(cli, data):
    assert ids(cli, "health", data, "--no-save", "--segment", " commercial ") == {"A2", "A4"}
    assert ids(cli, "renewals", data, "--segment", "SMB") == {"A3", "A5"}
    assert ids(cli, "health", data, "--no-save", "--segment", "smb", "--owner",
               "Zoe Park") == {"A3", "A5"}


def test_segment_and_owner_together_can_leave_no_row_without_an_error(cli, data):
    # both values exist: an empty table is an answer, not a typo
    assert ids(cli, "health", data, "--no-save", "--segment", "SMB", "--owner",
               "Ann Lee") == set()


# --- what matches nothing -------------------------------------------------------------------

COMMANDS = [
    ("health", "--no-save"), ("plays", "--dry-run"), ("renewals",), ("forecast", "--no-save"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_an_owner_nobody_is_refused_with_the_owners_that_exist(cli, data, command):
    result = cli(command[0], data, *command[1:], "--as-of", AS_OF, "--owner", "ann")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines()[-1] == (
        "error: --owner 'ann' matches no account's CSM or AE; did you mean 'Ann Lee'? Values "
        "in the data (any case will do): Ann Lee, Bob Ray, Cy Moss, Zoe Park")
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", [*COMMANDS, ("metrics",), ("coverage",)],
                         ids=lambda c: c[0])
def test_a_segment_nobody_is_refused_with_the_segments_that_exist(cli, data, command):
    result = cli(command[0], data, *command[1:], "--as-of", AS_OF, "--segment", "Enterprise")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines()[-1] == (
        "error: --segment 'Enterprise' matches no account's segment. Values in the data (any "
        "case will do): Commercial, SMB, Strategic")


def test_a_refused_filter_saves_nothing(cli, data, tmp_path):
    history = tmp_path / "history.db"
    for command in ("health", "plays", "forecast"):
        result = cli(command, data, "--as-of", AS_OF, "--history", history, "--segment", "Ent")
        assert result.exit_code == 2, command
    if history.exists():
        with sqlite3.connect(history) as db:
            for table in ("health_snapshots", "plays", "actions", "forecasts"):
                assert db.execute(f"select count(*) from {table}").fetchone() == (0,), table


def test_a_blank_value_is_refused_too(cli, data):
    result = cli("health", data, "--no-save", "--as-of", AS_OF, "--segment", "  ")
    assert result.exit_code == 2
    assert "--segment '  ' matches no account's segment" in result.stderr


def test_many_values_are_listed_sorted_and_capped():
    owners = [f"Owner {n:02d}" for n in range(25, 0, -1)]
    accounts = pd.DataFrame({"csm_owner": owners, "ae_owner": ["owner 01"] * 25},
                            index=[f"A{n}" for n in range(25)])
    with pytest.raises(UsageError) as caught:
        filters.select(accounts, owner="nobody")
    listed = ", ".join(f"Owner {n:02d}" for n in range(1, 21))
    assert caught.value.message == (
        "--owner 'nobody' matches no account's CSM or AE. Values in the data (any case will "
        f"do): {listed} and 5 more")
    assert caught.value.code == ProblemCode.NO_MATCH


def test_near_spellings_are_offered_first():
    accounts = pd.DataFrame({"csm_owner": ["Lucas Moreau", "lucas.moreau@acme.com", "Mei Lin"]},
                            index=["A1", "A2", "A3"])
    # sorted ignoring case: "lucas moreau" before "lucas.moreau@…" (a space sorts before a dot)
    with pytest.raises(UsageError, match=r"did you mean 'Lucas Moreau' or "
                                         r"'lucas\.moreau@acme\.com'\?"):
        filters.select(accounts, owner="lucas")
    with pytest.raises(UsageError, match=r"did you mean 'Mei Lin'\?"):
        filters.select(accounts, owner="Mei Lim")


def test_many_near_values_are_counted_not_all_named():
    lucases = pd.DataFrame({"csm_owner": [f"Lucas {name}" for name in
                                          ("Diaz", "Abe", "Cole", "Bell", "Eto")]},
                           index=[f"A{n}" for n in range(5)])
    with pytest.raises(UsageError) as caught:
        filters.select(lucases, owner="lucas")
    assert "did you mean 'Lucas Abe', 'Lucas Bell', 'Lucas Cole' or one of 2 more like " \
        "them? Values in the data" in caught.value.message


# --- plays: the summary counts what is shown ------------------------------------------------

def test_plays_summary_counts_only_the_filtered_accounts(data, tmp_path, default_config):
    from csops_cli.history import History, data_set_of
    from csops_cli.jobs import run_plays
    from csops_cli.loading import load_exports

    exports = load_exports(data, default_config)
    store = History.open(tmp_path / "h.db", data_set_of(exports))
    everyone = run_plays(exports, default_config, AS_OF, store, record=False)
    zoe = run_plays(exports, default_config, AS_OF, store, owner="Zoe Park", record=False)
    renewal = everyone.run.summary.set_index("play_id").loc["renewal_countdown"]
    assert renewal["fired"] == 5
    summary = zoe.run.summary.set_index("play_id")
    assert summary.loc["renewal_countdown", "fired"] == len(ZOE)
    assert summary.loc["renewal_countdown", "arr"] == 150_000 + 9_000 + 5_000
    for play_id, row in summary.iterrows():
        mine = zoe.actions[zoe.actions["play_id"] == play_id]
        assert row["actions"] == len(mine)
        assert row["fired"] == mine["account_id"].nunique()
        assert row["owners"] == mine["owner"].nunique()
    owners = zoe.run.owners
    assert owners["actions"].sum() == len(zoe.actions)
    assert dict(zip(owners["owner"], owners["actions"], strict=True)) == \
        zoe.actions["owner"].value_counts().to_dict()


def test_plays_table_shows_the_filtered_counts(cli, data):
    result = cli("plays", data, "--dry-run", "--as-of", AS_OF, "--segment", "SMB")
    assert result.exit_code == 0, result.output
    renewal = next(line for line in result.stdout.splitlines()
                   if line.strip().startswith("Renewal"))
    # fired, already open, ARR covered: A3 and A5 only
    assert renewal.split()[3:6] == ["2", "0", "14,000"]


# --- coverage --segment -----------------------------------------------------------------------

def test_coverage_segment_shows_that_segments_model_and_books(cli, data):
    result = cli("coverage", data, "--as-of", AS_OF, "-f", "json", "-q", "--segment",
                 "commercial")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [(s["segment"], s["accounts"], s["arr"]) for s in report["segments"]] == [
        ("Commercial", 2, 70_000)]
    # A2 (Bob Ray) and A4 (Ann Lee); Bob's SMB account A3 is not in this book
    assert {(b["owner"], b["accounts"], b["arr"]) for b in report["books"]} == {
        ("Bob Ray", 1, 40_000), ("ann lee", 1, 30_000)}
    assert report["unassigned"] == []
    smb = json.loads(cli("coverage", data, "--as-of", AS_OF, "-f", "json", "-q", "--segment",
                         "SMB").stdout)
    assert [u["account_id"] for u in smb["unassigned"]] == ["A5"]
