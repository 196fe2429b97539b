"""The one place benchmarks record their figures: an entry of bench/results.json, also printed."""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.json"


def save(name: str, report: dict, indent: int = 1) -> None:
    """Replace entry ``name`` of results.json with ``report`` (others kept) and print it."""
    saved = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    RESULTS.write_text(json.dumps({**saved, name: report}, indent=1) + "\n")
    print(json.dumps(report, indent=indent))
