"""Shared helpers: small exports written inline into tmp_path, and an in-process CLI runner."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from csops_cli.cli import app


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(textwrap.dedent(text).lstrip("\n").encode(encoding))
    return path


# A five-account example whose signals are worked out by hand in test_signals.py.
# as_of is 2026-06-30: the 30-day window is 2026-06-01..06-30, the 90-day one 2026-04-02..06-30,
# and t0 (12 months earlier) is 2025-06-30.
FIVE_ACCOUNTS = """
account_id,account_name,segment,csm_owner,champion_status
001,Alpha,Strategic,Ann,active
002,Bravo,,Bob,none
003,Charlie,SMB,Ann,left
004,Delta,Commercial,,active
005,Echo,SMB,Bob,
"""
FIVE_CONTRACTS = """
contract_id,account_id,start_date,end_date,arr,licenses,signed_date,contract_type
C1,001,2025-01-01,2026-01-01,100000,10,2024-12-15,new
C2,001,2026-01-01,2027-01-01,120000,10,,renewal
C3,001,2026-03-01,2027-01-01,30000,5,,expansion
C4,002,2024-07-01,2025-07-01,50000,20,,new
C5,002,2025-07-01,2026-07-01,40000,20,,renewal
C6,003,2026-06-30,2027-06-30,8000,4,2026-06-25,new
C7,004,2024-01-01,2026-06-30,25000,5,,new
C8,005,2025-09-01,2026-09-01,12000,,,new
"""
FIVE_USAGE = """
account_id,timestamp,user_id,feature,business_unit
001,2026-06-30T23:30:00Z,u1,login,Finance
001,2026-06-01 09:00,u2,dashboards,Finance
001,2026-05-31 09:00,u3,reports,Finance
001,2026-06-15,u1,reports,Sales
001,2026-07-01,u4,alerts,Finance
002,2026-06-10,u1,login,Ops
002,2026-06-10,u1,login,Ops
002,2026-06-11,u2,integrations,Ops
002,2026-06-30T20:00:00-05:00,u9,login,Ops
003,2026-06-30,u1,dashboards,HR
"""
FIVE_ACTIVITIES = """
account_id,date,activity_type,owner
001,2026-06-20,meeting,Ann
001,2026-04-02,qbr,Ann
001,2026-04-01,meeting,Ann
002,2026-06-28,email,Bob
002,2026-07-02,meeting,Bob
005,2026-01-15,call,Bob
"""


@pytest.fixture
def five(tmp_path: Path) -> Path:
    folder = tmp_path / "five"
    folder.mkdir()
    write(folder, "accounts.csv", FIVE_ACCOUNTS)
    write(folder, "contracts.csv", FIVE_CONTRACTS)
    write(folder, "usage.csv", FIVE_USAGE)
    write(folder, "activities.csv", FIVE_ACTIVITIES)
    return folder


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """Run csops in-process from tmp_path (so the history store lands there)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "400")
    monkeypatch.setenv("NO_COLOR", "1")
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, [str(a) for a in args])

    return run


@pytest.fixture(scope="session")
def default_config():
    from csops_cli.config import default_config_text, parse_config

    return parse_config(default_config_text())


def sample_paying(as_of: str, folder: Path | None = None) -> set[str]:
    """Accounts of the shipped sample data with ARR above 0 on ``as_of``, computed here from
    contracts.csv (start_date <= as_of < end_date), independently of csops."""
    import pandas as pd

    folder = folder or Path(__file__).resolve().parents[1] / "sample_data"
    contracts = pd.read_csv(folder / "contracts.csv", dtype={"account_id": str},
                            parse_dates=["start_date", "end_date"])
    day = pd.Timestamp(as_of)
    active = contracts[(contracts["start_date"] <= day) & (day < contracts["end_date"])]
    arr = active.groupby("account_id")["arr"].sum()
    return set(arr[arr > 0].index)


SAMPLE_ACCOUNTS = 300  # sample_data/accounts.csv


@pytest.fixture(autouse=True)
def _cache_open_for_each_test():
    """A refused or interrupted command closes the cache of parsed exports for the rest of
    its process; each test is a new command."""
    from csops_cli.loading.cache import new_command

    new_command()


# the quick run's slowest tests (listed by scripts/slow_tests.py from a timed run): marked slow
# here, so that plain `python -m pytest` stays under two minutes; CI runs them all
SLOW_TESTS = frozenset(
    line.strip() for line in (Path(__file__).parent / "slow_tests.txt").read_text(
        encoding="utf-8").splitlines() if line.strip() and not line.startswith("#"))


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
