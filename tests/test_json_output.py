"""JSON output: records made a column at a time hold the values the contract asks for, and
the text of a list of records is exactly Python's indented JSON, made quickly."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
from hypothesis import example, given, settings
from hypothesis import strategies as st

from csops_cli import output


def indented(payload) -> str:
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def test_records_of_every_kind_of_column():
    frame = pd.DataFrame({
        "account_id": pd.array(["A1", None, "Ünïcode"], dtype="string[pyarrow]"),
        "health_score": [62.345, float("nan"), 80.0],  # scores: one decimal
        "arr": [1200.504, 0.125, float("inf")],  # money: two
        "license_utilization": [0.123456, 1 / 3, -0.00001],  # anything else: four
        "days": np.array([3, -1, 0], dtype=np.int64),
        "partial": [True, False, True],
        "renewal_date": pd.to_datetime(["2026-01-31", None, "2027-12-01"]),
        "band": pd.Categorical(["red", None, "green"]),
        "licenses": pd.array([5, None, 7], dtype="Int64"),
        "champion": pd.array([True, None, False], dtype="boolean"),
        "share": pd.array([0.55555, None, 1.0], dtype="Float64"),
        "mixed": [{"arr": 1.234}, [0.123456], None],
    })
    assert output.records(frame) == [
        {"account_id": "A1", "health_score": 62.3, "arr": 1200.5, "license_utilization": 0.1235,
         "days": 3, "partial": True, "renewal_date": "2026-01-31", "band": "red",
         "licenses": 5, "champion": True, "share": 0.5556, "mixed": {"arr": 1.23}},
        {"account_id": None, "health_score": None, "arr": 0.12, "license_utilization": 0.3333,
         "days": -1, "partial": False, "renewal_date": None, "band": None, "licenses": None,
         "champion": None, "share": None, "mixed": [0.1235]},
        {"account_id": "Ünïcode", "health_score": 80.0, "arr": math.inf,
         "license_utilization": -0.0, "days": 0, "partial": True,
         "renewal_date": "2027-12-01", "band": "green", "licenses": 7, "champion": False,
         "share": 1.0, "mixed": None},
    ]
    kinds = [{key: type(value) for key, value in record.items()}
             for record in output.records(frame)]
    assert kinds[0]["days"] is int and kinds[0]["arr"] is float and kinds[0]["partial"] is bool
    assert kinds[0]["licenses"] is int


def test_records_text_of_a_slice():
    frame = pd.DataFrame({"account_id": ["A1", "A2", "A3"], "arr": [1.005, 2.0, 3.25]})
    assert output.json_text(output.records(frame)[:2]) == (
        '[\n  {\n    "account_id": "A1",\n    "arr": 1.0\n  },\n'
        '  {\n    "account_id": "A2",\n    "arr": 2.0\n  }\n]\n')


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**20, max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.sampled_from(list('ab}{,"\\\n\t ü€\u2028\x00:[]')), max_size=12),
)
FLAT = st.lists(st.dictionaries(st.text(max_size=6), SCALARS, min_size=1, max_size=5),
                max_size=6)


@settings(max_examples=300, deadline=None)
@given(FLAT)
@example([{"a": "},\n    {", "b": 1}, {"a": "x"}])
@example([{"reason": 'x"}, {"y'}, {"": None}])
def test_records_text_is_pythons_indented_json(payload):
    rounded = output._rounded(payload)
    assert output.json_text(payload) == indented(rounded)


@given(st.lists(st.one_of(st.dictionaries(st.text(max_size=3), st.lists(SCALARS, max_size=2),
                                          max_size=2), SCALARS), max_size=4))
def test_anything_else_is_python_json_too(payload):
    assert output.json_text(payload) == indented(output._rounded(payload))


def test_empty_list_and_empty_record():
    assert output.json_text([]) == "[]\n"
    assert output.json_text([{}, {"a": 1}]) == indented([{}, {"a": 1}])
