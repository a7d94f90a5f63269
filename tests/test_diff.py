"""csops diff: accounts changing band and the transition matrix worked out by hand, actions
per play and per owner before and after, identical configs, the JSON shape, the 80-column
table, the history left untouched, the backtests side by side, and bad config paths."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from conftest import write

# Health is ARR alone, scaled 0-100 between 0 and 100,000: an account's score is its ARR
# over 1,000. Old bands: green >= 70, yellow >= 50; new bands: green >= 60, yellow >= 40.
CONFIG = """
version: 1
health:
  bands: {{green: {green}, yellow: {yellow}}}
  buckets:
    commercial_context:
      weight: 1
      signals:
        arr: {{weight: 1, bad: 0, good: 100000}}
segments:
  - {{name: Big, min_arr: 50000}}
  - {{name: Small, min_arr: 0}}
coverage:
  motions: {{Big: csm_led, Small: co_owned}}
plays:
  - id: thank_green
    name: Thank green accounts
    when: health_band == 'green'
    priority: medium
    cooldown_days: 30
    measure: renewals
    actions:
      - {{text: Call the champion, owner: csm, due_in_days: 7, channel: task}}
      - {{text: Thank-you e-mail, owner: csm, due_in_days: 7, channel: email}}
{extra}"""
WATCH_YELLOW = """
  - id: watch_yellow
    name: Watch yellow accounts
    when: health_band == 'yellow'
    priority: high
    cooldown_days: 30
    measure: recoveries
    actions:
      - {text: Review the account, owner: csm, due_in_days: 3, channel: task}
