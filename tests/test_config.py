"""playbooks.yaml into typed models: defaults held by the models, problems located and coded."""

from __future__ import annotations

import pytest
import yaml

from csops_cli.config import (
    ActivityToOutcomeConfig,
    MetricsConfig,
    TtfvConfig,
    default_config_text,
    find_config,
    parse_config,
)
from csops_cli.errors import ConfigError, ProblemCode

MINIMAL = default_config_text().split("\nmetrics:\n")[0] + "\n"


def problems_of(text: str) -> list[tuple[str, int | None, str | None]]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "p.yaml")
    assert all(problem.file == "p.yaml" for problem in caught.value.problems)
    return [(problem.code, problem.line, problem.column) for problem in caught.value.problems]


def line_of(text: str, fragment: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_the_packaged_metrics_are_the_models_defaults():
    """The commented playbooks.yaml teaches the defaults; it must not drift from them."""
    assert parse_config(default_config_text()).metrics == MetricsConfig()
    assert "metrics" in yaml.safe_load(default_config_text())


def test_metrics_left_out_keep_their_defaults():
    config = parse_config(MINIMAL)
    assert config.metrics == MetricsConfig()
    assert config.metrics.ttfv.window_days == 180
    assert config.metrics.ttfv.target == 30
    assert config.metrics.ttfv.value_features == []
    assert config.metrics.expansion_conversion.signal_lookback_days == 90
    assert config.metrics.activity_to_outcome.touch_types == [
        "meeting", "call", "email", "qbr", "training"]
    assert config.metrics.activity_to_outcome.per_arr == 10_000
    assert config.metrics.nrr.target == 1.05


def test_a_metric_given_in_part_keeps_the_rest_of_its_defaults():
    config = parse_config(MINIMAL + "metrics:\n  ttfv:\n    window_days: 90\n"
                                    "  activity_to_outcome: {target: 3}\n")
    assert config.metrics.ttfv == TtfvConfig(window_days=90)
    assert config.metrics.activity_to_outcome == ActivityToOutcomeConfig(target=3)
    assert config.metrics.grr.name == "Gross revenue retention"


def test_a_parameter_of_another_metric_is_an_unknown_key():
    text = MINIMAL + "metrics:\n  adoption_rate:\n    window_days: 30\n"
    assert problems_of(text) == [(ProblemCode.UNKNOWN_KEY, line_of(text, "window_days"),
                                  "metrics.adoption_rate.window_days")]


def test_an_unknown_metric_names_the_nearest():
    text = MINIMAL + "metrics:\n  ttvf:\n    window_days: 30\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "p.yaml")
    [problem] = caught.value.problems
    assert (problem.code, problem.line, problem.column, problem.fix) == (
        ProblemCode.UNKNOWN_KEY, line_of(text, "ttvf"), "metrics.ttvf", "did you mean 'ttfv'?")


@pytest.mark.parametrize("value", ["0", "-5", "soon"])
def test_metric_windows_are_positive_whole_days(value):
    text = MINIMAL + f"metrics:\n  ttfv:\n    window_days: {value}\n"
    assert problems_of(text) == [(ProblemCode.INVALID_VALUE, line_of(text, "window_days"),
                                  "metrics.ttfv.window_days")]


def test_the_yaml_is_read_once(monkeypatch):
    calls = []
    original = yaml.SafeLoader.__init__

    def counting(self, stream):
        calls.append(1)
        original(self, stream)

    monkeypatch.setattr(yaml.SafeLoader, "__init__", counting)
    parse_config(default_config_text())
    assert len(calls) == 1


# --- every problem carries its code, line and place ---------------------------------------------

CONFIG = default_config_text()


@pytest.mark.parametrize("text, expected", [
    ("version: 1\ninputs:\n  dayfrist: true\n",
     [(ProblemCode.UNKNOWN_KEY, 3, "inputs.dayfrist"), (ProblemCode.MISSING_KEY, 1, "health"),
      (ProblemCode.MISSING_KEY, 1, "segments")]),
    (CONFIG.replace("coverage:", "coverag:"),
     [(ProblemCode.UNKNOWN_KEY, line_of(CONFIG, "coverage:"), "coverag")]),
    (CONFIG.replace("green: 70", "green: high"),
     [(ProblemCode.INVALID_VALUE, line_of(CONFIG, "green: 70"), "health.bands.green")]),
    (CONFIG.replace("meetings_90d: {", "meetings_90: {"),
     [(ProblemCode.UNKNOWN_NAME, line_of(CONFIG, "meetings_90d: {"),
       "health.buckets.relationship_depth.signals.meetings_90")]),
    (CONFIG.replace("  accounts: {}", "  accounts: {owner: CSM}"),
     [(ProblemCode.UNKNOWN_NAME, line_of(CONFIG, "  accounts: {}"), "columns.accounts.owner")]),
    (CONFIG.replace("id: renewal_countdown", "id: expansion_signal"),
     [(ProblemCode.DUPLICATE_ID, line_of(CONFIG, "id: renewal_countdown"), "plays[3].id")]),
    (CONFIG.replace("when: days_to_renewal <= 120", "when: open('/etc/passwd').read()"),
     [(ProblemCode.BAD_CONDITION, line_of(CONFIG, "when: days_to_renewal <= 120"),
       "plays[3].when")]),
    (CONFIG.replace("owner: ae, due_in_days: 7", "owner: ceo, due_in_days: 7"),
     [(ProblemCode.INVALID_VALUE, line_of(CONFIG, "owner: ae, due_in_days: 7"),
       "plays[2].actions[0].owner")]),
    (CONFIG.replace("weight: 0.55\n", "weight: -1\n", 1),
     [(ProblemCode.INVALID_VALUE, line_of(CONFIG, "weight: 0.55"),
       "health.buckets.product_usage.weight")]),
], ids=["unknown-key-and-missing-sections", "unknown-section", "wrong-type", "unknown-signal",
        "unknown-column", "duplicate-play", "hostile-condition", "unknown-owner-role",
        "negative-weight"])
def test_model_problems_carry_code_line_and_place(text, expected):
    assert problems_of(text) == expected


@pytest.mark.parametrize("text, code, line", [
    ("version: 1\nhealth:\n  bands: [green\n  x: 1\n", ProblemCode.BAD_YAML, 4),
    ("version: 1\ninputs:\n\tdayfirst: true\n", ProblemCode.BAD_YAML, 3),
    ('version: 1\nx: !!python/object/apply:os.system ["echo PWNED"]\n',
     ProblemCode.UNSUPPORTED_YAML, 2),
])
def test_yaml_problems_carry_code_and_line(text, code, line):
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "p.yaml")
    [problem] = caught.value.problems
    assert (problem.file, problem.code, problem.line) == ("p.yaml", code, line)


