"""Fit one clustering algorithm on a prepared matrix and number its segments by size.

Every algorithm ends in the same :class:`ClusterResult`: segment numbers 1..k with segment 1
the largest, one centre per segment, and each row's distance to its own centre.

Fits run with BLAS *and* OpenMP limited to one thread. DESIGN.md found OpenBLAS threads fighting
scikit-learn's OpenMP threads; limiting BLAS alone was not enough on a busy 2-core machine.
Measured there (KMeans, n_init=10, median of 7): 9k x 17, k=6: 0.99 s with default threads,
1.11 s with BLAS at one thread, 0.13 s with both at one thread; 100k x 17, k=6: 3.3 s / 2.5 s /
0.51 s. Even in their best runs two threads won by only ~1.5x (0.32 s vs 0.49 s at 100k); one
thread is predictable and also keeps OpenMP's thread pool out of processes that later fork.
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import (
    HDBSCAN,
    AgglomerativeClustering,
    Birch,
    KMeans,
    MiniBatchKMeans,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from threadpoolctl import ThreadpoolController

from core.errors import ConfigError

ALGORITHMS: tuple[str, ...] = ("kmeans", "minibatch", "gmm", "agglomerative", "hdbscan", "birch")
K_MIN, K_MAX = 2, 15

# "kmeans" runs Lloyd's algorithm n_init times over every row, so its time grows with
# rows x n_init. Measured on 2 cores (sklearn 1.9.1, one thread, k=6, n_init=10; lognormal
# mixture / make_blobs): 5 features 100k rows 0.60 / 0.37 s, 250k 1.70 / 0.91 s, 400k 2.54 /
# 0.97 s, 1M 6.5 / 2.3 s; 17 features 100k 0.84 / 0.31 s, 250k 1.59 / 0.71 s, 400k 4.25 /
# 1.17 s, 1M 8.8 / 3.3 s -- over the 3 s budget from ~400k rows. The minibatch path below
# (KMeans restarts on a 20k-row seeded sample, then partial_fit on uniform batches) takes
# 0.2-0.5 s at 1M rows with inertia within 0.01 % of full KMeans. Memory never forces the switch
# (full KMeans on 1M x 17 peaks at ~1.2 GB), so the threshold is set by time, with margin.
MINIBATCH_THRESHOLD: int = 200_000

# Ward linkage holds an n x n condensed distance matrix. Measured (17 features): 9k rows 2.8 s /
# 0.9 GB peak RSS, 15k rows 8.2 s / 2.0 GB, 20k rows 16 s / 3.4 GB.
AGGLOMERATIVE_MAX_ROWS: int = 15_000
# sklearn's HDBSCAN builds a mutual-reachability tree that grows ~n^2 in time here:
# 9k x 17 took 2.0 s, 30k x 17 took 26 s.
HDBSCAN_MAX_ROWS: int = 20_000
# Birch's CF tree is pure Python per row: 100k x 17 took 6.0 s (9.5k subclusters, 0.95 GB);
# 1M rows took 16-27 s just to build the tree.
BIRCH_MAX_ROWS: int = 100_000
MAX_ROWS: dict[str, int] = {
    "agglomerative": AGGLOMERATIVE_MAX_ROWS,
    "hdbscan": HDBSCAN_MAX_ROWS,
    "birch": BIRCH_MAX_ROWS,
}
_WHY_SLOW = {
    "agglomerative": "Ward linkage needs memory that grows with the square of the rows",
    "hdbscan": "HDBSCAN's run time grows with the square of the rows",
    "birch": "Birch builds its tree one row at a time in Python",
}

# What one fit costs, as seconds ~ scale * (rows / 10,000) ** power (times k for gmm). Measured on
# 2 cores with one thread (synthetic demo data, 5 and 17 features, k = 4 and 8; one segmentation
# in the app: fit + profiles + metrics): kmeans 9k rows 0.10-0.18 s, 90k 0.62-1.03 s; minibatch
# 9k 0.12-0.23 s, 90k 0.27-0.56 s; gmm 9k 0.76-1.75 s at k=4 and 2.1-3.7 s at k=8, 45k 3.9-14.8 s
# at k=4 and 11.9-23 s at k=8; agglomerative 4.5k 0.66-1.1 s, 9k 2.2-2.7 s, 14k 6.9-13.3 s;
# hdbscan 4.5k 0.30-0.92 s, 9k 0.50-1.15 s, 18k 4.0-10.2 s; birch 9k 0.19-0.36 s, 45k 0.41-0.79 s.
_FIT_COST: dict[str, tuple[float, float, bool]] = {  # scale (s), power, per segment
    "kmeans": (0.15, 1, False),
    "minibatch": (0.25, 0.5, False),
    "gmm": (0.5, 1, True),
    "agglomerative": (3.3, 2, False),
    "hdbscan": (1.4, 2, False),
    "birch": (0.2, 1, False),
}
# Fits estimated at this or more run apart from the page, with a busy state and a way to cancel.
# With the costs above: kmeans, minibatch and birch on the demo's 9,000 rows stay quick (0.14-0.24 s
# a fit), gmm (0.9 s a segment), agglomerative (2.7 s) and hdbscan (1.1 s) are slow there.
SLOW_FIT_SECONDS: float = 1.0

_CHUNK_ROWS = 65_536  # rows per block in distance computations (~9 MB at 17 features)
_MINIBATCH_BATCH = 4_096
_MINIBATCH_STEPS = 100  # 100 x 4096 rows: inertia within 0.01 % of full KMeans at 1M rows
_MINIBATCH_SAMPLE_ROWS = 20_000
_HDBSCAN_MIN_SAMPLES = 10
_BIRCH_RADIUS_PER_SQRT_FEATURE = 0.5  # threshold 0.5 * sqrt(n_features) on scaled data
# Distinct rows are first counted on a strided sample of about this many rows: on real data it
# already holds k distinct profiles, so only degenerate data pays for hashing every row
# (1M x 17: ~0.3 s).
_PROFILE_SAMPLE_ROWS = 1_000
FEATURES_LABEL = "the chosen features"  # how messages name the feature set by default


@dataclass(frozen=True, eq=False)
class ClusterResult:
    """One fitted segmentation of the rows of a prepared matrix.

    Attributes
    ----------
    labels : ndarray of int64, shape (n_samples,)
        Segment number of every row, 1..k; segment 1 is the largest, ties go to the segment
        whose first row comes first.
    centres : ndarray, shape (k, n_features)
        Segment centres in model space; row ``i`` is segment ``i + 1``. KMeans and minibatch
        centroids, Gaussian-mixture means, or member means (agglomerative, birch, and for hdbscan
        the means of the non-noise members).
    distances : ndarray of float64, shape (n_samples,)
        Euclidean distance of every row to its own segment centre.
    algorithm : str
        The algorithm actually used (``"minibatch"`` when ``"kmeans"`` switched).
    k : int
        Number of segments found; hdbscan decides its own, and a mixture component or Birch
        cluster that receives no rows is dropped.
    inertia : float
        Sum of squared distances of the rows to their own centre.
    n_noise : int
        Rows hdbscan called noise; they are assigned to the nearest centre.
    """

    labels: np.ndarray
    centres: np.ndarray
    distances: np.ndarray
    algorithm: str
    k: int
    inertia: float
    n_noise: int = 0


class _Fit(NamedTuple):
    """Raw output of one fitter: codes 0..m-1 and the centre of each code."""

    codes: np.ndarray
    centres: np.ndarray
    model: Any
    n_noise: int = 0


def check_matrix(X: Any, *, min_rows: int = 2) -> np.ndarray:
    """Return ``X`` as a C-contiguous float64 matrix, or raise if it cannot be clustered.

    Parameters
    ----------
    X : array-like, shape (n_samples, n_features)
        Prepared (numeric, scaled, imputed) data.
    min_rows : int
        Fewest rows accepted.

    Returns
    -------
    ndarray of float64

    Raises
    ------
    ConfigError
        If ``X`` is not a numeric 2-D matrix, has too few rows, or holds NaN or infinity.
    """
    try:
        arr = np.ascontiguousarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"X must be a numeric matrix; converting it failed: {exc}") from exc
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise ConfigError(f"X must be a 2-D matrix (rows x features); got shape {arr.shape}.")
    if arr.shape[0] < min_rows:
        raise ConfigError(f"segmenting needs at least {min_rows} customers; the data has "
                          f"{arr.shape[0]:,}.")
    bad = ~np.isfinite(arr)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ConfigError(
            f"X has {int(bad.sum())} missing or infinite value(s), the first at row {row}, "
            f"column {col} ({arr[row, col]}); impute or drop them before clustering."
        )
    return arr


def check_int(value: Any, name: str, low: int, high: int | None = None) -> int:
    """Return ``value`` as an int if it is a whole number in ``[low, high]``, else raise.

    Parameters
    ----------
    value : Any
        The parameter value to check.
    name : str
        Parameter name used in the error message.
    low, high : int
        Inclusive bounds; ``high=None`` means no upper bound.

    Raises
    ------
    ConfigError
        If ``value`` is not an integer (bools are refused) or lies outside the bounds.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(f"{name} must be a whole number; got {name}={value!r}.")
    if value < low or (high is not None and value > high):
        bounds = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise ConfigError(f"{name} must be {bounds}; got {name}={value}.")
    return int(value)


