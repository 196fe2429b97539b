"""Two-dimensional PCA of the model matrix, for the segment map, with its loadings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from sklearn.decomposition import PCA

from core.errors import ConfigError
from core.features import label

MAP_POINTS = 20_000  # more customers than this are drawn as a seeded random sample of this many
MAX_VERTICES = 2_000  # a lasso is thinned to this many vertices before the points are tested
MAX_INPUT_VERTICES = 1_000_000  # more than this is no hand-drawn lasso: refused


@dataclass(frozen=True, eq=False)
class MapProjection:
    """Customer coordinates on the first two principal components, what the axes mean, and
    which customers the map draws (all of them, or a seeded random sample of a large table:
    the same rows for every k, so a new k only recolours them)."""

    coords: np.ndarray          # (n, 2) float32
    loadings: pd.DataFrame      # index: model features; columns PC1, PC2
    explained: tuple[float, float]  # share of variance each axis explains
    shown: np.ndarray | None = None  # sorted rows drawn on the map; None: every row

    def drawn(self, values: np.ndarray) -> np.ndarray:
        """``values`` (one per customer) of the customers drawn on the map, in map order."""
        return values if self.shown is None else values[self.shown]

    def axis_title(self, axis: int, top: int = 2) -> str:
        """``PC1 (41%): + purchase frequency, − cash advance`` — the axis in words."""
        column = self.loadings.columns[axis]
        weights = self.loadings[column]
        strongest = weights.abs().sort_values(ascending=False).index[:top]
        parts = ", ".join(f"{'+' if weights[name] >= 0 else '−'} {label(name).lower()}"
                          for name in strongest)
        return f"{column} ({self.explained[axis]:.0%}): {parts}"


def project(matrix: np.ndarray, feature_names: Sequence[str], *, max_points: int = MAP_POINTS,
            random_state: int = 0) -> MapProjection:
    """PCA(2) of ``matrix`` (rows = customers) with the loadings of ``feature_names``; above
    ``max_points`` rows the map shows a sample of that many, drawn with ``random_state``."""
    components = min(2, matrix.shape[1])
    pca = PCA(components, svd_solver="covariance_eigh").fit(matrix)
    coords = np.zeros((len(matrix), 2), dtype=np.float32)
    coords[:, :components] = pca.transform(matrix)
    loadings = np.zeros((matrix.shape[1], 2))
    loadings[:, :components] = pca.components_.T
    explained = tuple(np.pad(pca.explained_variance_ratio_, (0, 2 - components)).tolist())
    shown = (np.sort(np.random.default_rng(random_state).choice(len(matrix), max_points,
                                                                replace=False))
             if len(matrix) > max_points else None)
    return MapProjection(coords, pd.DataFrame(loadings, index=list(feature_names),
                                              columns=["PC1", "PC2"]), explained, shown)


def inside_box(coords: np.ndarray, x_range: Sequence[float],
               y_range: Sequence[float]) -> np.ndarray:
    """Boolean mask of the points inside an axis-aligned box.

    Raises
    ------
    ConfigError
        Unless each range is two finite numbers.
    """
    (x0, x1), (y0, y1) = (sorted(_finite(r, "box range", 2, 2)) for r in (x_range, y_range))
    x, y = coords[:, 0], coords[:, 1]
    return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)


def inside_polygon(coords: np.ndarray, xs: Sequence[float], ys: Sequence[float]) -> np.ndarray:
    """Boolean mask of the points inside a lasso outline, in memory proportional to the points.

    An outline of more than :data:`MAX_VERTICES` vertices is thinned to that many (every n-th
    vertex: a lasso drawn by hand keeps its shape); a self-crossing outline counts the areas it
    encloses (shapely's ``make_valid``). shapely's vectorised ``contains_xy`` tests the points.

    Raises
    ------
    ConfigError
        Unless ``xs`` and ``ys`` are equally long lists of 3 to :data:`MAX_INPUT_VERTICES`
        finite numbers.
    """
    px = _finite(xs, "lasso x", 3, MAX_INPUT_VERTICES)
    py = _finite(ys, "lasso y", 3, MAX_INPUT_VERTICES)
    if len(px) != len(py):
        raise ConfigError(f"a lasso needs as many x as y values; got {len(px)} and {len(py)}")
    step = -(-len(px) // MAX_VERTICES)
    outline = shapely.make_valid(shapely.Polygon(np.column_stack([px[::step], py[::step]])))
    return shapely.contains_xy(outline, coords[:, 0], coords[:, 1])


def _finite(values: object, what: str, low: int, high: int) -> np.ndarray:
    """``values`` as a float array of ``low`` to ``high`` finite numbers, else ConfigError."""
    if not isinstance(values, list | tuple | np.ndarray) or not low <= len(values) <= high:
        raise ConfigError(f"{what} must be a list of {low:,} to {high:,} numbers")
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ConfigError(f"{what} must hold numbers only") from None
    if array.ndim != 1 or not np.isfinite(array).all():
        raise ConfigError(f"{what} must hold finite numbers only")
    return array
