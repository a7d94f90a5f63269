"""`csops sample` behaves like a real customer base: a hidden health drives usage, meetings,
champions and renewal outcomes, segments keep their motions, and the hidden health itself is
never written. Checked from the written files alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csops_cli.sample import generate

AS_OF = pd.Timestamp("2026-11-20")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample")
    generate(folder, accounts=600, seed=3, as_of=AS_OF)
    return {name: pd.read_csv(folder / f"{name}.csv", dtype={"account_id": str})
            for name in ("accounts", "contracts", "usage", "activities", "team")}


def test_only_the_export_columns_are_written(sample):
    assert list(sample["accounts"].columns) == [
        "account_id", "account_name", "segment", "lifecycle_stage", "csm_owner", "ae_owner",
        "champion_status", "created_date", "industry"]
    assert list(sample["contracts"].columns) == [
        "contract_id", "account_id", "start_date", "end_date", "arr", "licenses", "signed_date",
        "contract_type"]
    assert list(sample["usage"].columns) == [
        "account_id", "timestamp", "user_id", "feature", "business_unit"]
    assert list(sample["activities"].columns) == ["account_id", "date", "activity_type", "owner"]


def test_enough_history_for_a_backtest(sample):
    contracts = pd.to_datetime(sample["contracts"]["start_date"])
    usage = pd.to_datetime(sample["usage"]["timestamp"])
    assert contracts.min() <= AS_OF - pd.DateOffset(months=18)
    assert usage.min() <= AS_OF - pd.DateOffset(months=12)
    assert usage.max() <= AS_OF + pd.Timedelta(days=1)


def _renewals(sample) -> pd.DataFrame:
    """Each contract term that ended in the last 15 months, with what followed it: churn (no
    contract from the next day), contraction, flat or expansion (the next term's ARR)."""
    contracts = sample["contracts"].assign(start=lambda f: pd.to_datetime(f["start_date"]),
                                           end=lambda f: pd.to_datetime(f["end_date"]))
    terms = contracts[contracts["contract_type"] != "expansion"]
    ended = terms[(terms["end"] <= AS_OF) & (terms["end"] > AS_OF - pd.DateOffset(months=15))]
    following = terms.set_index(["account_id", "start"])["arr"]
    rows = []
    for row in ended.itertuples():
        after = following.get((row.account_id, row.end))
        rows.append((row.account_id, row.end, row.arr, np.nan if after is None else after))
    return pd.DataFrame(rows, columns=["account_id", "end", "arr", "next_arr"])


def _events_before(sample, renewals: pd.DataFrame, days: int) -> pd.Series:
    usage = sample["usage"].assign(day=lambda f: pd.to_datetime(f["timestamp"]).dt.normalize())
    joined = renewals.reset_index().merge(usage[["account_id", "day"]], on="account_id")
    window = (joined["day"] > joined["end"] - pd.Timedelta(days=days + 30)) & (
        joined["day"] <= joined["end"] - pd.Timedelta(days=30))
    counts = joined[window].groupby("index").size()
    return counts.reindex(renewals.index, fill_value=0)


def test_churners_went_quiet_before_their_renewal(sample):
    renewals = _renewals(sample)
    churned = renewals["next_arr"].isna()
    assert 0.03 < churned.mean() < 0.35  # churn at renewal as real bases see it
    activity = _events_before(sample, renewals, days=90)
    licenses = sample["contracts"].groupby("account_id")["licenses"].max()
    per_seat = activity / renewals["account_id"].map(licenses).to_numpy()
    assert per_seat[churned].median() < 0.6 * per_seat[~churned].median()


def test_expanders_were_busier_than_contractors(sample):
    renewals = _renewals(sample).dropna()
    activity = _events_before(sample, renewals, days=90)
    licenses = sample["contracts"].groupby("account_id")["licenses"].max()
    per_seat = activity / renewals["account_id"].map(licenses).to_numpy()
    grew = renewals["next_arr"] > renewals["arr"]
    shrank = renewals["next_arr"] < renewals["arr"]
    assert grew.sum() > 10 and shrank.sum() > 10
    assert per_seat[grew].median() > per_seat[shrank].median()


def test_smb_gets_few_meetings_whatever_its_health(sample):
    segment = sample["accounts"].set_index("account_id")["segment"]
    arr = sample["contracts"].groupby("account_id")["arr"].max()
    segment = segment.fillna(pd.Series(np.where(arr >= 100_000, "Strategic", np.where(
        arr >= 20_000, "Commercial", "SMB")), index=arr.index).reindex(segment.index))
    meetings = sample["activities"][sample["activities"]["activity_type"].isin(["meeting", "qbr"])]
    per_account = meetings.groupby("account_id").size().reindex(segment.index, fill_value=0)
    by_segment = per_account.groupby(segment).mean()
    assert by_segment["SMB"] < 0.2 * by_segment["Strategic"]
    assert by_segment["SMB"] < 0.3 * by_segment["Commercial"]


def test_champions_leave_struggling_accounts(sample):
    usage = sample["usage"].assign(day=lambda f: pd.to_datetime(f["timestamp"]))
    recent = usage[usage["day"] > AS_OF - pd.Timedelta(days=90)].groupby("account_id").size()
    licenses = sample["contracts"].groupby("account_id")["licenses"].max()
    per_seat = (recent / licenses).reindex(sample["accounts"]["account_id"]).fillna(0)
    champion = sample["accounts"].set_index("account_id")["champion_status"]
    assert per_seat[champion == "left"].median() < per_seat[champion == "active"].median()


def test_same_seed_same_files(tmp_path):
    for name in ("a", "b"):
        generate(tmp_path / name, accounts=40, seed=5, as_of=AS_OF, events=3000)
    for table in ("accounts", "contracts", "usage", "activities", "team"):
        assert (tmp_path / "a" / f"{table}.csv").read_bytes() == \
            (tmp_path / "b" / f"{table}.csv").read_bytes()


def _meetings_before(sample, renewals: pd.DataFrame, days: int) -> pd.Series:
    activities = sample["activities"].assign(day=lambda f: pd.to_datetime(f["date"]))
    meetings = activities[activities["activity_type"].isin(["meeting", "qbr"])]
    joined = renewals.reset_index().merge(meetings[["account_id", "day"]], on="account_id")
    window = (joined["day"] > joined["end"] - pd.Timedelta(days=days + 30)) & (
        joined["day"] <= joined["end"] - pd.Timedelta(days=30))
    return joined[window].groupby("index").size().reindex(renewals.index, fill_value=0)


def test_high_touch_churners_stopped_meeting_before_their_renewal(sample):
    renewals = _renewals(sample)
    segment = sample["accounts"].set_index("account_id")["segment"]
    high_touch = renewals["account_id"].map(segment).isin(["Strategic", "Commercial"])
    renewals = renewals[high_touch.to_numpy()]
    churned = renewals["next_arr"].isna()
    meetings = _meetings_before(sample, renewals, days=90)
    assert churned.sum() >= 5
    assert meetings[churned].mean() < 0.6 * meetings[~churned].mean()


def test_champions_left_the_accounts_that_churned(sample):
    renewals = _renewals(sample)
    champion = renewals["account_id"].map(
        sample["accounts"].set_index("account_id")["champion_status"])
    churned = renewals["next_arr"].isna()
    left_share = (champion == "left").groupby(churned).mean()
    assert left_share[True] > 2 * left_share[False]


# --- the shipped defaults, calibrated on the shipped sample_data (PRODUCT.md §4) -------------

SAMPLE_DATA = __import__("pathlib").Path(__file__).resolve().parents[1] / "sample_data"


@pytest.fixture(scope="module")
def shipped_health():
    """sample_data scored with the packaged defaults, as `csops health` scores it."""
    from csops_cli.config import default_config_text, parse_config
    from csops_cli.loading import load_exports
    from csops_cli.pipeline import account_health

    config = parse_config(default_config_text())
    exports = load_exports(SAMPLE_DATA, config)
    return exports, config, account_health(exports, config, AS_OF).scored


def test_shipped_band_mix_on_sample_data(shipped_health):
    from conftest import sample_paying

    _, _, frame = shipped_health
    assert set(frame.index) == sample_paying("2026-11-20")
    # bands from the scores and the documented cut-offs (green >= 70, yellow >= 50)
    score = frame["health_score"].round(1)
    share = pd.Series(np.select([score >= 70, score >= 50], ["green", "yellow"], "red")
                      ).value_counts(normalize=True)
    assert 0.55 <= share["green"] <= 0.65
    assert 0.20 <= share["yellow"] <= 0.30
    assert 0.10 <= share["red"] <= 0.20


def test_health_drop_alert_fires_for_few_on_a_first_run(shipped_health):
    _, _, frame = shipped_health
    # the shipped event: crossed below 70 from at or above it, or 10 points down in a week
    previous = frame["health_score"] - frame["health_change"]
    fires = ((frame["health_score"] < 70) & (previous >= 70)) | (frame["health_change"] <= -10)
    assert 0 < fires.sum() <= 0.15 * len(frame)


@pytest.mark.slow  # a year of monthly backtest dates
def test_shipped_defaults_separate_churners_on_sample_data(shipped_health):
    from csops_cli import backtest

    exports, config, _ = shipped_health
    result = backtest.run(exports, config, backtest.BacktestOptions(as_of=AS_OF))
    headline = result.horizons[90].headline
    assert headline.auc >= 0.75 and headline.auc_low <= headline.auc <= headline.auc_high
    assert headline.outcomes >= 30  # enough outcomes to conclude
    assert [bar.passed for bar in headline.bars] == [True, True, True]


def test_explain_shows_an_smb_account_its_own_model(cli):
    import json

    frame = pd.read_csv(SAMPLE_DATA / "accounts.csv", dtype=str)
    account = frame.loc[frame["segment"] == "SMB", "account_id"].iloc[0]
    result = cli("explain", account, SAMPLE_DATA, "--as-of", "2026-11-20", "-f", "json", "-q")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    signals = [line["signal"] for line in payload["signals"]]
    assert "meetings_90d" not in signals  # tech-touch: no meetings expected
    assert "days_since_last_touch" in signals and "license_utilization" in signals
    assert sum(line["points"] for line in payload["signals"]) == pytest.approx(
        payload["health_score"], abs=0.05)
