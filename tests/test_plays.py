"""Plays: the four shipped plays, cooldown and re-runs, owner routing, action lists, renewals
and coverage."""

import csv
import io
import json

import numpy as np
import pandas as pd
import pytest

from conftest import write
from csops_cli import plays
from csops_cli.history import History

AS_OF = pd.Timestamp("2026-06-30")
# one account built for each play, and one for none; all Commercial (co-owned) unless noted
ROWS = {
    #        health band    change  util  new_bu  renewal  new_contract
    "ONB":  (80, "green", np.nan, 0.50, False, 300, 3),
    "DROP": (65, "yellow", -6, 0.50, False, 300, 400),  # from 71: crossed below 70
    "FALL": (85, "green", -12, 0.50, False, 300, 400),
    "EXP":  (80, "green", 0, 0.90, False, 300, 400),
    "BU":   (80, "green", 0, 0.50, True, 300, 400),
    "REN":  (80, "green", 0, 0.50, False, 100, 400),
    "NONE": (90, "green", 1, 0.80, False, 121, 8),
}


def signal_frame(rows=ROWS, segment="Commercial") -> pd.DataFrame:
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=[
        "health_score", "health_band", "health_change", "license_utilization",
        "new_business_unit", "days_to_renewal", "days_since_new_contract"])
    frame.index.name = "account_id"
    frame["account_name"] = [f"{i.title()} Inc" for i in frame.index]
    frame["segment"] = pd.Series(segment, index=frame.index, dtype="string")
    frame["csm_owner"] = pd.Series("Cara CSM", index=frame.index, dtype="string")
    frame["ae_owner"] = pd.Series("Abe AE", index=frame.index, dtype="string")
    frame["arr"] = 50_000.0
    frame["derived_stage"] = pd.Series("Adopt", index=frame.index, dtype="string")
    frame["health_band"] = frame["health_band"].astype("string")
    frame["previous_health_score"] = frame["health_score"] - frame["health_change"]
    return frame


TEAM = pd.DataFrame({"owner": ["Cara CSM", "Abe AE"], "role": ["CSM", "AE"],
                     "manager": ["Mia Manager", "Mia Manager"]})
NO_PLAYS = pd.DataFrame({"account_id": [], "play_id": [], "opened": pd.to_datetime([]),
                         "risk": []})


def fired(run) -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    for row in run.fired.itertuples():
        result.setdefault(row.play_id, set()).add(row.account_id)
    return result


def test_each_shipped_play_fires_for_its_account_and_no_other(default_config):
    run = plays.evaluate(signal_frame(), default_config, AS_OF, TEAM, NO_PLAYS)
    assert fired(run) == {
        "onboarding_checklist": {"ONB"},
        "health_drop_alert": {"DROP", "FALL"},
        "expansion_signal": {"EXP", "BU"},
        "renewal_countdown": {"REN"},
    }
    assert len(run.actions) == 3 * 6  # three actions for each of the six firings
    assert list(run.actions.columns) == plays.ACTION_COLUMNS


def test_health_drop_is_an_event_not_a_state(default_config):
    rows = {  # score, band, change since the previous score, ...
        "CROSSED": (69, "yellow", -2, 0.5, False, 300, 400),  # from 71: fires
        "FELL": (40, "red", -10, 0.5, False, 300, 400),  # 10 points down, already red: fires
        "LOW": (55, "yellow", -1, 0.5, False, 300, 400),  # below 70 for a while: quiet
        "EDGE": (70, "green", -9, 0.5, False, 300, 400),  # at 70 is not below it: quiet
        "NEW": (50, "yellow", np.nan, 0.5, False, 300, 400),  # no previous score: quiet
    }
    run = plays.evaluate(signal_frame(rows), default_config, AS_OF, TEAM, NO_PLAYS)
    assert fired(run).get("health_drop_alert") == {"CROSSED", "FELL"}


def test_reason_shows_the_values_that_made_the_condition_true(default_config):
    run = plays.evaluate(signal_frame(), default_config, AS_OF, TEAM, NO_PLAYS)
    reason = run.actions.loc[run.actions["account_id"] == "FALL", "reason"].iloc[0]
    # the shipped health drop fired on the fall of 12 points alone: the score of 85 did not
    # make it true, so it is not named
    assert reason == "health_change=-12"


def test_actions_are_sorted_by_due_date_then_priority(default_config):
    actions = plays.evaluate(signal_frame(), default_config, AS_OF, TEAM, NO_PLAYS).actions
    keys = list(zip(actions["due_date"], actions["priority"].map(plays.PRIORITY_RANK),
                    strict=True))
    assert keys == sorted(keys)
    assert actions["due_date"].iloc[0] == "2026-07-01"  # health drop: due in 1 day


