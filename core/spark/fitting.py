"""Learn a segmentation in Spark: the Cleaner's fill values, the Preprocessor's fill, scaling and
PCA, MLlib KMeans centres, and the segment profiles, each from aggregates collected to the
driver (medians and quantiles from ``percentile_approx``, so fill values may differ from the
local engine's exact medians in the last digits).

The fitted parts are the local engine's own classes (:class:`~core.cleaning.Cleaner`,
:class:`~core.preprocessing.Preprocessor`), so the model is an ordinary
:class:`~core.model.SegmentModel` that both engines score with.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from pyspark.ml.clustering import KMeans
from pyspark.ml.feature import VectorAssembler
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from sklearn.utils.extmath import svd_flip

from core.cleaning import MEDIAN_COLUMNS, MODE_COLUMNS, Cleaner
from core.errors import ConfigError
from core.features import STYLES
from core.levers import suggest_levers
from core.naming import name_segments
from core.preprocessing import SCALINGS, FeatureSet, Preprocessor, make_pca
from core.profiling import (
    LOG_SCALE_FEATURES,
    NUMERIC_FEATURES,
    SegmentProfile,
    draft_profile,
    effect_sizes,
    rank_top_features,
)
from core.spark.frames import col
from core.spark.scoring import DISTANCE, SEGMENT, model_space

ACCURACY = 100_000  # percentile_approx: rank error at most 1/ACCURACY of the rows
MAX_ITER = 100  # Lloyd iterations of MLlib KMeans (it stops earlier once centres settle)
TOLERANCE = 1e-6


def fit_cleaner(frame: DataFrame) -> Cleaner:
    """A :class:`Cleaner` whose fill values are learned from ``frame`` as ``Cleaner.fit`` does:
    medians of the money columns, the most common value (the smallest among equals) of the
    others, and MINIMUM_PAYMENTS' median over customers who paid something."""
    paying = F.when(F.coalesce(col("PAYMENTS"), F.lit(0.0)) != 0, col("MINIMUM_PAYMENTS"))
    medians = frame.agg(*(F.percentile_approx(col(c), 0.5, ACCURACY).alias(c)
                          for c in MEDIAN_COLUMNS),
                        F.percentile_approx(paying, 0.5, ACCURACY).alias("MINIMUM_PAYMENTS"))
    fills = {c: _filled(v) for c, v in medians.first().asDict().items()}
    cells = frame.select(F.explode(F.array(*(
        F.struct(F.lit(c).alias("column"), col(c).alias("value")) for c in MODE_COLUMNS)))
        .alias("cell")).select("cell.*").dropna()
    ranked = cells.groupBy("column", "value").count().withColumn("rank", F.row_number().over(
        Window.partitionBy("column").orderBy(F.desc("count"), F.asc("value"))))
    modes = {r["column"]: r["value"] for r in ranked.filter("rank = 1").collect()}
    fills |= {c: _filled(modes.get(c)) for c in MODE_COLUMNS}
    cleaner = Cleaner()
    cleaner.fill_values_ = fills
    return cleaner


def fit_preprocessor(frame: DataFrame, feature_set: FeatureSet, *, scaling: str = "standard",
                     pca: int | float | None = None) -> Preprocessor:
    """A :class:`Preprocessor` fitted on ``frame`` (cleaned, with features) as
    ``Preprocessor.fit`` does: medians fill the gaps after log1p, then standard (mean / sd) or
    robust (median / IQR) scaling, then PCA from the covariance matrix (as scikit-learn's
    ``covariance_eigh`` solver). ``constant_`` names the columns with a single value."""
    if scaling not in SCALINGS:
        raise ConfigError(f"scaling must be one of {SCALINGS}, got {scaling!r}")
    pre = Preprocessor(feature_set=feature_set, scaling=scaling, pca=pca)
    columns = feature_set.columns
    if pca is not None:
        make_pca(pca, len(columns))  # the local engine's check of the value
    logged = [_logged(c, c in feature_set.log_columns) for c in columns]
    medians = frame.agg(*(F.percentile_approx(v, 0.5, ACCURACY) for v in logged)).first()
    pre.fill_ = np.array([_filled(v) for v in medians], dtype=float)
    values = [F.coalesce(v, F.lit(float(f))) for v, f in zip(logged, pre.fill_, strict=True)]
    n = len(columns)
    if scaling == "standard":
        spreads = [F.avg(v) for v in values] + [F.stddev_pop(v) for v in values]
    else:
        spreads = [F.percentile_approx(v, [0.25, 0.5, 0.75], ACCURACY) for v in values]
    row = frame.agg(*spreads, *(F.min(v) for v in values), *(F.max(v) for v in values)).first()
    stats = list(row)
    if scaling == "standard":
        pre.center_ = np.array(stats[:n], dtype=float)
        scale = np.array(stats[n:2 * n], dtype=float)
        low, high = stats[2 * n:3 * n], stats[3 * n:]
    else:
        quartiles = np.array(stats[:n], dtype=float)
        pre.center_, scale = quartiles[:, 1], quartiles[:, 2] - quartiles[:, 0]
        low, high = stats[n:2 * n], stats[2 * n:]
    pre.scale_ = np.where(scale > 0, scale, 1.0)
    pre.constant_ = tuple(c for c, a, b in zip(columns, low, high, strict=True) if a == b)
    if pca is not None:
        pre.pca_mean_, pre.pca_components_ = _pca(frame, pre, pca)
    return pre


