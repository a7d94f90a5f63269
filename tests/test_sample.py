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
