"""The five core metrics and GRR on a hand-made data set worked out on paper, an independent
NRR/GRR computation on generated data, and n/a for degenerate inputs."""

import datetime as dt
import json
import re
from collections import defaultdict

import pandas as pd
import pytest

from conftest import write
from csops_cli import metrics
from csops_cli.loading import load_exports
from csops_cli.sample import generate
from csops_cli.signals import build_signals

# as_of 2026-06-30; t0 = 2025-06-30; the activity period is 2025-07-01..2026-06-30 (365 days);
# the TTFV cohort starts onboarding in 2026-01-02..2026-06-30 (180 days); the 30-day usage
# window is 2026-06-01..06-30; the expansion look-back date is 2026-04-01 (90 days earlier).
ACCOUNTS = """
account_id,account_name,segment,csm_owner
A1,One,Strategic,Ann
A2,Two,Commercial,Bob
A3,Three,SMB,Bob
A4,Four,SMB,Bob
A5,Five,Commercial,Ann
A6,Six,SMB,Cy
A7,Seven,SMB,Cy
A8,Eight,SMB,Cy
A9,Nine,SMB,Cy
"""
CONTRACTS = """
contract_id,account_id,start_date,end_date,arr,signed_date,contract_type
C1,A1,2025-01-01,2026-01-01,100000,,new
C2,A1,2026-01-01,2027-01-01,120000,,renewal
C3,A1,2026-05-01,2027-01-01,10000,,expansion
C4,A2,2024-07-01,2025-07-01,50000,,new
C5,A2,2025-07-01,2026-07-01,40000,,
C6,A3,2025-01-01,2026-01-01,20000,,new
C7,A4,2026-05-01,2027-05-01,10000,2026-04-21,new
C8,A5,2024-10-01,2026-10-01,30000,,new
C9,A6,2026-02-01,2027-02-01,5000,,new
C10,A7,2026-06-20,2027-06-20,5000,,new
C11,A8,2026-03-01,2027-03-01,5000,,new
C12,A9,2026-01-10,2027-01-10,5000,,new
"""
USAGE = """
account_id,timestamp,user_id,feature,business_unit
A1,2026-02-01,u1,login,Finance
A1,2026-03-20,u2,login,Sales
A1,2026-06-10,u1,dashboards,Finance
A1,2026-06-10,u1,reports,Finance
A2,2026-06-15,u1,alerts,Ops
A4,2026-05-11,u1,reports,Ops
A6,2026-02-03,u1,login,Ops
A6,2026-04-12,u1,alerts,Ops
A9,2026-01-05,u1,reports,Ops
A9,2026-01-20,u1,reports,Ops
A9,2026-06-29,u1,reports,Ops
"""
ACTIVITIES = """
account_id,date,activity_type,owner
A1,2026-06-01,meeting,Ann
A1,2026-03-01,meeting,Ann
A1,2025-12-01,meeting,Ann
A1,2026-01-15,qbr,Ann
A1,2025-06-30,meeting,Ann
A2,2026-05-01,email,Bob
A2,2026-05-02,email,Bob
A2,2026-05-03,call,Bob
A5,2026-05-03,note,Ann
"""
AS_OF = pd.Timestamp("2026-06-30")


@pytest.fixture
def folder(tmp_path):
    for name, text in (("accounts.csv", ACCOUNTS), ("contracts.csv", CONTRACTS),
                       ("usage.csv", USAGE), ("activities.csv", ACTIVITIES)):
        write(tmp_path, name, text)
    return tmp_path


def report_for(folder, config, as_of=AS_OF, group_by="segment"):
    exports = load_exports(folder, config)
    return metrics.compute(exports, build_signals(exports, config, as_of), config, group_by)


