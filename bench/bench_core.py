"""Benchmark the engine and print JSON (targets from issue 2; never a timed test).

1. 9k demo: our clustering fit vs a bare scikit-learn KMeans on the same prepared matrix
   (target ratio ≤ 1.5), and the whole segment_customers call for reference.
2. Sweep k = 2..12 with every metric vs yellowbrick's KElbowVisualizer(metric="silhouette")
   over the same range, in the same run (target: ours ≥ 3× faster).
3. 1,000,000 demo rows in a fresh process: generation, cleaning, fit times and peak RSS
   (targets: fit ≤ 3 s with MiniBatchKMeans, peak RSS ≤ 4 GB).

Run: ``make bench`` (or ``python bench/bench_core.py [--rows 1000000]``).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings
from statistics import median

from results import save
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits


def best_of(fn, repeats: int = 5) -> float:
    """Median wall time of ``fn()`` in seconds over ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return median(times)


def bench_fit(data, config) -> dict:
    from core.clustering import fit_clusters
    from core.pipeline import prepare, segment_customers

    X = prepare(data, config).matrix

    def bare():
        with threadpool_limits(1, "blas"):
            KMeans(n_clusters=config.k, n_init=config.n_init,
                   random_state=config.random_state).fit(X)

    ours = best_of(lambda: fit_clusters(X, k=config.k, random_state=config.random_state,
                                        n_init=config.n_init))
    sklearn = best_of(bare)
    whole = best_of(lambda: segment_customers(data, config), repeats=3)
    return {"rows": len(X), "features": X.shape[1], "k": config.k, "n_init": config.n_init,
            "ours_fit_s": round(ours, 4), "bare_kmeans_fit_s": round(sklearn, 4),
            "ratio": round(ours / sklearn, 3), "target_ratio_max": 1.5,
            "segment_customers_total_s": round(whole, 4)}


def bench_sweep(data, config) -> dict:
    from yellowbrick.cluster import KElbowVisualizer

    from core.pipeline import prepare
    from core.sweep import sweep_k

    X = prepare(data, config).matrix
    ks = range(2, 13)
    start = time.perf_counter()
    result = sweep_k(X, ks, random_state=config.random_state, n_init=config.n_init)
    ours = time.perf_counter() - start

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        visualizer = KElbowVisualizer(
            KMeans(n_init=config.n_init, random_state=config.random_state), k=(2, 13),
            metric="silhouette", timings=False, force_model=True)
        visualizer.fit(X)
    theirs = time.perf_counter() - start
    return {"ks": [ks[0], ks[-1]], "ours_s": round(ours, 3), "yellowbrick_silhouette_s":
            round(theirs, 3), "speedup": round(theirs / ours, 2), "target_speedup_min": 3,
            "recommended_k": result.recommended_k, "reason": result.reason,
            "silhouette_sample_size": result.silhouette_sample_size,
            "yellowbrick_elbow_k": int(visualizer.elbow_value_) if visualizer.elbow_value_
            else None}


def bench_large(rows: int) -> dict:
    """Run in a fresh process so its peak RSS is its own."""
    from core.clustering import fit_clusters
    from core.demo import generate_demo_data
    from core.loading import from_frame
    from core.pipeline import SegmentationConfig, prepare

    timings = {}
    start = time.perf_counter()
    frame = generate_demo_data(rows, seed=1)
    timings["generate_s"] = time.perf_counter() - start
    start = time.perf_counter()
    data = from_frame(frame, source="bench")
    timings["validate_s"] = time.perf_counter() - start
    start = time.perf_counter()
    prepared = prepare(data, SegmentationConfig())
    timings["clean_features_scale_s"] = time.perf_counter() - start
    start = time.perf_counter()
    result = fit_clusters(prepared.matrix, k=6, random_state=42)
    timings["fit_s"] = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"rows": rows, "algorithm": result.algorithm, "k": result.k,
            **{k: round(v, 3) for k, v in timings.items()}, "target_fit_s_max": 3,
            "peak_rss_gb": round(peak_kb / 1024 ** 2, 3), "target_peak_rss_gb_max": 4}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows for the large run")
    parser.add_argument("--large-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.large_only:
        print(json.dumps(bench_large(args.rows)))
        return

    from core.demo import DEMO_PATH
    from core.loading import load_customers
    from core.pipeline import SegmentationConfig

    data = load_customers(DEMO_PATH)
    config = SegmentationConfig()
    large = subprocess.run([sys.executable, __file__, "--large-only", "--rows", str(args.rows)],
                           capture_output=True, text=True, check=True)
    report = {"fit_9k": bench_fit(data, config), "sweep_9k": bench_sweep(data, config),
              "large": json.loads(large.stdout)}
    save("core", report, indent=2)


if __name__ == "__main__":
    main()