def test_tabs_get_their_own_fix():
    with pytest.raises(ConfigError) as caught:
        parse_config("version: 1\ninputs:\n\tdayfirst: true\n", "p.yaml")
    assert caught.value.problems[0].fix == "YAML does not allow tabs for indentation; use spaces"


@pytest.mark.parametrize("text, code", [
    ("", ProblemCode.EMPTY_FILE),
    ("# nothing but a comment\n", ProblemCode.EMPTY_FILE),
    ("- a\n- b\n", ProblemCode.NOT_A_MAPPING),
    ("a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join(['*a' if i == 1 else f'*a{i - 1}'] * 10)}]\n"
        for i in range(1, 8)), ProblemCode.YAML_TOO_LARGE),
])
def test_whole_file_problems_carry_a_code(text, code):
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "p.yaml")
    assert (caught.value.code, caught.value.problems) == (code, [])


def test_config_files_that_cannot_be_read(tmp_path):
    with pytest.raises(ConfigError) as caught:
        find_config(tmp_path / "none.yaml")
    assert caught.value.code == ProblemCode.FILE_NOT_FOUND
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"version: 1\nx: \xff\xfe\n")
    with pytest.raises(ConfigError) as caught:
        find_config(latin)
    assert caught.value.code == ProblemCode.UNSUPPORTED_ENCODING


def test_a_play_naming_an_unknown_column_is_located_when_the_columns_are_known():
    import pandas as pd

    from csops_cli.conditions import compile_plays

    text = CONFIG.replace("when: days_to_renewal <= 120", "when: days_to_renewel <= 120")
    config = parse_config(text, "p.yaml")
    frame = pd.DataFrame({"days_to_renewal": [10.0], "health_score": [50.0]})
    renewal = [play for play in config.plays if play.id == "renewal_countdown"]
    with pytest.raises(ConfigError) as caught:
        compile_plays(renewal, frame, config.label, config.play_lines)
    [problem] = caught.value.problems
    assert (problem.file, problem.code, problem.line, problem.column, problem.value) == (
        "p.yaml", ProblemCode.BAD_CONDITION, line_of(text, "when: days_to_renewel"),
        "plays.renewal_countdown.when", "days_to_renewel <= 120")
    assert problem.fix == "did you mean days_to_renewal?"


def test_a_misspelt_metric_parameter_names_the_nearest():
    text = CONFIG.replace("    window_days: 180", "    windw_days: 180")
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "p.yaml")
    [problem] = caught.value.problems
    assert (problem.code, problem.line, problem.column, problem.fix) == (
        ProblemCode.UNKNOWN_KEY, line_of(CONFIG, "    window_days: 180"),
        "metrics.ttfv.windw_days", "did you mean 'window_days'?")