def fit_kmeans(frame: DataFrame, dims: int, k: int, seed: int) -> np.ndarray:
    """MLlib KMeans (k-means||) on the model-space columns ``_x0, …`` of ``frame``; the centres,
    largest segment first (as the local engine numbers them), empty segments dropped."""
    vectors = VectorAssembler(inputCols=[f"_x{m}" for m in range(dims)], outputCol="_vector")
    data = vectors.transform(frame).select("_vector").persist()
    try:
        model = KMeans(k=k, seed=seed, maxIter=MAX_ITER, tol=TOLERANCE,
                       featuresCol="_vector").fit(data)
        sizes = model.summary.clusterSizes
    finally:
        data.unpersist()
    centres = np.array(model.clusterCenters(), dtype=float)
    order = sorted((j for j in range(len(centres)) if sizes[j] > 0), key=lambda j: -sizes[j])
    return centres[order]


def profile(labelled: DataFrame) -> tuple[tuple[SegmentProfile, ...], float]:
    """Profiles of the segments of ``labelled`` (cleaned, with features, styles, ``segment`` and
    ``distance_to_centre``), as :func:`core.profiling.profile_segments` makes them from the same
    statistics, and the inertia (sum of squared distances to the own centre).

    Two aggregations: segment sizes, sums, medians and style counts (with the population as a
    rollup row), then sums of squared deviations from the population means.
    """
    scaled = {name: F.log1p(F.greatest(col(name), F.lit(0.0))) if name in LOG_SCALE_FEATURES
              else col(name) for name in NUMERIC_FEATURES}
    styles = [(s, i) for s in STYLES for i in range(len(s.categories))]
    first = labelled.rollup(SEGMENT).agg(
        F.count(F.lit(1)).alias("_n"),
        *(F.sum(col(c)).alias(f"_sum{j}") for j, c in enumerate(NUMERIC_FEATURES)),
        *(F.sum(v).alias(f"_log{j}") for j, v in enumerate(scaled.values())),
        *(F.percentile_approx(col(c), 0.5, ACCURACY).alias(f"_median{j}")
          for j, c in enumerate(NUMERIC_FEATURES)),
        *(F.count(F.when(col(s.name) == i, 1)).alias(f"_style{n}")
          for n, (s, i) in enumerate(styles)),
        F.sum(col(DISTANCE) * col(DISTANCE)).alias("_inertia")).collect()
    population = next(r for r in first if r[SEGMENT] is None)
    rows = sorted((r for r in first if r[SEGMENT] is not None), key=lambda r: r[SEGMENT])
    segments = [int(r[SEGMENT]) for r in rows]
    sizes = np.array([r["_n"] for r in rows], dtype=np.int64)
    n = int(sizes.sum())

    def table(prefix: str, source: list = rows) -> np.ndarray:
        return np.array([[r[f"{prefix}{j}"] for j in range(len(NUMERIC_FEATURES))]
                         for r in source], dtype=float)

    means, log_means = table("_sum") / sizes[:, None], table("_log") / sizes[:, None]
    centre, log_centre = sizes @ means / n, sizes @ log_means / n  # as core.profiling._moments
    second = {int(r[SEGMENT]): r for r in labelled.groupBy(SEGMENT).agg(
        *(F.sum((col(c) - F.lit(float(centre[j]))) ** 2).alias(f"_sq{j}")
          for j, c in enumerate(NUMERIC_FEATURES)),
        *(F.sum((v - F.lit(float(log_centre[j]))) ** 2).alias(f"_logsq{j}")
          for j, v in enumerate(scaled.values()))).collect()}
    ordered = [second[s] for s in segments]
    squares, log_squares = table("_sq", ordered), table("_logsq", ordered)
    sd = np.sqrt(squares.sum(axis=0) / n)
    z_scores = np.divide(means - centre, sd, out=np.zeros_like(means), where=sd > 0)
    effects = np.column_stack([effect_sizes(log_means[:, j], log_squares[:, j], log_centre[j],
                                            sizes) for j in range(len(NUMERIC_FEATURES))])
    medians = table("_median")

    def mix(row) -> dict[str, dict[str, float]]:
        counts = {(s.name, i): row[f"_style{m}"] for m, (s, i) in enumerate(styles)}
        return {s.name: {c: counts[s.name, i] / max(row["_n"], 1)
                         for i, c in enumerate(s.categories)} for s in STYLES}

    whole = draft_profile(0, n, n, centre, table("_median", [population])[0],
                          np.zeros(len(NUMERIC_FEATURES)), (), mix(population))
    drafts = [draft_profile(segment, int(sizes[i]), n, means[i], medians[i], z_scores[i],
                            rank_top_features(effects[i], means[i], centre), mix(rows[i]))
              for i, segment in enumerate(segments)]
    names = name_segments(drafts, whole)
    profiles = tuple(replace(p, name=name, description=text, levers=suggest_levers(p, whole))
                     for p, (name, text) in zip(drafts, names, strict=True))
    return profiles, float(population["_inertia"])


