"""A play's reason names only the values that made its condition true (PRODUCT.md §7), and
never a missing value."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csops_cli.play_reasons import number_text, reasons, values_read

FRAME = pd.DataFrame({
    "license_utilization": [0.48, 0.92, 0.95, None],
    "new_business_unit": pd.array([True, False, True, True], dtype="boolean"),
    "health_score": [62.3, 80.0, 55.0, 40.0],
    "health_change": [-12.0, None, -3.0, -15.0],
    "segment": ["SMB", "Commercial", "SMB", None],
}, index=pd.Index(["A", "B", "C", "D"], name="account_id"))


@pytest.mark.parametrize("condition, expected", [
    # an `or`: only its true parts
    ("license_utilization > 0.8 or new_business_unit",
     ["new_business_unit=true", "license_utilization=0.92",
      "license_utilization=0.95; new_business_unit=true", "new_business_unit=true"]),
    # an `and`: every part (all are true where it holds)
    ("health_score < 70 and health_change <= -10",
     ["health_score=62.30; health_change=-12", "", "", "health_score=40; health_change=-15"]),
    # nested: the drop fires A and D, the segment only where its branch is true
    ("health_change <= -10 or (health_score < 60 and segment == 'SMB')",
     ["health_change=-12", "", "health_score=55; segment=SMB", "health_change=-15"]),
    # `not`: the value that made the inner part false is the reason; a missing one is not shown
    ("not new_business_unit", ["", "new_business_unit=false", "", ""]),
    ("not (license_utilization > 0.9)", ["license_utilization=0.48", "", "", ""]),
])
def test_only_the_values_that_made_it_true(condition, expected):
    assert reasons(condition, FRAME).tolist() == expected


def test_no_null_reaches_a_note():
    text = reasons("license_utilization > 0.8 or health_change <= -10 or health_score < 50",
                   FRAME)
    assert not text.str.contains("null|nan|<NA>|None", regex=True).any()
    assert text.tolist()[3] == "health_change=-15; health_score=40"


def test_values_read_shows_everything_for_a_play_that_did_not_fire():
    assert values_read(FRAME, ("health_score", "health_change")).tolist()[1] == \
        "health_score=80; health_change=missing"


def shown_one_by_one(number: float) -> str | None:
    """The rule written plainly: whole numbers without decimals, others with two."""
    if math.isnan(number):
        return None
    return f"{number:.0f}" if np.round(number) == number else f"{number:.2f}"


NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-10**6, 10**6).map(lambda k: k / 200),  # ties of the rounding to cents
    st.integers(-10**6, 10**6).map(lambda k: k / 1000),
    st.sampled_from([0.0, -0.0, 0.005, 0.015, 0.615, 1.005, -0.001, 2.675, 1e15, -2**53,
                     2.0**40 - 0.5, 12345678.125]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(NUMBERS, max_size=40))
def test_numbers_shown_as_formatted_one_by_one(numbers):
    array = np.array(numbers, dtype=float)
    assert number_text(array).tolist() == [shown_one_by_one(n) for n in numbers]
