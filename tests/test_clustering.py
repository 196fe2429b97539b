"""core.clustering: every algorithm, segment numbering, nearest centre, label alignment, errors."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from core import clustering
from core.clustering import (
    ALGORITHMS,
    ClusterResult,
    align_labels,
    fit_clusters,
    fit_model,
    nearest_centre,
    relabel_by_size,
)
from core.errors import ConfigError

SIZES = [200, 150, 100, 50]  # unequal, so "segment 1 is the largest" is checkable
X, TRUTH = make_blobs(SIZES, n_features=3, cluster_std=0.6, random_state=0)
WITH_K = [a for a in ALGORITHMS if a != "hdbscan"]


def _check_result(result: ClusterResult, X: np.ndarray) -> None:
    """The invariants every ClusterResult must satisfy."""
    assert result.labels.dtype == np.int64
    assert result.labels.shape == (X.shape[0],)
    assert set(np.unique(result.labels)) == set(range(1, result.k + 1))
    sizes = np.bincount(result.labels)[1:]
    assert np.all(np.diff(sizes) <= 0), sizes
    assert result.centres.shape == (result.k, X.shape[1])
    expected = np.linalg.norm(X - result.centres[result.labels - 1], axis=1)
    assert result.distances.dtype == np.float64
    np.testing.assert_allclose(result.distances, expected, rtol=1e-12, atol=1e-12)
    assert result.inertia == pytest.approx(float(np.sum(expected**2)))


@pytest.mark.parametrize("algorithm", WITH_K)
def test_every_algorithm_finds_the_blobs_largest_first(algorithm):
    result = fit_clusters(X, algorithm=algorithm, k=4)
    _check_result(result, X)
    assert result.algorithm == algorithm
    assert result.k == 4
    assert result.n_noise == 0
    assert adjusted_rand_score(TRUTH, result.labels) == pytest.approx(1.0)
    assert np.bincount(result.labels)[1:].tolist() == SIZES


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_identical_inputs_give_identical_labels(algorithm):
    first = fit_clusters(X, algorithm=algorithm, k=3, random_state=7)
    second = fit_clusters(X.copy(), algorithm=algorithm, k=3, random_state=7)
    np.testing.assert_array_equal(first.labels, second.labels)
    np.testing.assert_array_equal(first.centres, second.centres)


def test_hdbscan_finds_k_and_reassigns_noise_to_the_nearest_centre():
    outliers = np.random.default_rng(0).uniform(-30, 30, size=(12, X.shape[1]))
    data = np.vstack([X, outliers])
    result, model = fit_model(data, algorithm="hdbscan", k=2)  # k is ignored
    _check_result(result, data)
    assert result.algorithm == "hdbscan"
    assert result.k == 4
    noise = model.labels_ < 0
    assert result.n_noise == noise.sum() >= len(outliers) - 2
    nearest, _ = nearest_centre(data[noise], result.centres)
    np.testing.assert_array_equal(result.labels[noise], nearest)
    np.testing.assert_allclose(result.centres, [data[~noise & (result.labels == s)].mean(axis=0)
                                                for s in range(1, 5)])


def test_hdbscan_refuses_data_that_is_all_noise():
    uniform = np.random.default_rng(3).uniform(size=(200, 8))
    with pytest.raises(ConfigError, match="every row noise"):
        fit_clusters(uniform, algorithm="hdbscan")


def test_kmeans_switches_to_minibatch_above_the_threshold(monkeypatch):
    monkeypatch.setattr(clustering, "MINIBATCH_THRESHOLD", len(X))
    assert fit_clusters(X, k=4).algorithm == "kmeans"
    monkeypatch.setattr(clustering, "MINIBATCH_THRESHOLD", len(X) - 1)
    result = fit_clusters(X, k=4)
    assert result.algorithm == "minibatch"
    _check_result(result, X)
    assert adjusted_rand_score(TRUTH, result.labels) == pytest.approx(1.0)


@pytest.mark.parametrize("algorithm", ["agglomerative", "hdbscan", "birch"])
def test_row_limits_refuse_with_the_reason_and_an_alternative(monkeypatch, algorithm):
    monkeypatch.setitem(clustering.MAX_ROWS, algorithm, len(X) - 1)
    with pytest.raises(ConfigError, match=rf"{algorithm} is limited to 499 rows.*500 rows.*kmeans"):
        fit_clusters(X, algorithm=algorithm, k=4)


def test_agglomerative_limit_is_about_memory():
    with pytest.raises(ConfigError, match="square of the rows"):
        fit_clusters(np.zeros((clustering.AGGLOMERATIVE_MAX_ROWS + 1, 1)),
                     algorithm="agglomerative")


@pytest.mark.parametrize(("labels", "expected"), [
    ([5, 5, -1, 7, 7, 7, -1], [2, 2, 3, 1, 1, 1, 3]),
    ([9, 4, 4, 9], [1, 2, 2, 1]),  # tie: the label seen first wins
    ([0, 1, 2], [1, 2, 3]),
])
def test_relabel_by_size(labels, expected):
    result = relabel_by_size(np.array(labels))
    assert result.dtype == np.int64
    assert result.tolist() == expected


def test_nearest_centre_agrees_with_kmeans(monkeypatch):
    result = fit_clusters(X, k=4)
    monkeypatch.setattr(clustering, "_CHUNK_ROWS", 7)  # many blocks, including a ragged last one
    labels, distances = nearest_centre(X, result.centres)
    np.testing.assert_array_equal(labels, result.labels)
    np.testing.assert_allclose(distances, result.distances)


def test_nearest_centre_handles_no_rows_and_refuses_wrong_width():
    labels, distances = nearest_centre(np.empty((0, 3)), np.eye(3))
    assert labels.shape == distances.shape == (0,)
    with pytest.raises(ConfigError, match="centres have 2 features but X has 3"):
        nearest_centre(X, np.zeros((4, 2)))


REFERENCE = np.repeat([1, 2, 3], [50, 30, 20])


def test_align_labels_undoes_a_permutation():
    permuted = np.array([0, 7, 3, 5])[REFERENCE]
    np.testing.assert_array_equal(align_labels(permuted, REFERENCE), REFERENCE)


def test_align_labels_keeps_numbers_when_a_segment_splits():
    split = REFERENCE.copy()
    split[50:60] = 9  # segment 2 (30 rows) splits into 20 + 10
    aligned = align_labels(split, REFERENCE)
    expected = REFERENCE.copy()
    expected[50:60] = 4  # the smaller part is new: next free number
    np.testing.assert_array_equal(aligned, expected)


def test_align_labels_new_segments_take_free_numbers_in_size_order():
    labels = REFERENCE.copy()
    labels[:10] = 8  # two new segments carved out of segment 1: 10 rows and 15 rows
    labels[10:25] = 6
    aligned = align_labels(labels, REFERENCE)
    assert set(aligned[:10]) == {5} and set(aligned[10:25]) == {4}
    np.testing.assert_array_equal(aligned[25:], REFERENCE[25:])


def test_align_labels_gives_a_new_number_rather_than_one_without_shared_rows():
    reference = np.array([1, 1, 2, 2, 3, 3])
    labels = np.array([7, 8, 9, 9, 9, 9])  # 7 and 8 both come from 1; 9 spans 2 and 3
    aligned = align_labels(labels, reference)
    assert aligned[0] == 1 and aligned[2] in (2, 3)
    assert aligned[1] == 4  # matched by force to the leftover of 2 / 3, sharing no rows


def test_align_labels_with_one_segment_fewer_keeps_the_surviving_numbers():
    merged = np.where(REFERENCE == 3, 2, REFERENCE) + 10  # segments 2 and 3 merge
    aligned = align_labels(merged, REFERENCE)
    np.testing.assert_array_equal(aligned, np.where(REFERENCE == 3, 2, REFERENCE))


def test_align_labels_across_k_on_fitted_blobs():
    four = fit_clusters(X, k=4).labels
    five = align_labels(fit_clusters(X, k=5).labels, four)
    assert set(five) == {1, 2, 3, 4, 5}
    assert (five == four).mean() > 0.75  # only the split blob changes number


def test_align_labels_refuses_mismatched_lengths():
    with pytest.raises(ConfigError, match="labels has 3 rows but reference has 100"):
        align_labels(np.array([1, 2, 3]), REFERENCE)


NAN_X = X.copy()
NAN_X[17, 2] = np.nan


@pytest.mark.parametrize(("data", "kwargs", "message"), [
    (X, {"k": 1}, r"k must be from 2 to 15; got k=1\."),
    (X, {"k": 16}, r"got k=16"),
    (X[:5], {"k": 5}, r"k = 5 needs more customers than segments.*only 5; choose a k below 5"),
    (X, {"k": 2.5}, r"k must be a whole number; got k=2\.5"),
    (X, {"k": True}, r"got k=True"),
    (X, {"n_init": 0}, r"got n_init=0"),
    (X, {"algorithm": "kmeens"},
     r"unknown algorithm 'kmeens'; choose one of: kmeans, minibatch, gmm, agglomerative, "
     r"hdbscan, birch"),
    (NAN_X, {}, r"1 missing or infinite value\(s\), the first at row 17, column 2 \(nan\)"),
    (X[:, 0], {}, r"2-D matrix.*shape \(500,\)"),
    ([["a", "b"], ["c", "d"]], {}, r"numeric matrix"),
])
def test_bad_parameters_raise_config_error_showing_the_value(data, kwargs, message):
    with pytest.raises(ConfigError, match=message) as caught:
        fit_clusters(data, **kwargs)
    assert isinstance(caught.value, ValueError)
