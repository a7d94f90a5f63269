"""csops report: the weekly HTML report, its figures worked out by hand on a tiny data set.

The config scores health on ARR alone (0 at $0, 100 at $100,000), so each account's band is
read off its ARR: green from $70,000, yellow from $50,000, red below. as_of is 2026-06-30, t0
2025-06-30; the 13 weekly dates run from 2026-04-07 to 2026-06-30.

| account | contracts | t0 ARR | ARR on as_of | 12-month move |
| A | 80k 2025-01-01..2027-01-01, + 20k 2026-01-01..2027-01-01 | 80,000 | 100,000 green | +20,000 |
| B | 60k 2025-01-01..2026-01-01, 45k 2026-01-01..2027-01-01 | 60,000 | 45,000 red | -15,000 |
| C | 30k 2025-01-01..2026-05-01 | 30,000 | 0 (churned) | -30,000 |
| D | 60k 2026-02-01..2026-08-31 (new logo, renews in 62 days) | - | 60,000 yellow | - |
| E | 50k 2025-01-01..2026-06-28, 20k 2026-06-28..2027-06-28 | 50,000 | 20,000 red | -30,000 |

NRR bridge: starting 220,000; + expansion 20,000 (A); - contraction 45,000 (B 15,000 + E
30,000); - churn 30,000 (C); = ending 165,000; NRR 75 %.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from conftest import write
from csops_cli.config import load_config
from csops_cli.history import History, data_set_of
from csops_cli.loading import load_exports
from csops_cli.render.report import html
from csops_cli.report import weekly_report

HOSTILE = "<script>alert(1)</script> & \"Q\" 'S' $x$"

ACCOUNTS = f"""
account_id,account_name,segment,csm_owner
A,Alpha,Strategic,Ann
B,Bravo,Commercial,Ann
C,Charlie,SMB,Bob
D,Delta,Commercial,Bob
E,"{HOSTILE.replace('"', '""')}",SMB,Bob
"""
CONTRACTS = """
contract_id,account_id,start_date,end_date,arr,contract_type
A1,A,2025-01-01,2027-01-01,80000,new
A2,A,2026-01-01,2027-01-01,20000,expansion
B1,B,2025-01-01,2026-01-01,60000,new
B2,B,2026-01-01,2027-01-01,45000,renewal
C1,C,2025-01-01,2026-05-01,30000,new
D1,D,2026-02-01,2026-08-31,60000,new
E1,E,2025-01-01,2026-06-28,50000,new
E2,E,2026-06-28,2027-06-28,20000,renewal
"""
CONFIG = f"""
health:
  bands: {{green: 70, yellow: 50}}
  buckets:
    commercial_context:
      weight: 1
      signals:
        arr: {{weight: 1, bad: 0, good: 100000}}
  segments: {{}}
segments:
  - {{name: Strategic, min_arr: 100000}}
  - {{name: SMB, min_arr: 0}}
plays:
  - id: low
    name: '{HOSTILE.replace("'", "''")}'
    when: health_score < 50
    cooldown_days: 30
    actions:
      - {{text: Call, owner: csm, due_in_days: 2, channel: task}}
