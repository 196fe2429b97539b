"""How stable a segmentation is: re-fit on seeded subsamples and compare on the shared rows.

The per-segment score follows Hennig (2007), "Cluster-wise assessment of cluster stability"
(the idea behind R's ``fpc::clusterboot``): a segment's Jaccard similarity to the most similar
cluster of each re-fit, averaged over the re-fits. Hennig reads a mean Jaccard of 0.75 or more
as a stable cluster, 0.6-0.75 as a pattern worth a look, and 0.5 or less as dissolved.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import adjusted_rand_score

from core.clustering import (
    check_algorithm,
    check_int,
    check_k,
    check_matrix,
    count_profiles,
    fit_clusters,
)
from core.errors import ConfigError

STABLE, FAIRLY_STABLE = 0.75, 0.6  # Jaccard thresholds, Hennig (2007)
MAX_SUBSAMPLE_ROWS: int = 20_000  # re-fits use at most this many rows, whatever the data size


@dataclass(frozen=True, eq=False)
class StabilityResult:
    """Agreement between a segmentation and re-fits on subsamples of its rows.

    Attributes
    ----------
    mean_ari : float
        Mean adjusted Rand index between the segmentation and each re-fit, on the subsample.
    ari : tuple of float
        Adjusted Rand index of each re-fit.
    jaccard : dict of int to float
        Segment number to the mean, over re-fits, of the Jaccard similarity between the
        segment and its most similar re-fit cluster (NaN if no subsample held the segment).
    n_resamples : int
    sample_fraction : float
        Share of the rows in each subsample, after the :data:`MAX_SUBSAMPLE_ROWS` cap.
    """

    mean_ari: float
    ari: tuple[float, ...]
    jaccard: dict[int, float]
    n_resamples: int
    sample_fraction: float

    def verdict(self, segment: int) -> str:
        """``"stable"`` (Jaccard >= 0.75), ``"fairly stable"`` (>= 0.6) or ``"unstable"``.

        Parameters
        ----------
        segment : int
            A segment number present in :attr:`jaccard`.
        """
        if segment not in self.jaccard:
            raise ConfigError(f"no segment {segment!r}; segments are {sorted(self.jaccard)}.")
        score = self.jaccard[segment]
        if score >= STABLE:
            return "stable"
        return "fairly stable" if score >= FAIRLY_STABLE else "unstable"


def assess_stability(X: np.ndarray, labels: np.ndarray, *, algorithm: str = "kmeans", k: int,
                     n_resamples: int = 10, sample_fraction: float = 0.8,
                     random_state: int = 42, n_init: int = 3) -> StabilityResult:
    """Re-fit on seeded subsamples and measure how well each segment comes back.

    Each subsample is drawn without replacement and holds ``sample_fraction`` of the rows, but
    at most :data:`MAX_SUBSAMPLE_ROWS` (20,000) so the check stays quick on large data; every
    re-fit uses a different seed.

    Parameters
    ----------
    X : ndarray, shape (n_samples, n_features)
        The prepared matrix the segmentation was fitted on.
    labels : ndarray of int, shape (n_samples,)
        The segmentation to assess (segment numbers).
    algorithm : str
        Algorithm for the re-fits, normally the one that produced ``labels``.
    k : int
        Number of segments for the re-fits (ignored by hdbscan).
    n_resamples : int
        Number of subsamples, at least 1.
    sample_fraction : float
        Share of rows per subsample, in (0, 1].
    random_state : int
        Seed of the subsamples and of the re-fit seeds.
    n_init : int
        Restarts per re-fit.

    Returns
    -------
    StabilityResult

    Raises
    ------
    ConfigError
        For bad data, labels of the wrong shape, or parameters out of range.
    """
    X = check_matrix(X)
    labels = np.asarray(labels)
    if labels.shape != (X.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
        raise ConfigError(f"labels must be integers, one per row of X ({X.shape[0]}); got "
                          f"dtype {labels.dtype}, shape {labels.shape}.")
    algorithm = check_algorithm(algorithm)
    n_resamples = check_int(n_resamples, "n_resamples", 1)
    if not 0 < sample_fraction <= 1:
        raise ConfigError(f"sample_fraction must be in (0, 1]; got {sample_fraction!r}.")
    n_rows = X.shape[0]
    k = check_k(k, n_rows)
    size = min(round(sample_fraction * n_rows), MAX_SUBSAMPLE_ROWS)
    if size < 2:
        raise ConfigError(f"sample_fraction={sample_fraction} of {n_rows} rows leaves {size} "
                          f"row(s) per subsample; at least 2 are needed.")
    segments, reference = np.unique(labels, return_inverse=True)
    rng = np.random.default_rng(check_int(random_state, "random_state", 0))
    ari, jaccard = [], []
    for seed in rng.integers(np.iinfo(np.int32).max, size=n_resamples):
        rows = rng.choice(n_rows, size=size, replace=False)
        # a subsample may miss a rare profile: fit as many segments as it has profiles, so that
        # profile's segment scores as unstable instead of failing the whole check
        profiles = count_profiles(X[rows], k)
        refit = (fit_clusters(X[rows], algorithm=algorithm, k=min(k, profiles),
                              random_state=int(seed), n_init=n_init).labels
                 if profiles >= 2 else np.ones(size, dtype=np.int64))
        ari.append(float(adjusted_rand_score(reference[rows], refit)))
        jaccard.append(_best_jaccard(reference[rows], refit - 1, len(segments)))
    jaccard = np.array(jaccard)
    held = (~np.isnan(jaccard)).sum(axis=0)
    mean_jaccard = np.where(held > 0, np.nansum(jaccard, axis=0) / np.maximum(held, 1), np.nan)
    return StabilityResult(
        mean_ari=float(np.mean(ari)),
        ari=tuple(ari),
        jaccard={int(s): float(j) for s, j in zip(segments, mean_jaccard, strict=True)},
        n_resamples=n_resamples,
        sample_fraction=size / n_rows,
    )


def _best_jaccard(reference: np.ndarray, refit: np.ndarray, n_segments: int) -> np.ndarray:
    """For each reference segment (code 0..n-1), the best Jaccard with any re-fit cluster.

    NaN for a segment with no rows in this subsample.
    """
    n_refit = int(refit.max()) + 1
    both = np.bincount(reference * n_refit + refit, minlength=n_segments * n_refit)
    both = both.reshape(n_segments, n_refit)
    union = both.sum(axis=1, keepdims=True) + both.sum(axis=0, keepdims=True) - both
    best = (both / union).max(axis=1)
    best[both.sum(axis=1) == 0] = np.nan
    return best
