"""Health model: scaling, renormalisation, partial, bands, and contributions that add up."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csops_cli.config import SignalScale, parse_config
from csops_cli.health import rounded_parts, scale, score

SMALL_MODEL = """
health:
  bands: {green: 70, yellow: 50}
  buckets:
    product_usage:
      weight: 0.5
      signals:
        license_utilization: {weight: 3, bad: 0.2, good: 0.8}
        core_feature_adoption: {weight: 1, bad: 0, good: 1}
    relationship_depth:
      weight: 0.3
      signals:
        days_since_last_touch: {weight: 1, bad: 60, good: 0}
        champion_status: {weight: 1, scores: {active: 100, none: 50, left: 0}}
    commercial_context:
      weight: 0.2
      signals:
        arr_change_12m: {weight: 1, bad: -0.2, good: 0.2}
segments: [{name: All, min_arr: 0}]
"""


@pytest.fixture
def model():
    return parse_config(SMALL_MODEL)


def test_scale_is_linear_clipped_and_works_in_either_direction():
    rising = SignalScale(weight=1, bad=0.2, good=0.8)
    values = pd.Series([0.0, 0.2, 0.5, 0.8, 1.5, np.nan])
    assert scale(values, rising).tolist()[:5] == pytest.approx([0, 0, 50, 100, 100])
    assert math.isnan(scale(values, rising).iloc[5])
    falling = SignalScale(weight=1, bad=60, good=0)  # days since last touch: lower is better
    assert scale(pd.Series([0, 15, 60, 90]), falling).tolist() == [100, 75, 0, 0]


def test_hand_computed_score(model):
    signals = pd.DataFrame({
        "license_utilization": [0.5],  # (0.5-0.2)/0.6 = 50
        "core_feature_adoption": [0.9],  # 90
        "days_since_last_touch": [15],  # (15-60)/(0-60) = 75
        "champion_status": ["none"],  # 50
        "arr_change_12m": [0.1],  # (0.1+0.2)/0.4 = 75
    }, index=["a"])
    health = score(signals, model)
    row = health.scores.loc["a"]
    # usage: (3*50 + 1*90)/4 = 60; relationship: (75+50)/2 = 62.5; commercial: 75
    assert row["usage_score"] == pytest.approx(60)
    assert row["relationship_score"] == pytest.approx(62.5)
    assert row["commercial_score"] == pytest.approx(75)
    # total: 0.5*60 + 0.3*62.5 + 0.2*75 = 30 + 18.75 + 15 = 63.75
    assert row["health_score"] == pytest.approx(63.75)
    assert row["health_band"] == "yellow"
    assert not row["partial"]
    # license_utilization: weight 0.5 * 3/4 = 0.375 of the score, 50 * 0.375 = 18.75 points
    assert health.weights.loc["a", ("product_usage", "license_utilization")] == pytest.approx(0.375)
    assert health.contributions.loc["a"].sum() == pytest.approx(63.75)


def test_missing_signal_renormalises_and_missing_bucket_is_partial(model):
    signals = pd.DataFrame({
        "license_utilization": [np.nan],
        "core_feature_adoption": [0.9],
        "days_since_last_touch": [np.nan],
        "champion_status": [pd.NA],
        "arr_change_12m": [0.2],
    }, index=["a"])
    row = score(signals, model).scores.loc["a"]
    assert row["usage_score"] == pytest.approx(90)  # only adoption is left in the bucket
    assert pd.isna(row["relationship_score"])
    assert bool(row["partial"]) is True
    # (0.5*90 + 0.2*100) / 0.7
    assert row["health_score"] == pytest.approx((45 + 20) / 0.7)


def test_bands_edges(model):
    signals = pd.DataFrame({"license_utilization": [0.8, 0.5, 0.44],
                            "core_feature_adoption": [0.7, 0.5, 0.5],
                            "days_since_last_touch": [np.nan] * 3,
                            "champion_status": [pd.NA] * 3,
                            "arr_change_12m": [np.nan] * 3}, index=list("abc"))
    health = score(signals, model).scores
    # a: (300 + 70)/4 = 92.5; b: (150 + 50)/4 = 50 exactly; c: (120 + 50)/4 = 42.5
    assert health["health_band"].tolist() == ["green", "yellow", "red"]


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
maybe = st.one_of(st.just(np.nan), finite)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(maybe, maybe, maybe, st.sampled_from(["active", "none", "left", None]),
                          maybe), min_size=1, max_size=20))
def test_scores_stay_in_range_and_contributions_add_up(rows):
    model = parse_config(SMALL_MODEL)
    signals = pd.DataFrame(rows, columns=["license_utilization", "core_feature_adoption",
                                          "days_since_last_touch", "champion_status",
                                          "arr_change_12m"])
    health = score(signals, model)
    total = health.scores["health_score"]
    known = total.dropna()
    assert ((known >= 0) & (known <= 100)).all()
    # a row with no signal at all has no score, and says so
    no_signal = signals.drop(columns="champion_status").isna().all(axis=1) & \
        signals["champion_status"].isna()
    assert total[no_signal].isna().all()
    np.testing.assert_allclose(health.contributions.sum(axis=1)[total.notna()],
                               total[total.notna()], atol=1e-9)
    for column in ("usage_score", "relationship_score", "commercial_score"):
        values = health.scores[column].dropna()
        assert ((values >= 0) & (values <= 100)).all()


@given(st.lists(st.floats(min_value=0, max_value=100, allow_nan=False), min_size=1,
                max_size=12))
def test_rounded_parts_add_up_to_the_rounded_total(parts):
    total = sum(parts)
    shown = rounded_parts(parts, total)
    assert round(sum(shown), 1) == round(total, 1)
    assert all(abs(s - p) < 0.1 + 1e-9 for s, p in zip(shown, parts, strict=True))


SEGMENT_MODEL = SMALL_MODEL.replace("segments: [{name: All, min_arr: 0}]", """\
  segments:
    SMB:
      bands: {green: 60, yellow: 40}
      buckets:
        relationship_depth:
          weight: 0.1
          signals:
            champion_status: {weight: 1, scores: {active: 100, none: 50, left: 0}}
