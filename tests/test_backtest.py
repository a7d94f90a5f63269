"""The backtest: AUC by rank-sum against paper and a pairwise count, the bootstrap interval,
outcome labels worked out by hand, no leakage from rows dated after a backtest date, and the
command's JSON, table and --compare."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import write
from csops_cli import backtest
from csops_cli.loading import load_exports

# --------------------------------------------------------------------------------------------
# AUC
# --------------------------------------------------------------------------------------------


def pairwise_auc(health: np.ndarray, positive: np.ndarray) -> float:
    """Over every (positive, negative) pair: 1 when the positive scored lower, 1/2 on a tie."""
    wins = 0.0
    pairs = 0
    for p in health[positive]:
        for n in health[~positive]:
            pairs += 1
            wins += 1.0 if p < n else 0.5 if p == n else 0.0
    return wins / pairs


def test_auc_of_a_hand_computed_example_counts_ties_as_one_half():
    # positives at health 20, 50, 70; negatives at 50, 80, 90, 30.
    # 20 is below all four negatives (4); 50 ties 50 (1/2) and is below 80 and 90 (2);
    # 70 is below 80 and 90 (2): 8.5 of 12 pairs.
    health = np.array([20, 50, 70, 50, 80, 90, 30], dtype=float)
    positive = np.array([True, True, True, False, False, False, False])
    assert backtest.auc(-health, positive) == pytest.approx(8.5 / 12)


def test_auc_equals_a_pairwise_count_on_generated_scores_with_ties():
    rng = np.random.default_rng(5)
    for _ in range(20):
        n = int(rng.integers(2, 60))
        health = rng.integers(0, 15, n).astype(float)  # few values: many ties
        positive = rng.random(n) < 0.3
        if positive.all() or not positive.any():
            continue
        assert backtest.auc(-health, positive) == pytest.approx(pairwise_auc(health, positive))


def test_auc_without_both_outcomes_is_none():
    assert backtest.auc(np.array([1.0, 2.0]), np.array([True, True])) is None
    assert backtest.auc_interval(np.array([1.0, 2.0]), np.array([False, False])) == (None, None)


def test_bootstrap_interval_is_seeded_and_matches_a_row_by_row_bootstrap():
    rng = np.random.default_rng(11)
    health = rng.normal(60, 15, 400).round(1)
    positive = rng.random(400) < 1 / (1 + np.exp((health - 50) / 8))
    low, high = backtest.auc_interval(-health, positive, seed=3)
    assert (low, high) == backtest.auc_interval(-health, positive, seed=3)
    point = backtest.auc(-health, positive)
    assert low < point < high
    # resampling rows with replacement, the plain way
    samples = []
    for _ in range(1000):
        pick = rng.integers(0, 400, 400)
        if positive[pick].any() and not positive[pick].all():
            samples.append(backtest.auc(-health[pick], positive[pick]))
    naive_low, naive_high = np.percentile(samples, [2.5, 97.5])
    assert low == pytest.approx(naive_low, abs=0.02)
    assert high == pytest.approx(naive_high, abs=0.02)


def test_shuffled_outcomes_give_an_interval_containing_one_half():
    rng = np.random.default_rng(2)
    health = rng.normal(60, 15, 300).round(1)
    positive = np.arange(300) < 60
    contains = 0
    for seed in range(20):
        shuffled = np.random.default_rng(seed).permutation(positive)
        low, high = backtest.auc_interval(-health, shuffled, seed=seed)
        contains += low <= 0.5 <= high
    assert contains >= 18  # a 95 % interval: about one miss in twenty


def test_six_accounts_auc_lift_and_precision_worked_on_paper():
    # health 30 red (churned), 45 red, 55 yellow (churned), 65 yellow, 75 green, 85 green.
    # AUC: 30 is below all four renewers (4), 55 below 65, 75, 85 (3): 7 of 8 pairs.
    # Base rate 2/6; red 1 of 2 = 1/2, lift 1.5; yellow likewise; green 0, lift 0.
    # Red precision 1/2 (one of two red churned), recall 1/2 (one of two churners red).
    rows = pd.DataFrame({
        "as_of": pd.Timestamp("2026-01-01"), "account": range(6),
        "health_score": [30.0, 45.0, 55.0, 65.0, 75.0, 85.0],
        "health_band": ["red", "red", "yellow", "yellow", "green", "green"],
        "arr": [1000.0, 2000.0, 3000.0, 4000.0, 5000.0, 6000.0],
        "usage_score": np.nan, "relationship_score": np.nan, "commercial_score": np.nan,
    })
    outcome = pd.Series(["churned", "renewed", "contracted", "renewed", "renewed", "renewed"])
    cohort = backtest.cohort_report(rows, outcome.isin(["churned", "contracted"]), outcome,
                                    "renewal", "", backtest.BacktestOptions(),
                                    lambda account, day: f"{account} {day}",
                                    pd.DataFrame({"account_id": [f"A{i}" for i in range(1, 7)],
                                                  "account_name": ["One", "Two", "3", "4",
                                                                   "5", "6"]}))
    assert cohort.auc == pytest.approx(7 / 8)
    assert cohort.base_rate == pytest.approx(1 / 3)
    assert cohort.outcomes == 2 and cohort.churned == 1 and cohort.contracted == 1
    assert cohort.by_band.loc["red", "churn_rate"] == pytest.approx(0.5)
    assert cohort.by_band.loc["red", "lift"] == pytest.approx(1.5)
    assert cohort.by_band.loc["yellow", "lift"] == pytest.approx(1.5)
    assert cohort.by_band.loc["green", "lift"] == 0
    assert cohort.by_band.loc["red", "arr"] == 3000
    assert cohort.red_precision == pytest.approx(0.5)
    assert cohort.red_recall == pytest.approx(0.5)
    # misses: red A2 renewed; no green account was lost
    assert cohort.misses[["miss", "account_id", "account_name"]].values.tolist() == [
        ["red, kept", "A2", "Two"]]
    assert cohort.missed_accounts == {"red, kept": 1}
    assert cohort.misses["explain"].tolist() == ["A2 2026-01-01"]
    assert "too few to conclude" in cohort.warning


# --------------------------------------------------------------------------------------------
# Outcomes, on a tiny data set labelled by hand
# --------------------------------------------------------------------------------------------

# One backtest date, 2026-01-01 (--since 2026-01-01 --every 365); as_of 2026-06-30.
# The 90-day horizon ends 2026-04-01, the 180-day one 2026-06-30.
ACCOUNTS = """
account_id,account_name,champion_status
A1,Renews,active
A2,Churns,none
A3,Contracts,active
A4,Churns later,left
A5,Renews late,active
A6,Trims a little,active
"""
CONTRACTS = """
contract_id,account_id,start_date,end_date,arr,licenses,signed_date,contract_type
C1,A1,2025-04-01,2026-02-01,10000,10,2025-03-20,new
C2,A1,2026-02-01,2027-02-01,10000,10,2026-01-20,renewal
C3,A2,2025-03-01,2026-03-01,20000,10,2025-02-20,new
C4,A3,2025-02-15,2026-02-15,50000,20,2025-02-01,new
C5,A3,2026-02-15,2027-02-15,40000,20,2026-02-10,renewal
C6,A4,2025-06-01,2026-06-01,30000,10,2025-05-20,new
C7,A5,2025-03-15,2026-03-15,8000,5,2025-03-01,new
C8,A5,2026-03-25,2027-03-25,8800,5,2026-03-24,renewal
C9,A6,2025-01-20,2026-01-20,12000,8,2025-01-10,new
C10,A6,2026-01-20,2027-01-20,11400,8,2026-01-15,renewal
"""
USAGE = """
account_id,timestamp,user_id,feature
A1,2025-12-20,u1,login
A1,2025-12-21,u2,reports
A2,2025-12-02,u1,login
A3,2025-12-30,u1,dashboards
A4,2025-12-15,u1,login
A5,2025-12-28,u1,login
A6,2025-12-29,u1,reports
A1,2026-06-30,u9,login
"""
ACTIVITIES = """
account_id,date,activity_type,owner
A1,2025-12-10,meeting,Ann
A3,2025-11-01,qbr,Ann
A4,2025-10-01,email,Bob
A2,2026-06-30,email,Bob
"""
DATE = pd.Timestamp("2026-01-01")
AS_OF = pd.Timestamp("2026-06-30")


def tiny(folder: Path, contracts: str = CONTRACTS, usage: str = USAGE,
         activities: str = ACTIVITIES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write(folder, "accounts.csv", ACCOUNTS)
    write(folder, "contracts.csv", contracts)
    write(folder, "usage.csv", usage)
    write(folder, "activities.csv", activities)
    return folder


def scored(folder: Path, config, dates=(DATE,)) -> pd.DataFrame:
    exports = load_exports(folder, config, {})
    return backtest.scored_panel(backtest.signals_as_known(exports, config, list(dates)),
                                 config)


def labelled(folder: Path, config, horizon: int) -> pd.DataFrame:
    exports = load_exports(folder, config, {})
    panel = scored(folder, config)
    rows = backtest.label_outcomes(panel, backtest.ContractTerms.of(exports), AS_OF, horizon,
                                   0.10)
    ids = backtest.account_directory(exports)["account_id"]
    return rows.set_index(ids.to_numpy()[rows["account"].to_numpy()])


def test_outcomes_over_90_days_by_hand(tmp_path, default_config):
    rows = labelled(tiny(tmp_path / "d"), default_config, 90)
    # ARR on 2026-04-01 against ARR on 2026-01-01
    assert rows["outcome"].to_dict() == {
        "A1": "kept", "A2": "churned", "A3": "contracted",  # 40,000 of 50,000: -20 %
        "A4": "kept",  # its term ends 2026-06-01, after the horizon
        "A5": "kept",  # renewed ten days late, 8,800 by 2026-04-01
        "A6": "kept",  # 11,400 of 12,000: -5 %, under the 10 % bar
    }
    # renewals due 2026-01-02..2026-04-01: all but A4 (due 2026-06-01, in 151 days)
    assert rows["in_renewal"].to_dict() == {"A1": True, "A2": True, "A3": True, "A4": False,
                                            "A5": True, "A6": True}
    assert rows["renewal_outcome"].dropna().to_dict() == {
        "A1": "renewed", "A2": "churned", "A3": "contracted", "A5": "renewed",
        "A6": "renewed"}


def test_outcomes_over_180_days_bring_the_later_renewal_in(tmp_path, default_config):
    rows = labelled(tiny(tmp_path / "d"), default_config, 180)
    assert rows.loc["A4", "in_renewal"]
    assert rows.loc["A4", "renewal_outcome"] == "churned"
    assert rows.loc["A4", "outcome"] == "churned"  # no ARR on 2026-06-30
    assert rows.loc["A4", "renewal_date"] == pd.Timestamp("2026-06-01")


def test_a_date_whose_horizon_runs_past_as_of_is_not_scored(tmp_path, default_config):
    folder = tiny(tmp_path / "d")
    exports = load_exports(folder, default_config, {})
    panel = scored(folder, default_config, (DATE, pd.Timestamp("2026-05-01")))
    rows = backtest.label_outcomes(panel, backtest.ContractTerms.of(exports), AS_OF, 90, 0.10)
    assert set(rows["as_of"]) == {DATE}  # 2026-05-01 + 90 days is after 2026-06-30


def test_backtest_dates_step_from_since_while_an_outcome_is_known():
    options = backtest.BacktestOptions(since=pd.Timestamp("2026-01-01"), every_days=30)
    dates = backtest.backtest_dates(AS_OF, options)
    assert dates[0] == pd.Timestamp("2026-01-01")
    # Jan 1, Jan 31, Mar 2, Apr 1: the last is as_of minus the 90-day horizon
    assert dates[-1] == pd.Timestamp("2026-04-01")
    assert len(dates) == 4
    default = backtest.backtest_dates(AS_OF, backtest.BacktestOptions())
    assert default[0] == pd.Timestamp("2025-06-30")  # 12 months before as_of


# --------------------------------------------------------------------------------------------
# No leakage
# --------------------------------------------------------------------------------------------


def test_rows_dated_after_a_backtest_date_do_not_move_its_scores(tmp_path, default_config):
    before = scored(tiny(tmp_path / "before"), default_config)
    # every row dated after 2026-01-01 changed: a contract signed later although it started
    # before (backdated), usage and activities after the date
    later_contracts = CONTRACTS + "C11,A2,2025-12-01,2026-12-01,900000,500,2026-01-10,expansion\n"
    later_usage = USAGE + "".join(f"A{i},2026-01-02,x{j},reports\n" for i in range(1, 7)
                                  for j in range(30))
    later_activities = ACTIVITIES + "".join(f"A{i},2026-01-02,qbr,Ann\n" for i in range(1, 7))
    after = scored(tiny(tmp_path / "after", later_contracts, later_usage, later_activities),
                   default_config)
    assert before["health_score"].notna().all()
    pd.testing.assert_frame_equal(before, after)


# --------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------


def run_json(cli, *args) -> dict:
    result = cli("backtest", *args, "--format", "json", "--quiet")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_has_each_horizon_with_the_headline_figures(cli, tmp_path):
    folder = tiny(tmp_path / "d")
    data = run_json(cli, folder, "--as-of", "2026-06-30", "--since", "2026-01-01",
                    "--every", "365")
    assert set(data["horizons"]) == {"90", "180"}
    ninety = data["horizons"]["90"]
    for key in ("auc", "auc_low", "auc_high", "base_rate", "outcomes", "accounts", "by_band"):
        assert key in ninety
    assert set(ninety["by_band"]) == {"green", "yellow", "red"}
    for band in ninety["by_band"].values():
        assert set(band) >= {"accounts", "arr", "churn_rate", "lift"}
    # the renewal cohort of the hand-labelled data: five renewals, two lost
    assert ninety["accounts"] == 5
    assert ninety["outcomes"] == 2
    assert ninety["base_rate"] == pytest.approx(2 / 5)
    assert sum(b["accounts"] for b in ninety["by_band"].values()) == 5
    assert sum(b["arr"] for b in ninety["by_band"].values()) == 10000 + 20000 + 50000 + 8000 \
        + 12000
    assert "too few to conclude" in ninety["warning"]
    assert ninety["all_accounts"]["accounts"] == 6
    assert ninety["all_accounts"]["outcomes"] == 2  # A2 churned, A3 contracted
    assert data["horizons"]["180"]["accounts"] == 6  # A4's renewal now inside
    assert data["horizons"]["180"]["outcomes"] == 3


def test_json_figures_are_the_cores(cli, tmp_path, default_config):
    folder = tiny(tmp_path / "d")
    data = run_json(cli, folder, "--as-of", "2026-06-30", "--since", "2026-01-01",
                    "--every", "365")
    rows = labelled(folder, default_config, 90)
    cohort = rows[rows["in_renewal"]]
    positive = cohort["renewal_outcome"].isin(["churned", "contracted"]).to_numpy()
    expected = pairwise_auc(cohort["health_score"].round(1).to_numpy(), positive)
    assert data["horizons"]["90"]["auc"] == pytest.approx(expected, abs=5e-5)  # 4 decimals


def test_misses_name_the_explain_command_for_their_date(cli, tmp_path):
    folder = tiny(tmp_path / "d")
    data = run_json(cli, folder, "--as-of", "2026-06-30", "--since", "2026-01-01",
                    "--every", "365")
    for miss in data["horizons"]["90"]["misses"]:
        assert miss["explain"] == (f"csops explain {miss['account_id']} {folder} "
                                   f"--as-of {miss['as_of']}")


def test_compare_backtests_a_second_config_side_by_side(cli, tmp_path):
    from csops_cli.config import default_config_text

    folder = tiny(tmp_path / "d")
    lenient = tmp_path / "lenient.yaml"
    lenient.write_text(default_config_text().replace("green: 70", "green: 0"),
                       encoding="utf-8")
    args = (folder, "--as-of", "2026-06-30", "--since", "2026-01-01", "--every", "365",
            "--compare", lenient)
    data = run_json(cli, *args)
    assert data["compare"]["config"] == str(lenient)
    green = data["compare"]["horizons"]["90"]["by_band"]["green"]
    assert green["accounts"] == 5  # every renewal green under the lenient bands
    assert data["compare"]["horizons"]["90"]["bars"]["green_share"]["passed"] is False
    assert data["horizons"]["90"]["by_band"]["green"]["accounts"] < 5
    table = cli("backtest", *args, "--quiet")
    assert table.exit_code == 0, table.output
    assert "Side by side" in table.stdout
    assert "lenient.yaml" in table.stdout


def test_table_fits_80_columns(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    folder = tiny(tmp_path / "d")
    result = cli("backtest", folder, "--as-of", "2026-06-30", "--since", "2026-01-01",
                 "--every", "365", "--quiet")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    text = result.stdout
    for expected in ("90-day horizon: renewal cohort (headline)", "AUC ", "Practitioners' bars",
                     "red churns at >= 3x the base rate", "Calibration", "Misses",
                     "all accounts (secondary)", "warning: only 2 outcome(s)"):
        assert expected in text


@pytest.mark.parametrize(("args", "message"), [
    (("--since", "2026-13-01"), "--since '2026-13-01' is not a date"),
    (("--since", "2026-05-01"), "no backtest date has a known outcome"),
    (("--every", "0"), "--every 0"),
    (("--contraction-pct", "0"), "--contraction-pct 0"),
    (("--compare", "missing.yaml"), "missing.yaml: no such file"),
])
def test_bad_options_exit_2_with_the_fix(cli, tmp_path, args, message):
    folder = tiny(tmp_path / "d")
    result = cli("backtest", folder, "--as-of", "2026-06-30", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_sample_data_runs_with_an_interval(cli):
    sample = Path(__file__).resolve().parents[1] / "sample_data"
    data = run_json(cli, sample)
    for days in ("90", "180"):
        horizon = data["horizons"][days]
        assert horizon["auc_low"] <= horizon["auc"] <= horizon["auc_high"]
        assert horizon["accounts"] > 0


def test_arr_on_sums_the_contracts_active_that_day(tmp_path, default_config):
    folder = tiny(tmp_path / "d")
    write(folder, "accounts.csv", ACCOUNTS + "A7,No contract,\n")
    terms = backtest.ContractTerms.of(load_exports(folder, default_config, {}))
    # positions: A1..A7 are 0..6
    accounts = np.array([0, 0, 0, 2, 4, 6])
    days = pd.to_datetime(["2026-01-31", "2026-02-01", "2027-02-01", "2026-02-14",
                           "2026-03-20", "2026-01-01"]).to_numpy("datetime64[D]").astype(int)
    # A1 on the last day of its first term, on the first of the renewal, after both ended;
    # A3 the day before its renewal; A5 in its ten-day gap; A7 has no contract
    assert terms.arr_on(accounts, days).tolist() == [10000, 10000, 0, 50000, 0, 0]


def test_csv_has_a_row_per_horizon_cohort_and_band(cli, tmp_path):
    folder = tiny(tmp_path / "d")
    result = cli("backtest", folder, "--as-of", "2026-06-30", "--since", "2026-01-01",
                 "--every", "365", "--format", "csv", "--quiet")
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(io.StringIO(result.stdout))
    assert len(frame) == 2 * 2 * 3  # horizons x cohorts x bands
    renewal_90 = frame[(frame["horizon"] == 90) & (frame["cohort"] == "renewal")]
    assert renewal_90["accounts"].sum() == 5


def test_from_history_uses_the_stored_scores_of_a_backtest_date(cli, tmp_path):
    from csops_cli.history import History

    folder = tiny(tmp_path / "d")
    store = tmp_path / "history.db"
    stored = pd.DataFrame({"health_score": 95.0, "health_band": "green", "usage_score": 95.0,
                           "relationship_score": 95.0, "commercial_score": 95.0,
                           "partial": False, "arr": 1.0},
                          index=pd.Index([f"A{i}" for i in range(1, 7)] + ["gone"]))
    History(store).save(DATE, stored)
    History(store).save(DATE + pd.Timedelta(days=1), stored.assign(health_score=5.0))
    args = (folder, "--as-of", "2026-06-30", "--since", "2026-01-01", "--every", "365",
            "--history", store)
    rebuilt = run_json(cli, *args)
    assert rebuilt["horizons"]["90"]["by_band"]["green"]["accounts"] < 5
    from_history = run_json(cli, *args, "--from-history")
    assert from_history["horizons"]["90"]["by_band"]["green"]["accounts"] == 5
    assert "stored scores used on 1 date(s) (2026-01-01)" in from_history["notes"][0]
