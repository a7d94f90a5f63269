"""Every command's terminal table on the shipped sample data, at 80 and 120 columns, against
the golden files under tests/golden/; and, whatever the goldens say, no line wider than the
terminal and every number, date, band and id of the shown rows whole.

Regenerate the goldens after a deliberate change of a table, and read their diff:

    CSOPS_UPDATE_GOLDEN=1 python -m pytest tests/test_tables_fit.py -m "slow or not slow"
"""

from __future__ import annotations

import csv
import difflib
import io
import os
from pathlib import Path

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from conftest import sample_paying
from csops_cli.app import app

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
AS_OF = ["--as-of", "2026-11-20"]
WIDTHS = (80, 120)
UPDATE = os.environ.get("CSOPS_UPDATE_GOLDEN") == "1"

# name -> arguments, run from a folder holding sample_data, old.yaml and new.yaml, so that
# every path the output names is the same on every machine
COMMANDS = {
    "health": ["health", "sample_data", *AS_OF, "--no-save", "--limit", "25"],
    "explain": ["explain", "A00041", "sample_data", *AS_OF],
    "metrics": ["metrics", "sample_data", *AS_OF],
    "metrics_by_owner": ["metrics", "sample_data", *AS_OF, "--by", "owner"],
    "plays": ["plays", "sample_data", *AS_OF, "--dry-run", "--limit", "25"],
    "renewals": ["renewals", "sample_data", *AS_OF, "--limit", "25"],
    "audit": ["audit", "sample_data", *AS_OF, "--limit", "25"],
    "coverage": ["coverage", "sample_data", *AS_OF, "--limit", "25"],
    "forecast": ["forecast", "sample_data", *AS_OF, "--no-save", "--limit", "25"],
    "validate": ["validate", "sample_data"],
    "backtest": ["backtest", "sample_data", *AS_OF, "--limit", "5"],
    "diff": ["diff", "old.yaml", "new.yaml", "sample_data", *AS_OF, "--limit", "25"],
}
SLOW = {"backtest", "diff"}  # several seconds each: rebuilt at past dates
# the quick run checks every command at 80 columns, the width the contract names; the full
# run (CI) at 120 too
CASES = [pytest.param(name, width, marks=pytest.mark.slow) if name in SLOW or width != 80
         else (name, width) for name in COMMANDS for width in WIDTHS]
WIDTH_CASES = [80, pytest.param(120, marks=pytest.mark.slow)]
_SHOWN: dict[tuple[str, int], str] = {}


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """sample_data and two configs: the packaged one and one whose green starts at 65."""
    from csops_cli.config import default_config_text

    folder = tmp_path_factory.mktemp("tables")
    (folder / "sample_data").symlink_to(ROOT / "sample_data", target_is_directory=True)
    text = default_config_text()
    (folder / "old.yaml").write_text(text)
    greener = text.replace("    green: 70", "    green: 65", 1)
    assert greener != text
    (folder / "new.yaml").write_text(greener)
    return folder


def run(folder: Path, monkeypatch, width: int, *arguments: str):
    monkeypatch.chdir(folder)
    monkeypatch.setenv("COLUMNS", str(width))
    monkeypatch.setenv("NO_COLOR", "1")
    result = CliRunner().invoke(app, [*arguments, "--history", "h.db"]
                                if arguments[0] not in ("metrics", "audit", "validate")
                                else list(arguments))
    assert result.exit_code == 0, result.output
    return result


def shown(folder: Path, monkeypatch, name: str, width: int) -> str:
    """What COMMANDS[name] prints at ``width`` columns, run once per module."""
    if (name, width) not in _SHOWN:
        _SHOWN[name, width] = run(folder, monkeypatch, width, *COMMANDS[name]).stdout
    return _SHOWN[name, width]


def compare_with_golden(name: str, shown: str) -> None:
    """``shown`` against tests/golden/NAME.txt (trailing spaces aside); the diff on failure."""
    path = GOLDEN / f"{name}.txt"
    lines = [line.rstrip() for line in shown.splitlines()]
    if UPDATE:
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return
    assert path.exists(), f"no golden file {path}: run with CSOPS_UPDATE_GOLDEN=1 to write it"
    expected = path.read_text(encoding="utf-8").splitlines()
    if lines != expected:
        diff = "\n".join(difflib.unified_diff(expected, lines, f"golden/{name}.txt", "shown",
                                              lineterm=""))
        pytest.fail(f"{name} differs from its golden file (CSOPS_UPDATE_GOLDEN=1 to accept):\n"
                    f"{diff}", pytrace=False)


