"""The optimised signal table against a straightforward implementation: plain pandas
group-bys over readable filters, written for clarity, not speed. They must agree exactly on
generated data, whatever the optimisations do."""

import numpy as np
import pandas as pd
import pytest

from csops_cli.loading import load_exports
from csops_cli.sample import generate
from csops_cli.signals import build_signals

AS_OF = pd.Timestamp("2026-11-20")
CORE = ["dashboards", "reports", "integrations", "automations", "alerts"]


def reference(folder, as_of: pd.Timestamp) -> pd.DataFrame:
    accounts = pd.read_csv(folder / "accounts.csv", dtype=str)
    contracts = pd.read_csv(folder / "contracts.csv", dtype={"account_id": str},
                            parse_dates=["start_date", "end_date", "signed_date"])
    usage = pd.read_csv(folder / "usage.csv", dtype=str)
    activities = pd.read_csv(folder / "activities.csv", dtype=str)
    usage["day"] = pd.to_datetime(usage["timestamp"]).dt.normalize()
    activities["day"] = pd.to_datetime(activities["date"])
    usage = usage[usage["day"] <= as_of]
    activities = activities[activities["day"] <= as_of]
    window_start = as_of - pd.Timedelta(days=29)
    recent = usage[usage["day"] >= window_start]
    out = pd.DataFrame(index=pd.Index(accounts["account_id"], name="account_id"))

    active = contracts[(contracts["start_date"] <= as_of) & (as_of < contracts["end_date"])]
    out["arr"] = active.groupby("account_id")["arr"].sum().reindex(out.index).fillna(0)
    out["licenses"] = active.groupby("account_id")["licenses"].sum().reindex(out.index)
    out["days_to_renewal"] = (active.groupby("account_id")["end_date"].min() - as_of
                              ).dt.days.reindex(out.index)
    users = recent.groupby("account_id")["user_id"].nunique()
    out["active_users_30d"] = users.reindex(out.index).fillna(0)
    out["logins_30d"] = recent[recent["feature"] == "login"].groupby("account_id").size(
    ).reindex(out.index).fillna(0)
    core_recent = recent[recent["feature"].isin(CORE)]
    out["core_features_used_30d"] = core_recent.groupby("account_id")["feature"].nunique(
    ).reindex(out.index).fillna(0)
    first_unit = usage.groupby(["account_id", "business_unit"])["day"].min().reset_index()
    first_use = usage.groupby("account_id")["day"].min()
    new_unit = first_unit[first_unit["day"] >= window_start]["account_id"].unique()
    older = first_use[first_use < window_start].index
    out["new_business_unit"] = out.index.isin(new_unit) & out.index.isin(older)
    first_feature = usage[usage["feature"].isin(CORE)].groupby(["account_id", "feature"])[
        "day"].min().reset_index()
    out["new_feature_used"] = out.index.isin(
        first_feature[first_feature["day"] >= window_start]["account_id"].unique())
    meetings = activities[activities["activity_type"].isin(["meeting", "qbr"])
                          & (activities["day"] >= as_of - pd.Timedelta(days=89))]
    out["meetings_90d"] = meetings.groupby("account_id").size().reindex(out.index).fillna(0)
    out["days_since_last_touch"] = (as_of - activities.groupby("account_id")["day"].max()
                                    ).dt.days.reindex(out.index)
    return out


@pytest.mark.parametrize("seed", [11, 12])
def test_optimised_signals_equal_the_straightforward_ones(tmp_path, default_config, seed):
    generate(tmp_path, accounts=400, seed=seed, as_of=AS_OF, events=60_000)
    fast = build_signals(load_exports(tmp_path, default_config), default_config, AS_OF).frame
    slow = reference(tmp_path, AS_OF)
    assert len(fast) == len(slow) == 400
    for column in slow.columns:
        expected = slow[column].to_numpy(dtype=float)
        actual = fast.loc[slow.index, column].to_numpy(dtype=float)
        np.testing.assert_array_equal(actual, expected, err_msg=column)
    # the data exercises what is compared
    assert slow["new_business_unit"].any() and slow["new_feature_used"].any()
    assert (slow["active_users_30d"] > 0).sum() > 100
