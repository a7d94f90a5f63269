"""The condition language: semantics, what is refused, and errors with a place."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csops_cli import plays
from csops_cli.conditions import ConditionError, compile_condition
from csops_cli.errors import CsopsError
from test_plays import AS_OF, NO_PLAYS, ROWS, TEAM, signal_frame

FRAME = signal_frame()


@pytest.mark.parametrize("text, expected", [
    ("health_score < 70", {"DROP"}),
    ("health_change <= -10", {"FALL"}),
    ("health_change > -100", set(ROWS) - {"ONB"}),  # missing compares false
    ("health_change == null", {"ONB"}),
    ("health_change != null and not new_business_unit and days_to_renewal >= 300",
     {"DROP", "FALL", "EXP"}),
    ("account_name in ['ren inc', 'Onb Inc']", {"REN", "ONB"}),  # text ignores case
    ("account_name not in ['Ren Inc']", set(ROWS) - {"REN"}),
    ("license_utilization * 100 > 85", {"EXP"}),
    ("(health_score - 5) / 5 == 15", {"ONB", "EXP", "BU", "REN"}),
    ("0 < days_since_new_contract < 5", {"ONB"}),
    ("true", set(ROWS)),
    ("segment == 'commercial' and false", set()),
])
def test_condition_semantics(text, expected):
    mask = compile_condition(text, FRAME)(FRAME)
    assert set(FRAME.index[mask]) == expected


@pytest.mark.parametrize("text, message", [
    ("__import__('os').system('touch /tmp/csops-pwned')", "function calls"),
    ("health_score.real > 1", "attribute access"),
    ("(lambda: 1)()", "function calls"),
    ("[x for x in segment]", "comprehensions"),
    ("health_score if true else 0", "if/else"),
    ("segment[0] == 'a'", "indexing"),
    ("health_score ** 2 > 1", "not allowed"),
    ("health_score", "not true/false"),
    ("segment > 3", "cannot compare"),
    ("helth_score < 70", "did you mean health_score"),
    ("health_score <", "not a valid condition"),
    ("x == 1; import os", "not a valid condition"),
    ("not " * 100 + "true", "nested"),
    ("health_score < 70 or " * 6000 + "true", "characters long"),
])
def test_hostile_or_wrong_conditions_are_rejected(text, message):
    with pytest.raises(ConditionError) as caught:
        compile_condition(text, FRAME)
    assert message in f"{caught.value} {caught.value.fix}"


names = st.sampled_from(list(FRAME.columns) + ["nope", "true", "null", "__class__"])
atoms = st.one_of(names, st.integers(-5, 500).map(str), st.floats(-2, 2).map(repr),
                  st.sampled_from(["'Commercial'", "'x'", "[1, 2]", "['a', 'Commercial']"]))
operators = st.sampled_from([" < ", " <= ", " > ", " >= ", " == ", " != ", " and ", " or ",
                             " + ", " - ", " * ", " / ", " in ", " not in "])


@st.composite
def expressions(draw):
    parts = [draw(atoms)]
    for _ in range(draw(st.integers(0, 6))):
        prefix = draw(st.sampled_from(["", "not ", "-", "("]))
        parts.append(draw(operators) + prefix + draw(atoms) + (")" if prefix == "(" else ""))
    return "".join(parts)


@settings(max_examples=400, deadline=None)
@given(st.one_of(expressions(), st.text(max_size=60)))
def test_any_expression_compiles_to_a_mask_or_raises_the_projects_error(text):
    try:
        condition = compile_condition(text, FRAME)
    except ConditionError:
        return
    mask = condition(FRAME)
    assert mask.dtype == bool and len(mask) == len(FRAME)


# --- end to end ----------------------------------------------------------------------------


def test_condition_errors_are_csops_errors():
    from csops_cli.config import default_config_text, parse_config
    from csops_cli.errors import ConfigError

    assert issubclass(ConditionError, ValueError)
    assert not issubclass(ConditionError, CsopsError)  # wrapped into ConfigError with a place
    # a name that the signal table lacks: found when the play is evaluated
    text = default_config_text().replace("when: days_to_renewal <= 120",
                                         "when: days_to_renewel <= 120")
    config = parse_config(text, "typo.yaml")
    with pytest.raises(CsopsError) as caught:
        plays.evaluate(signal_frame(), config, AS_OF, TEAM, NO_PLAYS)
    assert type(caught.value) is ConfigError and caught.value.exit_code == 2
    line = text.splitlines().index("    when: days_to_renewel <= 120") + 1
    assert [(p.file, p.line, p.column, p.value) for p in caught.value.problems] == [
        ("typo.yaml", line, "plays.renewal_countdown.when", "days_to_renewel <= 120")]
    # a condition that is not valid at all: found when the configuration is read
    with pytest.raises(CsopsError) as caught:
        parse_config(text.replace("when: days_to_renewel <= 120", "when: days_to_renewal <"),
                     "syntax.yaml")
    assert type(caught.value) is ConfigError and caught.value.exit_code == 2
    assert [(p.file, p.line) for p in caught.value.problems] == [("syntax.yaml", line)]
