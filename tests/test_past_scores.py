"""The forecast's band rates from the renewal cohort alone: each row scored as the whole
backtest scores it, with the exports narrowed to the cohort's accounts (and, where the health
model allows, the usage to the 30-day window); renewals and the forecast read today's scores
without rebuilding last week's."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import write
from csops_cli import forecast, past_scores, pipeline, threads
from csops_cli.backtest import BacktestOptions, backtest_dates, scored_panel, signals_as_known
from csops_cli.config import default_config_text, parse_config
from csops_cli.loading import load_exports
from csops_cli.signals import build_signals_at

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
AS_OF = pd.Timestamp("2026-11-20")
PANEL_COLUMNS = ["as_of", "account", "arr", "days_to_renewal", "health_score", "health_band"]


def config_reading(extra: dict | None = None):
    """The default config, its usage bucket also reading ``extra`` signals."""
    data = yaml.safe_load(default_config_text())
    if extra:
        data["health"]["buckets"]["product_usage"]["signals"].update(extra)
    return parse_config(yaml.safe_dump(data))


def in_pieces(exports, rows: int):
    """The exports with their usage events cut into chunks of ``rows`` events, as the reader
    cuts a large export (the sample's are one chunk): narrowing to a window drops chunks."""
    events = exports.usage.events
    n = len(events.ids)
    pieces = []
    for chunk in events.chunks:
        unknown_before = np.concatenate([[0], np.cumsum(chunk.account == n)])
        for start in range(0, len(chunk), rows):
            stop = min(start + rows, len(chunk))
            cut = {name: (None if value is None else value[start:stop])
                   for name, value in vars(chunk).items() if name != "unknown_ids"}
            first, last = unknown_before[start], unknown_before[stop]
            pieces.append(replace(chunk, **cut,
                                  unknown_ids=chunk.unknown_ids.slice(first, last - first)))
    return replace(exports, usage=past_scores._with_frame(
        exports.usage, None, replace(events, chunks=pieces)))


@pytest.fixture(scope="module")
def sample_exports():
    config = config_reading()
    exports = in_pieces(load_exports(SAMPLE, config), 2_000)
    assert len(exports.usage.events.chunks) > 50
    return exports


def whole_backtest_rows(exports, config, horizon: int = 90) -> pd.DataFrame:
    dates = backtest_dates(AS_OF, BacktestOptions(as_of=AS_OF, horizons=(horizon,)))
    panel = scored_panel(signals_as_known(exports, config, dates), config)
    due = panel["days_to_renewal"]
    return panel[(due >= 1) & (due <= horizon)]


def in_order(panel: pd.DataFrame) -> pd.DataFrame:
    return panel[PANEL_COLUMNS].sort_values(["as_of", "account"], ignore_index=True)


MODELS = [
    None,  # the shipped model: usage signals of the 30-day window only
    {"derived_stage": {"weight": 0.2, "scores": {"Adopt": 100, "Expand": 100, "Renew": 50,
                                                 "Onboarding": 0}}},
    {"new_feature_used": {"weight": 0.2, "scores": {"true": 100, "false": 0}}},
]
MODEL_IDS = ["window", "derived_stage", "new_feature_used"]


@pytest.mark.parametrize("extra", MODELS, ids=MODEL_IDS)
def test_renewal_rows_scored_as_the_whole_backtest_scores_them(sample_exports, extra):
    config = config_reading(extra)
    dates = backtest_dates(AS_OF, BacktestOptions(as_of=AS_OF, horizons=(90,)))
    narrowed = past_scores.past_panel(sample_exports, config, dates, renewal_within=90)
    whole = whole_backtest_rows(sample_exports, config)
    assert len(whole) > 400  # ten dates of the sample's renewals: enough to mean something
    pd.testing.assert_frame_equal(in_order(narrowed), in_order(whole))


@pytest.mark.parametrize("extra", MODELS, ids=MODEL_IDS)
def test_past_panel_is_the_backtests_scored_panel(sample_exports, extra):
    """Every row and column (buckets and each signal's score too), in the same order."""
    config = config_reading(extra)
    dates = [AS_OF - pd.Timedelta(weeks=weeks) for weeks in (12, 5, 0)]
    panel = past_scores.past_panel(sample_exports, config, dates)
    whole = scored_panel(signals_as_known(sample_exports, config, dates), config)
    assert len(whole) > 3 * 200
    pd.testing.assert_frame_equal(panel, whole)


def test_dates_built_side_by_side_give_the_panel_built_one_by_one(sample_exports,
                                                                   monkeypatch):
    """Four dates at once, each tallied on one thread, or one date at a time: the same rows
    in the same order (dates as given)."""
    config = config_reading()
    dates = backtest_dates(AS_OF, BacktestOptions(as_of=AS_OF, horizons=(90,)))
    inner: list[int] = []
    build = past_scores.build_signals_at

    def counting(*args, **kwargs):
        inner.append(threads.thread_count())
        return build(*args, **kwargs)

    monkeypatch.setattr(past_scores, "build_signals_at", counting)
    panels = {}
    for count in ("1", "4"):
        monkeypatch.setenv("CSOPS_THREADS", count)
        panels[count] = past_scores.past_panel(sample_exports, config, dates,
                                               renewal_within=90)
    assert len(panels["1"]) > 400
    pd.testing.assert_frame_equal(panels["1"], panels["4"])
    assert set(inner) == {1}  # each date's own work on one thread, whatever the setting


def test_window_only_usage_changes_only_the_usage_history_columns(sample_exports):
    """Narrowing the events to the window leaves every other column as it was: a new signal
    that reads older events must join USAGE_HISTORY_COLUMNS, or scores would change."""
    config = config_reading()
    date = pd.Timestamp("2026-05-19")
    everyone = np.arange(len(sample_exports.accounts.frame.drop_duplicates("account_id")))
    narrowing = past_scores._Narrowing(sample_exports, window_only=True)
    window = build_signals_at(narrowing.to(everyone, (date - pd.Timestamp(0)).days), config,
                              [date], as_known=True)[date].frame
    whole = build_signals_at(sample_exports, config, [date], as_known=True)[date].frame
    assert list(window.columns) == list(whole.columns)
    changed = {column for column in whole.columns
               if not window[column].equals(whole[column])}
    assert changed  # events before the window do matter to some columns
    assert changed <= past_scores.USAGE_HISTORY_COLUMNS


def test_health_reads_every_model(default_config):
    reads = past_scores.health_reads(default_config)
    assert {"license_utilization", "meetings_90d", "champion_status", "arr_change_12m",
            "days_since_last_touch"} <= reads  # the SMB model's signals among them
    assert not reads & past_scores.USAGE_HISTORY_COLUMNS


def test_band_rates_the_same_from_the_whole_backtest(sample_exports, monkeypatch):
    config = config_reading()
    narrowed = forecast.band_rates(sample_exports, config, AS_OF)
    monkeypatch.setattr(past_scores, "can_narrow", lambda exports: False)
    whole = forecast.band_rates(sample_exports, config, AS_OF)
    pd.testing.assert_frame_equal(narrowed, whole)
    assert narrowed["backtest_renewals"].sum() > 400


def test_no_renewal_in_any_horizon_gives_the_config_rates(tmp_path):
    """One account on a five-year contract: no backtest date sees a renewal within 90 days,
    so every band takes forecast.band_rates (0.9 / 0.6 / 0.3 by default)."""
    folder = tmp_path / "long"
    folder.mkdir()
    write(folder, "accounts.csv", "account_id,account_name\nA1,Alpha\n")
    write(folder, "contracts.csv", "contract_id,account_id,start_date,end_date,arr\n"
                                   "C1,A1,2024-01-01,2029-01-01,50000\n")
    write(folder, "usage.csv", "account_id,timestamp,user_id,feature\nA1,2026-11-01,u1,login\n")
    config = config_reading()
    rates = forecast.band_rates(load_exports(folder, config), config, AS_OF)
    assert rates["backtest_renewals"].tolist() == [0, 0, 0]
    assert rates["source"].tolist() == ["config", "config", "config"]
    configured = config.forecast.band_rates
    assert rates["rate"].tolist() == [configured.green, configured.yellow, configured.red]


def test_scores_without_change_are_the_pipelines_score(sample_exports):
    # renewals and the forecast skip last week's score, not today's
    config = config_reading()
    quick = pipeline.account_health(sample_exports, config, AS_OF, change=False)
    as_of, frame = quick.as_of, quick.signals
    full = pipeline.account_health(sample_exports, config, AS_OF)
    assert as_of == full.as_of
    pd.testing.assert_series_equal(frame["health_score"], full.signals["health_score"])
    pd.testing.assert_series_equal(frame["health_band"], full.signals["health_band"])
    assert frame["health_score"].notna().sum() == len(full.health.scores)
