"""Commands end to end, in-process: output names, history, explain, help."""

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SAMPLE_ACCOUNTS, sample_paying
from csops_cli.cli import app

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
HEALTH_FIELDS = ["account_id", "account_name", "segment", "health_score", "health_band",
                 "usage_score", "relationship_score", "commercial_score", "partial",
                 "health_change"]


def test_first_run_knows_the_change_since_a_week_earlier(cli, tmp_path):
    """Without a stored snapshot the previous score is the score rebuilt as of 7 days earlier
    (PRODUCT.md §3): the change equals two separate runs' difference; once a snapshot is
    stored, it is the previous score instead."""
    def scores(*options):
        result = cli("health", SAMPLE, "-f", "csv", "-q", *options)
        assert result.exit_code == 0, result.output
        return {row["account_id"]: row for row in csv.DictReader(io.StringIO(result.stdout))}

    week_before = scores("--as-of", "2026-11-13", "--no-save")
    now = scores("--no-save")
    changes = [(float(row["health_change"]), float(row["health_score"])
                - float(week_before[account]["health_score"]))
               for account, row in now.items() if account in week_before]
    assert len(changes) > 200
    assert all(abs(change - expected) <= 0.11 for change, expected in changes)  # both rounded
    assert any(change != 0 for change, _ in changes)
    # an account paying now but not a week ago has no previous score
    assert all(row["health_change"] == "" for account, row in now.items()
               if account not in week_before)
    history = str(tmp_path / "history.db")
    scores("--as-of", "2026-11-01", "--history", history)
    stored = scores("--as-of", "2026-11-01", "--no-save")
    with_snapshot = scores("--history", history, "--no-save")
    assert all(abs(float(row["health_change"]) - (float(row["health_score"]) - float(
        stored[account]["health_score"]))) <= 0.11
        for account, row in with_snapshot.items() if account in stored)


def test_health_table_is_worst_first_with_buckets(cli):
    result = cli("health", SAMPLE, "--no-save")
    assert result.exit_code == 0, result.output
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    assert lines[0] == "Account health as of 2026-11-20"
    assert lines[2].split() == ["Account", "Name", "Segment", "ARR", "Health", "Usage", "Relat.",
                                "Comm.", "Change", "Renewal", "Stage"]
    shown = [re.match(r" (A\d{5}) .* (\d+\.\d)[ *](red|yellow|green) ", line).groups()
             for line in lines if re.match(r" A\d{5} ", line)]
    # worst first: the same accounts, scores and bands in the same order as the CSV
    ordered = list(csv.DictReader(io.StringIO(cli("health", SAMPLE, "--no-save", "-f", "csv",
                                                  "-q").stdout)))
    assert shown == [(r["account_id"], f"{float(r['health_score']):.1f}", r["health_band"])
                     for r in ordered]
    scores = [float(score) for _, score, _ in shown]
    paying = len(sample_paying("2026-11-20"))
    assert len(scores) == paying and scores == sorted(scores)
    worst = ordered[0]
    assert lines[4].split()[0] == worst["account_id"] and worst["health_band"] in lines[4]
    bands = {band: sum(r["health_band"] == band for r in ordered)
             for band in ("red", "yellow", "green")}
    assert lines[-2:] == [
        f"{paying} account(s): {bands['red']} red, {bands['yellow']} yellow, "
        f"{bands['green']} green",
        f"{SAMPLE_ACCOUNTS - paying} account(s) without ARR on 2026-11-20 left out (churned or "
        "not yet started)"]


def test_health_csv_has_the_stable_columns_sorted_worst_first(cli):
    result = cli("health", SAMPLE, "--no-save", "--format", "csv", "--quiet")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == HEALTH_FIELDS + ["arr", "renewal_date", "days_to_renewal",
                                             "derived_stage", "csm_owner", "as_of"]
    scores = [float(r["health_score"]) for r in rows]
    assert len(scores) == len(sample_paying("2026-11-20")) and scores == sorted(scores)
    assert {r["health_band"] for r in rows} == {"green", "yellow", "red"}
    assert all(r["health_score"] == f"{float(r['health_score']):.1f}".rstrip("0").rstrip(".")
               or len(r["health_score"].split(".")[-1]) <= 1 for r in rows)
    # one decimal at most, and none when it is 0: 40, not 40.0
    assert all(re.fullmatch(r"\d{1,3}(\.[1-9])?", r["health_score"]) for r in rows)


