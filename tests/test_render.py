"""One emit for every result: the CLI's output is the core's result, rendered."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from conftest import sample_paying
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


def test_each_result_imports_its_own_renderer_first(monkeypatch):
    """A command pays for importing its renderer only, not for the modules before it (the
    diff's imports the backtest and the config diff)."""
    import importlib
    from pkgutil import iter_modules

    import csops_cli.render as render

    modules = [module.name for module in iter_modules(render.__path__)]
    kinds = {name: importlib.import_module(f"csops_cli.render.{name}").VIEW.kind
             for name in modules}
    for name, kind in kinds.items():
        for one in kind if isinstance(kind, tuple) else (kind,):
            asked: list[str] = []

            def imported(module, package, asked=asked):
                asked.append(module)
                return importlib.import_module(module, package)

            monkeypatch.setattr(render, "import_module", imported)
            assert view_of(object.__new__(one)).kind is kind
            # the renderer is the first module tried, but where the type's name does not
            # name it (Initialisation: initialise)
            if name in one.__name__.lower():
                assert asked[0] == f".{name}", (one.__name__, asked)


# --- tables that fit the terminal ---------------------------------------------------------------

def fitted_lines(columns, rows, width):
    from rich.console import Console

    from csops_cli.render import fit

    fitted = fit(columns, rows, width=width)
    out = Console(width=width, file=io.StringIO(), no_color=True)
    with out.capture() as capture:
        for part in fitted.shown():
            out.print(part)
    return fitted, [line.rstrip() for line in capture.get().splitlines()]


def test_names_shrink_first_then_the_least_important_column_is_hidden():
    from csops_cli.render import Column

    columns = [Column("Id"), Column("Name", flex="ellipsis", min_width=6),
               Column("Stage", priority=1), Column("ARR", "right"), Column("Note", priority=2)]
    rows = [["A1", "A very long account name", "Onboarding", "1,234,567", "renewal due"]]
    # wide: everything whole
    fitted, lines = fitted_lines(columns, rows, 80)
    assert fitted.hidden == [] and fitted.note() is None
    assert lines[3].split() == ["A1", "A", "very", "long", "account", "name", "Onboarding",
                                "1,234,567", "renewal", "due"]
    # 50 columns: the name shrinks to fit, nothing is hidden
    fitted, lines = fitted_lines(columns, rows, 50)
    assert fitted.hidden == []
    assert "1,234,567" in lines[3].split() and "…" in lines[3]
    # 36 columns: the name at its minimum is not enough: Stage goes first, then Note
    fitted, lines = fitted_lines(columns, rows, 36)
    assert fitted.hidden == ["Stage"]
    assert lines[3].split()[0] == "A1" and "1,234,567" in lines[3].split()
    assert fitted.note() == "hidden at 36 columns: Stage; widen the terminal or use --format csv"
    assert " ".join(lines[-2:]) == fitted.note()  # printed under the table, wrapped
    fitted, lines = fitted_lines(columns, rows, 22)
    assert fitted.hidden == ["Stage", "Note"]
    assert "1,234,567" in lines[3].split()
    assert all(len(line) <= 22 for line in lines[:4])


def test_a_text_column_wraps_rather_than_being_cut():
    from csops_cli.render import Column

    columns = [Column("Id"), Column("Fix", flex="fold", min_width=10)]
    _, lines = fitted_lines(columns, [["A1", "remove the row or fix its amount"]], 20)
    shown = " ".join(word for line in lines[3:] for word in line.split())
    assert shown == "A1 remove the row or fix its amount"
    assert all(len(line) <= 20 for line in lines)


def test_limited_says_how_many_more():
    from csops_cli.render import limited

    frame = pd.DataFrame({"n": range(1030)})
    head, more = limited(frame, 25)
    assert head["n"].tolist() == list(range(25))
    assert more.plain == "… and 1,005 more (--all to show every row)"
    assert limited(frame, None)[1] is None and limited(frame, 2000)[1] is None


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_row_limit_25_in_a_terminal_all_when_piped_or_written(monkeypatch):
    from csops_cli.options import row_limit

    monkeypatch.setattr("sys.stdout", Terminal())
    assert row_limit(None, False, "table", None) == 25
    assert row_limit(None, False, "table", Path("-")) == 25
    assert row_limit(None, True, "table", None) is None  # --all
    assert row_limit(None, False, "csv", None) is None  # CSV on a terminal: every row
    assert row_limit(None, False, "table", Path("health.txt")) is None  # a file
    assert row_limit(10, False, "json", Path("health.json")) == 10  # given: everywhere
    with pytest.raises(UsageError, match="--limit and --all"):
        row_limit(10, True, "table", None)
    monkeypatch.setattr("sys.stdout", io.StringIO())  # piped
    assert row_limit(None, False, "table", None) is None


def test_limit_given_cuts_csv_and_json_too(cli, tmp_path):
    history = ["--history", tmp_path / "h.db", "--no-save", "-q"]
    table = cli("health", SAMPLE, "--limit", "3", *history)
    assert table.exit_code == 0, table.output
    paying = len(sample_paying("2026-11-20"))
    assert f"… and {paying - 3:,} more (--all to show every row)" in table.stdout.splitlines()
    assert len(cli("health", SAMPLE, "-f", "csv", "--limit", "3", *history)
               .stdout.splitlines()) == 1 + 3
    assert len(json.loads(cli("health", SAMPLE, "-f", "json", "--limit", "3", *history)
                          .stdout)) == 3
    # not given: a pipe gets every row
    assert len(cli("health", SAMPLE, "-f", "csv", *history).stdout.splitlines()) == 1 + paying
    assert "more (--all" not in cli("health", SAMPLE, *history).stdout
    both = cli("health", SAMPLE, "--limit", "3", "--all", *history)
    assert both.exit_code == 2
    assert "--limit and --all contradict each other" in both.stderr


# --- numbers as they are defined ----------------------------------------------------------------

def test_json_numbers_are_rounded_to_their_definition():
    from csops_cli.output import json_text, records

    frame = pd.DataFrame({"account_id": ["A1"], "health_score": [93.70000000000002],
                          "health_change": [-2.0499999999], "arr": [1234.5678],
                          "forecast_arr": [3325.139999999], "license_utilization": [0.123456],
                          "logins_30d": [12]})
    assert records(frame) == [{"account_id": "A1", "health_score": 93.7, "health_change": -2.0,
                               "arr": 1234.57, "forecast_arr": 3325.14,
                               "license_utilization": 0.1235, "logins_30d": 12}]
    nested = {"nrr": {"value": 1.0812345678, "starting_arr": 10.005000001,
                      "by_segment": {"SMB": 0.99999999}, "old_score": 70.04999},
              "aucs": [0.83333333333]}
    assert json.loads(json_text(nested)) == {
        "nrr": {"value": 1.0812, "starting_arr": 10.01, "by_segment": {"SMB": 1.0},
                "old_score": 70.0},
        "aucs": [0.8333]}


def test_health_json_has_no_float_noise(cli, tmp_path):
    result = cli("health", SAMPLE, "-f", "json", "--no-save", "--history", tmp_path / "h.db")
    for record in json.loads(result.stdout):
        for name in ("health_score", "usage_score", "relationship_score", "commercial_score"):
            value = record[name]
            assert value is None or value == round(value, 1), (name, value)


def test_explain_shows_arr_as_money_and_days_whole():
    from csops_cli.render.explain import _value_text

    assert _value_text(24100.0, "arr") == "24,100"
    assert _value_text(7.0, "arr") == "7"
    assert _value_text(127.0, "days_since_last_touch") == "127"
    assert _value_text(3.0, "meetings_90d") == "3"
    assert _value_text(0.333333, "logins_per_user_30d") == "0.33"
    assert _value_text(0.2, "license_utilization") == "0.20"


def test_nrr_bridge_has_no_double_minus(cli, tmp_path):
    result = cli("metrics", SAMPLE, "-q")
    bridge = result.stdout[result.stdout.index("NRR bridge"):].splitlines()
    rows = [line.split("  ") for line in bridge]
    labelled = {cells[0].strip(): cells[-1].strip() for cells in rows
                if len(cells) > 1 and cells[0].strip()}
    assert labelled["− Contraction"][0].isdigit() and labelled["− Churn"][0].isdigit()
    assert "-" not in labelled["− Contraction"] + labelled["− Churn"]


def test_json_rounds_floats_in_mixed_columns():
    from csops_cli.output import records

    frame = pd.DataFrame({"signal": ["a", "b", "c"], "value": [0.123456789, "left", None],
                          "points": [4.6000000001, 0.0, 1.25]})
    assert records(frame) == [{"signal": "a", "value": 0.1235, "points": 4.6},
                              {"signal": "b", "value": "left", "points": 0.0},
                              {"signal": "c", "value": None, "points": 1.25}]
