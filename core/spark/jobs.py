"""``c2c fit``, ``c2c score`` and ``c2c export`` on Spark, writing what the local engine writes.

Outputs: the assignments (``CUST_ID``, ``segment``, ``segment_name``, ``distance_to_centre``) and
member lists are Parquet folders written by Spark; ``profiles.csv`` and ``model.json`` are the
local engine's files, written by the driver (to a local folder, or through Hadoop's file system
for a URI such as ``hdfs://`` or ``s3a://``).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import pandas as pd
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from core.campaign import (
    CONTROL,
    GROUP_RULE,
    NOT_CONTACTED,
    TREATMENT,
    CampaignPlan,
    campaign_summary,
    customer_draws,
    project,
)
from core.clustering import check_k, too_few_profiles
from core.errors import ConfigError, ModelFileError
from core.export import CAMPAIGN_GROUP, PLAN_NAME
from core.features import FEATURE_BY_NAME
from core.model import SegmentModel
from core.pipeline import SegmentationConfig, constant_warning
from core.preprocessing import resolve_feature_set
from core.profiling import SegmentProfile, profile_table
from core.schema import ID_COLUMN
from core.spark.fitting import fit_cleaner, fit_kmeans, fit_preprocessor, profile
from core.spark.frames import SparkCustomers, add_features, clean, col, read_customers
from core.spark.scoring import DISTANCE, SEGMENT, assign, label, model_space, resolve

ASSIGNMENTS = "assignments.parquet"
_PROFILE_SAMPLE = 1_000


@dataclass(frozen=True, eq=False)
class FitResult:
    """What ``fit`` learned and wrote."""

    source: str
    rows: int
    model: SegmentModel
    profiles: tuple[SegmentProfile, ...]
    inertia: float
    near_ties: int
    notes: tuple[str, ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class ScoreResult:
    """What ``score`` wrote: rows, customers per segment, near ties labelled locally."""

    source: str
    rows: int
    counts: dict[int, int]
    near_ties: int
    notes: tuple[str, ...]


def fit(spark: SparkSession, uri: str, config: SegmentationConfig, out: str) -> FitResult:
    """Segment the customers at ``uri`` and write ``assignments.parquet``, ``profiles.csv`` and
    ``model.json`` under the folder ``out``."""
    if config.algorithm != "kmeans":
        raise ConfigError(f"the Spark engine clusters with MLlib KMeans; --algorithm must be "
                          f"kmeans, got {config.algorithm!r}")
    customers = read_customers(spark, uri)
    feature_set = resolve_feature_set(config.features, customers.attributes)
    k = check_k(config.k, customers.rows)
    cleaner = fit_cleaner(customers.frame)
    prepared = _prepared(customers, cleaner.fill_values_).persist()
    try:
        preprocessor = fit_preprocessor(prepared, feature_set, scaling=config.scaling,
                                        pca=config.pca)
        dims = len(preprocessor.output_names)
        spaced = model_space(prepared, preprocessor)
        _check_profiles(spaced, dims, k, customers.rows, feature_set.label)
        centres = fit_kmeans(spaced, dims, k, config.random_state)
        draft = SegmentModel.from_fit(cleaner, preprocessor, centres,
                                      tuple(map(str, range(len(centres)))), config)
        labelled, ties = resolve(spark, assign(prepared, draft), draft)
        profiles, inertia = profile(labelled)
        model = SegmentModel.from_fit(cleaner, preprocessor, centres,
                                      tuple(p.name for p in profiles), config,
                                      tuple(p.levers for p in profiles))
        _write_assignments(labelled, model, _join(out, ASSIGNMENTS))
        warnings = tuple(_constant_warning_for(prepared, c) for c in preprocessor.constant_)
    finally:
        prepared.unpersist()
    _write_text(spark, _join(out, "profiles.csv"),
                profile_table(profiles).to_csv(index=False))
    _write_text(spark, _join(out, "model.json"), model.to_json())
    return FitResult(customers.source, customers.rows, model, profiles, inertia, ties,
                     customers.notes, warnings)


def score(spark: SparkSession, model: SegmentModel, uri: str, out: str) -> ScoreResult:
    """Assign the customers at ``uri`` with ``model`` and write the assignments as Parquet."""
    customers = read_customers(spark, uri)
    _check_columns(model, customers)
    prepared = _prepared(customers, model.cleaner.fill_values_)
    _, ties = label(spark, prepared, model, lambda frame: _write_assignments(frame, model, out))
    counts = {int(r[SEGMENT]): int(r["count"]) for r in
              spark.read.parquet(out).groupBy(SEGMENT).count().collect()}
    return ScoreResult(customers.source, sum(counts.values()), dict(sorted(counts.items())),
                       ties, customers.notes)


def export(spark: SparkSession, model: SegmentModel, plan: CampaignPlan,
           segments: tuple[int, ...], uri: str, out: str) -> dict[str, object]:
    """Score the customers at ``uri`` and write the member list of ``plan`` (its segments'
    customers with their campaign group, drawn as :func:`core.campaign.assign_groups` draws
    them) as Parquet; returns :func:`core.campaign.campaign_summary`."""
    if not out.rstrip("/").lower().endswith(".parquet"):
        raise ConfigError(f"with --engine spark the member list is a Parquet folder; name it "
                          f"….parquet, got {out!r}")
    for number in segments:
        model.segment(number)
    customers = read_customers(spark, uri)
    _check_columns(model, customers)
    assigned, _ = resolve(spark, assign(_prepared(customers, model.cleaner.fill_values_), model),
                          model)
    seed = plan.seed
    draw = F.udf(lambda customer: float(customer_draws([customer], seed)[0]), "double",
                 useArrow=False)  # a plain Python UDF: no pandas in the workers' path
    audience = (_assignments(assigned.filter(F.col(SEGMENT).isin(list(segments))), model)
                .withColumn("_draw", draw(F.col(ID_COLUMN))).persist())
    try:
        size = audience.count()
        projection = project(plan, size)
        control = _key_at(audience, projection.control, size)
        treated = _key_at(audience, projection.control + projection.treated, size)
        group = F.when(_before(control), F.lit(CONTROL)) \
            .when(_before(treated), F.lit(TREATMENT)).otherwise(F.lit(NOT_CONTACTED))
        members = audience.select(*(F.col(c) for c in audience.columns if c != "_draw"),
                                  group.alias(CAMPAIGN_GROUP,
                                              metadata={"campaign_group_rule": GROUP_RULE}),
                                  F.lit(plan.name).alias(PLAN_NAME))
        members.write.mode("overwrite").parquet(out)
    finally:
        audience.unpersist()
    counts = {r[CAMPAIGN_GROUP]: r["count"] for r in
              spark.read.parquet(out).groupBy(CAMPAIGN_GROUP).count().collect()}
    return campaign_summary(plan, [g for g, n in counts.items() for _ in range(n)])


def _prepared(customers: SparkCustomers, fills: dict[str, float]) -> DataFrame:
    return add_features(clean(customers.frame, fills))


def _check_columns(model: SegmentModel, customers: SparkCustomers) -> None:
    """The model's feature columns must be in the data (as ``SegmentModel.predict`` checks)."""
    present = set(customers.frame.columns) | set(FEATURE_BY_NAME)
    missing = [c for c in model.preprocessor.feature_set.columns if c not in present]
    if missing:
        raise ModelFileError(f"the model uses column(s) {', '.join(missing)} "
                             "that the data does not have")