def test_nrr_grr_and_bridge(folder, default_config):
    report = report_for(folder, default_config)
    nrr = report.metrics["nrr"]
    # cohort with ARR at t0: A1 100k, A2 50k (C4 ends 2025-07-01), A3 20k, A5 30k = 200k
    # on as_of: A1 130k (C2 + C3), A2 40k, A3 0 (churned), A5 30k = 200k
    assert nrr.overall.details == {"starting_arr": 200_000, "expansion": 30_000,
                                   "contraction": 10_000, "churn": 20_000,
                                   "ending_arr": 200_000}
    assert nrr.value == pytest.approx(1.0)
    assert nrr.overall.included == 4
    # A4, A6..A9 are new logos
    assert nrr.overall.excluded == {"new logo (no ARR at t0)": 5}
    # GRR caps A1 at 100k: (100 + 40 + 0 + 30) / 200
    assert report.metrics["grr"].value == pytest.approx(0.85)
    # by segment: Strategic A1 130/100; Commercial (40+30)/(50+30); SMB A3 0/20
    by_segment = {k: v.value for k, v in nrr.by_group.items()}
    assert by_segment == pytest.approx({"Strategic": 1.3, "Commercial": 70 / 80, "SMB": 0.0})
    assert nrr.met is False  # target 1.05


def test_ttfv(folder, default_config):
    ttfv = report_for(folder, default_config).metrics["ttfv"]
    # cohort: A4 (signed 04-21), A6 (02-01), A7 (06-20), A8 (03-01), A9 (01-10)
    # A4: reports 05-11 -> 20 days; A6: alerts 04-12 -> 70 (its login does not count);
    # A9: reports 01-20 -> 10 (the 01-05 event is before onboarding); A7 waited 10 days;
    # A8 waited 121 days > 30
    assert ttfv.overall.included == 5
    assert ttfv.value == 20  # median of 10, 20, 70
    assert ttfv.overall.details["p90"] == pytest.approx(60)  # 20 + 0.8 * (70 - 20)
    # within 30 days: A4, A9 of the 4 whose outcome is known (3 reached + A8 waiting)
    assert ttfv.overall.details["within_target"] == pytest.approx(0.5)
    assert ttfv.overall.details["waiting_past_target"] == 1
    assert ttfv.overall.details["still_onboarding"] == 1
    assert ttfv.overall.excluded == {"onboarding started before the window": 4}
    assert ttfv.met is True  # 20 <= 30, lower is better


def test_adoption_rate(folder, default_config):
    adoption = report_for(folder, default_config).metrics["adoption_rate"]
    # 8 accounts with ARR (A3 churned); core features used 06-01..06-30 out of 5:
    # A1 dashboards + reports 0.4, A2 alerts 0.2, A9 reports 0.2, the rest 0
    assert adoption.value == pytest.approx(0.8 / 8)
    assert adoption.overall.included == 8
    assert adoption.overall.excluded == {"no ARR on as_of": 1}
    assert adoption.overall.details["mean_license_utilization"] is None  # no licenses given


def test_expansion_conversion(folder, default_config):
    expansion = report_for(folder, default_config).metrics["expansion_conversion"]
    # of A1, A2, A3, A5 (ARR at t0) only A1 grew
    assert expansion.value == pytest.approx(0.25)
    # on 2026-04-01 A1 had an expansion signal (Sales first seen 03-20, usage since 02-01);
    # its ARR went from 120k then to 130k now
    assert expansion.overall.details["signal_accounts"] == 1
    assert expansion.overall.details["signal_conversion"] == pytest.approx(1.0)


def test_activity_to_outcome_overall_and_by_owner(folder, default_config):
    report = report_for(folder, default_config, group_by="owner")
    ratio = report.metrics["activity_to_outcome"]
    # renewed in the period: C2 120k (type renewal) and C5 40k (starts on C4's end date);
    # C3 is an expansion and C1 started before the period. Touches: A1 3 meetings + 1 QBR
    # (the 2025-06-30 meeting is before the period), A2 2 e-mails + 1 call; a note is no touch
    assert ratio.overall.details == {"touches": 7, "renewed_arr": 160_000}
    assert ratio.value == pytest.approx(7 / 16)
    by_owner = {k: v.value for k, v in ratio.by_group.items()}
    assert by_owner["Ann"] == pytest.approx(4 / 12)
    assert by_owner["Bob"] == pytest.approx(3 / 4)
    assert by_owner["Cy"] is None  # nothing renewed: n/a, not a division error
    assert ratio.by_group["Cy"].note == "no ARR renewed in the period"