def check_k(k: Any, n_rows: int) -> int:
    """Return ``k`` if it is a valid number of segments for ``n_rows`` rows, else raise.

    Parameters
    ----------
    k : Any
        Requested number of segments.
    n_rows : int
        Rows in the data; ``k`` must be smaller.

    Raises
    ------
    ConfigError
        If ``k`` is outside ``K_MIN..K_MAX`` or not smaller than the number of rows.
    """
    k = check_int(k, "k", K_MIN, K_MAX)
    if k >= n_rows:
        raise ConfigError(f"k = {k} needs more customers than segments, but the data has only "
                          f"{n_rows:,}; choose a k below {n_rows:,}.")
    return k


def count_profiles(X: np.ndarray, at_least: int) -> int:
    """Distinct rows of ``X`` (customer profiles), counted only up to ``at_least``.

    A strided sample of about 1,000 rows is counted first; every row is hashed only when the
    sample holds fewer than ``at_least`` distinct rows.

    Parameters
    ----------
    X : ndarray, shape (n_samples, n_features)
        Prepared matrix without missing values.
    at_least : int
        Stop counting once this many distinct rows are found.

    Returns
    -------
    int
        The number of distinct rows, or ``at_least`` if there are at least that many.
    """
    sample = X[:: max(1, X.shape[0] // _PROFILE_SAMPLE_ROWS)]
    found = len(pd.unique(_row_hashes(sample)))
    if found < at_least and len(sample) < X.shape[0]:
        found = len(pd.unique(_row_hashes(X)))
    return min(found, at_least)


def check_profiles(X: np.ndarray, k: int, *, feature_label: str = FEATURES_LABEL) -> None:
    """Raise a ConfigError if the rows of ``X`` hold fewer distinct profiles than ``k``.

    Parameters
    ----------
    X : ndarray, shape (n_samples, n_features)
        Prepared matrix without missing values.
    k : int
        Number of segments asked for.
    feature_label : str
        How the message names the feature set, e.g. ``"the chosen features (seed)"``.

    Raises
    ------
    ConfigError
        Naming the distinct profiles, the customers and the largest k they allow; with a single
        profile, saying there is nothing to segment.
    """
    profiles = count_profiles(X, k)
    if profiles < k:
        raise too_few_profiles(profiles, X.shape[0], k, feature_label)


def too_few_profiles(profiles: int, n_rows: int, k: int, feature_label: str) -> ConfigError:
    """The error for ``k`` segments asked of ``n_rows`` customers with ``profiles`` < k."""
    if profiles == 1:
        return ConfigError(f"All {n_rows:,} customers are identical on {feature_label}; there "
                           "is nothing to segment. Choose other features.")
    return ConfigError(f"Only {profiles} distinct customer profiles among {n_rows:,} customers "
                       f"on {feature_label}; k = {k} needs at least {k}. Choose k of {profiles} "
                       "or less, or other features.")


def check_algorithm(algorithm: Any) -> str:
    """Return ``algorithm`` if it is one of :data:`ALGORITHMS`, else raise a ConfigError."""
    if not isinstance(algorithm, str) or algorithm not in ALGORITHMS:
        raise ConfigError(
            f"unknown algorithm {algorithm!r}; choose one of: {', '.join(ALGORITHMS)}."
        )
    return algorithm


def estimate_fit_seconds(algorithm: str, n_rows: int, k: int) -> float:
    """Typical seconds one segmentation of ``n_rows`` rows takes, from measurements.

    The rule is ``scale * (n_rows / 10_000) ** power``, times ``k`` for ``"gmm"``, with the
    constants measured on 2 cores (see ``_FIT_COST`` in the source): linear for kmeans, gmm and
    birch, quadratic for agglomerative and hdbscan. A fit estimated at :data:`SLOW_FIT_SECONDS`
    or more is worth running in the background. ``"kmeans"`` is costed as the minibatch path it
    takes above :data:`MINIBATCH_THRESHOLD` rows.

    Parameters
    ----------
    algorithm : str
        One of :data:`ALGORITHMS`.
    n_rows : int
        Rows to segment.
    k : int
        Number of segments asked for.

    Returns
    -------
    float

    Raises
    ------
    ConfigError
        For an unknown algorithm.
    """
    scale, power, per_segment = _FIT_COST[_used_algorithm(check_algorithm(algorithm), n_rows)]
    return scale * (n_rows / 10_000) ** power * (k if per_segment else 1)


def fit_clusters(X: np.ndarray, *, algorithm: str = "kmeans", k: int = 4,
                 random_state: int = 42, n_init: int = 10,
                 feature_label: str = FEATURES_LABEL) -> ClusterResult:
    """Segment the rows of ``X`` and number the segments by size.

    Parameters
    ----------
    X : ndarray, shape (n_samples, n_features)
        Prepared numeric matrix (scaled, no missing values).
    algorithm : str
        One of :data:`ALGORITHMS`. ``"kmeans"`` switches to ``"minibatch"`` above
        :data:`MINIBATCH_THRESHOLD` rows; ``"agglomerative"``, ``"hdbscan"`` and ``"birch"``
        refuse more rows than :data:`MAX_ROWS` allows.
    k : int
        Number of segments, ``K_MIN..K_MAX``; ignored by ``"hdbscan"``, which finds its own.
    random_state : int
        Seed; identical inputs give identical labels.
    n_init : int
        Restarts for kmeans and gmm (best kept); for minibatch, restarts of the KMeans on the
        seeded sample that starts it.
    feature_label : str
        How error messages name the feature set (see :func:`check_profiles`).

    Returns
    -------
    ClusterResult

    Raises
    ------
    ConfigError
        For an unknown algorithm, a bad ``k``/``n_init``, bad data, too many rows for the
        algorithm, fewer distinct rows than ``k`` (two for hdbscan), or (hdbscan) when every
        row is noise.
    """
    return fit_model(X, algorithm=algorithm, k=k, random_state=random_state, n_init=n_init,
                     feature_label=feature_label)[0]


def fit_model(X: np.ndarray, *, algorithm: str = "kmeans", k: int = 4, random_state: int = 42,
              n_init: int = 10,
              feature_label: str = FEATURES_LABEL) -> tuple[ClusterResult, Any]:
    """Like :func:`fit_clusters`, but also return the fitted scikit-learn estimator.

    The estimator is for callers that need more than the result, such as a Gaussian mixture's
    BIC. Parameters, result and errors are those of :func:`fit_clusters`.

    Returns
    -------
    result : ClusterResult
    model : estimator
        The fitted ``KMeans``, ``MiniBatchKMeans``, ``GaussianMixture``,
        ``AgglomerativeClustering``, ``HDBSCAN`` or ``Birch``.
    """
    X = check_matrix(X)
    algorithm = check_algorithm(algorithm)
    n_rows = X.shape[0]
    if algorithm != "hdbscan":
        k = check_k(k, n_rows)
    random_state = check_int(random_state, "random_state", 0)
    n_init = check_int(n_init, "n_init", 1)
    algorithm = _used_algorithm(algorithm, n_rows)
    limit = MAX_ROWS.get(algorithm)
    if limit is not None and n_rows > limit:
        raise ConfigError(
            f"{algorithm} is limited to {limit:,} rows because {_WHY_SLOW[algorithm]}; "
            f"X has {n_rows:,} rows. Use kmeans (or gmm) for data this large."
        )
    check_profiles(X, K_MIN if algorithm == "hdbscan" else k, feature_label=feature_label)
    with _one_thread():
        fit = _FITTERS[algorithm](X, k, random_state, n_init)
    order = _size_order(fit.codes, len(fit.centres))
    number = np.zeros(len(fit.centres), dtype=np.int64)
    number[order] = np.arange(1, len(order) + 1)
    centres = np.ascontiguousarray(fit.centres[order], dtype=np.float64)
    distances = _own_distances(X, centres, number[fit.codes] - 1)
    result = ClusterResult(labels=number[fit.codes], centres=centres, distances=distances,
                           algorithm=algorithm, k=len(order),
                           inertia=float(distances @ distances), n_noise=fit.n_noise)
    return result, fit.model


def relabel_by_size(labels: np.ndarray) -> np.ndarray:
    """Renumber any integer labels to 1..k, largest group first.

    Parameters
    ----------
    labels : array-like of int, shape (n_samples,)

    Returns
    -------
    ndarray of int64
        Label 1 is the most frequent value; ties go to the value that occurs first.
    """
    labels = _check_labels(labels)
    _, codes = np.unique(labels, return_inverse=True)
    n_codes = int(codes.max()) + 1 if codes.size else 0
    number = np.zeros(n_codes, dtype=np.int64)
    number[_size_order(codes, n_codes)] = np.arange(1, n_codes + 1)
    return number[codes]


def nearest_centre(X: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Assign every row to its nearest centre, in blocks so large inputs stay cheap in memory.

    Parameters
    ----------
    X : ndarray, shape (n_samples, n_features)
    centres : ndarray, shape (k, n_features)
        Row ``i`` is segment ``i + 1``.

    Returns
    -------
    labels : ndarray of int64
        Segment number 1..k of every row.
    distances : ndarray of float64
        Euclidean distance of every row to that centre.
    """
    X = check_matrix(X, min_rows=0)
    centres = check_matrix(centres, min_rows=1)
    if centres.shape[1] != X.shape[1]:
        raise ConfigError(f"centres have {centres.shape[1]} features but X has {X.shape[1]}.")
    with _one_thread():
        codes = _nearest_codes(X, centres)
    return codes + 1, _own_distances(X, centres, codes)


def align_labels(labels: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Renumber ``labels`` so each segment keeps the number of the reference segment it overlaps.

    Segments are matched one-to-one by the Hungarian method on the member-overlap matrix
    (:func:`scipy.optimize.linear_sum_assignment`), maximising the rows that keep their number.
    Matched segments take the reference number; segments left unmatched (more segments than the
    reference, or no shared rows) take the smallest positive numbers the reference does not use,
    largest segment first. With fewer segments than the reference, some reference numbers are
    simply absent.

    Parameters
    ----------
    labels : array-like of int, shape (n_samples,)
        The new labelling.
    reference : array-like of int, shape (n_samples,)
        An earlier labelling of the same rows.

    Returns
    -------
    ndarray of int64
    """
    labels = _check_labels(labels)
    reference = _check_labels(reference, name="reference")
    if labels.shape != reference.shape:
        raise ConfigError(f"labels has {labels.size} rows but reference has {reference.size}.")
    new_values, codes = np.unique(labels, return_inverse=True)
    ref_values, ref_codes = np.unique(reference, return_inverse=True)
    overlap = np.bincount(codes * len(ref_values) + ref_codes,
                          minlength=len(new_values) * len(ref_values))
    overlap = overlap.reshape(len(new_values), len(ref_values))
    rows, cols = linear_sum_assignment(overlap, maximize=True)
    shared = overlap[rows, cols] > 0
    number = np.zeros(len(new_values), dtype=np.int64)
    number[rows[shared]] = ref_values[cols[shared]]
    unmatched = [c for c in _size_order(codes, len(new_values)) if number[c] == 0]
    free = np.setdiff1d(np.arange(1, len(ref_values) + len(unmatched) + 1), ref_values)
    number[unmatched] = free[: len(unmatched)]
    return number[codes]


def member_means(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Mean row of each label, one row per distinct label in ascending label order.

    Parameters
    ----------
    X : ndarray, shape (n_samples, n_features)
    labels : ndarray of int, shape (n_samples,)

    Returns
    -------
    ndarray, shape (n_labels, n_features)
    """
    _, codes = np.unique(labels, return_inverse=True)
    counts = np.bincount(codes)
    sums = np.column_stack([np.bincount(codes, weights=column, minlength=len(counts))
                            for column in X.T])
    return sums / counts[:, None]


@cache
def _threadpool_controller() -> ThreadpoolController:
    """One controller per process: building it inspects every loaded library (~3 ms)."""
    return ThreadpoolController()


def _one_thread() -> Any:
    """Context manager limiting BLAS and OpenMP to one thread (see the module docstring)."""
    return _threadpool_controller().limit(limits=1)


def _used_algorithm(algorithm: str, n_rows: int) -> str:
    """``"minibatch"`` for ``"kmeans"`` above :data:`MINIBATCH_THRESHOLD` rows, else as given."""
    return "minibatch" if algorithm == "kmeans" and n_rows > MINIBATCH_THRESHOLD else algorithm


def _row_hashes(X: np.ndarray) -> np.ndarray:
    """One 64-bit hash per row; equal rows hash alike (0.0 and -0.0 too)."""
    return pd.util.hash_pandas_object(pd.DataFrame(X, copy=False), index=False).to_numpy()


def _check_labels(labels: Any, name: str = "labels") -> np.ndarray:
    """Return ``labels`` as a 1-D int64 array, or raise a ConfigError."""
    arr = np.asarray(labels)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise ConfigError(f"{name} must be a 1-D array of integers; got dtype {arr.dtype}, "
                          f"shape {arr.shape}.")
    return arr.astype(np.int64, copy=False)


def _size_order(codes: np.ndarray, n_codes: int) -> np.ndarray:
    """Codes that occur, largest first; ties go to the code whose first row comes first."""
    counts = np.bincount(codes, minlength=n_codes)
    first = np.full(n_codes, codes.size, dtype=np.int64)
    np.minimum.at(first, codes, np.arange(codes.size))
    present = np.flatnonzero(counts)
    return present[np.lexsort((first[present], -counts[present]))]


def _nearest_codes(X: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the nearest centre for every row (0-based), block by block."""
    half_norms = 0.5 * np.einsum("ij,ij->i", centres, centres)
    codes = np.empty(X.shape[0], dtype=np.int64)
    for start in range(0, X.shape[0], _CHUNK_ROWS):
        block = X[start:start + _CHUNK_ROWS]
        codes[start:start + len(block)] = np.argmin(half_norms - block @ centres.T, axis=1)
    return codes


def _own_distances(X: np.ndarray, centres: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Euclidean distance of every row to ``centres[codes]``, block by block."""
    distances = np.empty(X.shape[0], dtype=np.float64)
    for start in range(0, X.shape[0], _CHUNK_ROWS):
        stop = start + _CHUNK_ROWS
        diff = X[start:stop] - centres[codes[start:stop]]
        distances[start:stop] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    return distances


def _compact(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered to 0..m-1 in ascending order."""
    return np.unique(labels, return_inverse=True)[1]


def _fit_kmeans(X: np.ndarray, k: int, random_state: int, n_init: int) -> _Fit:
    model = KMeans(n_clusters=k, n_init=n_init, random_state=random_state).fit(X)
    return _Fit(model.labels_, model.cluster_centers_, model)


def _fit_minibatch(X: np.ndarray, k: int, random_state: int, n_init: int) -> _Fit:
    """KMeans (``n_init`` restarts) on a seeded sample, then partial_fit on uniform batches.

    The restarts run on at most 20,000 rows, so their cost does not grow with n; the minibatch
    steps then move the centres to the whole data. ``MiniBatchKMeans.fit`` would spend most of
    its time choosing batch rows at large n (DESIGN.md); drawing them here takes microseconds.
    A sample with fewer than k distinct rows (data of a few profiles, some rare) would lose
    segments, so such data goes to :func:`_fit_kmeans_on_profiles` instead.
    """
    rng = np.random.default_rng(random_state)
    n_rows = X.shape[0]
    sample = X[rng.choice(n_rows, size=min(n_rows, _MINIBATCH_SAMPLE_ROWS), replace=False)]
    if count_profiles(sample, k) < k:
        return _fit_kmeans_on_profiles(X, k, random_state, n_init)
    start = KMeans(n_clusters=k, n_init=n_init, random_state=random_state).fit(sample)
    model = MiniBatchKMeans(n_clusters=k, init=start.cluster_centers_, n_init=1,
                            batch_size=_MINIBATCH_BATCH, random_state=random_state,
                            compute_labels=False)
    for _ in range(_MINIBATCH_STEPS):
        model.partial_fit(X[rng.integers(n_rows, size=_MINIBATCH_BATCH)])
    return _Fit(_nearest_codes(X, model.cluster_centers_), model.cluster_centers_, model)


def _fit_kmeans_on_profiles(X: np.ndarray, k: int, random_state: int, n_init: int) -> _Fit:
    """KMeans on the distinct rows, each weighted by how often it occurs.

    The same fit as KMeans on every row; quick when the rows repeat a few profiles.
    """
    codes = pd.factorize(_row_hashes(X))[0]
    first = np.unique(codes, return_index=True)[1]
    model = KMeans(n_clusters=k, n_init=n_init, random_state=random_state)
    model.fit(X[first], sample_weight=np.bincount(codes))
    return _Fit(model.labels_[codes], model.cluster_centers_, model)


def _fit_gmm(X: np.ndarray, k: int, random_state: int, n_init: int) -> _Fit:
    model = GaussianMixture(n_components=k, covariance_type="full", n_init=n_init,
                            random_state=random_state).fit(X)
    return _Fit(model.predict(X), model.means_, model)


def _fit_agglomerative(X: np.ndarray, k: int, random_state: int, n_init: int) -> _Fit:
    model = AgglomerativeClustering(n_clusters=k, linkage="ward").fit(X)
    codes = _compact(model.labels_)
    return _Fit(codes, member_means(X, codes), model)


def _fit_hdbscan(X: np.ndarray, k: int, random_state: int, n_init: int) -> _Fit:
    """HDBSCAN with segments of at least 1 % of rows; noise goes to the nearest member mean."""
    n_rows = X.shape[0]
    min_samples = min(_HDBSCAN_MIN_SAMPLES, n_rows)
    model = HDBSCAN(min_cluster_size=max(min_samples, n_rows // 100), min_samples=min_samples,
                    copy=True).fit(X)
    noise = model.labels_ < 0
    if noise.all():
        raise ConfigError("hdbscan found no dense segments: it called every row noise. These "
                          "data have no well-separated dense groups; use kmeans or gmm instead.")
    codes = np.empty(n_rows, dtype=np.int64)
    codes[~noise] = _compact(model.labels_[~noise])
    centres = member_means(X[~noise], codes[~noise])
    codes[noise] = _nearest_codes(X[noise], centres)
    return _Fit(codes, centres, model, n_noise=int(noise.sum()))


def _fit_birch(X: np.ndarray, k: int, random_state: int, n_init: int) -> _Fit:
    """Birch; a ConfigError when its tree holds fewer groups than k (few, close profiles)."""
    threshold = _BIRCH_RADIUS_PER_SQRT_FEATURE * np.sqrt(X.shape[1])
    with warnings.catch_warnings():  # Birch warns, then returns fewer segments: refused below
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = Birch(n_clusters=k, threshold=threshold).fit(X)
    groups = len(model.subcluster_centers_)
    if groups < k:
        raise ConfigError(f"birch found only {groups} groups of similar customers, fewer than "
                          f"k = {k}; choose k of {groups} or less, or use kmeans.")
    codes = _compact(model.labels_)
    return _Fit(codes, member_means(X, codes), model)


_FITTERS = {
    "kmeans": _fit_kmeans,
    "minibatch": _fit_minibatch,
    "gmm": _fit_gmm,
    "agglomerative": _fit_agglomerative,
    "hdbscan": _fit_hdbscan,
    "birch": _fit_birch,
}