def test_health_json_and_out_file_match(cli, tmp_path):
    result = cli("health", SAMPLE, "--no-save", "--format", "json", "--quiet")
    records = json.loads(result.stdout)
    assert len(records) == len(sample_paying("2026-11-20"))
    assert all(list(r) == HEALTH_FIELDS + ["arr", "renewal_date", "days_to_renewal",
                                           "derived_stage", "csm_owner", "as_of"]
               for r in records)
    assert all(0 <= r["health_score"] <= 100 for r in records)
    out = tmp_path / "health.json"
    assert cli("health", SAMPLE, "--no-save", "--out", out).exit_code == 0
    assert json.loads(out.read_text()) == records
    assert not list(tmp_path.glob(".health.json.*"))  # no temporary file left behind


def test_segment_and_owner_filters(cli):
    result = cli("health", SAMPLE, "--no-save", "-f", "json", "-q", "--segment", "strategic")
    assert {r["segment"] for r in json.loads(result.stdout)} == {"Strategic"}
    everyone = json.loads(cli("health", SAMPLE, "--no-save", "-f", "json", "-q").stdout)
    # exactly the matching accounts, in the same worst-first order
    strategic = [r for r in everyone if r["segment"] == "Strategic"]
    assert json.loads(result.stdout) == strategic and 0 < len(strategic) < len(everyone)
    owner = next(r["csm_owner"] for r in everyone if r["csm_owner"])
    mine = json.loads(cli("health", SAMPLE, "--no-save", "-f", "json", "-q", "--owner",
                          owner).stdout)
    assert mine and {r["csm_owner"] for r in mine} == {owner}
    assert mine == [r for r in everyone if r["csm_owner"] == owner]


def test_second_run_shows_change_and_same_as_of_replaces(cli, tmp_path):
    history = tmp_path / "h.db"
    first = cli("health", SAMPLE, "--as-of", "2026-11-13", "--history", history, "-f", "json")
    # no snapshot before it: the change is against the score rebuilt a week earlier
    assert sum(r["health_change"] is not None for r in json.loads(first.stdout)) > 200
    second = cli("health", SAMPLE, "--history", history, "-f", "json", "-q")
    records = {r["account_id"]: r for r in json.loads(second.stdout)}
    earlier = {r["account_id"]: r for r in json.loads(first.stdout)}
    changed = [a for a in records if a in earlier]
    before, now = sample_paying("2026-11-13"), sample_paying("2026-11-20")
    assert (set(earlier), set(records)) == (before, now)
    assert set(changed) == before & now
    for account in changed:
        expected = round(records[account]["health_score"] - earlier[account]["health_score"], 1)
        assert records[account]["health_change"] == pytest.approx(expected, abs=0.11)
    cli("health", SAMPLE, "--history", history, "-q")  # same as_of again: replaces
    import sqlite3

    with sqlite3.connect(history) as db:
        counts = db.execute("SELECT as_of, COUNT(*) FROM health_snapshots GROUP BY as_of"
                            ).fetchall()
    assert counts == [("2026-11-13", len(earlier)), ("2026-11-20", len(records))]


def test_no_save_writes_no_history(cli, tmp_path):
    cli("health", SAMPLE, "--no-save", "-q")
    # nothing but the cache of parsed exports
    assert [path.name for path in (tmp_path / ".csops").iterdir()] == ["cache"]
    cli("health", SAMPLE, "-q")
    assert (tmp_path / ".csops" / "history.db").exists()
    import sqlite3

    with sqlite3.connect(tmp_path / ".csops" / "history.db") as db:
        assert db.execute("SELECT as_of, COUNT(*) FROM health_snapshots GROUP BY as_of"
                          ).fetchall() == [("2026-11-20", len(sample_paying("2026-11-20")))]