@pytest.mark.parametrize("group_by", ["segment", "owner"])
def test_touches_of_unknown_accounts_are_excluded_overall_not_per_group(folder, default_config,
                                                                        group_by):
    with (folder / "activities.csv").open("a") as activities:
        # ZZ is not in the accounts export: a call and an e-mail in the period are touches
        # excluded; a note is no touch, and 2025-06-30 is before the period
        activities.write("ZZ,2026-06-01,call,Ann\nZZ,2026-01-01,email,Bob\n"
                         "ZZ,2026-06-02,note,Ann\nZZ,2025-06-30,call,Ann\n")
    ratio = report_for(folder, default_config, group_by=group_by).metrics[
        "activity_to_outcome"]
    assert ratio.overall.excluded == {
        "touches on accounts missing from the accounts export": 2}
    assert ratio.overall.details == {"touches": 7, "renewed_arr": 160_000}
    groups = {"segment": ["Commercial", "SMB", "Strategic"], "owner": ["Ann", "Bob", "Cy"]}
    assert sorted(ratio.by_group) == groups[group_by]
    assert all(group.excluded == {} for group in ratio.by_group.values())


def test_degenerate_inputs_give_na_with_a_reason(folder, default_config):
    (folder / "usage.csv").unlink()
    (folder / "activities.csv").unlink()
    # 2024-01-01: nobody had ARR a year before, nothing renewed, nobody onboarding
    report = report_for(folder, default_config, as_of=pd.Timestamp("2024-01-01"))
    no_t0 = "no account had ARR twelve months before as_of"
    notes = {"nrr": f"{no_t0} (t0 = 2023-01-01)", "grr": f"{no_t0} (t0 = 2023-01-01)",
             "ttfv": "no usage export: first value cannot be seen",
             "adoption_rate": "no usage export",
             "activity_to_outcome": "no activities export", "expansion_conversion": no_t0}
    assert set(report.metrics) == set(notes)
    for metric_id, note in notes.items():
        metric = report.metrics[metric_id]
        assert metric.value is None and metric.overall.note == note, metric_id
        assert metric.met is None


def test_metrics_json_names(cli, folder):
    result = cli("metrics", folder, "--as-of", "2026-06-30", "--format", "json", "-q")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["as_of"] == "2026-06-30"
    assert set(payload["metrics"]) == {"ttfv", "nrr", "grr", "adoption_rate",
                                       "expansion_conversion", "activity_to_outcome"}
    common = ["name", "unit", "value", "target", "met", "by_segment", "included", "excluded",
              "note"]
    details = {"ttfv": ["p90", "within_target", "waiting_past_target", "reached_value",
                        "still_onboarding"],
               "nrr": ["starting_arr", "expansion", "contraction", "churn", "ending_arr"],
               "grr": [],
               "adoption_rate": ["mean_license_utilization", "accounts_without_usage"],
               "expansion_conversion": ["expanded", "signal_accounts", "signal_conversion"],
               "activity_to_outcome": ["touches", "renewed_arr"]}
    for metric_id, record in payload["metrics"].items():
        assert list(record) == common + details[metric_id] + ["definition"], metric_id
        assert set(record["by_segment"]) == {"Commercial", "SMB", "Strategic"}, metric_id
    assert payload["metrics"]["nrr"]["value"] == pytest.approx(1.0)
    assert payload["metrics"]["grr"]["by_segment"]["Commercial"] == pytest.approx(70 / 80)
    by_owner = json.loads(cli("metrics", folder, "--as-of", "2026-06-30", "-f", "json", "-q",
                              "--by", "owner").stdout)
    assert by_owner["metrics"]["activity_to_outcome"]["by_owner"]["Bob"] == pytest.approx(0.75)


def test_metrics_report_shows_targets_and_bridge(cli, folder):
    result = cli("metrics", folder, "--as-of", "2026-06-30", "-q")
    assert result.exit_code == 0, result.output
    cells = [re.split(r"\s{2,}", line.strip()) for line in result.stdout.splitlines()]
    assert cells[0] == ["Core CS metrics as of 2026-06-30"]
    assert cells[2] == ["Metric", "Value", "Target", "Commercial", "SMB", "Strategic",
                        "Accounts"]
    # lower is better for TTFV and touches per $10k: below target is met
    assert cells[4:10] == [
        ["Time to first value", "20 days", "30 days", "met", "n/a", "20 days", "n/a", "5"],
        ["Net revenue retention", "100.0%", "105.0%", "missed", "87.5%", "0.0%", "130.0%", "4"],
        ["Gross revenue retention", "85.0%", "90.0%", "missed", "87.5%", "0.0%", "100.0%",
         "4"],
        ["Adoption rate", "10.0%", "50.0%", "missed", "10.0%", "4.0%", "40.0%", "8"],
        ["Expansion conversion", "25.0%", "20.0%", "met", "0.0%", "0.0%", "100.0%", "4"],
        ["CSM activity-to-outcome ratio", "0.44", "5.00", "met", "0.75", "n/a", "0.33", "9"],
    ]
    bridge = cells.index(["NRR bridge"])
    assert cells[bridge + 2:bridge + 7] == [
        ["Starting ARR", "200,000"], ["+ Expansion", "30,000"], ["− Contraction", "10,000"],
        ["− Churn", "20,000"], ["= Ending ARR", "200,000"]]