"""
ACCOUNTS = """
account_id,account_name,csm_owner
A1,Alpha,Ann
A2,Bravo,Bob
A3,Charlie,Ann
A4,Delta,Bob
A5,Echo,Cy
A6,Gone,Cy
"""
# scores 80, 65, 55, 45, 20; A6's contract ended before as_of: not paying, never scored
CONTRACTS = """
contract_id,account_id,start_date,end_date,arr
C1,A1,2026-01-01,2027-01-01,80000
C2,A2,2026-01-01,2027-01-01,65000
C3,A3,2026-01-01,2027-01-01,55000
C4,A4,2026-01-01,2027-01-01,45000
C5,A5,2026-01-01,2027-01-01,20000
C6,A6,2025-01-01,2026-01-01,90000
"""
AS_OF = ("--as-of", "2026-06-30")


def data(tmp_path: Path, accounts: str = ACCOUNTS) -> Path:
    folder = tmp_path / "data"
    folder.mkdir(exist_ok=True)
    write(folder, "accounts.csv", accounts)
    write(folder, "contracts.csv", CONTRACTS)
    return folder


def config(tmp_path: Path, name: str, green: int = 70, yellow: int = 50,
           extra: str = "") -> Path:
    return write(tmp_path, name, CONFIG.format(green=green, yellow=yellow, extra=extra))


@pytest.fixture
def setup(tmp_path):
    old = config(tmp_path, "old.yaml")
    new = config(tmp_path, "new.yaml", green=60, yellow=40, extra=WATCH_YELLOW)
    return old, new, data(tmp_path)


def diff_json(cli, *args) -> dict:
    result = cli("diff", *args, *AS_OF, "--no-backtest", "--format", "json", "--quiet")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_changed_threshold_moves_the_accounts_the_arithmetic_says(cli, setup):
    old, new, folder = setup
    payload = diff_json(cli, old, new, folder)
    # A2 at 65: yellow under green >= 70, green under green >= 60; A4 at 45: red under
    # yellow >= 50, yellow under yellow >= 40; A1 (80), A3 (55) and A5 (20) keep theirs.
    # To red first (none), then the worse new band, then the largest ARR: A4 (yellow), A2.
    assert payload["band_changes"] == [
        {"account_id": "A4", "account_name": "Delta", "segment": "Small", "arr": 45000.0,
         "old_band": "red", "new_band": "yellow", "old_score": 45.0, "new_score": 45.0},
        {"account_id": "A2", "account_name": "Bravo", "segment": "Big", "arr": 65000.0,
         "old_band": "yellow", "new_band": "green", "old_score": 65.0, "new_score": 65.0},
    ]
    assert payload["accounts"] == 5  # A6 pays nothing on as_of
    assert payload["score_changes"] == 0  # the bands moved, not the scores
    assert payload["transitions"] == {
        "green": {"green": {"accounts": 1, "arr": 80000.0}},
        "yellow": {"green": {"accounts": 1, "arr": 65000.0},
                   "yellow": {"accounts": 1, "arr": 55000.0}},
        "red": {"yellow": {"accounts": 1, "arr": 45000.0},
                "red": {"accounts": 1, "arr": 20000.0}},
    }


def test_actions_per_play_and_per_owner_before_and_after(cli, setup):
    old, new, folder = setup
    payload = diff_json(cli, old, new, folder)
    # old: green is A1 only, two actions; new: green A1 and A2 (two actions each), and the
    # new play watches yellow A3 and A4 (one action each)
    assert payload["plays"] == [
        {"play_id": "thank_green", "play_name": "Thank green accounts", "old_accounts": 1,
         "new_accounts": 2, "old_actions": 2, "new_actions": 4, "change": 2},
        {"play_id": "watch_yellow", "play_name": "Watch yellow accounts", "old_accounts": 0,
         "new_accounts": 2, "old_actions": 0, "new_actions": 2, "change": 2},
    ]
    assert payload["actions"] == {"old": 2, "new": 6}
    # Ann: A1's two, then A3's review; Bob: A2's two and A4's review; Cy: A5, red in both
    assert payload["owners"] == [
        {"owner": "Bob", "old_actions": 0, "new_actions": 3, "change": 3},
        {"owner": "Ann", "old_actions": 2, "new_actions": 3, "change": 1},
    ]


def test_a_play_the_new_config_drops_counts_zero_after(cli, setup):
    old, new, folder = setup
    payload = diff_json(cli, new, old, folder)  # the other way round
    assert [(p["play_id"], p["old_actions"], p["new_actions"], p["change"])
            for p in payload["plays"]] == [("thank_green", 4, 2, -2),
                                            ("watch_yellow", 2, 0, -2)]


def test_identical_configs_change_nothing(cli, setup, tmp_path):
    old, _, folder = setup
    same = config(tmp_path, "same.yaml")
    payload = diff_json(cli, old, same, folder)
    assert payload["band_changes"] == []
    assert payload["score_changes"] == 0
    assert all(p["change"] == 0 for p in payload["plays"])
    assert all(o["change"] == 0 for o in payload["owners"])
    for old_band, row in payload["transitions"].items():
        assert set(row) == {old_band}  # the diagonal only
    table = cli("diff", old, same, folder, *AS_OF, "--no-backtest", "--quiet")
    assert table.exit_code == 0, table.output
    assert "No account changes band." in table.stdout
    assert "5 paying account(s): 0 change score, 0 change band" in table.stdout


def test_json_shape(cli, setup):
    old, new, folder = setup
    payload = diff_json(cli, old, new, folder)
    assert set(payload) == {"as_of", "old_config", "new_config", "accounts", "score_changes",
                            "band_changes", "transitions", "plays", "owners", "actions",
                            "backtest", "notes"}
    assert payload["as_of"] == "2026-06-30"
    assert payload["old_config"] == str(old)
    assert payload["new_config"] == str(new)
    assert payload["backtest"] is None  # --no-backtest
    assert any("evaluated dry" in note for note in payload["notes"])


def test_csv_lists_the_accounts_changing_band(cli, setup):
    old, new, folder = setup
    result = cli("diff", old, new, folder, *AS_OF, "--no-backtest", "-f", "csv", "-q")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["account_id"], r["old_band"], r["new_band"], r["arr"]) for r in rows] == [
        ("A4", "red", "yellow", "45000"), ("A2", "yellow", "green", "65000")]


def test_table_fits_80_columns_without_cutting_a_number(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    long_names = ACCOUNTS.replace("Bravo", "Bravo International Holdings of the Northern "
                                           "Hemisphere Limited")
    folder = data(tmp_path, long_names)
    old = config(tmp_path, "old.yaml")
    new = config(tmp_path, "a-rather-long-name-for-the-new-playbooks.yaml", green=60,
                 yellow=40, extra=WATCH_YELLOW)
    result = cli("diff", old, new, folder, *AS_OF, "--no-backtest", "--quiet")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    text = result.stdout
    for whole in ("65,000", "yellow -> green", "65.0 -> 65.0", "red -> yellow",
                  "45,000", "1 (80,000)", "2 -> 4", "Thank green accounts", "Bob"):
        assert whole in text, whole


def test_history_is_read_but_never_written(cli, setup, tmp_path):
    old, new, folder = setup
    store = tmp_path / "history.db"
    # a snapshot a week earlier, from the old config
    done = cli("health", folder, "--config", old, "--as-of", "2026-06-23", "--history", store,
               "-q")
    assert done.exit_code == 0, done.output
    before = store.read_bytes()
    result = cli("diff", old, new, folder, *AS_OF, "--no-backtest", "--history", store,
                 "-f", "json")
    assert result.exit_code == 0, result.output
    assert store.read_bytes() == before
    assert sorted(p.name for p in store.parent.iterdir() if p.name.startswith("history")) \
        == ["history.db"]  # no journal left either
    assert "previous scores read from" in result.stderr


def test_no_history_is_created(cli, setup, tmp_path):
    old, new, folder = setup
    result = cli("diff", old, new, folder, *AS_OF, "--no-backtest", "-q")
    assert result.exit_code == 0, result.output
    # the default --history, in the cwd: only the cache of parsed exports is there
    assert [path.name for path in (tmp_path / ".csops").iterdir()] == ["cache"]


def test_plays_recorded_nowhere_and_open_plays_ignored(cli, setup, tmp_path):
    old, new, folder = setup
    store = tmp_path / "history.db"
    # `csops plays` opens thank_green for A1 on as_of - 1; the diff still counts it
    done = cli("plays", folder, "--config", old, "--as-of", "2026-06-29", "--history", store,
               "-q", "-f", "json")
    assert done.exit_code == 0, done.output
    before = store.read_bytes()
    payload = diff_json(cli, old, new, folder, "--history", store)
    assert payload["plays"][0]["old_accounts"] == 1
    assert store.read_bytes() == before


@pytest.mark.parametrize("which", ["old", "new"])
def test_a_bad_config_path_exits_2(cli, setup, tmp_path, which):
    old, new, folder = setup
    missing = tmp_path / "missing.yaml"
    args = (missing, new) if which == "old" else (old, missing)
    result = cli("diff", *args, folder, *AS_OF)
    assert result.exit_code == 2, result.output
    assert f"{missing}: no such file" in result.stderr
    assert "Traceback" not in result.output


def test_a_bad_new_config_exits_2_naming_its_line(cli, setup, tmp_path):
    old, _, folder = setup
    bad = write(tmp_path, "bad.yaml", CONFIG.format(green=70, yellow=50, extra="")
                .replace("bands:", "bandz:"))
    result = cli("diff", old, bad, folder, *AS_OF)
    assert result.exit_code == 2, result.output
    assert "bandz" in result.stderr
    assert "Traceback" not in result.output


def test_reading_sections_that_differ_are_named(cli, setup, tmp_path):
    old, _, folder = setup
    new = write(tmp_path, "dayfirst.yaml", "inputs: {dayfirst: true}\n"
                + CONFIG.format(green=70, yellow=50, extra=""))
    payload = diff_json(cli, old, new, folder)
    assert any(f"those sections of {new} differ and were not applied" in note
               and "inputs" in note for note in payload["notes"])


# --------------------------------------------------------------------------------------------
# The backtests side by side, on the backtest's hand-labelled data
# --------------------------------------------------------------------------------------------


def test_backtests_side_by_side_are_the_cores(cli, tmp_path):
    import pandas as pd

    from csops_cli import backtest
    from csops_cli.config import load_config
    from csops_cli.loading import load_exports
    from test_backtest import tiny

    folder = tiny(tmp_path / "d")
    old = config(tmp_path, "old.yaml")
    lenient = config(tmp_path, "lenient.yaml", green=0, yellow=0)
    result = cli("diff", old, lenient, folder, *AS_OF, "--format", "json", "--quiet")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)["backtest"]
    for side, path in (("old", old), ("new", lenient)):
        _, parsed = load_config(path)
        exports = load_exports(folder, parsed, {})
        core = backtest.run(exports, parsed,
                            backtest.BacktestOptions(as_of=pd.Timestamp("2026-06-30")))
        for days, horizon in core.horizons.items():
            shown = payload[side]["horizons"][str(days)]
            assert shown["auc"] == horizon.headline.auc
            assert (shown["auc_low"], shown["auc_high"]) == (horizon.headline.auc_low,
                                                             horizon.headline.auc_high)
            assert shown["outcomes"] == horizon.headline.outcomes
    # every account green under the lenient bands: the green-share bar (at most 80 %)
    # fails, and there is no red band to lift
    ninety = payload["new"]["horizons"]["90"]
    assert ninety["bars"]["green_share"]["passed"] is False
    assert ninety["red_lift"] is None
    table = cli("diff", old, lenient, folder, *AS_OF, "--quiet")
    assert table.exit_code == 0, table.output
    assert "Backtest, 90-day horizon, renewal cohort" in table.stdout
    assert "AUC (95% interval)" in table.stdout


def test_a_history_from_an_older_csops_is_refused_not_upgraded(cli, setup, tmp_path):
    import sqlite3
    from contextlib import closing

    old, new, folder = setup
    store = tmp_path / "old-history.db"
    with closing(sqlite3.connect(store)) as connection:
        connection.execute("CREATE TABLE health_snapshots (as_of TEXT, account_id TEXT, "
                           "health_score REAL, health_band TEXT, usage_score REAL, "
                           "relationship_score REAL, commercial_score REAL, partial INTEGER, "
                           "arr REAL, recorded_at TEXT)")
        connection.execute("CREATE TABLE plays (account_id TEXT, play_id TEXT, opened TEXT, "
                           "resolved TEXT, risk INTEGER, reason TEXT)")
        connection.execute("PRAGMA user_version = 1")
        connection.commit()
    before = store.read_bytes()
    result = cli("diff", old, new, folder, *AS_OF, "--no-backtest", "--history", store)
    assert result.exit_code == 2, result.output
    assert f"{store}: written by an older csops" in result.stderr
    assert "run `csops health` once to upgrade it" in result.stderr
    assert store.read_bytes() == before


def test_the_backtest_runs_on_a_data_set_with_a_short_past(cli, setup):
    old, new, folder = setup  # A1-A5 start 2026-01-01; A6 ends then and does not renew
    result = cli("diff", old, new, folder, *AS_OF, "--format", "json", "--quiet")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    # the only renewal due inside a horizon that ends by as_of is A6's, lost: every
    # account-date of the renewal cohort is A6 and churned, under either config
    for side in ("old", "new"):
        for horizon in payload["backtest"][side]["horizons"].values():
            assert horizon["accounts"] > 0
            assert horizon["outcomes"] == horizon["accounts"]
            assert horizon["base_rate"] == 1.0


@pytest.mark.parametrize("which", ["old", "new"])
def test_out_over_either_config_is_refused(cli, setup, which):
    old, new, folder = setup
    target = old if which == "old" else new
    before = target.read_bytes()
    result = cli("diff", old, new, folder, *AS_OF, "--no-backtest", "-f", "json",
                 "--out", target)
    assert result.exit_code == 2, result.output
    assert "is the configuration this run reads" in result.stderr
    assert target.read_bytes() == before
