"""The one place benchmarks record their figures: an entry of bench/results.json, also printed.

Every entry carries when and where it was measured (:func:`machine`): figures from another
machine, other versions or a busy moment are not comparable.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import json
import os
import platform
from pathlib import Path

import psutil

RESULTS = Path(__file__).resolve().parent / "results.json"
PACKAGES = ("dash", "dash-bootstrap-components", "plotly", "pandas", "numpy", "scikit-learn",
            "pyarrow", "diskcache", "gunicorn", "selenium", "pyspark")


def machine() -> dict:
    """Date, CPUs, memory, OS, Python, the versions of the stack, and the load average now."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return {"date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "cpus": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "platform": platform.platform(), "python": platform.python_version(),
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"), "versions": versions,
            "load_average_at_save": [round(x, 2) for x in os.getloadavg()]}


def save(name: str, report: dict, indent: int = 1) -> None:
    """Replace entry ``name`` of results.json with ``report`` and where it was measured (other
    entries kept), and print it."""
    saved = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    entry = {**report, "recorded": machine()}
    RESULTS.write_text(json.dumps({**saved, name: entry}, indent=1) + "\n")
    print(json.dumps(entry, indent=indent))