# --- an independent NRR / GRR: a plain loop over accounts and contracts ------------------------

def loop_nrr_grr(folder, as_of: dt.date):
    t0 = as_of.replace(year=as_of.year - 1)
    contracts = pd.read_csv(folder / "contracts.csv", dtype=str)
    accounts = set(pd.read_csv(folder / "accounts.csv", dtype=str)["account_id"])
    arr_then, arr_now = defaultdict(float), defaultdict(float)
    for row in contracts.itertuples():
        if row.account_id not in accounts:
            continue
        start = dt.date.fromisoformat(row.start_date)
        end = dt.date.fromisoformat(row.end_date)
        if start <= t0 < end:
            arr_then[row.account_id] += float(row.arr)
        if start <= as_of < end:
            arr_now[row.account_id] += float(row.arr)
    cohort = [a for a, value in arr_then.items() if value > 0]
    start_total = sum(arr_then[a] for a in cohort)
    nrr = sum(arr_now[a] for a in cohort) / start_total
    grr = sum(min(arr_now[a], arr_then[a]) for a in cohort) / start_total
    return nrr, grr


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_vectorised_nrr_and_grr_agree_with_a_plain_loop(tmp_path, default_config, seed):
    as_of = dt.date(2026, 2, 28)
    generate(tmp_path, accounts=150, seed=seed, as_of=pd.Timestamp(as_of), events=2000)
    report = report_for(tmp_path, default_config, as_of=pd.Timestamp(as_of))
    nrr, grr = loop_nrr_grr(tmp_path, as_of)
    assert report.metrics["nrr"].value == pytest.approx(nrr, rel=1e-12)
    assert report.metrics["grr"].value == pytest.approx(grr, rel=1e-12)


def test_metrics_by_owner_report_has_a_row_per_owner(cli, folder):
    result = cli("metrics", folder, "--as-of", "2026-06-30", "--by", "owner", "-q")
    assert result.exit_code == 0, result.output
    breakdown = result.output.split("By owner")[1]
    cells = [re.split(r"\s{2,}", line.strip()) for line in breakdown.splitlines()]
    assert cells[2] == ["Owner", "TTFV", "NRR", "GRR", "Adoption", "Expansion", "Touches/$10k"]
    # Ann: A1 + A5 130k+30k of 100k+30k; Bob: A2 + A3 40k of 70k; Cy: A6 70 and A9 10 days
    assert cells[4:8] == [
        ["Ann", "n/a", "123.1%", "100.0%", "20.0%", "50.0%", "0.33"],
        ["Bob", "20 days", "57.1%", "57.1%", "10.0%", "0.0%", "0.75"],
        ["Cy", "40 days", "n/a", "n/a", "5.0%", "n/a", "n/a"],
        [""]]
    assert cli("metrics", folder, "--by", "region").exit_code == 2


def test_overall_only_metrics_are_the_grouped_report_without_its_groups(folder, default_config):
    """The audit asks for the overall values only: the same numbers, no groups."""
    exports = load_exports(folder, default_config)
    signals = build_signals(exports, default_config, AS_OF)
    grouped = metrics.compute(exports, signals, default_config)
    overall = metrics.compute(exports, signals, default_config, grouped=False)
    assert list(overall.metrics) == list(grouped.metrics)
    for metric_id, metric in overall.metrics.items():
        assert metric.by_group == {}
        assert metric.overall == grouped.metrics[metric_id].overall
    # the hand-worked NRR of test_nrr_grr_and_bridge, overall
    assert overall.metrics["nrr"].value == pytest.approx(1.0)
    assert overall.metrics["grr"].value == pytest.approx(0.85)
