"""The exact definitions of PRODUCT.md §3, §5 and §6, one tiny data set per rule, with the
expected values worked out by hand from the contract (not from csops' output).

1. segment on a date; cohort metrics by segment at t0, the others by segment on as_of
2. the first contract: earliest start_date, then signed_date, then contract_id; row order
   never matters
3. paying = ARR above 0 on the date, the same set in every command
4. derived_stage and onboarding_stalled, with lifecycle.onboarding_days
5. "12 months" = the days after t0 (the same calendar day a year earlier) up to as_of
6. the default as_of: the latest usage or activity date not after today; later rows noted
7. no activities export: the relationship bucket is not scored, every score is partial
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from conftest import write
from csops_cli import jobs, metrics
from csops_cli.dates import year_before
from csops_cli.history import History
from csops_cli.loading import load_exports
from csops_cli.pipeline import account_health
from csops_cli.renewals import renewals
from csops_cli.signals import build_signals, default_as_of, future_dated

AS_OF = pd.Timestamp("2026-06-30")  # t0 = 2025-06-30


def folder_with(tmp_path, **tables: str):
    """An export folder holding the given tables (name -> CSV text)."""
    for name, text in tables.items():
        write(tmp_path, f"{name}.csv", text)
    return tmp_path


def signal_table(folder, config, as_of=AS_OF) -> pd.DataFrame:
    return build_signals(load_exports(folder, config), config, as_of).frame


# ------------------------------------------------------------------------------------------
# 1. Segment on a date: the CRM's segment, else by ARR on that date, else by the last ARR
#    before it. Strategic >= 100,000, Commercial >= 20,000, SMB below (shipped defaults).

SEGMENT_ACCOUNTS = """
account_id,account_name,segment
S1,One,
S2,Two,
S3,Three,
S4,Four,Strategic
S5,Five,
S6,Six,
"""
SEGMENT_CONTRACTS = """
contract_id,account_id,start_date,end_date,arr,contract_type
K1,S1,2024-01-01,2027-01-01,150000,new
K2,S2,2025-01-01,2026-01-01,30000,new
K3,S3,2025-01-01,2025-09-01,10000,new
K4,S3,2025-09-01,2026-03-01,50000,renewal
K5,S4,2024-01-01,2027-01-01,5000,new
K6,S5,2025-01-01,2026-01-01,25000,new
K7,S5,2026-01-01,2027-01-01,150000,renewal
K8,S6,2024-01-01,2025-03-01,120000,new
"""


def test_segment_on_a_date_falls_back_to_the_last_arr_before_it(tmp_path, default_config):
    folder = folder_with(tmp_path, accounts=SEGMENT_ACCOUNTS, contracts=SEGMENT_CONTRACTS)
    frame = signal_table(folder, default_config)
    # on as_of 2026-06-30:
    #   S1: 150,000 -> Strategic
    #   S2: churned 2026-01-01; last ARR on 2025-12-31 = 30,000 -> Commercial
    #   S3: churned 2026-03-01; last ARR on 2026-02-28 = 50,000 (K4) -> Commercial, although
    #       its ARR at t0 (2025-06-30, K3) was 10,000 (SMB)
    #   S4: 5,000, but the CRM says Strategic: the CRM wins
    #   S5: K7 150,000 -> Strategic
    #   S6: churned 2025-03-01; last ARR on 2025-02-28 = 120,000 -> Strategic
    assert frame["segment"].to_dict() == {"S1": "Strategic", "S2": "Commercial",
                                          "S3": "Commercial", "S4": "Strategic",
                                          "S5": "Strategic", "S6": "Strategic"}
    # at t0 2025-06-30: S1 150,000; S2 30,000; S3 10,000 (K3); S4 the CRM; S5 25,000 (K6);
    # S6 no ARR at t0, last ARR before it 120,000 (2025-02-28)
    assert frame["segment_t0"].to_dict() == {"S1": "Strategic", "S2": "Commercial",
                                             "S3": "SMB", "S4": "Strategic",
                                             "S5": "Commercial", "S6": "Strategic"}


def test_last_arr_before_a_date_follows_every_start_and_end(tmp_path, default_config):
    folder = folder_with(
        tmp_path, accounts="account_id,account_name,segment\nS7,Seven,\nS8,Eight,\nS9,Nine,\n",
        contracts="""
        contract_id,account_id,start_date,end_date,arr
        K1,S7,2025-01-01,2026-03-01,150000
        K2,S7,2026-03-01,2026-05-01,30000
        K3,S8,2025-01-01,2026-04-01,150000
        K4,S8,2026-02-01,2026-04-01,-140000
        K5,S9,2025-01-01,2026-04-01,25000
        K6,S9,2026-02-01,2026-04-01,-25000
        """)
    frame = signal_table(folder, default_config)
    # none has ARR on 2026-06-30. The last day with ARR above 0:
    #   S7: 2026-04-30, K2 alone (K1 ended on 03-01, the day K2 started): 30,000 -> Commercial
    #   S8: 2026-03-31, 150,000 - 140,000 = 10,000 -> SMB
    #   S9: 2026-01-31, 25,000 (from 02-01, 25,000 - 25,000 = 0) -> Commercial
    assert frame["segment"].to_dict() == {"S7": "Commercial", "S8": "SMB", "S9": "Commercial"}


def test_cohort_metrics_group_by_segment_at_t0_the_others_on_as_of(tmp_path, default_config):
    folder = folder_with(tmp_path, accounts=SEGMENT_ACCOUNTS, contracts=SEGMENT_CONTRACTS)
    exports = load_exports(folder, default_config)
    signals = build_signals(exports, default_config, AS_OF)
    report = metrics.compute(exports, signals, default_config)
    nrr = report.metrics["nrr"].by_group
    # the cohort (ARR at t0): S1 150k, S2 30k, S3 10k, S4 5k, S5 25k; S6 had none at t0
    # by segment at t0:
    #   Strategic: S1 150k -> 150k, S4 5k -> 5k: 155k / 155k = 1.0
    #   Commercial: S2 30k -> 0, S5 25k -> 150k: 150k / 55k
    #   SMB: S3 10k -> 0: 0.0
    assert nrr["Strategic"].value == pytest.approx(1.0)
    assert nrr["Commercial"].value == pytest.approx(150_000 / 55_000)
    assert nrr["Commercial"].included == 2
    assert nrr["SMB"].value == pytest.approx(0.0)
    # GRR caps each account at its t0 ARR: Commercial 0 + 25k over 55k
    assert report.metrics["grr"].by_group["Commercial"].value == pytest.approx(25_000 / 55_000)
    # expansion conversion, Commercial at t0: S5 grew (25k -> 150k), S2 did not: 1 of 2
    assert report.metrics["expansion_conversion"].by_group["Commercial"].value == \
        pytest.approx(0.5)
    # adoption rate groups by segment on as_of: Strategic holds S1, S4, S5 (all paying),
    # Commercial holds S2 and S3 (neither paying)
    adoption = report.metrics["adoption_rate"].by_group
    assert adoption["Strategic"].included == 3
    assert (adoption["Commercial"].included, adoption["Commercial"].excluded) == \
        (0, {"no ARR on as_of": 2})
    # --segment Commercial keeps, for each metric, the accounts of that segment in its sense
    only = metrics.compute(exports, signals, default_config, segment="commercial").metrics
    assert only["nrr"].value == pytest.approx(150_000 / 55_000)
    assert only["adoption_rate"].overall.included == 0


# ------------------------------------------------------------------------------------------
# 2. The first contract: earliest start_date, ties by earliest signed_date, then contract_id.

FIRST_ACCOUNTS = """
account_id,account_name,segment
F1,One,SMB
F3,Three,SMB
"""
# F1: two contracts start on 2026-03-01; K2 was signed first (2026-02-10), so it is the first
#     contract and onboarding starts on 2026-02-10.
# F3: two contracts start on 2026-03-01; only K6 has a signed date (2026-02-25): a contract
#     with a signed date comes before one without, so onboarding starts on 2026-02-25.
FIRST_CONTRACT_ROWS = [
    "K1,F1,2026-03-01,2027-03-01,5000,2026-02-20",
    "K2,F1,2026-03-01,2027-03-01,5000,2026-02-10",
    "K5,F3,2026-03-01,2027-03-01,5000,",
    "K6,F3,2026-03-01,2027-03-01,5000,2026-02-25",
]
# first value: the first core-feature event on or after onboarding start
# F1: reports on 2026-02-15 (after 02-10) -> 5 days; had onboarding started on 02-20 (K1),
#     it would be 2026-03-05 -> 13 days
# F3: reports on 2026-03-01 -> 4 days from 02-25 (K5 alone would give 0 days from 03-01)
FIRST_USAGE = """
account_id,timestamp,user_id,feature
F1,2026-02-01,u1,login
F1,2026-02-15,u1,reports
F1,2026-03-05,u1,reports
F3,2026-03-01,u1,reports
"""


@pytest.mark.parametrize("order", [[0, 1, 2, 3], [1, 0, 3, 2]], ids=["as-is", "swapped"])
def test_first_contract_does_not_depend_on_row_order(tmp_path, default_config, order):
    contracts = "contract_id,account_id,start_date,end_date,arr,signed_date\n" + "\n".join(
        FIRST_CONTRACT_ROWS[i] for i in order) + "\n"
    folder = folder_with(tmp_path, accounts=FIRST_ACCOUNTS, contracts=contracts,
                         usage=FIRST_USAGE)
    exports = load_exports(folder, default_config)
    signals = build_signals(exports, default_config, AS_OF)
    frame = signals.frame
    assert frame.loc["F1", "onboarding_start"] == pd.Timestamp("2026-02-10")
    assert frame.loc["F3", "onboarding_start"] == pd.Timestamp("2026-02-25")
    assert frame.loc["F1", "first_value_date"] == pd.Timestamp("2026-02-15")
    ttfv = metrics.compute(exports, signals, default_config).metrics["ttfv"]
    assert ttfv.value == pytest.approx(4.5)  # median of 5 and 4 days
    assert ttfv.overall.included == 2


# ------------------------------------------------------------------------------------------
# 3. Paying = ARR above 0 on the date, one set for every command.

PAYING_ACCOUNTS = """
account_id,account_name,segment,csm_owner
P1,Credited,SMB,Ann
P2,Free,SMB,Ann
P3,Paying,SMB,Ann
"""
# P1: 10,000 and a -10,000 credit, both active: ARR 0, not paying (ends 2026-08-01)
# P2: a free contract (ARR 0) active until 2026-08-15: not paying
# P3: 20,000 until 2026-09-01: paying, renews in 1 (Jun 30 -> Jul 1) + 31 + 31 = 63 days
PAYING_CONTRACTS = """
contract_id,account_id,start_date,end_date,arr,contract_type
Q1,P1,2026-01-01,2026-08-01,10000,new
Q2,P1,2026-01-01,2026-08-01,-10000,expansion
Q3,P2,2026-01-01,2026-08-15,0,new
Q4,P3,2026-01-01,2026-09-01,20000,new
"""


def test_every_command_uses_one_paying_set(tmp_path, default_config):
    folder = folder_with(tmp_path, accounts=PAYING_ACCOUNTS, contracts=PAYING_CONTRACTS)
    exports = load_exports(folder, default_config)
    history = History(tmp_path / "history.db")
    as_of = "2026-06-30"
    frame = signal_table(folder, default_config)
    assert frame["paying"].to_dict() == {"P1": False, "P2": False, "P3": True}
    # a non-paying account renews nothing
    assert frame["days_to_renewal"].isna().tolist() == [True, True, False]

    health = jobs.health_report(exports, default_config, as_of, history, save=False)
    assert health.accounts["account_id"].tolist() == ["P3"]
    due = renewals(exports, default_config, as_of, history, days=120).renewals
    assert due[["account_id", "days_to_renewal"]].values.tolist() == [["P3", 63]]
    plays = jobs.run_plays(exports, default_config, as_of, history, record=False)
    assert set(plays.actions["account_id"]) == {"P3"}  # renewal_countdown: P3 only
    books = jobs.coverage_report(exports, default_config, as_of, history).model.books
    assert books[["owner", "accounts", "arr"]].values.tolist() == [["Ann", 1, 20_000]]
    adoption = jobs.metrics_report(exports, default_config, as_of, "segment").report.metrics[
        "adoption_rate"].overall
    assert (adoption.included, adoption.excluded) == (1, {"no ARR on as_of": 2})


def test_renewals_command_lists_paying_accounts_only(cli, tmp_path):
    data = tmp_path / "paying"
    data.mkdir()
    folder_with(data, accounts=PAYING_ACCOUNTS, contracts=PAYING_CONTRACTS)
    result = cli("renewals", data, "--as-of", "2026-06-30", "--format", "json", "-q")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["account_id"], r["days_to_renewal"], r["arr"]) for r in rows] == [
        ("P3", 63, 20_000)]


def test_expansion_signal_needs_a_paying_account(tmp_path, default_config):
    folder = folder_with(
        tmp_path,
        accounts="account_id,account_name,segment\nE1,Paying,SMB\nE2,Free,SMB\n",
        contracts="contract_id,account_id,start_date,end_date,arr,licenses\n"
                  "K1,E1,2026-01-01,2027-01-01,5000,1\nK2,E2,2026-01-01,2027-01-01,0,1\n",
        usage="account_id,timestamp,user_id,feature\n"
              "E1,2026-06-20,u1,login\nE2,2026-06-20,u1,login\n")
    frame = signal_table(folder, default_config)
    # both: 1 user on 1 license = 1.0 > 0.8; only E1 pays
    assert frame["license_utilization"].tolist() == [1.0, 1.0]
    assert frame["expansion_signal"].tolist() == [True, False]


# ------------------------------------------------------------------------------------------
# 4. derived_stage: Onboarding while no first value and onboarding started less than
#    onboarding_days (90) ago; then Renew (days_to_renewal <= 120), Expand, Adopt.
#    onboarding_stalled: past onboarding_days without first value. Onboarding before the
#    usage export's first day (here 2026-02-15): first value unknown, never stalled.

STAGE_ACCOUNTS = """
account_id,account_name,segment
O1,One,SMB
O2,Two,SMB
O3,Three,SMB
O4,Four,SMB
O5,Five,SMB
O6,Six,SMB
O7,Seven,SMB
O8,Eight,SMB
"""
STAGE_CONTRACTS = """
contract_id,account_id,start_date,end_date,arr,contract_type
C1,O1,2026-05-01,2027-05-01,5000,new
C2,O2,2026-03-01,2027-03-01,5000,new
C3,O3,2026-04-01,2027-04-01,5000,new
C4,O4,2026-06-01,2026-09-01,5000,new
C5,O5,2025-09-01,2026-09-01,5000,new
C6,O6,2026-03-01,2027-03-01,5000,new
C7,O7,2025-10-01,2027-10-01,5000,new
C8,O8,2026-02-01,2027-02-01,5000,new
"""
# the export's first day is 2026-02-15 (O6's login); reports is a core (value) feature
STAGE_USAGE = """
account_id,timestamp,user_id,feature
O6,2026-02-15,u1,login
O6,2026-03-10,u1,reports
O7,2026-03-01,u1,reports
O5,2026-06-01,u1,login
O2,2026-06-01,u1,login
"""


def test_derived_stage_and_onboarding_stalled(tmp_path, default_config):
    folder = folder_with(tmp_path, accounts=STAGE_ACCOUNTS, contracts=STAGE_CONTRACTS,
                         usage=STAGE_USAGE)
    frame = signal_table(folder, default_config)
    # days from onboarding start to 2026-06-30:
    #   O1 05-01: 30 + 30 = 60     O2 03-01: 31 + 30 + 31 + 29 = 121    O3 04-01: 90
    #   O4 06-01: 29               O6 03-01: 121 (value on 03-10)        O8 02-01: 149
    assert frame["days_since_onboarding_start"].to_dict() == {
        "O1": 60, "O2": 121, "O3": 90, "O4": 29, "O5": 302, "O6": 121, "O7": 272, "O8": 149}
    # reached: O6 (reports 03-10); O7 used reports but started before the export (02-15):
    # reached, on an unknown date; O5 and O8 started before the export with no value seen:
    # unknown
    reached = frame["first_value_reached"]
    assert reached.index[reached.isna()].tolist() == ["O5", "O8"]
    assert reached.dropna().to_dict() == {"O1": False, "O2": False, "O3": False, "O4": False,
                                          "O6": True, "O7": True}
    assert frame.loc["O6", "first_value_date"] == pd.Timestamp("2026-03-10")
    assert pd.isna(frame.loc["O7", "first_value_date"])  # when it came is not known
    # stalled: no first value and 90 days or more: O2 (121), O3 (exactly 90)
    assert frame.index[frame["onboarding_stalled"]].tolist() == ["O2", "O3"]
    # O1 60 days, no value: Onboarding. O4 29 days: Onboarding (before Renew, although it
    # renews in 63 days). O2, O3 stalled: Adopt (renewals 244 and 275 days away). O5 renews
    # 2026-09-01 (63 days): Renew, not Onboarding (first value unknown). O6, O7, O8: Adopt.
    assert frame["derived_stage"].to_dict() == {
        "O1": "Onboarding", "O2": "Adopt", "O3": "Adopt", "O4": "Onboarding", "O5": "Renew",
        "O6": "Adopt", "O7": "Adopt", "O8": "Adopt"}


def test_onboarding_days_is_configurable(tmp_path, default_config):
    folder = folder_with(tmp_path, accounts=STAGE_ACCOUNTS, contracts=STAGE_CONTRACTS,
                         usage=STAGE_USAGE)
    config = default_config.model_copy(update={"lifecycle": default_config.lifecycle.model_copy(
        update={"onboarding_days": 130})})
    frame = signal_table(folder, config)
    # 130 days: O2 and O3 (121, 90 days) are Onboarding again; none is stalled
    assert frame.index[frame["derived_stage"] == "Onboarding"].tolist() == ["O1", "O2", "O3",
                                                                           "O4"]
    assert not frame["onboarding_stalled"].any()


def test_ttfv_leaves_out_accounts_whose_first_value_is_unknown(tmp_path, default_config):
    folder = folder_with(tmp_path, accounts=STAGE_ACCOUNTS, contracts=STAGE_CONTRACTS,
                         usage=STAGE_USAGE)
    exports = load_exports(folder, default_config)
    ttfv = metrics.compute(exports, build_signals(exports, default_config, AS_OF),
                           default_config).metrics["ttfv"].overall
    # window 2026-01-02..06-30: O1, O2, O3, O4, O6 and O8 started onboarding in it; O8 started
    # before the usage export's first day (02-15): unknown, left out. O5, O7 started earlier.
    assert ttfv.included == 5
    assert ttfv.excluded == {
        "onboarding started before the window": 2,
        "first value unknown (onboarding before the usage export's first day)": 1}
    # O6 reached value in 9 days (03-01 -> 03-10); O1 (60 days), O2 (121), O3 (90) wait past
    # the 30-day target; O4 (29 days) is still onboarding. Within target: 1 of the 4 known.
    assert ttfv.value == 9
    assert ttfv.details["waiting_past_target"] == 3
    assert ttfv.details["still_onboarding"] == 1
    assert ttfv.details["within_target"] == pytest.approx(1 / 4)


def test_lifecycle_onboarding_days_is_in_both_playbooks(default_config):
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for path in (root / "playbooks.yaml", root / "src" / "csops_cli" / "playbooks.yaml"):
        assert "\n  onboarding_days: 90\n" in path.read_text(encoding="utf-8"), path
    assert default_config.lifecycle.onboarding_days == 90


# ------------------------------------------------------------------------------------------
# 5. "12 months": the days after t0 (the same calendar day 12 months earlier; 29 February
#    falls back to 28 February) up to as_of, inclusive.

def test_t0_is_the_same_calendar_day_a_year_earlier():
    assert year_before(pd.Timestamp("2028-02-29")) == pd.Timestamp("2027-02-28")
    assert year_before(pd.Timestamp("2027-03-01")) == pd.Timestamp("2026-03-01")
    assert year_before(pd.Timestamp("2026-06-30")) == pd.Timestamp("2025-06-30")


LEAP_ACCOUNTS = """
account_id,account_name,segment,csm_owner
R1,Leap,SMB,Ann
"""
LEAP_CONTRACTS = """
contract_id,account_id,start_date,end_date,arr,contract_type
K1,R1,2026-03-01,2027-03-01,10000,new
K2,R1,2027-03-01,2028-03-01,12000,renewal
"""
LEAP_ACTIVITIES = """
account_id,date,activity_type,owner
R1,2027-02-28,call,Ann
R1,2027-03-01,call,Ann
R1,2028-02-29,meeting,Ann
"""


def test_activity_to_outcome_over_the_twelve_months_after_t0(tmp_path, default_config):
    folder = folder_with(tmp_path, accounts=LEAP_ACCOUNTS, contracts=LEAP_CONTRACTS,
                         activities=LEAP_ACTIVITIES)
    exports = load_exports(folder, default_config)
    as_of = pd.Timestamp("2028-02-29")  # t0 = 2027-02-28: the period is 2027-03-01..2028-02-29
    report = metrics.compute(exports, build_signals(exports, default_config, as_of),
                             default_config).metrics
    ratio = report["activity_to_outcome"].overall
    # touches after t0: 2027-03-01 and 2028-02-29 (the call on t0 itself is not after it) = 2
    # renewed: K2 starts 2027-03-01, inside the period: 12,000
    # 2 touches / (12,000 / 10,000) = 1.6667
    assert ratio.details == {"touches": 2, "renewed_arr": 12_000}
    assert ratio.value == pytest.approx(2 / 1.2)
    # NRR at t0 2027-02-28: K1 10,000; on as_of: K2 12,000
    assert report["nrr"].value == pytest.approx(1.2)


# ------------------------------------------------------------------------------------------
# 6. Default as_of: the latest usage or activity date not after today; later rows are noted.

FUTURE_ACCOUNTS = """
account_id,account_name,segment
A1,One,SMB
"""
FUTURE_CONTRACTS = """
contract_id,account_id,start_date,end_date,arr
K1,A1,2020-01-01,2021-01-01,10000
"""
FUTURE_USAGE = """
account_id,timestamp,user_id,feature
A1,2020-06-10,u1,login
A1,2062-01-01,u1,login
"""
FUTURE_ACTIVITIES = """
account_id,date,activity_type
A1,2020-06-20,call
"""


def test_default_as_of_ignores_rows_after_today(tmp_path, default_config):
    folder = folder_with(tmp_path, accounts=FUTURE_ACCOUNTS, contracts=FUTURE_CONTRACTS,
                         usage=FUTURE_USAGE, activities=FUTURE_ACTIVITIES)
    exports = load_exports(folder, default_config)
    today = pd.Timestamp("2026-12-06")
    # 2062-01-01 is after today: the latest date not after it is the call on 2020-06-20
    assert default_as_of(exports, today) == pd.Timestamp("2020-06-20")
    assert [(f.file, f.rows) for f in future_dated(exports, today)] == [("usage.csv", 1)]
    # a today before every row: nothing dated is usable, as_of is today
    assert default_as_of(exports, pd.Timestamp("2019-01-01")) == pd.Timestamp("2019-01-01")


def test_a_2062_row_is_noted_not_an_empty_table(cli, tmp_path):
    data = tmp_path / "future"
    data.mkdir()
    folder_with(data, accounts=FUTURE_ACCOUNTS, contracts=FUTURE_CONTRACTS,
                usage=FUTURE_USAGE, activities=FUTURE_ACTIVITIES)
    for command in ("health", "renewals", "plays", "metrics", "coverage", "audit"):
        extra = ("--no-save",) if command == "health" else ()
        extra += ("--dry-run",) if command == "plays" else ()
        result = cli(command, data, *extra)
        assert result.exit_code == 0, (command, result.output)
        assert "usage.csv: 1 row(s) dated after today" in result.stderr, command
        assert "as_of defaults to 2020-06-20" in result.stderr, command
    health = cli("health", data, "--no-save", "--format", "json", "-q")
    rows = json.loads(health.stdout)
    assert [(r["account_id"], r["as_of"], r["arr"]) for r in rows] == [
        ("A1", "2020-06-20", 10_000)]
    # an explicit as_of uses no default: no note
    given = cli("health", data, "--no-save", "--as-of", "2020-06-30")
    assert given.exit_code == 0 and "future-dated" not in given.stderr


# ------------------------------------------------------------------------------------------
# 7. No activities export: the relationship bucket is not scored (champion status alone is
#    not a relationship) and every score is partial.

NO_ACTIVITY_ACCOUNTS = """
account_id,account_name,segment,champion_status
N1,Champion,Strategic,active
N2,Nobody,Strategic,none
"""
NO_ACTIVITY_CONTRACTS = """
contract_id,account_id,start_date,end_date,arr,licenses,contract_type
K1,N1,2025-01-01,2027-01-01,100000,10,new
K2,N2,2025-01-01,2027-01-01,100000,10,new
"""
NO_ACTIVITY_USAGE = """
account_id,timestamp,user_id,feature
N1,2026-06-10,u1,login
N1,2026-06-11,u1,login
N1,2026-06-12,u1,reports
"""


def test_without_activities_relationship_is_not_scored_and_scores_are_partial(
        tmp_path, default_config):
    folder = folder_with(tmp_path, accounts=NO_ACTIVITY_ACCOUNTS,
                         contracts=NO_ACTIVITY_CONTRACTS, usage=NO_ACTIVITY_USAGE)
    exports = load_exports(folder, default_config)
    result = account_health(exports, default_config, AS_OF)
    scores = result.health.scores
    assert scores["relationship_score"].isna().all()
    assert scores["partial"].tolist() == [True, True]
    # N1 usage: utilization 1 user / 10 licenses = 0.1 -> 0 (bad 0.10);
    #   logins per user 2 -> 100 (good 2); adoption 1 of 5 core = 0.2 -> 0 (bad 0.20)
    #   bucket = 0.50 * 0 + 0.10 * 100 + 0.40 * 0 = 10
    # commercial: arr 100,000 -> 100 (good 50,000); change 0 -> 100 (good 0); renewal
    #   2027-01-01 is 185 days away (>= 90) -> 100; bucket = 100
    # score over the two scored buckets: (0.55 * 10 + 0.15 * 100) / 0.70 = 29.286
    # (with champion status alone the relationship bucket would be 100 and the score 50.5)
    assert scores.loc["N1", "usage_score"] == pytest.approx(10)
    assert scores.loc["N1", "commercial_score"] == pytest.approx(100)
    assert scores.loc["N1", "health_score"] == pytest.approx((0.55 * 10 + 0.15 * 100) / 0.70)
    # the contributions still add up to the score; champion status contributes nothing
    points = result.health.contributions.loc["N1"]
    assert points.sum() == pytest.approx(scores.loc["N1", "health_score"])
    assert points[("relationship_depth", "champion_status")] == 0
    # the run says why
    assert any("no activities export" in note and "partial" in note for note in result.skipped)


def test_with_an_activities_export_champion_status_counts(tmp_path, default_config):
    folder = folder_with(tmp_path, accounts=NO_ACTIVITY_ACCOUNTS,
                         contracts=NO_ACTIVITY_CONTRACTS, usage=NO_ACTIVITY_USAGE,
                         activities="account_id,date,activity_type\nN1,2026-06-29,call\n")
    scores = account_health(load_exports(folder, default_config), default_config,
                            AS_OF).health.scores
    # N1: meetings 0 -> 0; last touch 1 day ago -> 100; champion active -> 100
    #   relationship = 0.35 * 0 + 0.35 * 100 + 0.30 * 100 = 65; nothing missing: not partial
    assert scores.loc["N1", "relationship_score"] == pytest.approx(65)
    assert not scores.loc["N1", "partial"]
