"""The action budget (no alert floods) and routing a person can do (PRODUCT.md §6, §7, §9)."""

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest

from csops_cli import plays
from csops_cli.config import BudgetConfig, default_config_text, parse_config
from csops_cli.errors import ConfigError
from csops_cli.history import History
from test_plays import AS_OF, NO_PLAYS, ROWS, TEAM, signal_frame

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
WEEK = pd.Timedelta(days=7)
# AS_OF, 2026-06-30, is a Tuesday: the Wednesday after is in the same ISO week
assert AS_OF.isocalendar().week == (AS_OF + pd.Timedelta(days=1)).isocalendar().week

# a health drop (high priority, small) and three renewals (medium) of different ARR, all
# Commercial and Cara's: the drop's check-in e-mail is Cara's too, its notice the manager's
DROP_AND_RENEWALS = {"DROP": ROWS["DROP"], "R10": ROWS["REN"], "R30": ROWS["REN"],
                     "R20": ROWS["REN"]}
ARR = {"DROP": 5_000.0, "R10": 10_000.0, "R30": 30_000.0, "R20": 20_000.0}


def frame(rows=DROP_AND_RENEWALS, arr=ARR, segment="Commercial") -> pd.DataFrame:
    signals = signal_frame(rows, segment)
    signals["arr"] = [arr[account] for account in signals.index]
    return signals


def with_budget(config, **budget):
    return config.model_copy(update={"budget": BudgetConfig(**budget)})


def statuses(actions: pd.DataFrame) -> dict[tuple[str, str], str]:
    return {(r.account_id, r.action): r.status for r in actions.itertuples()}


def test_actions_are_ranked_by_priority_then_arr_then_due_date_and_cut_at_the_budget(
        default_config):
    config = with_budget(default_config, per_owner_per_week=4)
    run = plays.evaluate(frame(), config, AS_OF, TEAM, NO_PLAYS)
    cara = run.actions[run.actions["owner"] == "Cara CSM"]
    # the high-priority drop first whatever its ARR; then the largest renewal, its actions by
    # due date: its ROI snapshot (due in 60 days) is the fifth of Cara's and waits
    assert {key for key, status in statuses(cara).items() if status == "new"} == {
        ("DROP", "Open risk play"), ("DROP", "Send check-in e-mail"),
        ("R30", "Renewal checklist"), ("R30", "Schedule QBR")}
    assert {key for key, status in statuses(cara).items() if status == "queued"} == {
        ("R30", "Pull ROI snapshot"),
        *[(account, action) for account in ("R20", "R10")
          for action in ("Renewal checklist", "Schedule QBR", "Pull ROI snapshot")]}
    # the manager's notice is the manager's budget, not Cara's
    assert statuses(run.actions)[("DROP", "Notify CSM and manager")] == "new"
    owners = run.owners.set_index("owner")
    assert owners.loc["Cara CSM", ["actions", "new", "queued", "budget"]].tolist() == \
        [11, 4, 7, 4]
    assert owners.loc["Mia Manager", ["actions", "new", "queued"]].tolist() == [1, 1, 0]


def test_a_play_cap_holds_across_owners(default_config):
    config = with_budget(default_config, per_owner_per_week=100,
                         per_play_per_week={"renewal_countdown": 2})
    run = plays.evaluate(frame(), config, AS_OF, TEAM, NO_PLAYS)
    renewals = run.actions[run.actions["play_id"] == "renewal_countdown"]
    assert sorted(map(tuple, renewals.loc[renewals["status"] == "new",
                                          ["account_id", "action"]].to_numpy())) == [
        ("R30", "Renewal checklist"), ("R30", "Schedule QBR")]
    assert (renewals["status"] == "queued").sum() == 7
    drop = run.actions[run.actions["play_id"] == "health_drop_alert"]
    assert set(drop["status"]) == {"new"}  # another play: not capped


def test_the_automation_queue_and_unassigned_have_no_budget(default_config):
    config = with_budget(default_config, per_owner_per_week=1,
                         per_play_per_week={"health_drop_alert": 0})
    drops = {f"D{i}": ROWS["DROP"] for i in range(3)}
    smb = frame(drops, dict.fromkeys(drops, 10_000.0), "SMB")
    orphans = frame({f"O{i}": ROWS["DROP"] for i in range(3)},
                    {f"O{i}": 10_000.0 for i in range(3)})
    orphans["csm_owner"] = pd.Series(pd.NA, index=orphans.index, dtype="string")
    run = plays.evaluate(pd.concat([smb, orphans]), config, AS_OF, TEAM, NO_PLAYS)
    by_owner = run.actions.groupby("owner")["status"].agg(lambda s: sorted(s)).to_dict()
    # SMB: both e-mails of each drop go to the queue, all given out; the CSM's task is a
    # person's and its play's cap of 0 holds it back
    assert by_owner == {"Automation queue": ["new"] * 6, "(unassigned)": ["new"] * 9,
                        "Cara CSM": ["queued"] * 3}
    owners = run.owners.set_index("owner")
    assert owners["budget"].isna().to_dict() == {"Automation queue": True,
                                                 "(unassigned)": True, "Cara CSM": False}


