"""The signal table of the five-account example in conftest.py, worked out by hand."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csops_cli.loading import load_exports
from csops_cli.signals import build_signals

AS_OF = pd.Timestamp("2026-06-30")


@pytest.fixture
def signals(five, default_config):
    exports = load_exports(five, default_config)
    return build_signals(exports, default_config, AS_OF).frame


def test_arr_on_as_of_counts_contracts_with_start_on_or_before_and_end_after(signals):
    # 001: C2 120,000 + C3 30,000 (C1 ended 2026-01-01)
    assert signals.loc["001", "arr"] == 150_000
    # 002: C5 runs to 2026-07-01, so it is active on 06-30
    assert signals.loc["002", "arr"] == 40_000
    # 003: C6 starts on as_of itself: start <= as_of
    assert signals.loc["003", "arr"] == 8_000
    # 004: C7 ends on as_of: as_of < end is false, so no ARR
    assert signals.loc["004", "arr"] == 0
    assert signals.loc["005", "arr"] == 12_000


def test_arr_twelve_months_earlier_and_change(signals):
    # t0 = 2025-06-30: 001 had C1 (100,000); 002 had C4 (ends 2025-07-01); 004 had C7
    assert signals.loc["001", "arr_12m_ago"] == 100_000
    assert signals.loc["001", "arr_change_12m"] == pytest.approx(0.5)  # 150k / 100k - 1
    assert signals.loc["002", "arr_change_12m"] == pytest.approx(-0.2)  # 40k / 50k - 1
    assert math.isnan(signals.loc["003", "arr_change_12m"])  # no ARR at t0: new logo
    assert signals.loc["004", "arr_12m_ago"] == 25_000


def test_licenses_renewal_date_and_days_to_renewal(signals):
    assert signals.loc["001", "licenses"] == 15  # 10 + 5 on active contracts
    assert signals.loc["001", "renewal_date"] == pd.Timestamp("2027-01-01")
    assert signals.loc["001", "days_to_renewal"] == 185  # 1 (06-30->07-01) + 184 (Jul..Dec)
    assert signals.loc["002", "renewal_date"] == pd.Timestamp("2026-07-01")
    assert signals.loc["002", "days_to_renewal"] == 1
    assert signals.loc["005", "days_to_renewal"] == 63  # 1 + 31 (Jul) + 31 (Aug)
    assert pd.isna(signals.loc["004", "renewal_date"])
    assert math.isnan(signals.loc["005", "licenses"])


def test_active_users_and_utilization_over_the_30_day_window(signals):
    # 001 in 06-01..06-30: u1 (login 06-30 UTC, reports 06-15), u2 (06-01); u3 is 05-31, u4 07-01
    assert signals.loc["001", "active_users_30d"] == 2
    assert signals.loc["001", "license_utilization"] == pytest.approx(2 / 15)
    # 002: u9's event is 2026-07-01 01:00 UTC once converted: after as_of
    assert signals.loc["002", "active_users_30d"] == 2
    assert signals.loc["002", "license_utilization"] == pytest.approx(2 / 20)
    assert signals.loc["003", "license_utilization"] == pytest.approx(1 / 4)
    assert signals.loc["005", "active_users_30d"] == 0  # no usage at all
    assert math.isnan(signals.loc["005", "license_utilization"])  # no licenses


def test_logins_and_core_feature_adoption(signals):
    assert signals.loc["001", "logins_30d"] == 1
    assert signals.loc["002", "logins_30d"] == 2  # pre-as_of logins only
    # 5 core features configured; 001 used dashboards and reports in the window
    assert signals.loc["001", "core_features_used_30d"] == 2
    assert signals.loc["001", "core_feature_adoption"] == pytest.approx(2 / 5)
    assert signals.loc["002", "core_feature_adoption"] == pytest.approx(1 / 5)
    assert signals.loc["005", "core_feature_adoption"] == 0


def test_new_business_unit_needs_older_usage(signals):
    # 001: Sales first seen 06-15, and 001 used the product before the window (05-31)
    assert bool(signals.loc["001", "new_business_unit"]) is True
    # 002: everything is new, but its usage is not older than the window
    assert bool(signals.loc["002", "new_business_unit"]) is False
    assert bool(signals.loc["003", "new_business_unit"]) is False


def test_new_feature_used(signals):
    assert bool(signals.loc["001", "new_feature_used"]) is True  # dashboards first on 06-01
    assert bool(signals.loc["002", "new_feature_used"]) is True  # integrations first on 06-11
    assert bool(signals.loc["005", "new_feature_used"]) is False


def test_meetings_and_days_since_last_touch(signals):
    # 90-day window starts 2026-04-02: the 04-02 QBR counts, the 04-01 meeting does not
    assert signals.loc["001", "meetings_90d"] == 2
    assert signals.loc["001", "days_since_last_touch"] == 10  # 06-20
    assert signals.loc["002", "meetings_90d"] == 0  # an email; the 07-02 meeting is after as_of
    assert signals.loc["002", "days_since_last_touch"] == 2
    assert signals.loc["005", "days_since_last_touch"] == 166  # 2026-01-15
    assert signals.loc["003", "meetings_90d"] == 0
    assert math.isnan(signals.loc["003", "days_since_last_touch"])


def test_segments_stages_and_onboarding(signals):
    assert signals.loc["002", "segment"] == "Commercial"  # blank in the CRM: 40k ARR
    assert signals.loc["001", "segment"] == "Strategic"
    assert signals.loc["003", "onboarding_start"] == pd.Timestamp("2026-06-25")  # signed date
    assert signals.loc["003", "first_value_date"] == pd.Timestamp("2026-06-30")
    assert signals.loc["003", "days_since_new_contract"] == 5
    assert signals.loc["001", "onboarding_start"] == pd.Timestamp("2024-12-15")
    assert signals.loc["002", "derived_stage"] == "Renew"  # renews in 1 day
    # 005: onboarding 2025-09-01 predates the usage export's first day (2026-05-31), so its
    # first value is unknown, not missing: it is not Onboarding; it renews in 63 days
    assert signals.loc["005", "derived_stage"] == "Renew"
    assert pd.isna(signals.loc["005", "first_value_reached"])
    assert not signals.loc["005", "onboarding_stalled"]
    assert pd.isna(signals.loc["004", "derived_stage"])  # no ARR
    assert signals.loc["001", "derived_stage"] == "Expand"  # new business unit


def test_default_as_of_is_the_latest_usage_or_activity_date(five, default_config):
    exports = load_exports(five, default_config)
    assert build_signals(exports, default_config).as_of == pd.Timestamp("2026-07-02")


def test_pre_aggregated_usage_from_a_warehouse(tmp_path, default_config):
    """One row per account, day and feature with a count and the day's distinct users."""
    from conftest import FIVE_ACCOUNTS, FIVE_CONTRACTS, write

    write(tmp_path, "accounts.csv", FIVE_ACCOUNTS)
    write(tmp_path, "contracts.csv", FIVE_CONTRACTS)
    write(tmp_path, "usage.csv", """
        account_id,day,feature,events,active_users,business_unit
        001,2026-06-29,login,12,5,Finance
        001,2026-06-30,login,30,9,Finance
        001,2026-06-30,reports,4,2,Finance
        001,2026-05-01,login,100,14,Finance
        002,2026-06-15,dashboards,3,1,Ops
        """)
    exports = load_exports(tmp_path, default_config)
    frame = build_signals(exports, default_config, AS_OF).frame
    assert frame.loc["001", "logins_30d"] == 42  # 12 + 30; May is outside the window
    assert frame.loc["001", "active_users_30d"] == 9  # the busiest day is a floor
    assert frame.loc["001", "license_utilization"] == pytest.approx(9 / 15)
    assert frame.loc["001", "core_features_used_30d"] == 1
    assert frame.loc["002", "active_users_30d"] == 1


