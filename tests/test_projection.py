"""Selections on the PCA map: boxes and lassos, bounded in memory whatever the browser sends."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from core.errors import ConfigError
from core.projection import MAP_POINTS, inside_box, inside_polygon, project
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


def test_a_large_table_is_drawn_as_the_same_seeded_sample_for_every_k():
    matrix = np.random.default_rng(1).normal(size=(MAP_POINTS + 5_000, 3))
    first, again = (project(matrix, ["a", "b", "c"]) for _ in range(2))
    assert first.shown is not None and len(first.shown) == MAP_POINTS
    assert np.array_equal(first.shown, again.shown)  # the points stay, only colours change
    assert np.all(np.diff(first.shown) > 0) and len(first.coords) == len(matrix)
    labels = np.arange(len(matrix))
    assert np.array_equal(first.drawn(labels), first.shown)
    small = project(matrix[:500], ["a", "b", "c"])
    assert small.shown is None and np.array_equal(small.drawn(labels[:500]), labels[:500])


def test_the_sampled_map_draws_and_recolours_only_the_sample():
    from dashapp.figures import recolour_map, segment_map

    matrix = np.random.default_rng(2).normal(size=(MAP_POINTS * 2, 2))
    projection = project(matrix, ["a", "b"])
    labels = np.random.default_rng(3).integers(1, 5, len(matrix))
    figure = segment_map(projection, labels, ["w", "x", "y", "z"])
    assert len(figure.data[0].x) == MAP_POINTS
    assert np.array_equal(figure.data[0].marker.color, labels[projection.shown])
    patch = recolour_map(projection.drawn(labels), ["w", "x", "y", "z"]).to_plotly_json()
    assert sum(len(op["params"]["value"]["bdata"]) for op in patch["operations"]
               if op["location"][-1] == "color") < 2 * MAP_POINTS