@pytest.mark.parametrize("per_owner", [1, 2, 5, 25])
def test_nothing_is_dropped(default_config, per_owner):
    config = with_budget(default_config, per_owner_per_week=per_owner)
    commercial = frame().rename(index=lambda account: f"C{account}")
    smb = frame(segment="SMB").rename(index=lambda account: f"S{account}")
    signals = pd.concat([signal_frame(), commercial, smb])
    run = plays.evaluate(signals, config, AS_OF, TEAM, NO_PLAYS)
    # 6 firings of signal_frame, 4 of frame() in each segment; three actions each
    assert len(run.actions) == 3 * (6 + 4 + 4)
    assert run.actions["action_id"].is_unique
    assert set(run.actions["status"]) <= {"new", "queued"}
    assert run.owners["actions"].sum() == len(run.actions)
    assert (run.owners["new"] + run.owners["queued"]).tolist() == run.owners["actions"].tolist()
    people = run.owners[run.owners["budget"].notna()]
    assert (people["new"] <= per_owner).all()


def weekly_run(store: History, config, as_of: pd.Timestamp, signals: pd.DataFrame,
               record: bool = True):
    run = plays.evaluate(signals, config, as_of, TEAM, store.open_plays(as_of),
                         store.queued_actions(as_of), store.issued_this_week(as_of))
    if record:
        store.record_plays(as_of, run.fired, run.resolved)
        store.record_actions(as_of, run.actions, run.carried)
    return run


def test_queued_actions_are_released_first_in_later_weeks_with_the_same_id(tmp_path,
                                                                           default_config):
    config = with_budget(default_config, per_owner_per_week=4)
    store = History(tmp_path / "h.db", "data")
    first = weekly_run(store, config, AS_OF, frame())
    again = weekly_run(store, config, AS_OF, frame())  # a re-run of the same as_of
    pd.testing.assert_frame_equal(first.actions, again.actions)
    queued = first.actions[first.actions["status"] == "queued"].set_index("action_id")
    assert len(queued) == 7

    # the next day, in the same week: Cara's budget is spent, so a new firing waits, and
    # nothing queued this week is released yet
    new_account = frame({"R50": ROWS["REN"]}, {"R50": 50_000.0})
    same_week = weekly_run(store, config, AS_OF + pd.Timedelta(days=1), new_account,
                           record=False)
    assert set(same_week.actions["account_id"]) == {"R50"}
    assert set(same_week.actions["status"]) == {"queued"}

    # a week later only a new, large health drop fires (the other plays are open): the queued
    # actions come back first, before it whatever its priority and ARR: the largest
    # renewal's ROI snapshot and the next account's, each due as many days after this as_of
    # as it was after the first
    with_big = pd.concat([frame(), frame({"BIG": ROWS["DROP"]}, {"BIG": 100_000.0})])
    later = weekly_run(store, config, AS_OF + WEEK, with_big)
    assert fired_accounts(later) == {"BIG"}
    listed = later.actions.set_index("action_id")
    carried = listed.loc[listed.index.isin(queued.index)]
    assert len(carried) == 7
    assert sorted(map(tuple, carried.loc[carried["status"] == "new",
                                         ["account_id", "action"]].to_numpy())) == [
        ("R20", "Pull ROI snapshot"), ("R20", "Renewal checklist"), ("R20", "Schedule QBR"),
        ("R30", "Pull ROI snapshot")]
    assert statuses(listed[listed["account_id"] == "BIG"]) == {
        ("BIG", "Open risk play"): "queued", ("BIG", "Send check-in e-mail"): "queued",
        ("BIG", "Notify CSM and manager"): "new"}
    assert (pd.to_datetime(carried["due_date"]) - pd.to_datetime(queued.loc[
        carried.index, "due_date"])).dt.days.eq(7).all()
    assert set(listed["as_of"]) == {"2026-07-07"}

    # the oldest queued first: the last three of the first week, then the drop's risk play
    third = weekly_run(store, config, AS_OF + 2 * WEEK, with_big)
    assert statuses(third.actions) == {
        ("R10", "Renewal checklist"): "new", ("R10", "Schedule QBR"): "new",
        ("R10", "Pull ROI snapshot"): "new", ("BIG", "Open risk play"): "new",
        ("BIG", "Send check-in e-mail"): "queued"}
    fourth = weekly_run(store, config, AS_OF + 3 * WEEK, with_big)
    assert statuses(fourth.actions) == {("BIG", "Send check-in e-mail"): "new"}
    fifth = weekly_run(store, config, AS_OF + 4 * WEEK, with_big)
    assert fifth.actions.empty  # every action reached its owner exactly once
    given = pd.concat([first.actions, later.actions, third.actions, fourth.actions])
    assert given.loc[given["status"] == "new", "action_id"].value_counts().eq(1).all()
    assert set(given["action_id"]) == set(first.actions["action_id"]) | set(
        later.actions.loc[later.actions["account_id"] == "BIG", "action_id"])


