"""Benchmark the Spark engine against the local engine and print JSON (issue 11; never a test).

1. Generate ``--rows`` (10,000,000) synthetic customers in chunks into one Parquet file under
   ``.tmp/`` (kept between runs with the same size and seed).
2. Score them with a model fitted locally on the demo data: on Spark (``local[2]``: validation,
   then assignments written as Parquet) and with the local engine, chunk by chunk from the
   Parquet file (validate with ``from_frame``, ``SegmentModel.score``, write Parquet). Rows/s of
   each, and whether every row got the same segment.
3. Fit on Spark and locally, k = 4, seed features, on the demo data and on ``--fit-rows``
   (1,000,000): seconds, inertia ratio (both models' inertia computed by the local engine on the
   same rows) and the adjusted Rand index of the two labellings.

Run: ``make bench`` (or ``python bench/bench_spark.py [--rows N] [--fit-rows N]``); the figures
go to ``bench/results.json`` under "spark".
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from results import save
from sklearn.metrics import adjusted_rand_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.demo import DEMO_PATH, generate_demo_data  # noqa: E402
from core.loading import from_frame, load_customers  # noqa: E402
from core.model import SegmentModel  # noqa: E402
from core.pipeline import SegmentationConfig, segment_customers  # noqa: E402
from core.schema import ID_COLUMN  # noqa: E402
from core.spark import jobs  # noqa: E402
from core.spark.session import spark_session  # noqa: E402

WORK = ROOT / ".tmp" / "bench_spark"
MASTER = "local[2]"
CONFS = [("spark.driver.memory", "6g"), ("spark.sql.shuffle.partitions", "8")]
CONFIG = SegmentationConfig(features="seed", k=4)


def loadavg() -> list[float]:
    return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]


def generate(path: Path, rows: int, chunk: int) -> dict:
    """Demo customers in chunks of ``chunk`` rows (seed = chunk number), unique ids."""
    if path.exists() and pq.ParquetFile(path).metadata.num_rows == rows:
        return {"rows": rows, "seconds": None, "reused": True,
                "megabytes": round(path.stat().st_size / 2**20)}
    start = time.perf_counter()
    writer = None
    for number, offset in enumerate(range(0, rows, chunk)):
        frame = generate_demo_data(min(chunk, rows - offset), seed=number)
        frame[ID_COLUMN] = [f"B{offset + i:09d}" for i in range(len(frame))]
        table = pa.Table.from_pandas(frame, preserve_index=False)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=chunk)
    writer.close()
    return {"rows": rows, "seconds": round(time.perf_counter() - start, 1), "reused": False,
            "megabytes": round(path.stat().st_size / 2**20)}


def score_locally(model: SegmentModel, source: Path, out: Path, chunk: int) -> dict:
    """The local engine on ``source``, one row group at a time (memory stays bounded)."""
    start = time.perf_counter()
    writer = None
    for batch in pq.ParquetFile(source).iter_batches(batch_size=chunk):
        data = from_frame(batch.to_pandas(), source=source.name)
        table = pa.Table.from_pandas(model.score(data.frame), preserve_index=False)
        writer = writer or pq.ParquetWriter(out, table.schema)
        writer.write_table(table)
    writer.close()
    seconds = time.perf_counter() - start
    rows = pq.ParquetFile(out).metadata.num_rows
    return {"seconds": round(seconds, 1), "rows_per_s": round(rows / seconds)}


def same_labels(spark_out: Path, local_out: Path) -> dict:
    """Rows whose segment differs between the two outputs (matched by customer id)."""
    columns = [ID_COLUMN, "segment"]
    spark, local = (t.cast(pa.schema([(ID_COLUMN, pa.string()), ("segment", pa.int64())]))
                    for t in (ds.dataset(spark_out).to_table(columns=columns),
                              pq.read_table(local_out, columns=columns)))
    if not spark.column(ID_COLUMN).equals(local.column(ID_COLUMN)):  # not in input order
        spark, local = (t.sort_by(ID_COLUMN) for t in (spark, local))
    assert spark.column(ID_COLUMN).equals(local.column(ID_COLUMN))
    differ = np.asarray(spark.column("segment")) != np.asarray(local.column("segment"))
    return {"rows_compared": spark.num_rows, "labels_differ": int(differ.sum())}


def compare_fits(spark, data_path: Path, rows: int | None, out: Path) -> dict:
    """Spark and local fits of the same rows (the first ``rows`` of ``data_path``, written as
    their own file): seconds, inertia ratio and adjusted Rand index."""
    if rows is not None:
        first = next(pq.ParquetFile(data_path).iter_batches(batch_size=rows))
        data_path = out.with_suffix(".parquet")
        pq.write_table(pa.Table.from_batches([first]), data_path)
    data = load_customers(data_path, max_bytes=None)
    start = time.perf_counter()
    local = segment_customers(data, CONFIG)
    local_s = time.perf_counter() - start
    start = time.perf_counter()
    result = jobs.fit(spark, str(data_path), CONFIG, str(out))
    spark_s = time.perf_counter() - start
    labels, distances = result.model.predict(data.frame)  # Spark's model, local arithmetic
    inertia = float(distances @ distances)
    return {"rows": len(data.frame), "k": CONFIG.k, "features": CONFIG.features,
            "local_algorithm": local.clusters.algorithm, "local_fit_s": round(local_s, 1),
            "spark_fit_s": round(spark_s, 1), "inertia_local": round(local.clusters.inertia, 1),
            "inertia_spark": round(inertia, 1),
            "inertia_ratio": round(inertia / local.clusters.inertia, 4),
            "adjusted_rand_index": round(adjusted_rand_score(local.labels, labels), 4),
            "segment_names_local": [p.name for p in local.profiles],
            "segment_names_spark": list(result.model.names)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--fit-rows", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=500_000)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    source = WORK / "customers.parquet"
    report: dict = {"settings": {"rows": args.rows, "fit_rows": args.fit_rows,
                                 "chunk_rows": args.chunk, "master": MASTER,
                                 "confs": dict(CONFS), "cpus": os.cpu_count(),
                                 "load_average_before": loadavg()}}
    report["generate"] = generate(source, args.rows, args.chunk)
    model = segment_customers(load_customers(DEMO_PATH), CONFIG).model
    for old in ("spark_scored.parquet", "fit_demo", "fit_big"):
        shutil.rmtree(WORK / old, ignore_errors=True)
    start = time.perf_counter()
    with spark_session(MASTER, CONFS) as spark:
        started = time.perf_counter() - start
        start = time.perf_counter()
        scored = jobs.score(spark, model, str(source), str(WORK / "spark_scored.parquet"))
        spark_s = time.perf_counter() - start
        report["score"] = {"spark": {"session_start_s": round(started, 1),
                                     "seconds": round(spark_s, 1),
                                     "rows_per_s": round(scored.rows / spark_s),
                                     "near_ties": scored.near_ties}}
        report["score"]["local"] = score_locally(model, source, WORK / "local_scored.parquet",
                                                 args.chunk)
        report["score"]["spark_vs_local_speed"] = round(
            report["score"]["spark"]["rows_per_s"] / report["score"]["local"]["rows_per_s"], 2)
        report["score"] |= same_labels(WORK / "spark_scored.parquet",
                                       WORK / "local_scored.parquet")
        report["fit_demo"] = compare_fits(spark, DEMO_PATH, None, WORK / "fit_demo")
        report["fit"] = compare_fits(spark, source, args.fit_rows, WORK / "fit_big")
    report["settings"]["load_average_after"] = loadavg()
    save("spark", report)


if __name__ == "__main__":
    main()