def test_owner_routing_per_segment(default_config):
    routes = {}
    for segment in ("Strategic", "Commercial", "SMB"):
        frame = signal_frame({"EXP": ROWS["EXP"], "DROP": ROWS["DROP"]}, segment)
        actions = plays.evaluate(frame, default_config, AS_OF, TEAM, NO_PLAYS).actions
        routes[segment] = dict(zip(actions["action"], zip(actions["owner"],
                                                            actions["owner_role"],
                                                            strict=True), strict=True))
    # Strategic is CSM-led: the AE's opportunity goes to the CSM
    assert routes["Strategic"]["Create CRM opportunity"] == ("Cara CSM", "csm")
    assert routes["Strategic"]["Notify CSM and manager"] == ("Mia Manager", "manager")
    # Commercial is co-owned: the AE and AM (the AE owner when there is no am_owner) act
    assert routes["Commercial"]["Create CRM opportunity"] == ("Abe AE", "ae")
    assert routes["Commercial"]["Assign AE and CSM"] == ("Abe AE", "am")
    assert routes["Commercial"]["Open risk play"] == ("Cara CSM", "csm")
    # SMB is tech-touch: its e-mails go to the automation queue (a sequence); its tasks and
    # opportunities need a person, so they go to the account's owners (no pooled owner
    # is shipped)
    assert routes["SMB"] == {
        "Open risk play": ("Cara CSM", "csm"),
        "Notify CSM and manager": ("Automation queue", "tech_touch"),
        "Send check-in e-mail": ("Automation queue", "tech_touch"),
        "Create CRM opportunity": ("Abe AE", "ae"),
        "Assign AE and CSM": ("Abe AE", "am"),
        "Champion enablement e-mail": ("Automation queue", "tech_touch"),
    }
    assert all(len(actions) == 6 for actions in routes.values())  # three for each play


def test_unresolvable_owner_is_kept_and_marked(default_config):
    frame = signal_frame({"DROP": ROWS["DROP"]})
    frame["csm_owner"] = pd.Series(pd.NA, index=frame.index, dtype="string")
    actions = plays.evaluate(frame, default_config, AS_OF, None, NO_PLAYS).actions
    assert len(actions) == 3
    assert set(actions["owner"]) == {"(unassigned)"}


def test_cooldown_rerun_and_risk_resolution(tmp_path, default_config):
    store = History(tmp_path / "h.db")

    def run(as_of, frame=None, record=True):
        result = plays.evaluate(signal_frame() if frame is None else frame, default_config,
                                as_of, TEAM, store.open_plays(as_of))
        if record:
            store.record_plays(as_of, result.fired, result.resolved)
        return result

    first = run(AS_OF)
    again = run(AS_OF)  # same as_of: the same list with the same ids
    pd.testing.assert_frame_equal(first.actions, again.actions)
    week_later = run(AS_OF + pd.Timedelta(days=7))
    assert fired(week_later) == {}  # everything is still open within its cooldown
    # the health drop (cooldown 30) fires again after 30 days if still red; expansion's
    # cooldown is 60 days
    month_later = run(AS_OF + pd.Timedelta(days=30))
    assert fired(month_later) == {"health_drop_alert": {"DROP", "FALL"}}
    # back to green on day 44: the risk plays opened on day 30 resolve after 14 days
    recovered = signal_frame()
    recovered.loc[["DROP", "FALL"], ["health_score", "health_band", "health_change"]] = \
        [[82, "green", 17], [88, "green", 3]]
    result = run(AS_OF + pd.Timedelta(days=44), recovered)
    assert set(map(tuple, result.resolved[["account_id", "play_id"]].to_numpy())) == {
        ("DROP", "health_drop_alert"), ("FALL", "health_drop_alert")}
    days = store.resolution_days()
    assert sorted(days["days"]) == [14, 14, 44, 44]


def test_action_ids_are_stable_and_distinct(default_config):
    one = plays.evaluate(signal_frame(), default_config, AS_OF, TEAM, NO_PLAYS).actions
    two = plays.evaluate(signal_frame(), default_config, AS_OF, TEAM, NO_PLAYS).actions
    assert one["action_id"].tolist() == two["action_id"].tolist()
    assert one["action_id"].is_unique
    later = plays.evaluate(signal_frame(), default_config, AS_OF + pd.Timedelta(days=1), TEAM,
                           NO_PLAYS).actions
    assert not set(later["action_id"]) & set(one["action_id"])