def _pca(frame: DataFrame, pre: Preprocessor, pca: int | float) -> tuple[np.ndarray, np.ndarray]:
    """PCA mean and components from the covariance of the scaled columns, as scikit-learn's
    ``PCA(svd_solver="covariance_eigh")``: eigenvectors by decreasing eigenvalue, signs by
    ``svd_flip``, and for a variance share the fewest components whose share exceeds it."""
    n = len(pre.feature_set.columns)
    scaled = model_space(frame, _without_pca(pre))
    z = [F.col(f"_x{i}") for i in range(n)]
    pairs = [(i, j) for i in range(n) for j in range(i, n)]
    row = scaled.agg(F.count(F.lit(1)), *(F.sum(v) for v in z),
                     *(F.sum(z[i] * z[j]) for i, j in pairs)).first()
    rows = row[0]
    mean = np.array(row[1:n + 1], dtype=float) / rows
    gram = np.zeros((n, n))
    for (i, j), value in zip(pairs, row[n + 1:], strict=True):
        gram[i, j] = gram[j, i] = value
    covariance = (gram - rows * np.outer(mean, mean)) / (rows - 1)
    values, vectors = np.linalg.eigh(covariance)
    values, vectors = np.clip(values[::-1], 0, None), vectors[:, ::-1]
    _, components = svd_flip(None, np.ascontiguousarray(vectors.T), u_based_decision=False)
    if isinstance(pca, float):
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.cumsum(values / values.sum())
        pca = min(int(np.searchsorted(ratio, pca, side="right")) + 1, n)
    return mean, np.ascontiguousarray(components[:pca])


def _without_pca(pre: Preprocessor) -> Preprocessor:
    plain = Preprocessor(feature_set=pre.feature_set, scaling=pre.scaling, pca=None)
    plain.fill_, plain.center_, plain.scale_ = pre.fill_, pre.center_, pre.scale_
    return plain


def _logged(name: str, log: bool) -> Column:
    value = col(name).try_cast("double")
    return F.when(value.isNotNull(), F.log1p(F.greatest(value, F.lit(0.0)))) if log else value


def _filled(value: float | None) -> float:
    """A learned value, or 0 when the column had no values (as ``core.cleaning._filled``)."""
    return 0.0 if value is None or np.isnan(value) else float(value)