segments: [{name: All, min_arr: 0}]""")


def test_a_segment_override_replaces_its_buckets_and_bands():
    model = parse_config(SEGMENT_MODEL)
    signals = pd.DataFrame({
        "license_utilization": [0.5, 0.5],  # 50
        "core_feature_adoption": [0.9, 0.9],  # 90: usage (3*50 + 90)/4 = 60
        "days_since_last_touch": [15, 15],  # 75, not in the SMB model
        "champion_status": ["none", "none"],  # 50
        "arr_change_12m": [0.1, 0.1],  # 75
        "segment": pd.array(["Commercial", "SMB"], dtype="string"),
    }, index=["big", "small"])
    health = score(signals, model)
    rows = health.scores
    # big, the shared model: 0.5*60 + 0.3*62.5 + 0.2*75 = 63.75, yellow at 70/50
    assert rows.loc["big", "health_score"] == pytest.approx(63.75)
    assert rows.loc["big", "health_band"] == "yellow"
    # small: relationship is the champion alone (50) at weight 0.1:
    # (0.5*60 + 0.1*50 + 0.2*75) / 0.8 = 50 / 0.8 = 62.5, green at its own 60
    assert rows.loc["small", "relationship_score"] == pytest.approx(50)
    assert rows.loc["small", "health_score"] == pytest.approx(62.5)
    assert rows.loc["small", "health_band"] == "green"
    # the touch signal is outside the SMB model: no weight, no points; the points add up
    touch = ("relationship_depth", "days_since_last_touch")
    assert pd.isna(health.weights.loc["small", touch])
    assert health.contributions.loc["small", touch] == 0
    assert health.weights.loc["big", touch] == pytest.approx(0.3 / 2)
    for account in ("big", "small"):
        assert health.contributions.loc[account].sum() == pytest.approx(
            rows.loc[account, "health_score"])


def test_accounts_of_segments_in_any_order_keep_their_own_scores():
    # SMB rows first, then the shared model's, then SMB again: each row's score is the one
    # of the hand-computed example above (SMB 62.5 green, the others 63.75 yellow)
    model = parse_config(SEGMENT_MODEL)
    segments = ["SMB", "Commercial", "SMB", "Commercial", "SMB"]
    signals = pd.DataFrame({
        "license_utilization": [0.5] * 5, "core_feature_adoption": [0.9] * 5,
        "days_since_last_touch": [15] * 5, "champion_status": ["none"] * 5,
        "arr_change_12m": [0.1] * 5, "segment": pd.array(segments, dtype="string"),
    }, index=["s1", "c1", "s2", "c2", "s3"])
    health = score(signals, model)
    assert list(health.scores.index) == ["s1", "c1", "s2", "c2", "s3"]
    expected = {"SMB": (62.5, "green"), "Commercial": (63.75, "yellow")}
    for account, segment in zip(signals.index, segments, strict=True):
        assert health.scores.loc[account, "health_score"] == pytest.approx(expected[segment][0])
        assert health.scores.loc[account, "health_band"] == expected[segment][1]
        assert health.contributions.loc[account].sum() == pytest.approx(expected[segment][0])


def test_an_override_for_a_segment_nobody_is_in_changes_nothing(model):
    signals = pd.DataFrame({"license_utilization": [0.5], "core_feature_adoption": [0.9],
                            "days_since_last_touch": [15], "champion_status": ["none"],
                            "arr_change_12m": [0.1],
                            "segment": pd.array(["Commercial"], dtype="string")},
                           index=["a"])
    with_override = score(signals, parse_config(SEGMENT_MODEL))
    assert with_override.scores.loc["a", "health_score"] == pytest.approx(
        score(signals, model).scores.loc["a", "health_score"])


def test_an_unknown_key_in_a_segment_override_is_named():
    from csops_cli.errors import CsopsError

    with pytest.raises(CsopsError) as error:
        parse_config(SEGMENT_MODEL.replace("      bands: {green: 60", "      band: {green: 60"))
    [problem] = error.value.problems
    assert "'band'" in problem.message and "bands" in str(problem.fix)


def test_the_shipped_smb_model_expects_no_meetings(default_config):
    smb = default_config.health.for_segment("SMB")
    signals = {name for bucket in smb.buckets.values() for name in bucket.signals}
    assert "meetings_90d" not in signals
    assert "meetings_90d" in default_config.health.buckets["relationship_depth"].signals
