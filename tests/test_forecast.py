"""The renewal forecast: a hand-worked example (probabilities, forecast ARR, totals, the
checkpoints recorded and, after the renewals, the accuracy worked out on paper), the backtest's
band rates on the sample, --no-save, the JSON shape and the 80-column tables."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
import yaml

from conftest import write
from csops_cli.config import default_config_text

# Four renewals. Each segment's bands force its band whatever the score: Strategic green,
# Commercial yellow, SMB red. forecast.band_rates: green 0.9, yellow 0.6, red 0.3 (the
# backtest of four accounts has far fewer than 30 renewals per band).
ACCOUNTS = """
account_id,account_name,segment,csm_owner
A1,Alpha,Strategic,Ann
A2,Bravo,Commercial,Bob
A3,Charlie,SMB,Ann
A4,Delta,SMB,Bob
"""
# A1 renews 2026-04-01 at 120,000 (realised capped at its 100,000), A2 2026-05-01 at 40,000,
# A3 does not renew (due 2026-03-20), A4 renews 2026-06-20 at 10,000.
CONTRACTS = """
contract_id,account_id,start_date,end_date,arr
C1,A1,2025-04-01,2026-04-01,100000
C2,A1,2026-04-01,2027-04-01,120000
C3,A2,2025-05-01,2026-05-01,50000
C4,A2,2026-05-01,2027-05-01,40000
C5,A3,2025-03-20,2026-03-20,20000
C6,A4,2025-06-20,2026-06-20,10000
C7,A4,2026-06-20,2027-06-20,10000
"""
USAGE = """
account_id,timestamp,user_id,feature
A1,2026-02-20,u1,login
A2,2026-02-20,u1,login
A3,2026-02-20,u1,login
A4,2026-02-20,u1,login
"""
ACTIVITIES = """
account_id,date,activity_type,owner
A1,2026-02-10,meeting,Ann
A2,2026-02-10,meeting,Bob
"""


@pytest.fixture
def four(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "four"
    folder.mkdir()
    write(folder, "accounts.csv", ACCOUNTS)
    write(folder, "contracts.csv", CONTRACTS)
    write(folder, "usage.csv", USAGE)
    write(folder, "activities.csv", ACTIVITIES)
    config = yaml.safe_load(default_config_text())
    config["health"]["segments"] = {
        "Strategic": {"bands": {"green": 0, "yellow": 0}},
        "Commercial": {"bands": {"green": 1000, "yellow": 0}},
        "SMB": {"bands": {"green": 1000, "yellow": 999}}}
    config["forecast"] = {"band_rates": {"green": 0.9, "yellow": 0.6, "red": 0.3}}
    path = tmp_path / "forecast.yaml"
    path.write_text(yaml.safe_dump(config))
    return folder, path


def run(cli, folder, config, as_of, *args) -> dict:
    result = cli("forecast", folder, "--config", config, "--as-of", as_of, "--format", "json",
                 "-q", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def stored(tmp_path: Path) -> list[tuple]:
    with sqlite3.connect(tmp_path / ".csops" / "history.db") as db:
        return db.execute("SELECT account_id, checkpoint, as_of, probability, forecast_arr "
                          "FROM forecasts ORDER BY account_id, checkpoint").fetchall()


def test_hand_worked_forecast(cli, four):
    data = run(cli, *four, "2026-03-01")
    rows = {r["account_id"]: r for r in data["renewals"]}
    # days to renewal from 2026-03-01: 31, 61, 19, 111
    assert {a: r["days_to_renewal"] for a, r in rows.items()} == {
        "A1": 31, "A2": 61, "A3": 19, "A4": 111}
    assert {a: r["health_band"] for a, r in rows.items()} == {
        "A1": "green", "A2": "yellow", "A3": "red", "A4": "red"}
    assert {a: r["renewal_probability"] for a, r in rows.items()} == {
        "A1": 0.9, "A2": 0.6, "A3": 0.3, "A4": 0.3}
    assert {a: r["probability_source"] for a, r in rows.items()} == dict.fromkeys(
        ["A1", "A2", "A3", "A4"], "config")
    assert {a: r["forecast_arr"] for a, r in rows.items()} == pytest.approx(
        {"A1": 90000, "A2": 30000, "A3": 6000, "A4": 3000})
    assert [r["account_id"] for r in data["renewals"]] == ["A3", "A1", "A2", "A4"]
    months = {r["month"]: r for r in data["totals"]["by_month"]}
    assert list(months) == ["2026-03", "2026-04", "2026-05", "2026-06"]
    assert months["2026-03"]["likely_lost_forecast_arr"] == pytest.approx(6000)
    assert months["2026-03"]["arr"] == pytest.approx(20000)
    assert months["2026-04"]["commit_forecast_arr"] == pytest.approx(90000)
    assert months["2026-04"]["commit_arr"] == pytest.approx(100000)
    assert months["2026-05"]["at_risk_forecast_arr"] == pytest.approx(30000)
    assert months["2026-06"]["likely_lost_forecast_arr"] == pytest.approx(3000)
    segments = {r["segment"]: r for r in data["totals"]["by_segment"]}
    assert segments["SMB"]["likely_lost_forecast_arr"] == pytest.approx(9000)
    assert segments["SMB"]["likely_lost_arr"] == pytest.approx(30000)
    assert segments["SMB"]["commit_forecast_arr"] == 0
    assert segments["Strategic"]["forecast_arr"] == pytest.approx(90000)
    assert segments["Commercial"]["at_risk_forecast_arr"] == pytest.approx(30000)
    assert data["accuracy"] == []  # no renewal date is past yet


def test_checkpoints_recorded_once_each_at_the_tightest(cli, four, tmp_path):
    run(cli, *four, "2026-03-01")
    # 31 days: 60; 61: 90; 19: 30; 111: 120
    assert stored(tmp_path) == [
        ("A1", 60, "2026-03-01", 0.9, 90000.0), ("A2", 90, "2026-03-01", 0.6, 30000.0),
        ("A3", 30, "2026-03-01", 0.3, 6000.0), ("A4", 120, "2026-03-01", 0.3, 3000.0)]
    data = run(cli, *four, "2026-03-15")
    # 17 days: A1 at 30; 47: A2 at 60; A3 (5) already at 30; A4 (97) already at 120
    assert data["recorded"] == 2
    assert stored(tmp_path) == [
        ("A1", 30, "2026-03-15", 0.9, 90000.0), ("A1", 60, "2026-03-01", 0.9, 90000.0),
        ("A2", 60, "2026-03-15", 0.6, 30000.0), ("A2", 90, "2026-03-01", 0.6, 30000.0),
        ("A3", 30, "2026-03-01", 0.3, 6000.0), ("A4", 120, "2026-03-01", 0.3, 3000.0)]
    assert run(cli, *four, "2026-03-15")["recorded"] == 0  # the same day again: nothing new


def test_accuracy_after_the_renewals_worked_on_paper(cli, four):
    run(cli, *four, "2026-03-01")
    run(cli, *four, "2026-03-15")
    data = run(cli, *four, "2026-07-15", "--no-save")
    accuracy = {r["checkpoint"]: r for r in data["accuracy"]}
    assert list(accuracy) == [120, 90, 60, 30]
    # realised: A1 100,000 (120,000 capped at 100,000), A2 40,000, A3 0, A4 10,000
    # 120: A4 forecast 3,000 vs 10,000, renewed
    assert accuracy[120]["renewals"] == 1 and accuracy[120]["renewed"] == 1
    assert accuracy[120]["wape"] == pytest.approx(0.7)
    assert accuracy[120]["bias"] == pytest.approx(-0.7)
    assert accuracy[120]["brier"] == pytest.approx(0.49)
    # 90: A2 30,000 vs 40,000, renewed
    assert accuracy[90]["wape"] == pytest.approx(0.25)
    assert accuracy[90]["bias"] == pytest.approx(-0.25)
    assert accuracy[90]["brier"] == pytest.approx(0.16)
    # 60: A1 90,000 vs 100,000 and A2 30,000 vs 40,000: 20,000 / 140,000
    assert accuracy[60]["forecast_arr"] == pytest.approx(120000)
    assert accuracy[60]["realised_arr"] == pytest.approx(140000)
    # JSON carries ratios to 4 decimals
    assert accuracy[60]["wape"] == pytest.approx(20000 / 140000, abs=5e-5)
    assert accuracy[60]["bias"] == pytest.approx(-20000 / 140000, abs=5e-5)
    assert accuracy[60]["brier"] == pytest.approx((0.01 + 0.16) / 2)
    # 30: A3 6,000 vs 0 (churned) and A1 90,000 vs 100,000: 16,000 / 100,000
    assert accuracy[30]["renewals"] == 2 and accuracy[30]["renewed"] == 1
    assert accuracy[30]["wape"] == pytest.approx(0.16)
    assert accuracy[30]["bias"] == pytest.approx(-0.04)
    assert accuracy[30]["brier"] == pytest.approx((0.09 + 0.01) / 2)


def test_no_save_records_nothing(cli, four, tmp_path):
    data = run(cli, *four, "2026-03-01", "--no-save")
    assert data["recorded"] == 0
    assert len(data["renewals"]) == 4
    history = tmp_path / ".csops" / "history.db"
    assert not history.exists() or stored(tmp_path) == []


def test_json_shape(cli, four):
    data = run(cli, *four, "2026-03-01")
    assert set(data) == {"as_of", "days", "band_rates", "renewals", "totals", "accuracy",
                         "recorded"}
    assert set(data["band_rates"]) == {"green", "yellow", "red"}
    assert data["band_rates"]["green"]["rate"] == 0.9
    assert data["band_rates"]["green"]["source"] == "config"
    assert data["band_rates"]["green"]["backtest_renewals"] < 30
    assert set(data["renewals"][0]) == {
        "account_id", "account_name", "renewal_date", "days_to_renewal", "arr",
        "health_band", "segment", "owner", "renewal_probability", "probability_source",
        "forecast_arr"}
    assert set(data["totals"]) == {"by_month", "by_segment"}


def test_renewals_has_the_forecast_columns(cli, four):
    folder, config = four
    result = cli("renewals", folder, "--config", config, "--as-of", "2026-03-01",
                 "--format", "json", "-q")
    assert result.exit_code == 0, result.output
    rows = {r["account_id"]: r for r in json.loads(result.stdout)}
    assert {a: r["renewal_probability"] for a, r in rows.items()} == {
        "A1": 0.9, "A2": 0.6, "A3": 0.3, "A4": 0.3}
    assert rows["A2"]["forecast_arr"] == pytest.approx(30000)
    assert rows["A2"]["checklist_step"]  # the existing columns stay


# --------------------------------------------------------------------------------------------
# The sample: rates from the backtest
# --------------------------------------------------------------------------------------------

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"


@pytest.fixture(scope="module")
def sample_backtest() -> dict:
    from typer.testing import CliRunner

    from csops_cli.cli import app

    result = CliRunner().invoke(app, ["backtest", str(SAMPLE), "--horizon", "90",
                                      "--format", "json", "-q"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["horizons"]["90"]["by_band"]


def test_sample_probabilities_are_the_backtest_renewal_rates(cli, sample_backtest):
    result = cli("forecast", SAMPLE, "--format", "json", "-q", "--no-save")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for band, row in sample_backtest.items():
        assert row["accounts"] >= 30  # enough renewals of each band in the sample
        # the backtest's churn rate counts churned or contracted: the rest renewed
        assert data["band_rates"][band]["rate"] == pytest.approx(1 - row["churn_rate"])
        assert data["band_rates"][band]["source"] == "backtest"
    for renewal in data["renewals"]:
        expected = 1 - sample_backtest[renewal["health_band"]]["churn_rate"]
        assert renewal["renewal_probability"] == pytest.approx(expected, abs=5e-5)
        # both rates are written to 4 decimals
        assert renewal["forecast_arr"] == pytest.approx(expected * renewal["arr"],
                                                        abs=renewal["arr"] * 1e-4)


def test_sample_accuracy_across_two_as_of_dates(cli):
    first = cli("forecast", SAMPLE, "--as-of", "2026-06-01", "--format", "json", "-q")
    assert first.exit_code == 0, first.output
    recorded = json.loads(first.stdout)
    assert recorded["recorded"] == len(recorded["renewals"]) > 0
    later = json.loads(cli("forecast", SAMPLE, "--format", "json", "-q", "--no-save").stdout)
    assert {r["checkpoint"] for r in later["accuracy"]} == {120, 90, 60, 30}
    for row in later["accuracy"]:
        assert 0 <= row["brier"] <= 1
        assert row["renewals"] >= row["renewed"] > 0


@pytest.mark.parametrize("command", ["forecast", "renewals"])
def test_tables_fit_80_columns_with_every_number_whole(cli, command, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    result = cli(command, SAMPLE, "-q", "--no-save") if command == "forecast" else \
        cli(command, SAMPLE, "-q")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    json_rows = json.loads(cli(command, SAMPLE, "-q", "--format", "json",
                               *(["--no-save"] if command == "forecast" else [])).stdout)
    rows = json_rows["renewals"] if command == "forecast" else json_rows
    text = result.stdout
    for row in rows:
        assert f"{row['arr']:,.0f}" in text
        assert f"{row['forecast_arr']:,.0f}" in text
        assert row["renewal_date"][:10] in text
    table_rows = [line for line in lines if re.match(r"\s+\d{4}-\d{2}-\d{2}\s", line)]
    assert len(table_rows) == len(rows)
    for line, row in zip(table_rows, rows, strict=True):
        assert line.split()[0] == row["renewal_date"][:10]
        # the owner, last, is whole or visibly shortened, never cut off by the edge
        assert line.rstrip().endswith((row["owner"], "…"))


def test_a_schema_3_history_is_upgraded_in_place_keeping_its_rows(cli, four, tmp_path):
    from csops_cli.history import _SCHEMA, APPLICATION_ID

    folder, config = four
    path = tmp_path / ".csops" / "history.db"
    path.parent.mkdir()
    schema_3 = _SCHEMA[:_SCHEMA.index("CREATE TABLE IF NOT EXISTS forecasts")]
    with sqlite3.connect(path) as db:
        db.executescript(schema_3)
        db.execute("INSERT INTO health_snapshots VALUES (?, '2026-02-01', 'A1', 80, 'green', "
                   "80, 80, 80, 0, 100000, 'x')", (str(folder.resolve()),))
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute("PRAGMA user_version = 3")
    run(cli, folder, config, "2026-03-01")
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (5,)
        assert db.execute("SELECT account_id, as_of FROM health_snapshots").fetchall() == [
            ("A1", "2026-02-01")]
    assert len(stored(tmp_path)) == 4


def test_a_band_rate_outside_0_to_1_is_refused_with_its_place(cli, four):
    folder, config = four
    text = config.read_text().replace("green: 0.9", "green: 1.5")
    config.write_text(text)
    result = cli("forecast", folder, "--config", config, "-q")
    assert result.exit_code == 2
    assert "band_rates" in result.output and "green" in result.output
    line = text.splitlines().index(next(t for t in text.splitlines() if "green: 1.5" in t)) + 1
    assert f"{line}" in result.output
    assert "Traceback" not in result.output
