"""Two-dimensional PCA of the model matrix, for the segment map, with its loadings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA


@dataclass(frozen=True, eq=False)
class MapProjection:
    """Customer coordinates on the first two principal components, and what the axes mean."""

    coords: np.ndarray          # (n, 2) float32
    loadings: pd.DataFrame      # index: model features; columns PC1, PC2
    explained: tuple[float, float]  # share of variance each axis explains

    def axis_title(self, axis: int, top: int = 2) -> str:
        """``PC1 (41 %): + purchase frequency, − cash advance`` — the axis in words."""
        column = self.loadings.columns[axis]
        weights = self.loadings[column]
        strongest = weights.abs().sort_values(ascending=False).index[:top]
        parts = ", ".join(f"{'+' if weights[name] >= 0 else '−'} {name}" for name in strongest)
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
