"""Model space and nearest segment in Spark, with the labels of ``SegmentModel.predict``.

The local arithmetic cannot be copied bit for bit: numpy's ``log1p`` (SIMD code on AVX-512
machines) and Java's differ in the last bit for about 6 % of values, and BLAS sums ``x · c``
with fused multiply-adds. Labels are still the same: Spark scores every centre as
:func:`core.clustering.nearest_centre` does (``|c|²/2 - x·c``, the lowest score wins, ties go to
the lower segment) and also bounds how far apart the two engines' scores can be (``TIE_MARGIN``
times the size of the terms, about a thousand times the worst rounding). A customer whose two
best scores are closer than that bound (none in random data; customers exactly on a boundary
exist) is a *near tie*: the distinct feature values of the near ties are collected to the driver,
given their segment by the local engine itself (``Preprocessor.transform`` and
``nearest_centre``), and joined back. Distances agree to about 1e-15 (relative), not bitwise.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import reduce
from operator import add

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame, Observation, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from core.clustering import nearest_centre
from core.model import SegmentModel
from core.preprocessing import Preprocessor
from core.spark.frames import col

SEGMENT, DISTANCE, TIE = "segment", "distance_to_centre", "_near_tie"
TIE_MARGIN = 1e-11  # relative to the size of a customer's terms; rounding is ~1e-14 at most
MAX_LOCAL_TIES = 1_000_000  # distinct near-tie profiles the driver labels; beyond: Spark's own
_LOCAL = "_local_"


def model_space(frame: DataFrame, preprocessor: Preprocessor) -> DataFrame:
    """``frame`` (cleaned, with features) plus ``_x0, _x1, …``, its model-space coordinates as
    :meth:`Preprocessor.transform` computes them (log1p, fill, scale, PCA), and ``_size0, …``,
    a bound on the magnitude of the terms behind each coordinate."""
    columns = preprocessor.feature_set.columns
    logged = set(preprocessor.feature_set.log_columns)
    scaled: dict[str, Column] = {}
    for j, name in enumerate(columns):
        value = col(name).try_cast("double")
        if name in logged:
            value = F.when(value.isNotNull(), F.log1p(F.greatest(value, F.lit(0.0))))
        filled = F.coalesce(value, F.lit(float(preprocessor.fill_[j])))
        centre, scale = float(preprocessor.center_[j]), float(preprocessor.scale_[j])
        scaled[f"_z{j}"] = (filled - F.lit(centre)) / F.lit(scale)
        scaled[f"_zsize{j}"] = (F.abs(filled) + F.lit(abs(centre))) / F.lit(scale)
    frame = frame.withColumns(scaled)
    n = len(columns)
    if preprocessor.pca is None:
        return frame.withColumns({f"_x{j}": F.col(f"_z{j}") for j in range(n)}
                                 | {f"_size{j}": F.col(f"_zsize{j}") for j in range(n)})
    mean, components = preprocessor.pca_mean_, preprocessor.pca_components_
    projected: dict[str, Column] = {}
    for m, row in enumerate(components):
        projected[f"_x{m}"] = reduce(add, [(F.col(f"_z{i}") - F.lit(float(mean[i])))
                                           * F.lit(float(row[i])) for i in range(n)])
        projected[f"_size{m}"] = reduce(add, [(F.col(f"_zsize{i}") + F.lit(abs(float(mean[i]))))
                                              * F.lit(abs(float(row[i]))) for i in range(n)])
    return frame.withColumns(projected)


def assign(frame: DataFrame, model: SegmentModel) -> DataFrame:
    """``frame`` (cleaned, with features) plus ``segment`` (1..k), ``distance_to_centre`` and
    ``_near_tie`` (the local engine might choose otherwise; see the module docstring)."""
    given = set(frame.columns)
    centres = np.asarray(model.centres, dtype=float)
    dims = centres.shape[1]
    half_norms = 0.5 * np.einsum("ij,ij->i", centres, centres)  # as core.clustering
    # A repeated centre never wins: its scores equal the first copy's, and ties go to the first.
    candidates = sorted(int(i) for i in np.unique(centres, axis=0, return_index=True)[1])
    x = [F.col(f"_x{m}") for m in range(dims)]
    largest = np.abs(centres).max(axis=0)
    bound = F.lit(float(np.abs(half_norms).max())) + 2 * reduce(
        add, [F.col(f"_size{m}") * F.lit(float(largest[m])) for m in range(dims)])
    frame = model_space(frame, model.preprocessor).withColumns(
        {f"_s{j}": F.lit(float(half_norms[j])) - reduce(
            add, [x[m] * F.lit(float(centres[j, m])) for m in range(dims)]) for j in candidates}
        | {"_bound": bound})
    best, score = F.lit(candidates[0]), F.col(f"_s{candidates[0]}")
    for j in candidates[1:]:
        best = F.when(F.col(f"_s{j}") < score, F.lit(j)).otherwise(best)
        score = F.least(F.col(f"_s{j}"), score)
    frame = frame.withColumns({"_code": best, "_best": score})
    others = [F.when(F.col("_code") == j, F.lit(float("inf"))).otherwise(F.col(f"_s{j}"))
              for j in candidates]
    runner_up = F.least(*others) if len(others) > 1 else F.lit(float("inf"))
    own = [F.element_at(F.array(*(F.lit(float(c)) for c in centres[:, m])), F.col("_code") + 1)
           for m in range(dims)]
    distance = F.sqrt(reduce(add, [(x[m] - own[m]) * (x[m] - own[m]) for m in range(dims)]))
    frame = frame.withColumns({
        SEGMENT: (F.col("_code") + 1).cast("int"),
        DISTANCE: distance,
        TIE: runner_up - F.col("_best") <= F.lit(TIE_MARGIN) * F.col("_bound"),
    })
    return frame.drop(*(c for c in frame.columns if c not in given | {SEGMENT, DISTANCE, TIE}))


def label(spark: SparkSession, frame: DataFrame, model: SegmentModel,
          sink: Callable[[DataFrame], None]) -> tuple[DataFrame, int]:
    """Assign every customer of ``frame`` to a segment and hand the result to ``sink`` (a write).

    The near ties are counted during the write; only when there are some (rare) are they labelled
    by the local engine and ``sink`` called again with the corrected frame.

    Returns
    -------
    (DataFrame, int)
        The labelled frame ``sink`` last received, and the number of near ties.
    """
    assigned = assign(frame, model)
    observed = Observation("near_ties")
    sink(assigned.observe(observed, F.sum(F.col(TIE).cast("long")).alias("ties")))
    ties = int(observed.get["ties"] or 0)
    if not ties:
        return assigned, 0
    corrected = with_local_labels(spark, assigned, model)
    sink(corrected)
    return corrected, ties


def resolve(spark: SparkSession, assigned: DataFrame,
            model: SegmentModel) -> tuple[DataFrame, int]:
    """``assigned`` with its near ties labelled by the local engine, and their number."""
    ties = assigned.filter(F.col(TIE)).count()
    return (with_local_labels(spark, assigned, model) if ties else assigned), ties


def with_local_labels(spark: SparkSession, assigned: DataFrame, model: SegmentModel,
                      limit: int = MAX_LOCAL_TIES) -> DataFrame:
    """``assigned`` with the near ties' segment and distance taken from the local engine."""
    inputs = list(model.preprocessor.feature_set.columns)
    rows = (assigned.filter(F.col(TIE)).select(*(col(c).try_cast("double") for c in inputs))
            .distinct().limit(limit + 1).collect())
    if len(rows) > limit:
        warnings.warn(f"more than {limit:,} distinct customer profiles lie within rounding of "
                      "two segments; Spark's own labels are kept for them", stacklevel=2)
        return assigned
    values = pd.DataFrame([list(r) for r in rows], columns=inputs, dtype=float)
    twice = pd.concat([values, values])  # one row would take numpy's matrix-vector path
    labels, distances = nearest_centre(model.preprocessor.transform(twice), model.centres)
    schema = T.StructType([T.StructField(f"{_LOCAL}{i}", T.DoubleType()) for i in
                           range(len(inputs))]
                          + [T.StructField(f"{_LOCAL}{SEGMENT}", T.IntegerType()),
                             T.StructField(f"{_LOCAL}{DISTANCE}", T.DoubleType())])
    local = spark.createDataFrame([(*row, int(s), float(d)) for row, s, d in
                                   zip(rows, labels[:len(rows)], distances[:len(rows)],
                                       strict=True)], schema)
    same = reduce(lambda a, b: a & b, [col(c).try_cast("double").eqNullSafe(F.col(f"{_LOCAL}{i}"))
                                       for i, c in enumerate(inputs)])
    joined = assigned.join(F.broadcast(local), on=same, how="left")
    return joined.withColumns({
        SEGMENT: F.coalesce(F.col(f"{_LOCAL}{SEGMENT}"), F.col(SEGMENT)),
        DISTANCE: F.coalesce(F.col(f"{_LOCAL}{DISTANCE}"), F.col(DISTANCE)),
    }).drop(*local.columns)