def too_wide(shown: str, width: int) -> list[str]:
    return [line for line in shown.splitlines() if cell_len(line) > width]


@pytest.mark.parametrize("name,width", CASES)
def test_table_matches_golden_and_fits(folder, monkeypatch, name, width):
    text = shown(folder, monkeypatch, name, width)
    assert too_wide(text, width) == []
    compare_with_golden(f"{name}_{width}", text)


# --- every number, date, band and id of the shown rows appears whole -------------------------

def csv_rows(folder: Path, monkeypatch, *arguments: str) -> list[dict]:
    result = run(folder, monkeypatch, 400, *arguments, "--format", "csv")
    return list(csv.DictReader(io.StringIO(result.stdout)))


def table_rows(shown: str) -> list[list[str]]:
    """The data rows of the first table in ``shown``, each split into its cells' words."""
    lines = shown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("─"))
    rows = []
    for line in lines[start + 1:]:
        if not line.strip():
            break
        rows.append(line.split())
    return rows


def money(text: str) -> str:
    return f"{float(text):,.0f}"


# per command: what each CSV row must show whole, written from the contract's columns
WHOLE = {
    "health": lambda r: [r["account_id"], money(r["arr"]), f"{float(r['health_score']):.1f}",
                         r["health_band"]],
    "renewals": lambda r: [r["renewal_date"], f"{int(r['days_to_renewal']):,}", money(r["arr"]),
                           r["health_band"], f"{float(r['renewal_probability']):.0%}",
                           money(r["forecast_arr"])],
    "forecast": lambda r: [r["renewal_date"], f"{int(r['days_to_renewal']):,}", money(r["arr"]),
                           r["health_band"], money(r["forecast_arr"])],
}


@pytest.mark.parametrize("width", WIDTH_CASES)
@pytest.mark.parametrize("name", list(WHOLE))
def test_every_number_date_and_band_of_the_shown_rows_is_whole(folder, monkeypatch, name,
                                                               width):
    expected = csv_rows(folder, monkeypatch, *COMMANDS[name])  # --limit 25: the same rows
    rows = table_rows(shown(folder, monkeypatch, name, width))
    assert len(rows) == len(expected) == 25
    for cells, record in zip(rows, expected, strict=True):
        for value in WHOLE[name](record):
            assert value in cells, (value, cells)


@pytest.mark.parametrize("width", WIDTH_CASES)
def test_play_ids_dates_and_priorities_are_whole(folder, monkeypatch, width):
    text = shown(folder, monkeypatch, "plays", width)
    expected = csv_rows(folder, monkeypatch, *COMMANDS["plays"])
    listing = text[text.index("Actions (by due date and priority)"):]
    # a row's action text may wrap onto the next lines: those hold no date
    rows = [cells for cells in table_rows(listing) if cells[0][:2] == "20"]
    assert len(rows) == len(expected) == 25
    for cells, record in zip(rows, expected, strict=True):
        assert [cells[0], cells[1]] == [record["due_date"], record["priority"]]
        assert record["play_id"] in cells


def test_a_narrow_terminal_hides_columns_and_says_which(folder, monkeypatch):
    narrow = shown(folder, monkeypatch, "health", 80).splitlines()  # the quick run: 80 only
    assert "hidden at 80 columns: Segment, Stage; widen the terminal or use --format csv" \
        in narrow
    assert "hidden at" not in shown(folder, monkeypatch, "health", 120)
    more = len(sample_paying("2026-11-20")) - 25
    assert f"… and {more:,} more (--all to show every row)" in narrow


def test_golden_files_are_all_used():
    """A golden file no test compares against is stale: remove it."""
    expected = {f"{name}_{width}.txt" for name in COMMANDS for width in WIDTHS}
    assert {path.name for path in GOLDEN.glob("*.txt")} == expected

