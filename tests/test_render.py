"""One emit for every result: the CLI's output is the core's result, rendered."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from csops_cli.config import load_config
from csops_cli.errors import UsageError
from csops_cli.history import History
from csops_cli.jobs import HealthReport, health_report
from csops_cli.loading import load_exports
from csops_cli.render import emit, view_of
from csops_cli.validation import validate

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"


@pytest.fixture(scope="module")
def sample_health(tmp_path_factory) -> HealthReport:
    _, config = load_config(None)
    exports = load_exports(SAMPLE, config)
    history = History(tmp_path_factory.mktemp("history") / "history.db")
    return health_report(exports, config, None, history, save=False)


def test_cli_json_is_the_core_result(cli, sample_health, tmp_path):
    result = cli("health", SAMPLE, "--format", "json", "--no-save", "--history",
                 tmp_path / "h.db")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    core = sample_health.accounts
    assert [r["account_id"] for r in records] == core["account_id"].tolist()
    assert [r["health_score"] for r in records] == core["health_score"].tolist()
    assert [r["arr"] for r in records] == core["arr"].tolist()


def test_emit_writes_each_format_of_one_result(sample_health, tmp_path, capsys):
    emit(sample_health, "csv", tmp_path / "health.csv")
    written = pd.read_csv(tmp_path / "health.csv", dtype={"account_id": str})
    assert written["account_id"].tolist() == sample_health.accounts["account_id"].tolist()
    emit(sample_health, "json", None)
    assert len(json.loads(capsys.readouterr().out)) == len(sample_health.accounts)
    emit(sample_health, "table", None)
    shown = capsys.readouterr().out
    assert shown.startswith("Account health as of 2026-11-20")
    assert f"{len(sample_health.accounts)} account(s):" in shown


def test_a_format_a_result_has_no_form_for_is_refused(tmp_path):
    result = validate(SAMPLE, {}, None)
    with pytest.raises(UsageError, match="--format json: not available"):
        emit(result, "json", tmp_path / "out.json")
    assert not (tmp_path / "out.json").exists()


def test_an_unknown_result_type_is_a_bug_not_user_input():
    with pytest.raises(TypeError):
        view_of(io.StringIO())
