"""Exports exactly as the tools download them give the same numbers as the canonical truth.

For each CRM (HubSpot, Salesforce) and usage source (Mixpanel, Amplitude, Pendo API, Pendo
Data Explorer CSV, Segment), tests/tool_exports.py writes a data folder as downloaded and the
canonical CSVs behind it. After `csops init DATA`, with no hand-written configuration, csops must
find the same ARR per account, the same core metrics and the same active users as on the
canonical CSVs (PRODUCT.md §1, issue 11 "Done means"). The rules the files follow are those of
the shared sources spec (research/sources-spec.md).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

import tool_exports as tx

AS_OF = "2026-11-20"
COMBINATIONS = [(crm, usage) for crm in tx.CRMS for usage in tx.USAGE_SOURCES]
# the metric figures that must not change with the files' shape (PRODUCT.md §5, §9)
METRIC_FIELDS = {
    "nrr": ("value", "by_segment", "included", "starting_arr", "expansion", "contraction",
            "churn"),
    "grr": ("value", "by_segment", "included"),
    "expansion_conversion": ("value", "by_segment", "included", "expanded", "signal_accounts",
                             "signal_conversion"),
    "activity_to_outcome": ("value", "by_segment", "touches", "renewed_arr"),
    "adoption_rate": ("value", "by_segment", "mean_license_utilization"),
    "ttfv": ("value", "included", "p90"),
}
# explain's usage signals: license_utilization is active_users_30d / licenses, and licenses come
# from the same contracts, so equal utilizations mean equal active users
USAGE_SIGNALS = ("license_utilization", "logins_per_user_30d", "core_feature_adoption")
_TRUTH_RESULTS: dict[tuple[str, bool], dict] = {}


@pytest.fixture(scope="module")
def truth() -> tx.Truth:
    return tx.build_truth()


def run_json(cli, *args):
    result = cli(*args)
    assert result.exit_code == 0, f"csops {' '.join(map(str, args))}\n{result.output}"
    return json.loads(result.stdout)


def results(cli, folder: Path, history: Path, accounts: list[str] | None = None) -> dict:
    """What csops reports on a folder: health per account, metrics, usage signals."""
    health = run_json(cli, "health", folder, "--format", "json", "--no-save", "--as-of", AS_OF,
                      "--history", history)
    metrics = run_json(cli, "metrics", folder, "--format", "json", "--as-of", AS_OF)["metrics"]
    by_account = {r["account_id"]: r for r in health}
    if accounts is None:  # every fourth paying account, and the three biggest
        ranked = sorted(by_account, key=lambda a: -(by_account[a]["arr"] or 0))
        accounts = sorted(set(sorted(by_account)[::4]) | set(ranked[:3]))
    signals = {}
    for account in accounts:
        explained = run_json(cli, "explain", account, folder, "--format", "json", "--as-of",
                             AS_OF, "--history", history)
        signals[account] = {s["signal"]: s["value"] for s in explained["signals"]
                            if s["signal"] in USAGE_SIGNALS}
    return {"health": by_account, "metrics": metrics, "signals": signals,
            "accounts": accounts}


def truth_results(cli, truth, crm: str, usage: str, root: Path) -> dict:
    key = (crm, usage in tx.USAGE_WITH_BUSINESS_UNIT)
    if key not in _TRUTH_RESULTS:
        folder = tx.truth_folder(root / f"truth-{crm}-{usage}", crm, usage, truth)
        _TRUTH_RESULTS[key] = results(cli, folder, root / "truth-history.db")
    return _TRUTH_RESULTS[key]


def init(cli, folder: Path) -> str:
    result = cli("init", folder)
    assert result.exit_code == 0, result.output
    assert (folder / "playbooks.yaml").is_file()
    return result.output


def assert_same_health(got: dict, expected: dict) -> None:
    assert sorted(got) == sorted(expected), "the same paying accounts"
    for account, record in expected.items():
        mine = got[account]
        assert mine["arr"] == pytest.approx(record["arr"], abs=0.01), account
        assert mine["account_name"] == record["account_name"], account
        assert mine["csm_owner"] == record["csm_owner"], account  # never the AE
        assert mine["segment"] == record["segment"], account


def assert_same_metrics(got: dict, expected: dict) -> None:
    for metric, fields in METRIC_FIELDS.items():
        for field in fields:
            assert got[metric][field] == pytest.approx(expected[metric][field], abs=1e-9), (
                f"{metric}.{field}")


def validate_output(cli, folder: Path) -> str:
    result = cli("validate", folder)
    return result.output


def total_on_lines(output: str, phrase: str) -> int:
    """The counts of every line naming the assumption, added up (validate lists an assumption
    once per file that made it: HubSpot's calls, meetings, e-mails and notes)."""
    total = 0
    for line in output.splitlines():
        if re.search(phrase, line, re.IGNORECASE):
            total += int(re.search(r"\s(\d[\d,]*)\s", line).group(1).replace(",", ""))
    return total


def count_on_line(output: str, phrase: str, counts: set[int]) -> bool:
    """True when a line naming the assumption also gives one of the expected counts."""
    for line in output.splitlines():
        if re.search(phrase, line, re.IGNORECASE):
            numbers = {int(n.replace(",", "")) for n in re.findall(r"\b\d[\d,]*\b", line)}
            if numbers & counts:
                return True
    return False


# ---------------------------------------------------------------------------------------------
# the whole matrix

@pytest.mark.slow
@pytest.mark.parametrize(("crm", "usage"), COMBINATIONS, ids=[f"{c}-{u}" for c, u in COMBINATIONS])
def test_exports_as_downloaded_give_the_truths_numbers(crm, usage, truth, cli, tmp_path):
    expected = truth_results(cli, truth, crm, usage, tmp_path.parent)
    data = tx.assemble(tmp_path / "data", crm, usage, truth)
    downloaded = sorted(p.name for p in data.iterdir())

    shown = init(cli, data)
    for name in downloaded:  # init says what each file was recognised as
        assert name in shown, f"{name} not in csops init's table:\n{shown}"
    sources = yaml.safe_load((data / "playbooks.yaml").read_text(encoding="utf-8"))["sources"]
    assert {"accounts", "contracts", "usage", "activities", "team"} <= set(sources)

    got = results(cli, data, tmp_path / "history.db", expected["accounts"])
    assert_same_health(got["health"], expected["health"])
    assert_same_metrics(got["metrics"], expected["metrics"])
    for account, signals in expected["signals"].items():
        assert got["signals"][account] == pytest.approx(signals), account


# ---------------------------------------------------------------------------------------------
# single cases

def test_salesforce_formatted_report_xlsx_reads_as_accounts(truth, cli, tmp_path):
    data = tx.assemble(tmp_path / "data", "salesforce", "mixpanel", truth,
                       accounts_format="xlsx")
    init(cli, data)
    got = run_json(cli, "health", data, "--format", "json", "--no-save", "--as-of", AS_OF,
                   "--history", tmp_path / "h.db")
    folder = tx.truth_folder(tmp_path / "truth", "salesforce", "mixpanel", truth)
    expected = run_json(cli, "health", folder, "--format", "json", "--no-save", "--as-of", AS_OF,
                        "--history", tmp_path / "h.db")
    assert_same_health({r["account_id"]: r for r in got},
                       {r["account_id"]: r for r in expected})


def test_hubspot_assumptions_are_listed_by_validate_with_their_counts(truth, cli, tmp_path):
    data = tx.assemble(tmp_path / "data", "hubspot", "mixpanel", truth)
    init(cli, data)
    output = validate_output(cli, data)
    won = truth.contracts
    computed = won[~won["arr_given"]]
    assert total_on_lines(output, r"open or lost deals") == len(truth.other_deals), output
    assert total_on_lines(output, r"12-month") == int((~won["dated"]).sum()), output
    # the rows whose ARR comes from Amount
    assert total_on_lines(output, r"amount.*spread|spread.*amount") == len(computed), output
    assert total_on_lines(output, r"several associated companies") == \
        len(truth.multi_company_activities), output
    assert total_on_lines(output, r"not in the (accounts|companies)") == 2, output
    assert not re.search(r"taken as CSM", output, re.IGNORECASE)  # the CSM column is there


def test_hubspot_without_a_csm_column_says_the_owner_is_taken_as_csm(truth, cli, tmp_path):
    data = tx.assemble(tmp_path / "data", "hubspot", "mixpanel", truth, csm_column=False)
    init(cli, data)
    output = validate_output(cli, data)
    assert count_on_line(output, r"owner taken as CSM", {len(truth.accounts)}), output
    health = run_json(cli, "health", data, "--format", "json", "--no-save", "--as-of", AS_OF,
                      "--history", tmp_path / "h.db")
    owners = dict(zip(truth.accounts["account_id"].map(lambda a: tx.account_key("hubspot", a)),
                      truth.accounts["ae_owner"], strict=True))
    assert all(r["csm_owner"] == owners[r["account_id"]] for r in health)


def test_salesforce_assumptions_are_listed_by_validate_with_their_counts(truth, cli, tmp_path):
    data = tx.assemble(tmp_path / "data", "salesforce", "segment", truth)
    init(cli, data)
    output = validate_output(cli, data)
    won = truth.contracts
    assert count_on_line(output, r"open or lost", {len(truth.other_deals)}), output
    assert count_on_line(output, r"12-month", {int((~won["dated"]).sum())}), output
    assert count_on_line(output, r"total contract value",
                         {int((won["months"] > 12).sum())}), output
    assert not re.search(r"taken as CSM", output, re.IGNORECASE)


HINT_CONTRACTS = """\
Contract Type,Account ID,Deal Stage,Start Date,ARR
Renewal,A1,Closed Won,2026-01-01,12000
New Business,A2,Closed Won,2026-02-01,8000
"""
HINT_ACTIVITIES = """\
Account ID,Activity date,Assigned
A1,2026-03-02,Ann Lee
A2,2026-03-05,Bob Roy
"""
HINT_ACCOUNTS = """\
account_id,account_name
A1,Alpha
A2,Bravo
"""


@pytest.mark.parametrize(("column", "unfit"), [
    ("contract_id", "Contract Type"),
    ("end_date", "Deal Stage"),
    ("end_date", "Contract Type"),
    ("activity_type", "Activity date"),
])
def test_a_fix_hint_never_proposes_a_column_whose_values_do_not_fit(column, unfit, cli,
                                                                     tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "accounts.csv").write_text(HINT_ACCOUNTS)
    (data / "contracts.csv").write_text(HINT_CONTRACTS)
    (data / "activities.csv").write_text(HINT_ACTIVITIES)
    result = cli("validate", data)
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert column in text  # the missing column is reported
    for form in (f'{column}: "{unfit}"', f"{column}: '{unfit}'", f"{column}: {unfit}"):
        assert form not in text, text


def test_the_audit_lists_each_assumption_with_its_rows(truth, cli, tmp_path):
    data = tx.assemble(tmp_path / "data", "hubspot", "segment", truth)
    init(cli, data)
    findings = run_json(cli, "audit", data, "--format", "json")["findings"]
    assumed = {f["title"]: f["count"] for f in findings if f["check"] == "source_assumption"}
    won = truth.contracts
    assert assumed == {
        "Reading the contracts: open or lost deals left out": len(truth.other_deals),
        "Reading the contracts: default 12-month term (no contract end date)":
            int((~won["dated"]).sum()),
        "Reading the contracts: Amount spread over the term as ARR (no Annual recurring "
        "revenue)": int((~won["arr_given"]).sum()),
        "Reading the activities: activities with several associated companies counted once, "
        "for the first": len(truth.multi_company_activities),
        "Reading the activities: activities for companies not in the accounts/companies "
        "export": 2,
    }
    assert all(f["severity"] == "info" for f in findings if f["check"] == "source_assumption")
