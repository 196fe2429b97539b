"""The end-to-end engine: customer table → cleaned features → segments → profiles → model."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.cleaning import Cleaner, CleaningReport
from core.clustering import K_MIN, ClusterResult, align_labels, check_profiles, fit_clusters
from core.features import add_features
from core.loading import CustomerData
from core.metrics import evaluate
from core.model import SegmentModel
from core.preprocessing import Preprocessor, resolve_feature_set
from core.profiling import SegmentProfile, profile_segments
from core.schema import BEHAVIOUR_COLUMNS, ID_COLUMN
from core.stability import StabilityResult, assess_stability
from core.sweep import SweepResult, sweep_k


@dataclass(frozen=True)
class SegmentationConfig:
    """Everything that decides a segmentation; hashable, so it keys caches and URLs."""

    features: str | tuple[str, ...] = "seed"
    algorithm: str = "kmeans"
    k: int = 4
    scaling: str = "standard"
    pca: int | float | None = None
    random_state: int = 42
    n_init: int = 10


@dataclass(frozen=True, eq=False)
class PreparedData:
    """A customer table cleaned, enriched with features and turned into the model matrix.

    ``warnings`` holds one sentence per feature that is the same for every customer.
    """

    frame: pd.DataFrame
    matrix: np.ndarray
    cleaner: Cleaner
    preprocessor: Preprocessor
    cleaning: CleaningReport
    warnings: tuple[str, ...] = ()

    @property
    def feature_label(self) -> str:
        """How messages name the feature set, e.g. ``the chosen features (seed)``."""
        return f"the chosen features ({self.preprocessor.feature_set.label})"


@dataclass(frozen=True, eq=False)
class Segmentation:
    """A fitted segmentation: who is in which segment, what each segment is, and the model."""

    config: SegmentationConfig
    data_id: str
    prepared: PreparedData
    clusters: ClusterResult
    profiles: tuple[SegmentProfile, ...]
    metrics: dict[str, float]
    model: SegmentModel
    stability: StabilityResult | None = field(default=None)

    @property
    def labels(self) -> np.ndarray:
        """Segment number (1..k) of every customer, in input order."""
        return self.clusters.labels

    @property
    def k(self) -> int:
        """Number of segments."""
        return self.clusters.k

    def assignments(self) -> pd.DataFrame:
        """One row per customer: id, segment, segment name, distance to the segment centre."""
        names = np.array([p.name for p in self.profiles], dtype=object)
        return pd.DataFrame({
            ID_COLUMN: self.prepared.frame[ID_COLUMN].to_numpy(),
            "segment": self.labels,
            "segment_name": names[self.labels - 1],
            "distance_to_centre": self.clusters.distances,
        })


def prepare(data: CustomerData, config: SegmentationConfig) -> PreparedData:
    """Clean ``data``, add features, and build the model matrix for ``config``'s feature set."""
    numeric_attributes = [a for a in data.attributes
                          if pd.api.types.is_numeric_dtype(data.frame[a])]
    feature_set = resolve_feature_set(config.features, numeric_attributes)
    cleaner = Cleaner().fit(data.frame[list(BEHAVIOUR_COLUMNS)])
    cleaned, report = cleaner.clean(data.frame)
    frame = add_features(cleaned)
    preprocessor = Preprocessor(feature_set=feature_set, scaling=config.scaling, pca=config.pca)
    matrix = preprocessor.fit(frame).transform(frame)
    warnings = tuple(constant_warning(frame[column]) for column in preprocessor.constant_)
    return PreparedData(frame, matrix, cleaner, preprocessor, report, warnings)


def constant_warning(values: pd.Series) -> str:
    """``CASH_ADVANCE is 0 for every customer, so it cannot tell segments apart.``"""
    known = values.dropna()
    value = f"{known.iloc[0]:,g}" if len(known) else "missing"
    return f"{values.name} is {value} for every customer, so it cannot tell segments apart."