"""
AS_OF = "2026-06-30"


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny"
    folder.mkdir()
    write(folder, "accounts.csv", ACCOUNTS)
    write(folder, "contracts.csv", CONTRACTS)
    write(folder, "playbooks.yaml", CONFIG)
    return folder


def report_of(folder: Path, history: Path):
    label, config = load_config(None, folder)
    exports = load_exports(folder, config, {})
    return weekly_report(exports, config, AS_OF, History(history, data_set_of(exports)))


def mix_table(report) -> dict[str, list]:
    """Per band: (date, accounts, ARR) in date order."""
    mix = report.mix
    return {band: [(f"{row.as_of:%Y-%m-%d}", row.accounts, row.arr)
                   for row in mix[mix["health_band"] == band].itertuples()]
            for band in ("green", "yellow", "red")}


def test_nrr_bridge_by_hand(tiny, tmp_path):
    report = report_of(tiny, tmp_path / "history.db")
    details = report.metrics.metrics["nrr"].overall.details
    assert details == {"starting_arr": 220_000.0, "expansion": 20_000.0,
                       "contraction": 45_000.0, "churn": 30_000.0, "ending_arr": 165_000.0}
    assert report.metrics.metrics["nrr"].value == pytest.approx(0.75)
    page = html(report)
    for line in ("$220,000", "$20,000", "\u2212 Contraction", "$45,000", "\u2212 Churn",
                 "$30,000", "$165,000"):
        assert line in page
    assert "--" not in re.sub(r"<!--.*?-->", "", page.split("<svg")[0])  # no double minus
    assert "\u2212\u2212" not in page and "\u2212-" not in page and "-\u2212" not in page


def test_band_mix_rebuilt_at_weekly_dates_by_hand(tiny, tmp_path):
    report = report_of(tiny, tmp_path / "history.db")
    weeks = [f"{d:%Y-%m-%d}" for d in pd.date_range("2026-04-07", AS_OF, freq="7D")]
    assert len(weeks) == 13
    before_c_churned, after = weeks[:4], weeks[4:12]
    expected = {
        "green": [(week, 1, 100_000.0) for week in weeks],
        "yellow": [(week, 2, 110_000.0) for week in before_c_churned + after]
        + [(AS_OF, 1, 60_000.0)],
        "red": [(week, 2, 75_000.0) for week in before_c_churned]
        + [(week, 1, 45_000.0) for week in after] + [(AS_OF, 2, 65_000.0)],
    }
    assert mix_table(report) == expected
    assert report.mix_source.startswith("rebuilt from the exports at 13 weekly dates")
    assert "rebuilt from the exports at 13 weekly dates" in html(report)


def test_band_mix_from_the_history_store_with_four_weekly_snapshots(tiny, tmp_path):
    history = tmp_path / "history.db"
    _, config = load_config(None, tiny)
    exports = load_exports(tiny, config, {})
    store = History(history, data_set_of(exports))
    snapshots = {"2026-06-09": [("A", 80.0, "green", 100_000.0)],
                 "2026-06-16": [("A", 80.0, "green", 100_000.0), ("B", 40.0, "red", 45_000.0)],
                 "2026-06-22": [("B", 55.0, "yellow", 45_000.0)],  # a Monday, then
                 "2026-06-23": [("B", 45.0, "red", 45_000.0)],  # the week's latest: used
                 "2026-06-30": [("D", 60.0, "yellow", 60_000.0), ("E", 20.0, "red", 20_000.0)]}
    for day, rows in snapshots.items():
        frame = pd.DataFrame(rows, columns=["account_id", "health_score", "health_band", "arr"])
        frame = frame.assign(usage_score=None, relationship_score=None, commercial_score=None,
                             partial=False).set_index("account_id")
        store.save(pd.Timestamp(day), frame)
    report = weekly_report(exports, config, AS_OF, store)
    assert report.mix_source == ("from the history store (3 earlier weekly snapshots) and "
                                 "this run's scores as of 2026-06-30")
    # as_of's week is this run's scores (A green, D yellow, B and E red), not the snapshot
    assert mix_table(report) == {
        "green": [("2026-06-09", 1, 100_000.0), ("2026-06-16", 1, 100_000.0),
                  ("2026-06-23", 0, 0.0), ("2026-06-30", 1, 100_000.0)],
        "yellow": [("2026-06-09", 0, 0.0), ("2026-06-16", 0, 0.0), ("2026-06-23", 0, 0.0),
                   ("2026-06-30", 1, 60_000.0)],
        "red": [("2026-06-09", 0, 0.0), ("2026-06-16", 1, 45_000.0),
                ("2026-06-23", 1, 45_000.0), ("2026-06-30", 2, 65_000.0)],
    }


def test_three_weekly_snapshots_are_too_few(tiny, tmp_path):
    _, config = load_config(None, tiny)
    exports = load_exports(tiny, config, {})
    store = History(tmp_path / "history.db", data_set_of(exports))
    frame = pd.DataFrame({"health_score": [80.0], "health_band": ["green"], "arr": [1.0],
                          "usage_score": None, "relationship_score": None,
                          "commercial_score": None, "partial": False},
                         index=pd.Index(["A"], name="account_id"))
    for day in ("2026-06-08", "2026-06-10", "2026-06-16", "2026-06-23"):  # three weeks
        store.save(pd.Timestamp(day), frame)
    report = weekly_report(exports, config, AS_OF, store)
    assert report.mix_source.startswith("rebuilt from the exports at 13 weekly dates")
    assert "holds 3 weekly snapshot(s)" in report.mix_source


def test_movers_renewals_and_plays_by_hand(tiny, tmp_path):
    report = report_of(tiny, tmp_path / "history.db")
    # a week earlier (2026-06-23) E scored 50 on its $50,000; now 20: the only move
    assert list(report.movers_down["account_id"]) == ["E"]
    assert report.movers_down.loc[0, "health_change"] == pytest.approx(-30.0)
    assert report.movers_up.empty
    assert (report.renewals_due, report.renewals_arr) == (1, 60_000.0)
    assert list(report.renewals["account_id"]) == ["D"]
    assert report.renewals_by_band.to_dict("index") == {
        "green": {"renewals": 0, "arr": 0.0}, "yellow": {"renewals": 1, "arr": 60_000.0},
        "red": {"renewals": 0, "arr": 0.0}}
    # the play fires for B (45) and E (20); nothing is open or resolved without history
    assert report.plays[["play_id", "fired", "open", "resolved"]].to_dict("records") == [
        {"play_id": "low", "fired": 2, "open": 0, "resolved": 0}]
    assert "resolution need" in report.plays_note


def test_hostile_names_are_escaped_in_the_page_and_in_the_charts(tiny, tmp_path):
    page = html(report_of(tiny, tmp_path / "history.db"))
    assert "<script" not in page.lower()
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Q&quot; &#x27;S&#x27; $x$"
    assert escaped in page  # the mover's name, in the movers table
    # the play's name, as a label of the plays chart: one text element, XML-escaped, and
    # $x$ kept as written (not read as mathematics, which would draw it glyph by glyph)
    labels = re.findall(r"<text[^>]*>([^<]*)</text>", page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; \"Q\" 'S' $x$" in labels


def test_sample_report_is_one_small_self_contained_file(cli, tmp_path):
    sample = Path(__file__).resolve().parents[1] / "sample_data"
    out = tmp_path / "report.html"
    result = cli("report", str(sample), "--out", str(out))
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert out.stat().st_size < 1_000_000
    assert page.count("<svg") >= 6
    # nothing fetched: no remote (nor any) src, href or url(...) but in-page references
    references = re.findall(r"""(?:src|href)\s*=\s*["']?([^"'\s>]*)|url\(\s*([^)]*)\)""", page)
    targets = [first or second for first, second in references]
    assert targets and all(target.startswith("#") for target in targets), targets
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)
    assert "<script" not in page and "<link" not in page and "@import" not in page
    ids = re.findall(r'\sid="([^"]+)"', page)  # several charts, one document: ids unique
    assert len(ids) > 100 and len(ids) == len(set(ids))
    # no address at all but the SVG namespaces (matplotlib's metadata names several)
    assert not re.search(r"https?://", re.sub(r'xmlns(?::\w+)?="[^"]*"', "", page))
    for section in ("Health mix over time", "Biggest movers this week",
                    "Core metrics against targets", "NRR bridge", "Renewal calendar",
                    "Plays", "Does the health score predict churn?"):
        assert section in page