def test_segment_and_stage_filters(default_config):
    play = default_config.plays[2].model_copy(update={"segments": ["Strategic"]})
    config = default_config.model_copy(update={"plays": [play]})
    config._play_lines = {}
    assert fired(plays.evaluate(signal_frame(), config, AS_OF, TEAM, NO_PLAYS)) == {}
    play = play.model_copy(update={"segments": ["commercial"], "stages": ["Adopt"]})
    config = default_config.model_copy(update={"plays": [play]})
    assert fired(plays.evaluate(signal_frame(), config, AS_OF, TEAM, NO_PLAYS)) == {
        "expansion_signal": {"EXP", "BU"}}


# --- the condition language --------------------------------------------------------------------

ACCOUNTS = """
account_id,account_name,segment,csm_owner,ae_owner
1,"=HYPERLINK(""http://evil"")",Commercial,Cara,Abe
2,@SUM(A1:A9),Commercial,Cara,Abe
"""
CONTRACTS = """
contract_id,account_id,start_date,end_date,arr,licenses,signed_date,contract_type
c1,1,2026-06-28,2027-06-28,50000,10,2026-06-28,new
c2,2,2025-01-01,2026-09-01,30000,10,,new
c3,2,2025-01-01,2026-01-01,20000,5,,expansion
"""


SHIPPED_DROP = "when: (health_score < 70 and previous_health_score >= 70) or health_change <= -10"


def below_70_config() -> str:
    """The shipped plays with the health drop as a state (below 70): these exports have no
    usage or activities, so no score moves and the shipped event never fires."""
    from csops_cli.config import default_config_text

    text = default_config_text()
    assert SHIPPED_DROP in text
    return text.replace(SHIPPED_DROP, "when: health_score < 70")