def test_explain_points_add_up_to_the_score_shown(cli):
    records = json.loads(cli("health", SAMPLE, "--no-save", "-f", "json", "-q").stdout)
    assert len(records) == len(sample_paying("2026-11-20"))
    for record in records[:: max(1, len(records) // 25)]:
        result = cli("explain", record["account_id"], SAMPLE, "-f", "json", "-q")
        explained = json.loads(result.stdout)
        assert explained["health_score"] == record["health_score"]
        points = sum(line["points"] for line in explained["signals"])
        assert round(points, 1) == record["health_score"]
        weights = sum(line["weight"] for line in explained["signals"])
        assert weights == pytest.approx(1, abs=1e-3)


def test_explain_table_total_row(cli):
    record = json.loads(cli("health", SAMPLE, "--no-save", "-f", "json", "-q").stdout)[0]
    result = cli("explain", record["account_name"], SAMPLE, "-q")
    assert result.exit_code == 0, result.output
    assert f"{record['health_score']:.1f}" in result.output.split("Total")[-1]
    assert "license_utilization" in result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"{record['account_name']} ({record['account_id']})"
    assert f"Health {record['health_score']:.1f} {record['health_band']}" in lines
    table = [[cell.strip() for cell in line.strip("│").split("│")] for line in lines
             if line.startswith("│")]
    assert [row[1] for row in table[:-1]] == [
        "license_utilization", "logins_per_user_30d", "core_feature_adoption", "meetings_90d",
        "days_since_last_touch", "champion_status", "arr", "arr_change_12m",
        "days_to_renewal"]
    assert table[-1] == ["Total", "", "", "", "100%", f"{record['health_score']:.1f}"]


def test_explain_account_without_arr(cli, five):
    result = cli("explain", "004", five, "--as-of", "2026-06-30", "-q")
    assert result.exit_code == 0
    assert "no health score" in result.output
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        "Delta (004)",
        "as of 2026-06-30 · segment Commercial · stage missing · ARR 0 · renewal missing · "
        "CSM missing",
        "No ARR on 2026-06-30 (churned or not started): no health score."]
    assert [line.split(":")[0] for line in lines[3:]] == [
        "Play Onboarding checklist", "Play Health drop alert", "Play Expansion signal",
        "Play Renewal 120-day countdown"]  # and no score table


def test_csv_output_is_excel_safe(cli, tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "accounts.csv").write_text(
        'account_id,account_name,csm_owner\n1,"=HYPERLINK(""http://x"")",@ann\n2,+Beta,-Bob\n')
    (folder / "contracts.csv").write_text(
        "contract_id,account_id,start_date,end_date,arr\nc1,1,2026-01-01,2027-01-01,5\n"
        "c2,2,2026-01-01,2027-01-01,5\n")
    result = cli("health", folder, "--no-save", "-f", "csv", "-q", "--as-of", "2026-06-01")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    names = {r["account_name"] for r in rows}
    assert names == {"'=HYPERLINK(\"http://x\")", "'+Beta"}
    assert {r["csm_owner"] for r in rows} == {"'@ann", "'-Bob"}
    assert all(not r["health_score"].startswith("'") for r in rows)


def test_every_command_has_help_with_an_example(cli):
    import typer.main

    group = typer.main.get_command(app)
    assert set(group.commands) == {"health", "explain", "validate", "init", "sample", "plays",
                                   "renewals", "coverage", "metrics", "audit", "backtest", "diff",
                                   "forecast", "report"}
    for name, command in group.commands.items():
        assert "Example: csops " in (command.help or ""), name
        assert cli(name, "--help").exit_code == 0


def test_help_does_not_import_pandas():
    code = ("import sys; sys.argv = ['csops', '--help']\n"
            "from csops_cli.cli import app\n"
            "try:\n    app()\nexcept SystemExit:\n    pass\n"
            "assert 'pandas' not in sys.modules, 'pandas imported'\n"
            "assert 'pydantic' not in sys.modules, 'pydantic imported'\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_init_writes_the_sources_it_recognised(cli, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "report1795166040202.csv").write_text(
        "Account ID,Account Name,Account Owner\n1,A,Ann\n2,B,Bo\n")
    result = cli("init", folder)
    assert result.exit_code == 0, result.output
    assert "report1795166040202.csv" in result.stdout
    assert "no file holds the contracts" in result.stdout
    text = (folder / "playbooks.yaml").read_text()
    from csops_cli.config import default_config_text

    # the packaged file, then the recognised file's source with its assumption and count
    assert text.startswith(default_config_text())
    added = text[len(default_config_text()):].splitlines()
    assert added[added.index("sources:") + 1:added.index("sources:") + 5] == [
        "  accounts:",
        "    # report1795166040202.csv: 2 rows",
        "    #   assumption: Account owner taken as CSM (no CSM column) (2 rows)",
        "    - id: salesforce_accounts"]
    assert cli("init", folder).exit_code == 2  # exists: needs --force
    assert (folder / "playbooks.yaml").read_text() == text  # and is left as it was
    # the folder's own playbooks.yaml is used without --config; it lacks contracts
    missing = cli("validate", folder)
    assert missing.exit_code == 2
    assert missing.stderr.startswith(f"error: no contracts export in {folder}"), missing.stderr
    (folder / "contracts.csv").write_text("contract_id,account_id,start_date,end_date,arr\n"
                                          "O1,1,2026-01-01,2027-01-01,100\n")
    valid = cli("validate", folder)
    assert valid.exit_code == 0, valid.output
    assert valid.stdout.startswith(f"config: {folder / 'playbooks.yaml'} (valid)")
    assert "Account owner taken as CSM (no CSM column)" in valid.stdout


def test_sample_is_deterministic(cli, tmp_path):
    for name in ("a", "b"):
        assert cli("sample", tmp_path / name, "--accounts", "40", "--seed", "3",
                   "--as-of", "2026-01-31").exit_code == 0
    for table in ("accounts", "contracts", "usage", "activities", "team"):
        assert (tmp_path / "a" / f"{table}.csv").read_bytes() == \
            (tmp_path / "b" / f"{table}.csv").read_bytes()
    health = cli("health", tmp_path / "a", "--no-save", "-f", "json", "-q")
    assert health.exit_code == 0 and json.loads(health.stdout)


def test_packaged_default_config_is_the_repository_file():
    from csops_cli.config import default_config_text

    assert default_config_text() == (ROOT / "playbooks.yaml").read_text()


def test_shipped_sample_data_is_what_csops_sample_makes(tmp_path):
    import pandas as pd

    from csops_cli.sample import generate

    generate(tmp_path, accounts=300, seed=7, as_of=pd.Timestamp("2026-11-20"))
    for table in ("accounts", "contracts", "usage", "activities", "team"):
        assert (tmp_path / f"{table}.csv").read_bytes() == \
            (SAMPLE / f"{table}.csv").read_bytes(), table


def test_sample_data_exercises_every_signal(default_config):
    from csops_cli.loading import load_exports
    from csops_cli.pipeline import account_health

    result = account_health(load_exports(SAMPLE, default_config), default_config)
    frame = result.scored
    assert frame["new_business_unit"].any() and frame["new_feature_used"].any()
    assert (frame["days_since_new_contract"] <= 7).any()
    assert (frame["arr_change_12m"] > 0).any() and (frame["arr_change_12m"] < 0).any()
    assert (frame["license_utilization"] > 0.8).any()
    assert set(frame["derived_stage"].dropna()) == {"Onboarding", "Adopt", "Expand", "Renew"}
    assert set(frame["champion_status"].dropna()) == {"active", "none", "left"}
    assert result.without_arr > 0  # churned accounts
    assert frame["segment"].nunique() == 3
    paying = sample_paying("2026-11-20")
    assert (set(frame.index), result.without_arr) == (paying, SAMPLE_ACCOUNTS - len(paying))
    assert set(frame["segment"]) == {"Strategic", "Commercial", "SMB"}
    # every signal of the health model takes more than one value, so each one moves scores
    model = ["license_utilization", "logins_per_user_30d", "core_feature_adoption",
             "meetings_90d", "days_since_last_touch", "champion_status", "arr",
             "arr_change_12m", "days_to_renewal"]
    assert [s for s in model if frame[s].nunique() < 2] == []


def test_explain_lists_plays_and_why(cli, five):
    payload = json.loads(cli("explain", "002", five, "--as-of", "2026-06-30", "-f", "json",
                             "-q").stdout)
    checks = {p["play_id"]: p for p in payload["plays"]}
    assert checks["renewal_countdown"]["fires"] is True  # renews in 1 day
    assert checks["renewal_countdown"]["reason"] == "days_to_renewal=1"
    assert checks["onboarding_checklist"]["fires"] is False
    # every play, in the configuration's order, with the values behind its answer
    assert [(p["play_id"], p["fires"], p["reason"]) for p in payload["plays"]] == [
        ("onboarding_checklist", False, "days_since_new_contract=729"),  # C4 began 2024-07-01
        # red a week earlier too, and rising: no drop, so no alert (an event, not a state)
        ("health_drop_alert", False,
         "health_score=18.91; previous_health_score=12.78; health_change=6.12"),
        ("expansion_signal", False, "license_utilization=0.10; new_business_unit=false"),
        ("renewal_countdown", True, "days_to_renewal=1")]


@pytest.mark.parametrize(("code", "status", "stderr"), [
    ("None", 0, ""), ("3", 3, ""), ("'stopped'", 1, "stopped\n")])
def test_the_process_ends_as_sys_exit_would_with_its_output_and_exit_handlers(
        code, status, stderr):
    """The process ends without the interpreter's teardown, but with what an ordinary exit
    gives: the status, text on stderr, buffered output flushed, exit handlers run."""
    program = ("import atexit, sys\n"
               "from csops_cli.entry import leave\n"
               "atexit.register(lambda: sys.stdout.write(' then the handler'))\n"
               "sys.stdout.write('buffered')\n"
               f"leave({code})\n"
               "print('never')\n")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert (result.returncode, result.stdout, result.stderr) == (
        status, "buffered then the handler", stderr)


def test_a_failed_command_still_exits_2_with_its_message(tmp_path):
    result = subprocess.run([sys.executable, "-m", "csops_cli", "health", str(tmp_path / "no")],
                            capture_output=True, text=True, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert result.returncode == 2
    assert "no such folder" in result.stderr
