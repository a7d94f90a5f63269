"""The plain backend: group-bys over a canonical usage frame, one readable step per rule.

It is the reference the fast tally is tested against, and it serves usage that was read as a
frame (small or irregular files, pre-aggregated files)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..dates import days
from .rules import UsageAggregates, UsageQuery


class FrameBackend:
    def __init__(self, frame: pd.DataFrame):
        self.frame = frame  # columns as in schema's usage table

    def aggregate(self, query: UsageQuery) -> dict[int, UsageAggregates]:
        usage = self._events(query)
        return {day: self._aggregates(usage, query, day) for day in query.as_of_days}

    def _events(self, query: UsageQuery) -> pd.DataFrame:
        """The frame's rows of known accounts: account position, day and plain columns."""
        frame = self.frame
        position = pd.Series(np.arange(len(query.ids)),
                             index=pd.Index(query.ids.astype(str), name="account_id"))
        usage = pd.DataFrame({
            "account": frame["account_id"].astype(str).map(position).to_numpy(),
            "day": np.asarray(days(frame["timestamp"]), dtype=np.float64)})
        if "user_id" in frame:
            users = frame["user_id"].astype("string").str.strip()
            usage["user"] = users.mask(users == "").to_numpy()
        if "feature" in frame:
            usage["feature"] = frame["feature"].astype("string").str.strip().str.lower(
            ).to_numpy()
        if "business_unit" in frame:
            units = frame["business_unit"].astype("string").str.strip()
            usage["unit"] = units.mask(units == "").to_numpy()
        usage["count"] = (frame["count"].astype(float).fillna(1.0).to_numpy()
                          if "count" in frame else 1.0)
        if "active_users" in frame:
            usage["active_users"] = frame["active_users"].astype(float).fillna(0).to_numpy()
        return usage[usage["account"].notna()].astype({"account": int})

    def _aggregates(self, usage: pd.DataFrame, query: UsageQuery, today: int
                    ) -> UsageAggregates:
        ids = query.ids
        n = len(ids)
        first_day = query.first_day(today)
        usage = usage[usage["day"] <= today]
        before = usage[usage["day"] < first_day]
        recent = usage[usage["day"] >= first_day]

        def per_account(values: pd.Series, empty: float = 0) -> np.ndarray:
            return values.reindex(range(n), fill_value=empty).to_numpy()

        def first_seen_in_window(keyed: pd.DataFrame, key: str) -> np.ndarray:
            """Accounts with a key seen in the window and never before it."""
            old = set(zip(keyed.loc[keyed["day"] < first_day, "account"],
                          keyed.loc[keyed["day"] < first_day, key], strict=True))
            new = keyed[(keyed["day"] >= first_day)]
            fresh = [account for account, value in zip(new["account"], new[key], strict=True)
                     if (account, value) not in old]
            return np.isin(np.arange(n), fresh)

        distinct_users = busiest = logins = core_used = new_core = first_value = new_unit = None
        if "user" in usage:
            users = recent.dropna(subset=["user"]).groupby("account")["user"].nunique()
            distinct_users = per_account(users).astype(np.int64)
        if "active_users" in usage:
            busiest = per_account(recent.groupby("account")["active_users"].max()).astype(float)
        if "feature" in usage:
            is_login = recent["feature"].fillna("").map(query.is_login).astype(bool)
            logins = per_account(recent[is_login].groupby("account")["count"].sum()).astype(
                float)
            core = usage[usage["feature"].isin(query.core_features)]
            core_used = per_account(core[core["day"] >= first_day].groupby("account")[
                "feature"].nunique()).astype(np.int64)
            new_core = first_seen_in_window(core, "feature")
            value = usage[usage["feature"].fillna("").map(query.is_value).astype(bool)]
            onboarding = query.onboarding_start[value["account"].to_numpy()]
            value = value[value["day"].to_numpy() >= onboarding]  # NaN onboarding: never
            first_value = per_account(value.groupby("account")["day"].min(), np.nan).astype(
                float)
        if "unit" in usage:
            used_before = np.isin(np.arange(n), before["account"].unique())
            new_unit = first_seen_in_window(usage.dropna(subset=["unit"]), "unit") & used_before
        return UsageAggregates(today, distinct_users, busiest, logins, core_used, new_core,
                               new_unit, first_value)
