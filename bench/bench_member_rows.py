"""Benchmark the Members table's server side on a million customers, and print JSON.

One block of rows (``core.member_rows.member_page``) costs building the member list
(``core.export.member_list``) plus filtering, sorting and paging it; each is timed apart (best
of 3) for the kinds of request the grid sends, with the member list of everyone and of two
segments. Run: ``OMP_NUM_THREADS=1 .venv/bin/python bench/bench_member_rows.py [--rows N]``
(about 30 s at 1,000,000 rows). Stores the report in ``bench/results.json`` under
``"member_rows"``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from results import save  # noqa: E402

from core.demo import generate_demo_data  # noqa: E402
from core.export import member_list  # noqa: E402
from core.loading import from_frame  # noqa: E402
from core.member_rows import member_page, records  # noqa: E402
from core.pipeline import SegmentationConfig, segment_customers  # noqa: E402

KEY = ["BALANCE", "PURCHASES", "CASH_ADVANCE", "CREDIT_LIMIT", "PAYMENTS",
       "PURCHASES_FREQUENCY", "TENURE"]
REQUESTS = {
    "a block deep in the list": {"startRow": 500_000, "endRow": 500_100},
    "sorted by balance, descending": {"sortModel": [{"colId": "BALANCE", "sort": "desc"}]},
    "sorted by id": {"sortModel": [{"colId": "CUST_ID", "sort": "asc"}]},
    "sorted by segment, then region": {"sortModel": [{"colId": "segment", "sort": "asc"},
                                                     {"colId": "REGION", "sort": "desc"}]},
    "id contains": {"filterModel": {"CUST_ID": {"filterType": "text", "type": "contains",
                                                "filter": "12"}}},
    "balance in range, sorted by distance": {
        "filterModel": {"BALANCE": {"filterType": "number", "type": "inRange", "filter": 100,
                                    "filterTo": 2000}},
        "sortModel": [{"colId": "distance_to_centre", "sort": "desc"}]},
}


def best_ms(work, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return round(min(times) * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    rows = parser.parse_args().rows
    frame = generate_demo_data(rows, seed=3)
    frame["REGION"] = np.random.default_rng(0).choice(["North", "South", "East", "West"], rows)
    result = segment_customers(from_frame(frame), SegmentationConfig(k=6))
    attributes = ["REGION", *KEY]
    everyone = member_list(result, attributes=attributes)
    report = {"rows": rows, "member_list_ms": {
        "everyone": best_ms(lambda: member_list(result, attributes=attributes)),
        "segments 2 and 3": best_ms(lambda: member_list(result, segments=[2, 3],
                                                        attributes=attributes))},
        "block_ms": {name: best_ms(lambda r=request: member_page(everyone, r))
                     for name, request in REQUESTS.items()},
        "records_of_100_rows_ms": best_ms(lambda: records(everyone.iloc[:100]))}
    save("member_rows", report)


if __name__ == "__main__":
    main()