@pytest.fixture
def exports(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    write(folder, "accounts.csv", ACCOUNTS)
    write(folder, "contracts.csv", CONTRACTS)
    (folder / "playbooks.yaml").write_text(below_70_config())  # found in the data folder
    return folder


def test_plays_csv_has_the_stable_columns_and_is_excel_safe(cli, exports, tmp_path):
    out = tmp_path / "actions.csv"
    result = cli("plays", exports, "--as-of", "2026-06-30", "--out", out)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert list(rows[0]) == plays.ACTION_COLUMNS
    names = {r["account_name"] for r in rows}
    assert names == {"'=HYPERLINK(\"http://evil\")", "'@SUM(A1:A9)"}
    assert [(r["account_id"], r["play_id"]) for r in rows] == [
        ("2", "health_drop_alert"), ("2", "health_drop_alert"), ("1", "onboarding_checklist"),
        ("1", "onboarding_checklist"), ("2", "health_drop_alert"), ("1", "onboarding_checklist"),
        ("2", "renewal_countdown"), ("2", "renewal_countdown"), ("2", "renewal_countdown")]
    again = cli("plays", exports, "--as-of", "2026-06-30", "-f", "csv", "-q")
    assert [r["action_id"] for r in csv.DictReader(io.StringIO(again.stdout))] == \
        [r["action_id"] for r in rows]
    later = cli("plays", exports, "--as-of", "2026-07-07", "-f", "json", "-q")
    assert json.loads(later.stdout) == []  # nothing newly firing a week later
    # because the plays are open: without that history, two of them would fire again
    fresh = cli("plays", exports, "--as-of", "2026-07-07", "-f", "json", "-q", "--dry-run",
                "--history", tmp_path / "fresh.db")
    assert [(r["account_id"], r["play_id"]) for r in json.loads(fresh.stdout)] == [
        ("2", "health_drop_alert")] * 3 + [("2", "renewal_countdown")] * 3


@pytest.mark.parametrize("target, columns", [
    ("hubspot", ["Task Title", "Task Notes", "Due Date", "Priority", "Task Type",
                 "Task Owner", "Associated Company ID", "External ID"]),
    ("salesforce", ["Subject", "Description", "ActivityDate", "Priority", "Status", "Type",
                    "OwnerId", "WhatId", "External_Id__c"]),
])
def test_crm_layouts(cli, exports, tmp_path, target, columns):

    # an action text and a play name that a spreadsheet would take for formulas
    text = below_70_config().replace("text: Renewal checklist,", "text: '=Renewal checklist',")
    text = text.replace("name: Renewal 120-day countdown", "name: '+Renewal 120-day countdown'")
    config = write(tmp_path, "hostile.yaml", text)
    result = cli("plays", exports, "--as-of", "2026-06-30", "-f", "csv", "-q", "--dry-run",
                 "--target", target, "--config", config)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("\ufeff")  # a CRM import is opened in Excel first
    rows = list(csv.reader(io.StringIO(result.stdout.removeprefix("\ufeff"))))
    assert rows[0] == columns
    ids = [r["action_id"] for r in json.loads(cli(
        "plays", exports, "--as-of", "2026-06-30", "-f", "json", "-q", "--dry-run").stdout)]
    # commercial context only: ARR 30k (bad 5k, good 50k) 55.56 x 0.15, down 40 % from 50k
    # (bad -20 %) 0 x 0.70, renewal in 63 days (bad 0, good 90) 70 x 0.15
    drop = "Health drop alert: health_score=18.83"
    onboarding = "Onboarding checklist: days_since_new_contract=2"
    renewal = "'+Renewal 120-day countdown: days_to_renewal=63"
    evil, sums = "=HYPERLINK(\"http://evil\")", "@SUM(A1:A9)"
    tasks = [  # title, notes, due date, priority, channel, assignee, account
        (f"Open risk play – {sums}", drop, "2026-07-01", "high", "task", "Cara", "2"),
        (f"Notify CSM and manager – {sums}", drop, "2026-07-01", "high", "email", "", "2"),
        (f"Create onboarding tasks – {evil}", onboarding, "2026-07-02", "high", "task", "Cara",
         "1"),
        (f"Set TTFV target – {evil}", onboarding, "2026-07-03", "high", "task", "Cara", "1"),
        (f"Send check-in e-mail – {sums}", drop, "2026-07-03", "high", "email", "Cara", "2"),
        (f"Schedule first training – {evil}", onboarding, "2026-07-07", "high", "task", "Cara",
         "1"),
        (f"'=Renewal checklist – {sums}", renewal, "2026-07-07", "medium", "task", "Cara", "2"),
        (f"Schedule QBR – {sums}", renewal, "2026-07-30", "medium", "task", "Cara", "2"),
        (f"Pull ROI snapshot – {sums}", renewal, "2026-08-29", "medium", "task", "Cara", "2"),
    ]
    if target == "hubspot":
        kinds = {"task": "TODO", "email": "EMAIL"}
        expected = [[title, notes, due, priority.upper(), kinds[channel], owner, account]
                    for title, notes, due, priority, channel, owner, account in tasks]
    else:
        kinds, priorities = {"task": "Other", "email": "Email"}, {"high": "High",
                                                                  "medium": "Normal"}
        expected = [[title, notes, due, priorities[priority], "Not Started", kinds[channel],
                     owner, account]
                    for title, notes, due, priority, channel, owner, account in tasks]
    assert rows[1:] == [row + [action_id] for row, action_id in zip(expected, ids, strict=True)]


def test_dry_run_records_nothing(cli, exports, tmp_path):
    cli("plays", exports, "--as-of", "2026-06-30", "--dry-run", "-q")
    # no history: only the cache of parsed exports
    assert [path.name for path in (tmp_path / ".csops").iterdir()] == ["cache"]
    first = cli("plays", exports, "--as-of", "2026-06-30", "-f", "json", "-q", "--dry-run")
    assert len(json.loads(first.stdout)) == 9
    # a week later the same plays fire again: the dry runs opened nothing
    later = cli("plays", exports, "--as-of", "2026-07-07", "-f", "json", "-q", "--dry-run")
    assert [(r["account_id"], r["play_id"]) for r in json.loads(later.stdout)] == [
        ("2", "health_drop_alert")] * 3 + [("2", "renewal_countdown")] * 3
    assert [path.name for path in (tmp_path / ".csops").iterdir()] == ["cache"]


def test_hostile_condition_in_config_exits_2_and_runs_nothing(cli, exports, tmp_path):
    from csops_cli.config import default_config_text

    sentinel = tmp_path / "pwned"
    text = default_config_text().replace(
        "when: days_to_renewal <= 120",
        f"when: __import__('os').system('touch {sentinel}')")
    config = write(tmp_path, "hostile.yaml", text)
    result = cli("plays", exports, "--config", config)
    assert result.exit_code == 2
    assert "function calls" in result.output and "Traceback" not in result.output
    assert not sentinel.exists()


def test_unknown_name_in_a_play_names_the_play_line_and_closest_columns(cli, exports, tmp_path):
    from csops_cli.config import default_config_text

    text = default_config_text().replace("when: days_to_renewal <= 120",
                                         "when: days_to_renewel <= 120")
    config = write(tmp_path, "typo.yaml", text)
    result = cli("plays", exports, "--config", config, "--as-of", "2026-06-30")
    assert result.exit_code == 2
    assert "renewal_countdown" in result.output
    assert "days_to_renewel" in result.output and "did you mean days_to_renewal" in result.output
    line = text.splitlines().index("    when: days_to_renewel <= 120") + 1
    assert f" {line} " in result.output


def test_renewals(cli, exports):
    result = cli("renewals", exports, "--as-of", "2026-06-30", "-f", "json", "-q")
    records = json.loads(result.stdout)
    assert [(r["account_id"], r["days_to_renewal"], r["checklist_step"]) for r in records] == [
        ("2", 63, "90: QBR")]
    assert set(records[0]) == {"account_id", "account_name", "renewal_date", "days_to_renewal",
                               "arr", "health_score", "health_band", "owner",
                               "checklist_step", "renewal_probability", "forecast_arr"}
    wide = json.loads(cli("renewals", exports, "--as-of", "2026-06-30", "--days", "400", "-f",
                          "json", "-q").stdout)
    assert [r["checklist_step"] for r in wide] == ["90: QBR", "before kickoff"]


def test_checklist_steps():
    from csops_cli.coverage import checklist_step

    steps = checklist_step(pd.Series([0, 30, 31, 60, 61, 90, 91, 120, 121]))
    assert steps.fillna("").tolist() == ["30: contract", "30: contract", "60: ROI snapshot",
                                         "60: ROI snapshot", "90: QBR", "90: QBR",
                                         "120: kickoff", "120: kickoff", ""]


def test_coverage_books(cli, exports):
    payload = json.loads(cli("coverage", exports, "--as-of", "2026-06-30", "-f", "json",
                             "-q").stdout)
    # both accounts are Cara's, Commercial (30k + 50k: co-owned); account 2 is red
    assert payload == {
        "as_of": "2026-06-30",
        "segments": [{"segment": "Commercial", "motion": "co_owned", "accounts": 2,
                      "arr": 80000, "red": 1, "owners": 1}],
        "books": [{"owner": "Cara", "role": "CSM", "manager": None, "accounts": 2,
                   "arr": 80000, "red": 1, "segments": "Commercial"}],
        "unassigned": []}


def test_coverage_table_without_a_team_export(cli, exports):
    """No team.csv: owners have no manager, and the table shows an empty cell."""
    result = cli("coverage", exports, "--as-of", "2026-06-30", "-q")
    assert result.exit_code == 0, result.output
    books = result.stdout.split("Owners' books")[1].splitlines()
    assert [line.split() for line in books if line.strip().startswith("Cara")] == [
        ["Cara", "CSM", "2", "80,000", "1", "Commercial"]]


def test_no_motions_configured_means_co_owned():
    from csops_cli.config import default_config_text, parse_config

    motions = "  motions:\n    Strategic: csm_led\n    Commercial: co_owned\n    SMB: tech_touch\n"
    text = default_config_text()
    assert motions in text
    config = parse_config(text.replace(motions, "  motions: {}\n"))
    run = plays.evaluate(signal_frame(), config, AS_OF, TEAM, NO_PLAYS)
    assert set(run.actions["owner_role"]) <= {"csm", "ae", "am", "manager"}
    assert len(run.actions) == 3 * 6


def test_fired_counts_without_actions(default_config):
    """The report's count of plays newly firing: each shipped play fires for its account
    (ONB, DROP and FALL, EXP and BU, REN), and an open play is not counted again."""
    open_plays = pd.DataFrame({"account_id": ["EXP"], "play_id": ["expansion_signal"],
                               "opened": pd.to_datetime(["2026-06-20"]), "risk": [False]})
    counts = plays.fired_counts(signal_frame(), default_config, AS_OF, open_plays)
    assert counts.to_dict("records") == [
        {"play_id": "onboarding_checklist", "play_name": "Onboarding checklist", "fired": 1},
        {"play_id": "health_drop_alert", "play_name": "Health drop alert", "fired": 2},
        {"play_id": "expansion_signal", "play_name": "Expansion signal", "fired": 1},
        {"play_id": "renewal_countdown", "play_name": "Renewal 120-day countdown",
         "fired": 1}]
    run = plays.evaluate(signal_frame(), default_config, AS_OF, TEAM, open_plays)
    pd.testing.assert_frame_equal(counts, run.summary[["play_id", "play_name", "fired"]])