def fired_accounts(run) -> set[str]:
    return set(run.fired["account_id"])


# --- routing -----------------------------------------------------------------------------------

def routed(config, segment: str) -> dict[str, tuple[str, str]]:
    signals = frame({"EXP": ROWS["EXP"], "DROP": ROWS["DROP"]}, {"EXP": 1.0, "DROP": 1.0},
                    segment)
    actions = plays.evaluate(signals, config, AS_OF, TEAM, NO_PLAYS).actions
    return {row.action: (row.owner, row.owner_role, row.channel)
            for row in actions.itertuples()}


def test_tech_touch_sends_only_e_mails_to_the_automation_queue(default_config):
    routes = routed(default_config, "SMB")
    assert {action: route[:2] for action, route in routes.items() if route[2] != "email"} == {
        "Open risk play": ("Cara CSM", "csm"),
        "Create CRM opportunity": ("Abe AE", "ae"),
        "Assign AE and CSM": ("Abe AE", "am")}
    assert {route[:2] for route in routes.values() if route[2] == "email"} == {
        ("Automation queue", "tech_touch")}


def test_a_pooled_owner_takes_what_needs_a_person(default_config):
    coverage = default_config.coverage.model_copy(update={"pooled_owner": {"smb": "SMB pod"}})
    config = default_config.model_copy(update={"coverage": coverage})
    routes = routed(config, "SMB")
    assert {action: route[:2] for action, route in routes.items() if route[2] != "email"} == {
        "Open risk play": ("SMB pod", "pooled"),
        "Create CRM opportunity": ("SMB pod", "pooled"),
        "Assign AE and CSM": ("SMB pod", "pooled")}
    assert {route[0] for route in routes.values() if route[2] == "email"} == {
        "Automation queue"}
    # other segments keep their owners
    assert routed(config, "Commercial")["Create CRM opportunity"][:2] == ("Abe AE", "ae")


def test_a_tech_touch_task_goes_to_a_person(default_config):
    text = default_config_text().replace(
        "{text: Open risk play, owner: csm,", "{text: Open risk play, owner: tech_touch,")
    config = parse_config(text)
    assert routed(config, "Commercial")["Open risk play"][:2] == ("Cara CSM", "csm")
    assert routed(config, "SMB")["Open risk play"][:2] == ("Cara CSM", "csm")


def test_an_unresolvable_owner_stays_unassigned(default_config):
    signals = frame({"EXP": ROWS["EXP"]}, {"EXP": 1.0}, "SMB")
    signals["ae_owner"] = pd.Series(pd.NA, index=signals.index, dtype="string")
    actions = plays.evaluate(signals, default_config, AS_OF, TEAM, NO_PLAYS).actions
    assert dict(zip(actions["action"], actions["owner"], strict=True)) == {
        "Create CRM opportunity": "(unassigned)", "Assign AE and CSM": "(unassigned)",
        "Champion enablement e-mail": "Automation queue"}


def problem_of(text: str):
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    [problem] = caught.value.problems
    return problem


def test_a_pooled_owner_for_a_segment_that_is_not_tech_touch_is_refused():
    text = default_config_text().replace("  pooled_owner: {}",
                                         "  pooled_owner: {Commercial: Team A}")
    problem = problem_of(text)
    assert "segment 'Commercial' is co_owned, not tech_touch" in problem.message
    assert problem.line == text.splitlines().index("  pooled_owner: {Commercial: Team A}") + 1
    assert "remove 'Commercial' from pooled_owner" in problem.fix


def test_a_budget_for_an_unknown_play_names_the_nearest():
    text = default_config_text().replace("  per_play_per_week: {}",
                                         "  per_play_per_week: {renewal_countdwn: 3}")
    problem = problem_of(text)
    assert "unknown play 'renewal_countdwn' in the budget" in problem.message
    assert "did you mean 'renewal_countdown'" in problem.message


