"""Segment profiles: sizes, averages, z-scores, effects, style mix, table and edge cases."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from core.errors import ConfigError, DataValidationError
from core.features import STYLES, add_features
from core.profiling import (
    LOG_SCALE_FEATURES,
    NUMERIC_FEATURES,
    SegmentProfile,
    TopFeature,
    profile_segments,
    profile_table,
)
from core.schema import BEHAVIOUR_COLUMNS
from tests.planted import FOUR, planted


@pytest.fixture(scope="module")
def four() -> tuple[pd.DataFrame, np.ndarray, tuple[SegmentProfile, ...]]:
    frame, labels = planted(FOUR)
    return frame, labels, profile_segments(frame, labels)


def test_sizes_sum_to_customers_and_shares_to_one(four):
    frame, _, profiles = four
    assert [p.segment for p in profiles] == [1, 2, 3, 4]
    assert [p.size for p in profiles] == [60, 50, 40, 30]
    assert sum(p.size for p in profiles) == len(frame)
    assert sum(p.share for p in profiles) == pytest.approx(1.0)
    assert profiles[0].share == pytest.approx(60 / 180)


def test_means_and_medians_equal_a_direct_groupby(four):
    frame, labels, profiles = four
    grouped = frame[list(NUMERIC_FEATURES)].groupby(labels)
    for profile in profiles:
        assert list(profile.means.index) == list(NUMERIC_FEATURES)
        np.testing.assert_allclose(profile.means, grouped.mean().loc[profile.segment], rtol=1e-9)
        np.testing.assert_allclose(profile.medians, grouped.median().loc[profile.segment],
                                   rtol=1e-9)


def test_z_scores_against_the_population(four):
    frame, labels, profiles = four
    values = frame[list(NUMERIC_FEATURES)]
    spread = values.std(ddof=0)
    expected = (values.groupby(labels).mean() - values.mean()) / spread.where(spread > 0)
    cash, _, _, dormant = profiles
    for profile in profiles:
        np.testing.assert_allclose(profile.z_scores, expected.loc[profile.segment].fillna(0.0),
                                   rtol=1e-7, atol=1e-9)
    assert cash.z_scores["CASH_ADVANCE"] > 1
    assert dormant.z_scores["BALANCE_FREQUENCY"] < -1
    assert cash.z_scores["TENURE"] == 0  # TENURE is constant: no spread, no z-score


def _reference_effect(values: pd.Series, inside: np.ndarray, log: bool) -> float:
    """Standardised mean difference, inside vs outside, pooled sd (floored at 1 % of the sd)."""
    x = np.log1p(values.clip(lower=0)) if log else values
    a, b = x[inside], x[~inside]
    pooled = np.sqrt(((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1))
                     / (len(x) - 2))
    return (a.mean() - b.mean()) / max(pooled, 0.01 * x.std(ddof=0))


def test_top_features_pick_the_planted_trait_with_the_right_effect(four):
    frame, labels, profiles = four
    cash, installment, _, dormant = profiles
    assert len(cash.top_features) == 5
    assert all(isinstance(t, TopFeature) for t in cash.top_features)
    effects = [abs(t.effect) for t in cash.top_features]
    assert effects == sorted(effects, reverse=True)
    cash_traits = {t.name for t in cash.top_features if t.effect > 0}
    assert cash_traits & {"CASH_ADVANCE", "CASH_ADVANCE_SHARE", "CASH_ADVANCE_TRX",
                          "CASH_ADVANCE_FREQUENCY", "CASH_ADVANCE_TO_LIMIT"}
    assert "INSTALLMENT_SHARE" in {t.name for t in installment.top_features if t.effect > 0}
    assert "BALANCE_FREQUENCY" in {t.name for t in dormant.top_features if t.effect < 0}
    for profile in profiles:
        for top in profile.top_features:
            inside = labels == profile.segment
            expected = _reference_effect(frame[top.name], inside, top.name in LOG_SCALE_FEATURES)
            assert top.effect == pytest.approx(expected, rel=1e-6)
            assert top.segment_mean == pytest.approx(frame.loc[inside, top.name].mean())
            assert top.population_mean == pytest.approx(frame[top.name].mean())


def test_money_effects_are_on_the_log_scale_so_one_whale_does_not_dominate():
    frame, labels = planted([("installment", 40, {"BALANCE": 1}),
                             ("installment", 40, {"BALANCE": 1000})])
    frame.loc[0, "BALANCE"] = 1_000_000.0  # one whale in the low-balance segment
    frame = add_features(frame[["CUST_ID", *BEHAVIOUR_COLUMNS]])
    low, high = profile_segments(frame, labels)
    assert low.means["BALANCE"] > 20 * high.means["BALANCE"]  # the whale drags the mean up
    balance = {t.name: t for t in low.top_features}["BALANCE"]
    assert balance.effect < -3  # yet on the log scale the segment is clearly low-balance
    assert balance.segment_mean == pytest.approx(low.means["BALANCE"])


def test_style_mix_shares_sum_to_one_and_match_a_crosstab(four):
    frame, labels, profiles = four
    for style in STYLES:
        table = pd.crosstab(labels, frame[style.name], normalize="index", dropna=False)
        for profile in profiles:
            mix = profile.style_mix[style.name]
            assert list(mix) == list(style.categories)
            assert sum(mix.values()) == pytest.approx(1.0)
            for category, share in mix.items():
                expected = table.loc[profile.segment].get(category, 0.0)
                assert share == pytest.approx(expected)
    assert profiles[0].style_mix["MONETARY_STYLE"]["Cash-focused"] == 1.0


def test_risk_flags_are_raised_for_the_revolving_cash_group_only(four):
    cash, installment, oneoff, dormant = four[2]
    assert set(cash.risk_flags) == {"high utilisation", "minimum payments only",
                                    "heavy cash advance use"}
    assert installment.risk_flags == oneoff.risk_flags == dormant.risk_flags == ()


def test_profile_table_has_one_row_per_segment_with_every_mean(four):
    _, _, profiles = four
    table = profile_table(profiles)
    assert table.shape == (4, 4 + len(NUMERIC_FEATURES))
    assert list(table.columns) == ["segment", "name", "size", "share", *NUMERIC_FEATURES]
    assert set(BEHAVIOUR_COLUMNS) <= set(table.columns)
    assert table["segment"].tolist() == [1, 2, 3, 4]
    assert table["name"].tolist() == [p.name for p in profiles]
    assert table.loc[2, "ONEOFF_SHARE"] == pytest.approx(profiles[2].means["ONEOFF_SHARE"])


def test_profiles_are_frozen_and_every_field_is_filled(four):
    profile = four[2][0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        profile.name = "other"  # type: ignore[misc]
    assert profile.name and profile.description and profile.levers


def test_profiling_leaves_the_frame_untouched():
    frame, labels = planted(FOUR)
    before = frame.copy()
    profile_segments(frame, labels)
    pd.testing.assert_frame_equal(frame, before)


def test_engineered_features_are_added_when_missing():
    frame, labels = planted(FOUR)
    bare = profile_segments(frame[list(BEHAVIOUR_COLUMNS)], labels)
    full = profile_segments(frame, labels)
    assert [p.name for p in bare] == [p.name for p in full]
    pd.testing.assert_series_equal(bare[0].means, full[0].means)


def test_a_single_segment_is_the_whole_population():
    frame, _ = planted(FOUR)
    (only,) = profile_segments(frame, np.ones(len(frame), dtype=int))
    assert only.size == len(frame) and only.share == 1.0
    assert (only.z_scores == 0).all()
    assert only.top_features == ()
    assert only.name == "All customers"
    assert 1 <= len(only.levers) <= 3


def test_a_segment_of_one_customer():
    frame, labels = planted(FOUR)
    labels = labels.copy()
    labels[-1] = 5
    profiles = profile_segments(frame, labels)
    lone = profiles[-1]
    assert (lone.segment, lone.size) == (5, 1)
    np.testing.assert_allclose(lone.medians, frame[list(NUMERIC_FEATURES)].iloc[-1])
    np.testing.assert_allclose(lone.means, lone.medians)
    assert all(np.isfinite(t.effect) for t in lone.top_features)
    assert len({p.name for p in profiles}) == 5


def test_labels_with_gaps_keep_their_numbers():
    frame, labels = planted(FOUR)
    gapped = np.array([0, 2, 7, 9])[labels - 1]
    profiles = profile_segments(frame, gapped)
    assert [p.segment for p in profiles] == [0, 2, 7, 9]
    assert [p.size for p in profiles] == [60, 50, 40, 30]


def test_whole_float_labels_are_accepted():
    frame, labels = planted(FOUR)
    profiles = profile_segments(frame, labels.astype(float))
    assert [p.segment for p in profiles] == [1, 2, 3, 4]


@pytest.mark.parametrize(("labels", "message"), [
    (np.ones(3, dtype=int), "one segment number per customer"),
    (np.ones((180, 1), dtype=int), "one segment number per customer"),
    (np.r_[np.ones(179), np.nan], "whole numbers"),
    (np.r_[np.ones(179), 1.5], "whole numbers"),
    (np.array(["a"] * 180), "whole numbers"),
])
def test_bad_labels_are_rejected_clearly(labels, message):
    frame, _ = planted(FOUR)
    with pytest.raises(ConfigError, match=message):
        profile_segments(frame, labels)


def test_an_empty_table_is_rejected():
    frame, _ = planted(FOUR)
    with pytest.raises(ConfigError, match="empty"):
        profile_segments(frame.iloc[:0], np.array([], dtype=int))


def test_missing_columns_and_values_are_rejected_clearly():
    frame, labels = planted(FOUR)
    with pytest.raises(DataValidationError, match="CREDIT_LIMIT"):
        profile_segments(frame.drop(columns="CREDIT_LIMIT"), labels)
    broken = frame.copy()
    broken.loc[[3, 4], "MINIMUM_PAYMENTS"] = np.nan
    with pytest.raises(DataValidationError, match=r"MINIMUM_PAYMENTS: 2 missing"):
        profile_segments(broken, labels)
