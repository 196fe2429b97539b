"""core.stability: subsample re-fits, ARI and per-segment Jaccard, Hennig's verdicts."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from core import stability
from core.clustering import fit_clusters
from core.errors import ConfigError
from core.stability import StabilityResult, assess_stability

BLOBS, _ = make_blobs([150, 120, 90, 60], n_features=4, cluster_std=0.8, random_state=2)
UNIFORM = np.random.default_rng(0).uniform(size=(400, 5))


def _assess(X, **kwargs):
    labels = fit_clusters(X, k=4).labels
    return assess_stability(X, labels, k=4, **kwargs)


def test_clean_blobs_are_stable():
    result = _assess(BLOBS)
    assert result.mean_ari > 0.95
    assert len(result.ari) == result.n_resamples == 10
    assert result.mean_ari == pytest.approx(np.mean(result.ari))
    assert sorted(result.jaccard) == [1, 2, 3, 4]
    assert min(result.jaccard.values()) > 0.9
    assert {result.verdict(s) for s in result.jaccard} == {"stable"}
    assert result.sample_fraction == pytest.approx(0.8)


def test_uniform_noise_is_clearly_less_stable():
    clean, noise = _assess(BLOBS), _assess(UNIFORM)
    assert noise.mean_ari < 0.7 < clean.mean_ari
    assert max(noise.jaccard.values()) < 0.75 < min(clean.jaccard.values())


def test_same_seed_same_result():
    first, second = _assess(UNIFORM, n_resamples=3), _assess(UNIFORM, n_resamples=3)
    assert first.ari == second.ari
    assert first.jaccard == second.jaccard
    assert _assess(UNIFORM, n_resamples=3, random_state=1).ari != first.ari


def test_subsamples_are_drawn_without_replacement_and_refit_with_new_seeds(monkeypatch):
    calls = []

    def spy(X, **kwargs):
        calls.append((len(np.unique(X, axis=0)), len(X), kwargs["random_state"]))
        return fit_clusters(X, **kwargs)

    monkeypatch.setattr(stability, "fit_clusters", spy)
    _assess(BLOBS, n_resamples=3)
    assert [(unique, rows) for unique, rows, _ in calls] == [(336, 336)] * 3
    assert len({seed for *_, seed in calls}) == 3


def test_subsamples_are_capped(monkeypatch):
    monkeypatch.setattr(stability, "MAX_SUBSAMPLE_ROWS", 100)
    result = _assess(BLOBS, n_resamples=2)
    assert result.sample_fraction == pytest.approx(100 / len(BLOBS))


def test_jaccard_of_each_segment_with_its_best_match():
    reference = np.array([0, 0, 1, 1])  # segment code 2 has no rows in this subsample
    refit = np.array([0, 0, 0, 1])
    best = stability._best_jaccard(reference, refit, 3)
    np.testing.assert_allclose(best[:2], [2 / 3, 1 / 2])  # 2 of 3 rows; 1 of 2 rows
    assert np.isnan(best[2])


@pytest.mark.parametrize(("score", "verdict"), [
    (0.92, "stable"), (0.75, "stable"), (0.7499, "fairly stable"), (0.6, "fairly stable"),
    (0.5999, "unstable"), (0.1, "unstable"), (float("nan"), "unstable"),
])
def test_verdict_thresholds_follow_hennig(score, verdict):
    result = StabilityResult(mean_ari=0.5, ari=(0.5,), jaccard={1: score}, n_resamples=1,
                             sample_fraction=0.8)
    assert result.verdict(1) == verdict


def test_verdict_of_an_unknown_segment():
    result = StabilityResult(0.5, (0.5,), {1: 0.8, 2: 0.7}, 1, 0.8)
    with pytest.raises(ConfigError, match=r"no segment 3; segments are \[1, 2\]"):
        result.verdict(3)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"sample_fraction": 0}, r"sample_fraction must be in \(0, 1\]; got 0"),
    ({"sample_fraction": 1.5}, r"got 1\.5"),
    ({"n_resamples": 0}, r"got n_resamples=0"),
    ({"k": 1}, r"got k=1"),
    ({"algorithm": "kmeens"}, r"unknown algorithm 'kmeens'"),
    ({"labels": np.ones(3, dtype=int)}, r"one per row of X \(420\)"),
    ({"labels": np.ones(420)}, r"must be integers.*float64"),
])
def test_bad_parameters(kwargs, message):
    arguments = {"labels": np.ones(len(BLOBS), dtype=int), "k": 4} | kwargs
    with pytest.raises(ConfigError, match=message):
        assess_stability(BLOBS, **arguments)
