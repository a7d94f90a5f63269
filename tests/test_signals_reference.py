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
T0 = pd.Timestamp("2025-11-20")  # the same calendar day a year earlier
CORE = ["dashboards", "reports", "integrations", "automations", "alerts"]
SEGMENTS = [("Strategic", 100_000), ("Commercial", 20_000), ("SMB", 0)]  # highest first
ONBOARDING_DAYS, RENEW_WITHIN_DAYS, EXPANSION_UTILIZATION = 90, 120, 0.8


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

    # paying: ARR above 0 on as_of; only a paying account has a renewal
    out["paying"] = out["arr"] > 0
    out["days_to_renewal"] = out["days_to_renewal"].where(out["paying"])

    # segment: the CRM's, else by ARR on the date, else by the last ARR before it
    crm = accounts.set_index("account_id")["segment"]
    for column, date in (("segment", as_of), ("segment_t0", as_of - pd.DateOffset(years=1))):
        out[column] = [crm[account] if isinstance(crm[account], str) and crm[account]
                       else segment_of(segment_arr(contracts, account, date))
                       for account in out.index]

    # the first contract: earliest start_date, then signed_date (none last), then contract_id
    ordered = contracts.sort_values(["start_date", "signed_date", "contract_id"],
                                    na_position="last")
    first = ordered.groupby("account_id").head(1).set_index("account_id")
    onboarding = first["signed_date"].fillna(first["start_date"]).reindex(out.index)
    out["onboarding_start"] = onboarding
    out["days_since_onboarding_start"] = (as_of - onboarding).dt.days

    # first value: the first core-feature event on or after onboarding start; unknown when
    # onboarding started before the usage export's first day
    export_first_day = pd.to_datetime(pd.read_csv(folder / "usage.csv", dtype=str)["timestamp"]
                                      ).dt.normalize().min()
    value = usage[usage["feature"].isin(CORE)].copy()
    value["onboarding"] = value["account_id"].map(onboarding)
    value = value[value["day"] >= value["onboarding"]]
    seen = value.groupby("account_id")["day"].min().reindex(out.index)
    before_export = onboarding < export_first_day
    reached = seen.notna().astype(object)
    reached[before_export & seen.isna()] = np.nan
    out["first_value_reached"] = reached.astype(float)  # 1, 0, NaN: unknown
    out["first_value_date"] = seen.where(~before_export)
    no_value = out["first_value_reached"] == 0
    out["onboarding_stalled"] = out["paying"] & no_value & \
        (out["days_since_onboarding_start"] >= ONBOARDING_DAYS)

    # derived stage, for paying accounts only
    licenses = out["licenses"].where(out["licenses"] > 0)
    utilization = out["active_users_30d"] / licenses
    expansion = out["paying"] & ((utilization > EXPANSION_UTILIZATION) | out["new_business_unit"])
    stage = pd.Series("Adopt", index=out.index, dtype=object)
    stage[expansion] = "Expand"
    stage[out["days_to_renewal"] <= RENEW_WITHIN_DAYS] = "Renew"
    stage[no_value & (out["days_since_onboarding_start"] < ONBOARDING_DAYS)] = "Onboarding"
    out["derived_stage"] = stage.where(out["paying"])
    return out


def segment_arr(contracts: pd.DataFrame, account: str, date: pd.Timestamp) -> float:
    """ARR on the date, else on the last day before it with ARR above 0 (NaN: never)."""
    own = contracts[contracts["account_id"] == account]

    def arr_on(day):
        return own.loc[(own["start_date"] <= day) & (day < own["end_date"]), "arr"].sum()

    if arr_on(date) > 0:
        return arr_on(date)
    # ARR changes only where a contract starts or ends: try the day before each such date
    changes = pd.concat([own["start_date"], own["end_date"]])
    for day in sorted({c - pd.Timedelta(days=1) for c in changes if c <= date}, reverse=True):
        if arr_on(day) > 0:
            return arr_on(day)
    return np.nan


def segment_of(arr: float) -> object:
    for name, floor in SEGMENTS:
        if arr >= floor:
            return name
    return None


def with_gaps_and_ties(folder, seed: int) -> None:
    """What generated data lacks: blank CRM segments (every third account), contract rows in
    a shuffled order, and second contracts that start on the same day as an account's first
    (signed later, or not at all) so that the tie-breaks decide."""
    accounts = pd.read_csv(folder / "accounts.csv", dtype=str, keep_default_na=False)
    accounts.loc[accounts.index % 3 == 0, "segment"] = ""
    accounts.to_csv(folder / "accounts.csv", index=False)
    contracts = pd.read_csv(folder / "contracts.csv", dtype=str, keep_default_na=False)
    firsts = contracts.groupby("account_id").head(1).iloc[::4].copy()
    firsts["contract_id"] = "T" + firsts["contract_id"]
    firsts["arr"] = "1000"
    firsts["contract_type"] = "expansion"
    firsts["signed_date"] = np.where(np.arange(len(firsts)) % 2 == 0, "", firsts["start_date"])
    contracts = pd.concat([contracts, firsts], ignore_index=True)
    contracts.sample(frac=1, random_state=seed).to_csv(folder / "contracts.csv", index=False)


TEXT_COLUMNS = ("segment", "segment_t0", "derived_stage")
DATE_COLUMNS = ("onboarding_start", "first_value_date")


@pytest.mark.parametrize("seed", [11, 12])
def test_optimised_signals_equal_the_straightforward_ones(tmp_path, default_config, seed):
    generate(tmp_path, accounts=400, seed=seed, as_of=AS_OF, events=60_000)
    with_gaps_and_ties(tmp_path, seed)
    fast = build_signals(load_exports(tmp_path, default_config), default_config, AS_OF).frame
    slow = reference(tmp_path, AS_OF)
    assert len(fast) == len(slow) == 400
    for column in slow.columns:
        actual = fast.loc[slow.index, column]
        if column in TEXT_COLUMNS:
            assert actual.astype(object).where(actual.notna(), None).tolist() == \
                slow[column].astype(object).where(slow[column].notna(), None).tolist(), column
            continue
        if column in DATE_COLUMNS:
            assert actual.tolist() == pd.to_datetime(slow[column]).tolist(), column
            continue
        expected = slow[column].to_numpy(dtype=float)
        actual = actual.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        np.testing.assert_array_equal(actual, expected, err_msg=column)
    # the data exercises what is compared
    assert slow["new_business_unit"].any() and slow["new_feature_used"].any()
    assert (slow["active_users_30d"] > 0).sum() > 100
    assert set(slow["derived_stage"].dropna()) == {"Onboarding", "Adopt", "Expand", "Renew"}
    blank = pd.read_csv(tmp_path / "accounts.csv", dtype=str, keep_default_na=False
                        ).set_index("account_id")["segment"].reindex(slow.index).eq("")
    assert (blank & ~slow["paying"] & slow["segment"].notna()).any()  # the last ARR before
    assert (blank & (slow["segment"] != slow["segment_t0"])).any()
    assert slow["first_value_reached"].isna().any()  # onboarding before the usage export
    assert set(slow["first_value_reached"].dropna()) == {0.0, 1.0}
