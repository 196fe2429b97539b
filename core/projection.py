"""Two-dimensional PCA of the model matrix, for the segment map, with its loadings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from core.features import label


@dataclass(frozen=True, eq=False)
class MapProjection:
    """Customer coordinates on the first two principal components, and what the axes mean."""

    coords: np.ndarray          # (n, 2) float32
    loadings: pd.DataFrame      # index: model features; columns PC1, PC2
    explained: tuple[float, float]  # share of variance each axis explains

    def axis_title(self, axis: int, top: int = 2) -> str:
        """``PC1 (41%): + purchase frequency, − cash advance`` — the axis in words."""
        column = self.loadings.columns[axis]
        weights = self.loadings[column]
        strongest = weights.abs().sort_values(ascending=False).index[:top]
        parts = ", ".join(f"{'+' if weights[name] >= 0 else '−'} {label(name).lower()}"
                          for name in strongest)
        return f"{column} ({self.explained[axis]:.0%}): {parts}"


def project(matrix: np.ndarray, feature_names: Sequence[str]) -> MapProjection:
    """PCA(2) of ``matrix`` (rows = customers) with the loadings of ``feature_names``."""
    components = min(2, matrix.shape[1])
    pca = PCA(components, svd_solver="covariance_eigh").fit(matrix)
    coords = np.zeros((len(matrix), 2), dtype=np.float32)
    coords[:, :components] = pca.transform(matrix)
    loadings = np.zeros((matrix.shape[1], 2))
    loadings[:, :components] = pca.components_.T
    explained = tuple(np.pad(pca.explained_variance_ratio_, (0, 2 - components)).tolist())
    return MapProjection(coords, pd.DataFrame(loadings, index=list(feature_names),
                                              columns=["PC1", "PC2"]), explained)


def inside_box(coords: np.ndarray, x_range: Sequence[float],
               y_range: Sequence[float]) -> np.ndarray:
    """Boolean mask of the points inside an axis-aligned box."""
    (x0, x1), (y0, y1) = sorted(x_range), sorted(y_range)
    x, y = coords[:, 0], coords[:, 1]
    return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)


def inside_polygon(coords: np.ndarray, xs: Sequence[float], ys: Sequence[float]) -> np.ndarray:
    """Boolean mask of the points inside a polygon (even-odd rule, vectorised ray casting)."""
    px, py = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    x, y = coords[:, 0][:, None], coords[:, 1][:, None]
    qx, qy = np.roll(px, -1), np.roll(py, -1)
    crosses = (py > y) != (qy > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        at = px + (y - py) * (qx - px) / (qy - py)
    return (crosses & (x < at)).sum(axis=1) % 2 == 1
