"""Cluster-quality metrics as pure functions of (X, labels), looked up by name in METRICS.

Each returns NaN where the metric is undefined (fewer than two segments, or as many segments as
rows). Silhouette is O(n^2), so above :data:`SILHOUETTE_SAMPLE` rows it is computed on a
seeded random sample of rows; the other metrics are O(n) and use every row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score
from sklearn.metrics.pairwise import euclidean_distances

from core.clustering import check_matrix
from core.errors import ConfigError

SILHOUETTE_SAMPLE: int = 2000


def inertia(X: np.ndarray, labels: np.ndarray) -> float:
    """Sum of squared Euclidean distances of the rows to their segment's mean (lower is better).

    Parameters
    ----------
    X : ndarray, shape (n_samples, n_features)
    labels : ndarray of int, shape (n_samples,)

    Returns
    -------
    float
    """
    X, labels = _checked(X, labels)
    _, codes = np.unique(labels, return_inverse=True)
    counts = np.bincount(codes)
    total = 0.0
    for column in X.T:  # a column at a time: the memory of one column, not of X
        means = np.bincount(codes, weights=column) / counts
        total += float(np.square(column - means[codes]).sum())
    return total


def silhouette(X: np.ndarray, labels: np.ndarray, *, sample_size: int | None = SILHOUETTE_SAMPLE,
               random_state: int = 0) -> float:
    """Mean silhouette coefficient, -1..1 (higher is better), on a seeded sample of rows.

    Parameters
    ----------
    X : ndarray, shape (n_samples, n_features)
    labels : ndarray of int, shape (n_samples,)
    sample_size : int or None
        Above this many rows, use this many rows drawn without replacement; ``None`` uses all
        rows (O(n^2) time).
    random_state : int
        Seed of the sample; the same seed draws the same rows.

    Returns
    -------
    float
        NaN if the (sampled) labels have fewer than 2 or more than n - 1 segments.
    """
    X, labels = _checked(X, labels)
    rows = sample_rows(X.shape[0], sample_size, random_state)
    if rows is not None:
        X, labels = X[rows], labels[rows]
    return silhouette_from_distances(euclidean_distances(X), labels)


def sample_rows(n_rows: int, sample_size: int | None = SILHOUETTE_SAMPLE,
                random_state: int = 0) -> np.ndarray | None:
    """The seeded rows :func:`silhouette` scores, or None when it scores every row.

    Parameters
    ----------
    n_rows : int
        Rows in the data.
    sample_size : int or None
        As in :func:`silhouette`.
    random_state : int
        As in :func:`silhouette`.

    Returns
    -------
    ndarray of int or None
        ``sample_size`` row indices drawn without replacement, or None if ``n_rows`` is not
        above ``sample_size`` (or ``sample_size`` is None).
    """
    if sample_size is None or n_rows <= sample_size:
        return None
    return np.random.default_rng(random_state).choice(n_rows, sample_size, replace=False)


def silhouette_from_distances(distances: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette from a precomputed square distance matrix of the scored rows.

    Lets a caller scoring many labellings of the same rows (a k sweep) compute the distances
    once instead of once per labelling.

    Parameters
    ----------
    distances : ndarray, shape (n, n)
        Euclidean distances between the rows, e.g. from
        ``sklearn.metrics.pairwise.euclidean_distances(X[sample_rows(...)])``.
    labels : ndarray of int, shape (n,)

    Returns
    -------
    float
        NaN where undefined.
    """
    if not _defined(labels):
        return float("nan")
    _, codes = np.unique(labels, return_inverse=True)
    members = np.zeros((len(codes), codes.max() + 1))
    members[np.arange(len(codes)), codes] = 1.0
    sums = distances @ members  # each row's summed distance to every segment's rows
    sizes = members.sum(axis=0)
    own_size = sizes[codes]
    own = sums[np.arange(len(codes)), codes]
    a = np.divide(own, own_size - 1, out=np.zeros_like(own), where=own_size > 1)
    means = sums / sizes
    means[np.arange(len(codes)), codes] = np.inf
    b = means.min(axis=1)
    # sklearn's convention: a row alone in its segment scores 0
    scores = np.where(own_size > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-300), 0.0)
    return float(scores.mean())


def calinski_harabasz(X: np.ndarray, labels: np.ndarray) -> float:
    """Calinski-Harabasz index: between- over within-segment dispersion (higher is better).

    Parameters
    ----------
    X : ndarray, shape (n_samples, n_features)
    labels : ndarray of int, shape (n_samples,)

    Returns
    -------
    float
        NaN where undefined.
    """
    X, labels = _checked(X, labels)
    return float(calinski_harabasz_score(X, labels)) if _defined(labels) else float("nan")


def davies_bouldin(X: np.ndarray, labels: np.ndarray) -> float:
    """Davies-Bouldin index: mean similarity of each segment to its closest one (lower is better).

    Parameters
    ----------
    X : ndarray, shape (n_samples, n_features)
    labels : ndarray of int, shape (n_samples,)

    Returns
    -------
    float
        NaN where undefined.
    """
    X, labels = _checked(X, labels)
    return float(davies_bouldin_score(X, labels)) if _defined(labels) else float("nan")


METRICS: dict[str, Callable[..., float]] = {
    "inertia": inertia,
    "silhouette": silhouette,
    "calinski_harabasz": calinski_harabasz,
    "davies_bouldin": davies_bouldin,
}


def evaluate(X: np.ndarray, labels: np.ndarray, *, random_state: int = 0) -> dict[str, float]:
    """Every metric in :data:`METRICS` for one labelling.

    Parameters
    ----------
    X : ndarray, shape (n_samples, n_features)
    labels : ndarray of int, shape (n_samples,)
    random_state : int
        Seed of the silhouette sample.

    Returns
    -------
    dict of str to float
        Keyed like :data:`METRICS`; NaN where a metric is undefined.
    """
    X, labels = _checked(X, labels)
    scores = {name: metric(X, labels) for name, metric in METRICS.items() if name != "silhouette"}
    scores["silhouette"] = silhouette(X, labels, random_state=random_state)
    return {name: scores[name] for name in METRICS}


def _checked(X: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    """``X`` as a float matrix and ``labels`` as a matching 1-D array, or a ConfigError."""
    X = check_matrix(X, min_rows=1)
    labels = np.asarray(labels)
    if labels.shape != (X.shape[0],):
        raise ConfigError(f"labels must be 1-D with one value per row of X ({X.shape[0]}); "
                          f"got shape {labels.shape}.")
    return X, labels


def _defined(labels: np.ndarray) -> bool:
    """True if the labels have between 2 and n - 1 distinct segments."""
    return 2 <= np.unique(labels).size <= labels.size - 1