def test_report_refuses_to_overwrite_an_input(cli, tiny):
    config = tiny / "settings.html"  # an input that an .html --out could name
    (tiny / "playbooks.yaml").rename(config)
    before = config.read_bytes()
    result = cli("report", str(tiny), "--config", str(config), "--as-of", AS_OF,
                 "--out", str(config))
    assert result.exit_code == 2
    assert "is the configuration this run reads" in result.output
    assert config.read_bytes() == before


@pytest.mark.parametrize("name", ["report.pdf", "report.csv", "report.json"])
def test_report_refuses_an_out_that_is_not_html(cli, tiny, name):
    result = cli("report", str(tiny), "--out", name)
    assert result.exit_code == 2
    assert ".html" in result.output
    assert "Traceback" not in result.output
    assert not Path(name).exists()


def test_report_needs_out_in_a_terminal(cli, tiny, monkeypatch):
    monkeypatch.setattr("csops_cli.commands.report.stdout_is_terminal", lambda: True)
    result = cli("report", str(tiny), "--as-of", AS_OF)
    assert result.exit_code == 2
    assert "--out report.html" in result.output


def test_report_to_a_pipe(cli, tiny, tmp_path):
    result = cli("report", str(tiny), "--as-of", AS_OF, "--quiet")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<!DOCTYPE html>")
    # the report reads the history, never writes it (the cache of parsed exports is there)
    assert [path.name for path in (tmp_path / ".csops").iterdir()] == ["cache"]


def test_help_does_not_import_matplotlib():
    import subprocess
    import sys

    code = ("import sys; from csops_cli.entry import run; sys.argv = ['csops', '--help']\n"
            "try:\n    run()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('matplotlib', 'pandas')))")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout.strip().splitlines()[-1]
    assert found == "[]"


@pytest.mark.slow
def test_report_of_100_000_accounts_stays_under_1_mb(cli, tmp_path):
    """Aggregated, never one mark per account: the size does not grow with the base."""
    data, out = tmp_path / "big", tmp_path / "report.html"
    made = cli("sample", str(data), "--accounts", "100000", "--events", "2000000",
               "--as-of", "2026-11-20", "--quiet")
    assert made.exit_code == 0, made.output
    result = cli("report", str(data), "--out", str(out), "--quiet")
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert out.stat().st_size < 1_000_000
    assert page.count("<svg") >= 6
    assert "the 300 largest are plotted" in page  # the calendar is capped and says so


def test_plays_open_and_resolved_from_the_history_store(tiny, tmp_path):
    _, config = load_config(None, tiny)
    exports = load_exports(tiny, config, {})
    store = History(tmp_path / "history.db", data_set_of(exports))

    def fired(*accounts):
        return pd.DataFrame({"account_id": list(accounts), "play_id": "low", "risk": True,
                             "reason": "health_score < 50"})

    none = pd.DataFrame(columns=["account_id", "play_id"])
    store.record_plays(pd.Timestamp("2026-06-02"), fired("B"), none)
    store.record_plays(pd.Timestamp("2026-06-16"), fired(), pd.DataFrame(
        {"account_id": ["B"], "play_id": ["low"]}))  # resolved after 14 days
    store.record_plays(pd.Timestamp("2026-06-23"), fired("E"), none)  # open since
    report = weekly_report(exports, config, AS_OF, store)
    # E's play is open (within its 30-day cooldown): it does not fire again; B's fires anew
    assert report.plays[["fired", "open", "resolved", "median_days"]].to_dict("records") == [
        {"fired": 1, "open": 1, "resolved": 1, "median_days": 14.0}]
    assert report.plays_note.startswith("Fired: plays newly firing on 2026-06-30")
    assert '<td class="num">14</td>' in html(report)
