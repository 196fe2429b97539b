"""Fit a range of k, score every fit, and recommend one k in a sentence a business user reads."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from kneed import KneeLocator
from sklearn.metrics.pairwise import euclidean_distances

from core.clustering import (
    ALGORITHMS,
    FEATURES_LABEL,
    check_algorithm,
    check_k,
    check_matrix,
    count_profiles,
    fit_model,
    too_few_profiles,
)
from core.errors import C2CError, ConfigError
from core.metrics import (
    SILHOUETTE_SAMPLE,
    calinski_harabasz,
    davies_bouldin,
    sample_rows,
    silhouette_from_distances,
)

COLUMNS: tuple[str, ...] = ("k", "inertia", "silhouette", "calinski_harabasz", "davies_bouldin",
                            "bic")
SILHOUETTE_TOLERANCE = 0.10  # the elbow wins if its silhouette is within 10 % of the best
CAMPAIGN_MIN_K = 3  # two segments rarely make two useful campaigns: also name the best k >= 3


class SweepCancelled(C2CError):
    """A sweep stopped before its next k because ``should_stop`` returned True."""


@dataclass(frozen=True, eq=False)
class SweepResult:
    """Scores of one fit per k and the recommended k.

    Attributes
    ----------
    table : DataFrame
        One row per k with columns :data:`COLUMNS`; ``bic`` (lower is better) is NaN unless
        the algorithm is ``"gmm"``.
    recommended_k : int
    reason : str
        One plain-language sentence explaining the recommendation, and one more naming the k
        left out, if any.
    knee_k : int or None
        The elbow of the inertia curve found by ``kneed``; None if there is none.
    silhouette_sample_size : int or None
        Rows the silhouette was computed on; None when every row was used.
    algorithm : str
        The algorithm actually fitted (``"minibatch"`` when ``"kmeans"`` switched).
    alternative_k : int or None
        When ``recommended_k`` is below :data:`CAMPAIGN_MIN_K` (3), the k the same rule picks
        among the k of at least 3 that were tried; None otherwise.
    alternative_reason : str or None
        One sentence explaining ``alternative_k``; None when there is none.
    left_out_k : tuple of int
        The k asked for but not fitted because the customers have fewer distinct profiles.
    """

    table: pd.DataFrame
    recommended_k: int
    reason: str
    knee_k: int | None
    silhouette_sample_size: int | None
    algorithm: str
    alternative_k: int | None = None
    alternative_reason: str | None = None
    left_out_k: tuple[int, ...] = ()


def sweep_k(X: np.ndarray, ks: Iterable[int] = range(2, 13), *, algorithm: str = "kmeans",
            random_state: int = 42, n_init: int = 10,
            progress: Callable[[int, int], None] | None = None,
            should_stop: Callable[[], bool] | None = None,
            feature_label: str = FEATURES_LABEL) -> SweepResult:
    """Fit ``algorithm`` for every k in ``ks``, score each fit, and recommend a k.

    Gaussian mixtures are recommended by lowest BIC. Other algorithms take the elbow of the
    inertia curve when its silhouette is within 10 % of the best silhouette, else the k with
    the best silhouette. When that k is 2, the same rule applied to the k of 3 or more gives
    :attr:`SweepResult.alternative_k`. A k above the number of distinct rows (customer
    profiles) is left out, and the reason says so. The silhouette is computed on the same
    seeded sample of rows for every k: the rows :func:`core.metrics.silhouette` draws with the
    same ``random_state``.

    Parameters
    ----------
    X : ndarray, shape (n_samples, n_features)
        Prepared numeric matrix.
    ks : iterable of int
        Values of k to try, each in ``K_MIN..K_MAX`` and below the number of rows; duplicates
        are dropped and the values sorted.
    algorithm : str
        Any of :data:`core.clustering.ALGORITHMS` except ``"hdbscan"``, which has no k.
    random_state : int
        Seed for every fit and for the silhouette sample.
    n_init : int
        Restarts per fit (see :func:`core.clustering.fit_clusters`).
    progress : callable, optional
        Called as ``progress(done, total)`` after each k.
    should_stop : callable, optional
        Called with no arguments before each k; when it returns True the sweep stops.
    feature_label : str
        How messages name the feature set, e.g. ``"the chosen features (seed)"``.

    Returns
    -------
    SweepResult

    Raises
    ------
    ConfigError
        For bad data, a k out of range, an empty ``ks``, ``algorithm="hdbscan"``, or fewer
        distinct rows than the smallest k.
    SweepCancelled
        When ``should_stop`` returned True.
    """
    X = check_matrix(X)
    algorithm = check_algorithm(algorithm)
    if algorithm == "hdbscan":
        others = ", ".join(a for a in ALGORITHMS if a != "hdbscan")
        raise ConfigError(f"hdbscan finds its own number of segments, so there is no k to sweep; "
                          f"sweep one of: {others}.")
    ks = _checked_ks(ks, X.shape[0])
    profiles = count_profiles(X, ks[-1])
    if profiles < ks[0]:
        raise too_few_profiles(profiles, X.shape[0], ks[0], feature_label)
    left_out = tuple(k for k in ks if k > profiles)
    ks = [k for k in ks if k <= profiles]
    sampled = sample_rows(X.shape[0], SILHOUETTE_SAMPLE, random_state)
    scored = np.arange(X.shape[0]) if sampled is None else sampled
    distances = euclidean_distances(X[scored])  # at most 2,000 x 2,000, shared by every k
    rows = []
    fitted = algorithm
    for done, k in enumerate(ks, start=1):
        if should_stop is not None and should_stop():
            raise SweepCancelled(f"sweep stopped after {done - 1} of {len(ks)} values of k.")
        result, model = fit_model(X, algorithm=algorithm, k=k, random_state=random_state,
                                  n_init=n_init)
        fitted = result.algorithm
        rows.append({
            "k": k,
            "inertia": result.inertia,
            "silhouette": silhouette_from_distances(distances, result.labels[scored]),
            "calinski_harabasz": calinski_harabasz(X, result.labels),
            "davies_bouldin": davies_bouldin(X, result.labels),
            "bic": float(model.bic(X)) if algorithm == "gmm" else float("nan"),
        })
        if progress is not None:
            progress(done, len(ks))
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    knee = _knee(table)
    recommended, reason = _recommend(table, algorithm, knee)
    if left_out:
        reason += (f" {_k_text(left_out)} {'was' if len(left_out) == 1 else 'were'} left out: "
                   f"there are only {profiles} distinct customer profiles among "
                   f"{X.shape[0]:,} customers on {feature_label}.")
    alternative, why = None, None
    wider = table[table["k"] >= CAMPAIGN_MIN_K].reset_index(drop=True)
    if recommended < CAMPAIGN_MIN_K and len(wider):
        wider_knee = knee if knee is not None and knee >= CAMPAIGN_MIN_K else _knee(wider)
        alternative, why = _recommend(wider, algorithm, wider_knee,
                                      among=f" among k ≥ {CAMPAIGN_MIN_K}")
    sample_size = None if sampled is None else len(sampled)
    return SweepResult(table, recommended, reason, knee, sample_size, fitted, alternative, why,
                       left_out)


def _k_text(ks: tuple[int, ...]) -> str:
    """``k = 6``, ``k = 6 and 8``, ``k = 6 to 12`` (a run) or ``k = 6, 8 and 10``."""
    if len(ks) > 2 and ks[-1] - ks[0] == len(ks) - 1:
        return f"k = {ks[0]} to {ks[-1]}"
    return "k = " + (", ".join(map(str, ks[:-1])) + " and " if len(ks) > 1 else "") + str(ks[-1])


def _checked_ks(ks: Iterable[int], n_rows: int) -> list[int]:
    """Sorted distinct valid k values, or a ConfigError naming the bad one."""
    try:
        values = list(ks)
    except TypeError as exc:
        raise ConfigError(f"ks must be a sequence of whole numbers; got {ks!r}.") from exc
    if not values:
        raise ConfigError("ks is empty; give at least one k to try.")
    return sorted({check_k(k, n_rows) for k in values})


def _knee(table: pd.DataFrame) -> int | None:
    """The elbow of the inertia curve (kneed, convex and decreasing), or None."""
    if len(table) < 3:
        return None
    with warnings.catch_warnings():  # kneed warns when a curve has no knee; None says so
        warnings.simplefilter("ignore")
        knee = KneeLocator(table["k"], table["inertia"], curve="convex",
                           direction="decreasing").knee
    return None if knee is None else int(knee)


def _recommend(table: pd.DataFrame, algorithm: str, knee: int | None, *,
               among: str = "") -> tuple[int, str]:
    """The recommended k of ``table`` and why; ``among`` names a restricted range of k."""
    return _by_bic(table, among) if algorithm == "gmm" else _by_elbow(table, knee, among)


def _by_bic(table: pd.DataFrame, among: str = "") -> tuple[int, str]:
    """Lowest BIC, explained."""
    best = table.loc[table["bic"].idxmin()]
    k = int(best["k"])
    return k, (f"k = {k}: the Gaussian mixture with the lowest BIC{among} ({best['bic']:,.0f}), "
               f"the best balance between fitting the customers closely and keeping the model "
               f"simple.")


def _by_elbow(table: pd.DataFrame, knee: int | None, among: str = "") -> tuple[int, str]:
    """The elbow if its silhouette is close to the best, else the best silhouette, explained."""
    scores = table.set_index("k")["silhouette"]
    elbow = "the elbow of the inertia curve (where more segments stop paying off)"
    if scores.isna().all():
        if knee is not None:
            return knee, f"k = {knee}: {elbow}; the silhouette could not be computed."
        k = int(table["k"].iloc[0])
        return k, (f"k = {k}: the smallest k tried{among}, as neither an elbow nor a silhouette "
                   f"was found.")
    best_k = int(scores.idxmax())
    best = scores[best_k]
    if knee is None:
        return best_k, (f"k = {best_k}: the best silhouette{among} ({best:.2f}, how clearly "
                        f"customers sit in their own segment); the inertia curve has no clear "
                        f"elbow.")
    if knee == best_k:
        return knee, f"k = {knee}: {elbow}, and also the best silhouette{among} ({best:.2f})."
    at_knee = scores[knee]
    if at_knee >= best - SILHOUETTE_TOLERANCE * abs(best):
        return knee, (f"k = {knee}: {elbow}, and its silhouette ({at_knee:.2f}) is within 10 % "
                      f"of the best{among} ({best:.2f} at k = {best_k}).")
    return best_k, (f"k = {best_k}: the best silhouette{among} ({best:.2f}); the elbow of the "
                    f"inertia curve at k = {knee} separates the segments less clearly "
                    f"(silhouette {at_knee:.2f}).")