def _check_profiles(spaced: DataFrame, dims: int, k: int, rows: int, features: str) -> None:
    """As :func:`core.clustering.check_profiles`: k segments need k distinct customers."""
    points = spaced.select(*(f"_x{m}" for m in range(dims)))
    found = points.limit(_PROFILE_SAMPLE).distinct().count()
    if found < k:
        found = points.distinct().limit(k).count()
    if found < k:
        raise too_few_profiles(found, rows, k, f"the chosen features ({features})")


def _constant_warning_for(prepared: DataFrame, column: str) -> str:
    value = prepared.select(F.first(col(column), ignorenulls=True)).first()[0]
    return constant_warning(pd.Series([math.nan if value is None else value], name=column))


def _assignments(frame: DataFrame, model: SegmentModel) -> DataFrame:
    names = F.array(*(F.lit(n) for n in model.names))
    return frame.select(F.col(ID_COLUMN), F.col(SEGMENT),
                        F.element_at(names, F.col(SEGMENT)).alias("segment_name"),
                        F.col(DISTANCE))


def _write_assignments(frame: DataFrame, model: SegmentModel, path: str) -> None:
    _assignments(frame, model).write.mode("overwrite").parquet(path)


def _key_at(audience: DataFrame, rank: int, size: int) -> tuple[float, str] | None:
    """``(draw, id)`` of the customer at ``rank`` (0-based) in the order of draws then ids, or
    None past the end. The draws are uniform in [0, 1), so the customers near ``rank / size``
    are collected (a window of ±8 standard deviations) and ranked on the driver."""
    if rank >= size:
        return None
    share = rank / size
    width = (8 * math.sqrt(size * share * (1 - share)) + 16) / size
    while True:
        low, high = max(share - width, 0.0), min(share + width, 1.0)
        inside = (F.col("_draw") >= low) & (F.col("_draw") < high)
        found = audience.agg(F.count_if(F.col("_draw") < low).alias("below"),
                             F.collect_list(F.when(inside, F.struct("_draw", ID_COLUMN)))
                             .alias("inside")).first()
        keys = sorted((r["_draw"], r[ID_COLUMN]) for r in found["inside"])
        if found["below"] <= rank < found["below"] + len(keys):
            return keys[rank - found["below"]]
        width *= 4


def _before(key: tuple[float, str] | None) -> Column:
    """Customers ranked before ``key`` (everyone when it is None)."""
    if key is None:
        return F.lit(True)
    draw, customer = key
    return (F.col("_draw") < F.lit(draw)) | ((F.col("_draw") == F.lit(draw))
                                            & (F.col(ID_COLUMN) < F.lit(customer)))


def _join(folder: str, name: str) -> str:
    return folder.rstrip("/") + "/" + name


def _write_text(spark: SparkSession, path: str, text: str) -> None:
    """Write a small text file: with Python for a local path, else with Hadoop's file system."""
    if "://" not in path:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        return
    jvm = spark.sparkContext._jvm
    target = jvm.org.apache.hadoop.fs.Path(path)
    stream = target.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).create(target,
                                                                                         True)
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()
