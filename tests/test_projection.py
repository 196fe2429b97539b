"""Selections on the PCA map: boxes and lassos, bounded in memory whatever the browser sends."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from core.errors import ConfigError
from core.projection import inside_box, inside_polygon
from tests.servers import ROOT

COORDS = np.random.default_rng(0).normal(size=(9000, 2)).astype(np.float32)


def test_a_square_lasso_equals_the_box():
    square = inside_polygon(COORDS, [-1, 1, 1, -1], [-1, -1, 1, 1])
    assert np.array_equal(square, inside_box(COORDS, [1, -1], [-1, 1]))
    assert 0 < square.sum() < len(COORDS)


HUGE_LASSO = """
import resource, numpy as np
from core.projection import inside_polygon
coords = np.random.default_rng(0).normal(size=(9000, 2)).astype(np.float32)
angle = np.linspace(0, 2 * np.pi, 200_000, endpoint=False)
xs, ys = np.cos(angle).tolist(), np.sin(angle).tolist()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
inside = inside_polygon(coords, xs, ys)
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
wrong = (inside != (np.hypot(coords[:, 0], coords[:, 1]) < 1)).sum()
print(grown // 1024, wrong)
"""


def test_a_huge_lasso_is_thinned_and_stays_small_in_memory():
    """200,000 vertices (the payload that killed a worker) cost memory in proportion to the
    points: customers × vertices would be 9,000 × 200,000 cells, gigabytes."""
    done = subprocess.run([sys.executable, "-c", HUGE_LASSO], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    grown_mb, wrong = map(int, done.stdout.split())
    assert grown_mb < 100, done.stderr
    assert wrong <= 2  # thinned to MAX_VERTICES vertices it is still the same circle


def test_a_self_crossing_lasso_counts_what_it_encloses():
    bowtie = inside_polygon(COORDS, [-1, 1, 1, -1], [-1, 1, -1, 1])
    x, y = COORDS[:, 0], COORDS[:, 1]
    expected = (np.abs(x) <= 1) & (np.abs(y) <= np.abs(x))
    assert (bowtie != expected).sum() <= 2


@pytest.mark.parametrize(("xs", "ys"), [
    ([0, 1], [0, 1]), ([0, 1, 2], [0, 1]), (["a", 1, 2], [0, 1, 2]),
    ([0, float("nan"), 1], [0, 1, 2]), ([0, 1e400, 1], [0, 1, 2]), (None, None),
    ("012", "012"), ([[0, 1], [1, 2], [2, 3]], [0, 1, 2]), ([{}, {}, {}], [0, 1, 2]),
    (list(range(1_000_001)), list(range(1_000_001))),
])
def test_malformed_lassos_are_refused(xs, ys):
    with pytest.raises(ConfigError):
        inside_polygon(COORDS, xs, ys)


@pytest.mark.parametrize(("xr", "yr"), [([0], [0, 1]), (["a", "b"], [0, 1]), (None, [0, 1]),
                                        ([0, float("inf")], [0, 1])])
def test_malformed_boxes_are_refused(xr, yr):
    with pytest.raises(ConfigError):
        inside_box(COORDS, xr, yr)
