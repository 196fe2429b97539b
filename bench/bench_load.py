"""Benchmark reading a big customer CSV with no size limit and print JSON (never a timed test).

Target (issue: "the command line refuses a 200 MB CSV"): a 1,000,000-customer CSV of about
200 MB loads with ``load_customers(path, max_bytes=None)`` in ≤ 10 s with peak RSS ≤ 3 GB.

The file is synthetic: ``generate_demo_data(rows, seed=...)``, with the money columns (and
BALANCE_FREQUENCY, PRC_FULL_PAYMENT) scaled by a per-row factor within 1e-7 of 1 so they print
at full float precision as exports from other systems do: ≈ 190 bytes a customer, the issue's
size. It is written to a temporary folder and removed afterwards. Each measurement runs in a
fresh process, whose peak RSS comes from ``os.wait4``:

1. ``load``: ``load_customers(path, max_bytes=None)``, timed inside the child (imports apart),
   in ``--repeats`` fresh processes (median time, highest peak: this machine is shared);
2. ``stages``: the same file as ``read_table`` (bytes → raw cells) then ``validate``;
3. ``cli_fit``: ``c2c fit --data file --k 4`` end to end, interpreter start included.

Run: ``make bench`` (or ``python bench/bench_load.py [--rows 1000000] [--no-fit]``); the JSON
also goes to ``bench/results.json`` under ``"big_csv"``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]
from results import save  # noqa: E402

FULL_PRECISION = ("BALANCE", "BALANCE_FREQUENCY", "PURCHASES", "ONEOFF_PURCHASES",
                  "INSTALLMENTS_PURCHASES", "CASH_ADVANCE", "CREDIT_LIMIT", "PAYMENTS",
                  "MINIMUM_PAYMENTS", "PRC_FULL_PAYMENT")


def write_csv(path: Path, rows: int, seed: int) -> dict:
    import numpy as np

    from core.demo import generate_demo_data

    start = time.perf_counter()
    frame = generate_demo_data(rows, seed=seed)
    factor = 1 - np.random.default_rng(seed).uniform(1e-9, 1e-7, rows)
    frame[list(FULL_PRECISION)] = frame[list(FULL_PRECISION)].mul(factor, axis=0)
    frame.to_csv(path, index=False)
    return {"rows": rows, "file_mb": round(path.stat().st_size / 2**20, 1),
            "write_s": round(time.perf_counter() - start, 1)}


def child_load(path: Path) -> dict:
    from core.loading import load_customers

    start = time.perf_counter()
    data = load_customers(path, max_bytes=None)
    return {"load_s": round(time.perf_counter() - start, 3), "customers": len(data),
            "warnings": len(data.quality.warnings)}


def child_stages(path: Path) -> dict:
    """The steps of ``load_customers`` one by one: seconds, and RSS (GB) after each."""
    import hashlib

    import psutil

    from core.readers import read_table
    from core.validation import validate

    process, report = psutil.Process(), {}

    def step(name: str, fn):
        start = time.perf_counter()
        value = fn()
        report[f"{name}_s"] = round(time.perf_counter() - start, 3)
        report[f"rss_after_{name}_gb"] = round(process.memory_info().rss / 2**30, 3)
        return value

    data = step("read_bytes", path.read_bytes)
    raw = step("read_table", lambda: read_table(data, name=path.name, max_bytes=len(data)))
    step("validate", lambda: validate(raw, path.name))
    step("sha256", lambda: hashlib.sha256(data).hexdigest())
    return report


def measure(command: list[str], folder: Path) -> dict:
    """Run ``command`` in a fresh process; its wall time, peak RSS and (JSON) output."""
    out, err = folder / "child.out", folder / "child.err"
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    start = time.perf_counter()
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=env, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)  # this child's own rusage
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{command[-6:]} failed: {err.read_text()[-2000:]}")
    text = out.read_text()
    try:
        result = json.loads(text)
    except json.JSONDecodeError:
        result = {"output": text.strip().splitlines()[0]}
    return {**result, "process_wall_s": round(wall, 3),
            "peak_rss_gb": round(usage.ru_maxrss / 2**20, 3)}  # ru_maxrss is in KB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes for the load")
    parser.add_argument("--no-fit", action="store_true", help="skip c2c fit end to end")
    parser.add_argument("--child", choices=("load", "stages"), help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps((child_load if args.child == "load" else child_stages)(args.path)))
        return

    import pyarrow

    load_before = [round(x, 2) for x in os.getloadavg()]
    folder = Path(tempfile.mkdtemp(prefix="c2c-bench-load-"))
    try:
        path = folder / "customers.csv"
        report = {"file": write_csv(path, args.rows, args.seed)}
        child = [sys.executable, __file__, "--path", str(path), "--child"]
        runs = [measure([*child, "load"], folder) for _ in range(args.repeats)]
        report["load"] = {**runs[0], "load_s": median(r["load_s"] for r in runs),
                          "load_s_runs": [r["load_s"] for r in runs],
                          "process_wall_s": median(r["process_wall_s"] for r in runs),
                          "peak_rss_gb": max(r["peak_rss_gb"] for r in runs),
                          "target_load_s_max": 10, "target_peak_rss_gb_max": 3}
        report["stages"] = measure([*child, "stages"], folder)
        if not args.no_fit:
            c2c = [sys.executable, "-c", "import sys; from core.cli import main; "
                   "sys.exit(main(sys.argv[1:]))"]  # what the c2c console script runs
            report["cli_fit"] = measure([*c2c, "fit", "--data", str(path), "--k", "4",
                                         "--out", str(folder / "fit")], folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                         "pyarrow": pyarrow.__version__, "load_average_before": load_before,
                         "load_average_after": [round(x, 2) for x in os.getloadavg()]}
    save("big_csv", report, indent=2)


if __name__ == "__main__":
    main()