def test_a_budget_must_be_positive():
    text = default_config_text().replace("per_owner_per_week: 25", "per_owner_per_week: 0")
    problem = problem_of(text)
    assert (problem.column, problem.value) == ("budget.per_owner_per_week", "0")
    assert problem.message.endswith("greater than 0")
    assert problem.line == next(number for number, line in enumerate(text.splitlines(), 1)
                                if "per_owner_per_week: 0" in line)


# --- the shipped sample ------------------------------------------------------------------------

def test_on_the_sample_no_person_gets_more_than_the_budget(cli, tmp_path, default_config):
    result = cli("plays", SAMPLE, "--dry-run", "-f", "csv")
    assert result.exit_code == 0, result.output
    rows = pd.DataFrame(list(csv.DictReader(io.StringIO(result.stdout))))
    budget = default_config.budget.per_owner_per_week
    people = rows[~rows["owner"].isin(["Automation queue", "(unassigned)"])]
    new = people[people["status"] == "new"].groupby("owner").size()
    assert new.max() == budget  # the sample has owners over budget: the cut is exercised
    assert (people["status"] == "queued").sum() > 0
    assert set(rows.loc[rows["owner"] == "Automation queue", "channel"]) == {"email"}
    # every run says what each owner got, on stderr beside the list
    assert "Actions per owner (budget 25 per week)" in result.stderr
    for owner, count in new.items():
        queued = int(((people["owner"] == owner) & (people["status"] == "queued")).sum())
        assert any(line.split()[-2:] == [str(count), str(queued)]
                   and line.strip().startswith(owner) for line in result.stderr.splitlines())


def test_a_crm_import_holds_only_the_actions_given_out(cli, tmp_path):
    listed = json.loads(cli("plays", SAMPLE, "--dry-run", "-f", "json", "-q").stdout)
    result = cli("plays", SAMPLE, "--dry-run", "-f", "csv", "--target", "hubspot")
    assert result.exit_code == 0, result.output
    imported = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["External ID"] for r in imported] == [
        r["action_id"] for r in listed if r["status"] == "new"]
    queued = sum(r["status"] == "queued" for r in listed)
    assert f"the {queued} queued action(s) are left out of the hubspot import" in result.stderr


def test_the_cli_releases_queued_actions_a_week_later(cli, tmp_path):
    history = tmp_path / "h.db"
    first = json.loads(cli("plays", SAMPLE, "--history", history, "-f", "json", "-q").stdout)
    queued = {r["action_id"] for r in first if r["status"] == "queued"}
    assert queued
    dry = cli("plays", SAMPLE, "--history", history, "--as-of", "2026-11-27", "-f", "json",
              "--dry-run")
    later = {r["action_id"]: r["status"] for r in json.loads(dry.stdout)}
    assert queued <= set(later)
    assert "released from earlier weeks" in dry.stderr
    again = cli("plays", SAMPLE, "--history", history, "--as-of", "2026-11-27", "-f", "json",
                "-q", "--dry-run")
    assert {r["action_id"]: r["status"] for r in json.loads(again.stdout)} == later


def test_a_history_of_schema_2_gets_the_actions_table_and_keeps_its_rows(tmp_path,
                                                                        default_config):
    import sqlite3

    from csops_cli.history import APPLICATION_ID

    path = tmp_path / "h.db"
    with sqlite3.connect(path) as db:  # as csops wrote it before actions were kept
        db.executescript(f"""
            CREATE TABLE health_snapshots (dataset TEXT NOT NULL, as_of TEXT NOT NULL,
                account_id TEXT NOT NULL, health_score REAL, health_band TEXT,
                usage_score REAL, relationship_score REAL, commercial_score REAL,
                partial INTEGER, arr REAL, recorded_at TEXT NOT NULL,
                PRIMARY KEY (dataset, as_of, account_id));
            CREATE TABLE plays (dataset TEXT NOT NULL, account_id TEXT NOT NULL,
                play_id TEXT NOT NULL, opened TEXT NOT NULL, resolved TEXT,
                risk INTEGER NOT NULL DEFAULT 0, reason TEXT,
                PRIMARY KEY (dataset, account_id, play_id, opened));
            PRAGMA application_id = {APPLICATION_ID};
            PRAGMA user_version = 2;
            INSERT INTO plays VALUES ('data', 'R10', 'renewal_countdown', '2026-06-01', NULL,
                                      0, 'old');
        """)
    store = History.open(path, "data")
    run = weekly_run(store, with_budget(default_config, per_owner_per_week=4), AS_OF, frame())
    assert "R10" not in set(run.fired["account_id"])  # its renewal play was open already
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (5,)
        assert db.execute("SELECT COUNT(*) FROM plays WHERE reason = 'old'").fetchone() == (1,)
        assert db.execute("SELECT COUNT(*) FROM actions").fetchone() == (len(run.actions),)