def check_segmentable(prepared: PreparedData, config: SegmentationConfig) -> None:
    """Raise a ConfigError if the customers have fewer distinct profiles than ``config.k``.

    Profiles are distinct rows of the prepared matrix; hdbscan, which finds its own k, needs
    two. Check before fitting a chain of smaller k (as the app numbers segments), so that the
    message names the k asked for.
    """
    k = K_MIN if config.algorithm == "hdbscan" else config.k
    check_profiles(prepared.matrix, k, feature_label=prepared.feature_label)


def segment_customers(data: CustomerData, config: SegmentationConfig = SegmentationConfig(), *,
                      reference_labels: np.ndarray | None = None,
                      with_stability: bool = False) -> Segmentation:
    """Fit a segmentation of ``data``.

    Parameters
    ----------
    data : CustomerData
        A loaded, validated customer table.
    config : SegmentationConfig
        Feature set, algorithm, k, scaling, PCA and seed.
    reference_labels : ndarray, optional
        An earlier labelling of the same customers; segment numbers are aligned to it so a
        segment keeps its number (and colour) when k changes.
    with_stability : bool
        Also run the subsample re-fits that measure how stable each segment is.
    """
    return segment_prepared(prepare(data, config), config, data.content_hash,
                            reference_labels=reference_labels, with_stability=with_stability)


def segment_prepared(prepared: PreparedData, config: SegmentationConfig, data_id: str, *,
                     reference_labels: np.ndarray | None = None,
                     with_stability: bool = False) -> Segmentation:
    """:func:`segment_customers` on data already prepared for ``config`` (reused across k)."""
    clusters = fit_clusters(prepared.matrix, algorithm=config.algorithm, k=config.k,
                            random_state=config.random_state, n_init=config.n_init,
                            feature_label=prepared.feature_label)
    if reference_labels is not None:
        clusters = _renumbered(clusters, _without_gaps(align_labels(clusters.labels,
                                                                    reference_labels)))
    profiles = profile_segments(prepared.frame, clusters.labels)
    model = SegmentModel.from_fit(prepared.cleaner, prepared.preprocessor, clusters.centres,
                                  tuple(p.name for p in profiles), config,
                                  tuple(p.levers for p in profiles))
    stability = (assess_stability(prepared.matrix, clusters.labels, algorithm=clusters.algorithm,
                                  k=clusters.k, random_state=config.random_state)
                 if with_stability else None)
    metrics = evaluate(prepared.matrix, clusters.labels, random_state=config.random_state)
    return Segmentation(config, data_id, prepared, clusters, profiles, metrics, model, stability)


def _without_gaps(labels: np.ndarray) -> np.ndarray:
    """Numbers above k (left when k shrinks) move into the unused numbers 1..k, in order."""
    numbers = np.unique(labels)
    k = len(numbers)
    free = np.setdiff1d(np.arange(1, k + 1), numbers)
    lookup = np.arange(numbers.max() + 1)
    lookup[numbers[numbers > k]] = free
    return lookup[labels]


def _renumbered(clusters: ClusterResult, labels: np.ndarray) -> ClusterResult:
    """``clusters`` with segments renumbered to ``labels`` (centres reordered to match)."""
    order = [int(np.flatnonzero(labels == s)[0]) for s in range(1, clusters.k + 1)]
    centres = clusters.centres[[clusters.labels[i] - 1 for i in order]]
    return ClusterResult(labels=labels, centres=centres, distances=clusters.distances,
                         algorithm=clusters.algorithm, k=clusters.k, inertia=clusters.inertia,
                         n_noise=clusters.n_noise)


def sweep(data: CustomerData, config: SegmentationConfig, ks: Sequence[int] = range(2, 13), *,
          progress: Callable[[int, int], None] | None = None) -> SweepResult:
    """Fit every k in ``ks`` on ``data`` prepared as ``config`` says, and recommend one."""
    prepared = prepare(data, config)
    return sweep_k(prepared.matrix, ks, algorithm=config.algorithm,
                   random_state=config.random_state, n_init=config.n_init, progress=progress,
                   feature_label=prepared.feature_label)
