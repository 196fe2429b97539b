"""core.summary: every aggregate checked against a direct numpy/pandas computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.demo import generate_demo_data
from core.errors import ConfigError
from core.loading import from_frame
from core.pipeline import Segmentation, SegmentationConfig, segment_customers
from core.summary import (
    POPULATION,
    SELECTION,
    box_stats,
    histogram,
    kpis,
    migration,
    sample_rows,
    selection_z_scores,
    style_mix,
)


@pytest.fixture(scope="module")
def segmentation() -> Segmentation:
    return segment_customers(from_frame(generate_demo_data(600, seed=1)),
                             SegmentationConfig(k=4))


@pytest.fixture(scope="module")
def frame(segmentation: Segmentation) -> pd.DataFrame:
    return segmentation.prepared.frame


@pytest.fixture(scope="module")
def mask(frame: pd.DataFrame) -> np.ndarray:
    return np.random.default_rng(0).random(len(frame)) < 0.3


@pytest.mark.parametrize("selected", [False, True])
def test_kpis_match_pandas(frame: pd.DataFrame, mask: np.ndarray, selected: bool) -> None:
    rows = frame[mask] if selected else frame
    result = kpis(frame, mask if selected else None)
    assert result.customers == len(rows)
    assert result.balance_frequency == pytest.approx(rows["BALANCE_FREQUENCY"].mean())
    assert result.purchases_frequency == pytest.approx(rows["PURCHASES_FREQUENCY"].mean())
    assert result.cash_advance_frequency == pytest.approx(rows["CASH_ADVANCE_FREQUENCY"].mean())
    assert result.tenure == pytest.approx(rows["TENURE"].mean())
    assert result.total_spending == pytest.approx((rows["PURCHASES"] + rows["CASH_ADVANCE"]).sum())


def test_kpis_compute_total_spending_when_missing(frame: pd.DataFrame, mask: np.ndarray) -> None:
    assert kpis(frame.drop(columns="TOTAL_SPENDING"), mask) == kpis(frame, mask)


def test_kpis_of_an_empty_selection(frame: pd.DataFrame) -> None:
    result = kpis(frame, np.zeros(len(frame), dtype=bool))
    assert (result.customers, result.total_spending) == (0, 0.0)
    assert np.isnan(result.tenure)


@pytest.mark.parametrize("bad", [np.ones(3, dtype=bool), np.ones(600, dtype=int)])
def test_masks_must_be_one_boolean_per_customer(frame: pd.DataFrame, bad: np.ndarray) -> None:
    with pytest.raises(ConfigError, match="mask"):
        kpis(frame, bad)


def test_box_stats_match_numpy(frame: pd.DataFrame, segmentation: Segmentation,
                               mask: np.ndarray) -> None:
    values = frame["BALANCE"].to_numpy()
    table = box_stats(values, segmentation.labels, mask)
    assert list(table.index) == [1, 2, 3, 4, SELECTION]
    groups = {s: values[segmentation.labels == s] for s in range(1, 5)} | {SELECTION: values[mask]}
    for group, part in groups.items():
        row = table.loc[group]
        assert [row["q1"], row["median"], row["q3"]] == pytest.approx(
            np.percentile(part, [25, 50, 75]))
        assert row["mean"] == pytest.approx(part.mean())
        assert row["count"] == len(part)
        assert part.min() <= row["lower"] <= row["q1"] <= row["q3"] <= row["upper"] <= part.max()


def test_box_whiskers_stop_at_the_last_value_within_1_5_iqr() -> None:
    values = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 17, np.nan])
    row = box_stats(values, np.ones(len(values), dtype=int)).loc[1]
    # q1 = 3.5, q3 = 8.5: the fences are -4 and 16, so 17 is an outlier and NaN is ignored
    assert (row["q1"], row["q3"], row["lower"], row["upper"]) == (3.5, 8.5, 1, 10)
    assert row["count"] == 11


def test_box_stats_of_an_empty_selection(frame: pd.DataFrame,
                                         segmentation: Segmentation) -> None:
    table = box_stats(frame["BALANCE"], segmentation.labels, np.zeros(len(frame), dtype=bool))
    assert table.loc[SELECTION, "count"] == 0
    assert np.isnan(table.loc[SELECTION, "median"])


def test_log_bins_are_even_on_the_log1p_scale(frame: pd.DataFrame) -> None:
    values = frame["CASH_ADVANCE"].to_numpy()
    assert (values == 0).any()
    result = histogram(values, bins=10, log=True)
    steps = np.diff(np.log1p(result.edges))
    assert result.edges[0] == 0 and steps == pytest.approx(np.full(10, steps[0]))
    assert result.counts.sum() == len(values)
    assert result.counts[0] >= (values == 0).sum()


def test_log_bins_refuse_negative_values() -> None:
    with pytest.raises(ConfigError, match="negative"):
        histogram(np.array([-1.0, 2.0]), log=True)


def test_histogram_matches_numpy_and_skips_missing_values() -> None:
    values = np.random.default_rng(3).normal(size=1000)
    result = histogram(np.append(values, [np.nan, np.inf]), bins=40)
    expected, edges = np.histogram(values, bins=40)
    np.testing.assert_allclose(result.edges, edges)
    np.testing.assert_array_equal(result.counts, expected)


def test_style_mix_by_segment_matches_value_counts(frame: pd.DataFrame,
                                                   segmentation: Segmentation,
                                                   mask: np.ndarray) -> None:
    mix = style_mix(frame, "PURCHASE_STYLE", segmentation.labels, mask)
    assert list(mix.index) == [1, 2, 3, 4, SELECTION]
    assert mix.sum(axis=1).to_numpy() == pytest.approx(np.ones(5))
    styles = frame["PURCHASE_STYLE"]
    expected = styles[segmentation.labels == 2].value_counts(normalize=True)
    assert mix.loc[2, expected.index].to_numpy(dtype=float) == pytest.approx(expected.to_numpy())
    assert mix.loc[SELECTION, "No purchases"] == pytest.approx(
        (styles[mask] == "No purchases").mean())


def test_style_mix_of_everyone_matches_the_profiles(frame: pd.DataFrame,
                                                    segmentation: Segmentation) -> None:
    mix = style_mix(frame.drop(columns="PAYMENT_BEHAVIOUR"), "PAYMENT_BEHAVIOUR")
    assert list(mix.index) == [POPULATION]
    sizes = np.array([p.size for p in segmentation.profiles])
    for category in mix.columns:
        shares = [p.style_mix["PAYMENT_BEHAVIOUR"][category] for p in segmentation.profiles]
        assert mix.loc[POPULATION, category] == pytest.approx(sizes @ shares / sizes.sum())


def test_style_mix_rejects_unknown_styles(frame: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="SPENDING_STYLE"):
        style_mix(frame, "SPENDING_STYLE")


def test_sample_rows_is_a_seeded_sorted_sample() -> None:
    rows = sample_rows(9000, 3000, seed=7)
    assert len(rows) == len(np.unique(rows)) == 3000
    assert (np.diff(rows) > 0).all() and rows[-1] < 9000
    np.testing.assert_array_equal(rows, sample_rows(9000, 3000, seed=7))
    assert not np.array_equal(rows, sample_rows(9000, 3000, seed=8))
    np.testing.assert_array_equal(sample_rows(50, 3000), np.arange(50))


def test_migration_matches_crosstab(segmentation: Segmentation) -> None:
    before = segmentation.labels
    after = np.random.default_rng(1).integers(1, 7, len(before))
    table = migration(before, after)
    assert table.to_numpy().sum() == len(before)
    pd.testing.assert_frame_equal(table, pd.crosstab(pd.Series(before, name="from"),
                                                     pd.Series(after, name="to")),
                                  check_dtype=False, check_index_type=False,
                                  check_column_type=False)


def test_migration_needs_the_same_customers() -> None:
    with pytest.raises(ConfigError, match="shapes"):
        migration(np.ones(3, dtype=int), np.ones(4, dtype=int))


def test_selection_z_scores_match_the_profiles_for_a_whole_segment(
        frame: pd.DataFrame, segmentation: Segmentation) -> None:
    features = ["BALANCE", "PURCHASES_FREQUENCY", "TENURE", "UTILISATION"]
    scores = selection_z_scores(frame, segmentation.labels == 3, features)
    expected = segmentation.profiles[2].z_scores[features]
    np.testing.assert_allclose(scores.to_numpy(), expected.to_numpy(), rtol=1e-9)


def test_selection_z_scores_by_hand(frame: pd.DataFrame, mask: np.ndarray) -> None:
    values = frame["CREDIT_LIMIT"]
    expected = (values[mask].mean() - values.mean()) / values.std(ddof=0)
    assert selection_z_scores(frame, mask, ["CREDIT_LIMIT"])["CREDIT_LIMIT"] == pytest.approx(
        expected)
    empty = selection_z_scores(frame, np.zeros(len(frame), dtype=bool), ["CREDIT_LIMIT"])
    assert empty.isna().all()