def test_several_dates_in_one_pass_give_each_dates_table(five, default_config):
    from pandas.testing import assert_frame_equal

    from csops_cli.signals import build_signals_at

    exports = load_exports(five, default_config)
    dates = [AS_OF, pd.Timestamp("2026-06-10"), pd.Timestamp("2025-06-30")]
    together = build_signals_at(exports, default_config, dates)
    assert list(together) == dates
    for date in dates:
        alone = build_signals(exports, default_config, date)
        assert together[date].as_of == alone.as_of == date
        assert together[date].skipped == alone.skipped
        assert_frame_equal(together[date].frame, alone.frame)
    assert together[AS_OF].frame["active_users_30d"].tolist() != \
        together[pd.Timestamp("2025-06-30")].frame["active_users_30d"].tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=6), max_size=30))
def test_contract_ids_rank_as_their_text_sorts(ids):
    # the tie-break of an account's first contract: contract ids in code point order
    from csops_cli.signals import _text_rank

    values = pd.Series(ids, dtype="str")
    expected = np.unique(values.astype(str).to_numpy(), return_inverse=True)[1] + 1
    assert _text_rank(values).tolist() == expected.tolist()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C", "X"]), st.integers(0, 3),
                          st.integers(0, 3), st.sampled_from(["c1", "c2", "c10", "b"])),
                min_size=1, max_size=12),
       st.integers(0, 3))
def test_contracts_known_by_a_day_are_those_rows_of_the_frame(contracts, day):
    """The backtest's contracts as known on a day are cut from every contract's rows: the
    same rows, in the same order, and the same first contract, as made from the frame's
    rows known by then (the contract-id ranks order the rows alike)."""
    from csops_cli.signals import _contract_rows, _first_contracts

    base = pd.Timestamp("2026-01-01")
    frame = pd.DataFrame({
        "account_id": pd.array([c[0] for c in contracts], dtype="string"),
        "contract_id": pd.array([c[3] for c in contracts], dtype="string"),
        "start_date": [base + pd.Timedelta(days=c[1]) for c in contracts],
        "end_date": [base + pd.Timedelta(days=c[1] + 365) for c in contracts],
        "signed_date": [base + pd.Timedelta(days=c[2]) for c in contracts],
        "arr": [float(n) for n in range(len(contracts))]})
    ids = pd.Index(["A", "B", "C"], dtype="string")
    known = np.array([c[2] for c in contracts]) <= day
    cut = _contract_rows(frame, ids)
    cut = cut.where(known[cut.frame_rows])
    made = _contract_rows(frame[known], ids)
    for name in ("codes", "start", "end", "signed", "arr"):
        np.testing.assert_array_equal(getattr(cut, name), getattr(made, name))
    np.testing.assert_array_equal(cut.arr[_first_contracts(cut)],
                                  made.arr[_first_contracts(made)])
