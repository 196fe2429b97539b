"""core.metrics and core.sweep: metric values, seeded silhouette sampling, the k sweep."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

from core.clustering import fit_clusters
from core.errors import ConfigError
from core.metrics import (
    METRICS,
    SILHOUETTE_SAMPLE,
    calinski_harabasz,
    davies_bouldin,
    evaluate,
    inertia,
    sample_rows,
    silhouette,
)
from core.sweep import COLUMNS, SweepCancelled, _by_bic, _by_elbow, sweep_k

X, TRUTH = make_blobs([160, 120, 80, 60], n_features=4, cluster_std=0.7, random_state=1)
TRIANGLE = np.array([[0, 0], [4, 0], [2, 3.5]])
# two far-apart groups, each of three blobs: k = 2 scores best, k = 6 finds every blob
NESTED, _ = make_blobs([100] * 6, centers=np.vstack([TRIANGLE, TRIANGLE + [30, 0]]),
                       cluster_std=0.5, random_state=3)
NOISY = np.random.default_rng(0).normal(size=(2500, 3))


def test_metrics_agree_with_sklearn():
    model = KMeans(4, n_init=3, random_state=0).fit(X)
    assert inertia(X, model.labels_) == pytest.approx(model.inertia_, rel=1e-9)
    assert silhouette(X, model.labels_, sample_size=None) == pytest.approx(
        silhouette_score(X, model.labels_))
    assert calinski_harabasz(X, model.labels_) == pytest.approx(
        calinski_harabasz_score(X, model.labels_))
    assert davies_bouldin(X, model.labels_) == pytest.approx(
        davies_bouldin_score(X, model.labels_))


def test_metrics_are_looked_up_by_name_and_evaluate_returns_them_all():
    labels = TRUTH + 1
    scores = evaluate(X, labels)
    assert list(scores) == list(METRICS) == ["inertia", "silhouette", "calinski_harabasz",
                                             "davies_bouldin"]
    for name, metric in METRICS.items():
        assert metric(X, labels) == pytest.approx(scores[name])


@pytest.mark.parametrize("labels", [np.ones(len(X), dtype=int), np.arange(len(X))])
def test_metrics_are_nan_where_undefined(labels):
    scores = evaluate(X, labels)
    assert np.isnan([scores["silhouette"], scores["calinski_harabasz"],
                     scores["davies_bouldin"]]).all()


def test_silhouette_sample_is_seeded_and_reproducible():
    labels = (NOISY[:, 0] > 0) + 2 * (NOISY[:, 1] > 0)  # four quadrants
    assert len(NOISY) > SILHOUETTE_SAMPLE
    first = silhouette(NOISY, labels, random_state=5)
    assert silhouette(NOISY, labels, random_state=5) == first
    rows = sample_rows(len(NOISY), SILHOUETTE_SAMPLE, random_state=5)
    assert len(rows) == len(set(rows)) == SILHOUETTE_SAMPLE
    assert first == pytest.approx(silhouette_score(NOISY[rows], labels[rows]))
    assert silhouette(NOISY, labels, random_state=6) != first
    assert sample_rows(100, SILHOUETTE_SAMPLE) is None


def test_metrics_refuse_labels_of_the_wrong_length():
    with pytest.raises(ConfigError, match=r"one value per row of X \(420\); got shape \(3,\)"):
        evaluate(X, np.array([1, 2, 3]))


def test_sweep_recommends_the_true_k_and_reports_progress():
    calls = []
    result = sweep_k(X, range(2, 9), progress=lambda done, total: calls.append((done, total)))
    assert calls == [(i, 7) for i in range(1, 8)]
    assert result.recommended_k == 4
    assert result.knee_k == 4
    assert result.reason.startswith("k = 4: ") and result.reason.endswith(".")
    assert ". " not in result.reason  # one sentence
    assert list(result.table.columns) == list(COLUMNS)
    assert result.table["k"].tolist() == list(range(2, 9))
    assert result.table["bic"].isna().all()
    assert result.algorithm == "kmeans"
    assert result.silhouette_sample_size is None
    assert result.table["inertia"].is_monotonic_decreasing


def test_sweep_silhouette_matches_the_metric_on_the_same_fit():
    result = sweep_k(NOISY, [2, 3], random_state=3, n_init=1)
    assert result.silhouette_sample_size == SILHOUETTE_SAMPLE
    for k, score in zip(result.table["k"], result.table["silhouette"], strict=True):
        labels = fit_clusters(NOISY, k=k, random_state=3, n_init=1).labels
        assert score == pytest.approx(silhouette(NOISY, labels, random_state=3))


def test_gmm_sweep_fills_bic_and_recommends_by_it():
    result = sweep_k(X, [2, 3, 4, 5, 6], algorithm="gmm", n_init=1)
    assert result.table["bic"].notna().all()
    assert result.recommended_k == int(result.table.loc[result.table["bic"].idxmin(), "k"]) == 4
    assert "lowest BIC" in result.reason


def test_sweep_sorts_and_deduplicates_ks():
    assert sweep_k(X, [5, 3, 3], n_init=1).table["k"].tolist() == [3, 5]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"algorithm": "hdbscan"}, "hdbscan finds its own number of segments"),
    ({"ks": [2, 16]}, r"got k=16"),
    ({"ks": []}, "ks is empty"),
    ({"ks": 5}, r"ks must be a sequence of whole numbers; got 5"),
    ({"algorithm": "k-means"}, r"unknown algorithm 'k-means'"),
])
def test_sweep_refuses_bad_parameters(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        sweep_k(X, **kwargs)


def _table(silhouettes):
    ks = range(2, 2 + len(silhouettes))
    return pd.DataFrame({"k": list(ks), "silhouette": silhouettes})


@pytest.mark.parametrize(("silhouettes", "knee", "k", "phrase"), [
    ([0.30, 0.33, 0.31], 4, 4, "within 10 % of the best (0.33 at k = 3)"),
    ([0.30, 0.40, 0.31], 4, 3, "the elbow of the inertia curve at k = 4 separates"),
    ([0.30, 0.40, 0.31], 3, 3, "and also the best silhouette (0.40)"),
    ([0.30, 0.40, 0.31], None, 3, "has no clear elbow"),
    ([np.nan, np.nan, np.nan], 4, 4, "could not be computed"),
    ([np.nan, np.nan, np.nan], None, 2, "smallest k tried"),
])
def test_recommendation_rule(silhouettes, knee, k, phrase):
    recommended, reason = _by_elbow(_table(silhouettes), knee)
    assert recommended == k
    assert reason.startswith(f"k = {k}: ")
    assert phrase in reason


def test_when_k_2_scores_best_the_best_k_of_3_or_more_is_named_too():
    result = sweep_k(NESTED, range(2, 9), n_init=3)
    assert result.recommended_k == 2
    assert result.reason.startswith("k = 2: the best silhouette")
    assert result.alternative_k == 6
    assert result.alternative_reason.startswith("k = 6: ")
    assert "among k ≥ 3" in result.alternative_reason
    assert ". " not in result.alternative_reason  # one sentence


def test_no_alternative_above_k_2_or_without_a_larger_k():
    assert sweep_k(X, range(2, 7), n_init=1).alternative_k is None  # recommends 4
    only_two = sweep_k(NESTED, [2], n_init=1)
    assert only_two.recommended_k == 2
    assert only_two.alternative_k is None and only_two.alternative_reason is None


def test_restricted_reasons_name_the_range():
    table = _table([0.30, 0.40, 0.31]).assign(bic=[30.0, 10.0, 20.0])
    assert "best silhouette among k ≥ 3 (0.40, " in _by_elbow(table, None, " among k ≥ 3")[1]
    assert "lowest BIC among k ≥ 3 (10)" in _by_bic(table, " among k ≥ 3")[1]


def test_a_sweep_stops_before_its_next_k_when_asked():
    done = []
    with pytest.raises(SweepCancelled, match="after 2 of 5 values of k"):
        sweep_k(X, range(2, 7), n_init=1, progress=lambda d, _: done.append(d),
                should_stop=lambda: len(done) == 2)
    assert done == [1, 2]
