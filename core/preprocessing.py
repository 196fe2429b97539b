"""Feature sets (named presets or custom columns) and scaling / PCA before clustering."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from core.errors import ConfigError
from core.features import FEATURE_BY_NAME, FEATURES
from core.schema import BEHAVIOUR_COLUMNS, COUNT_COLUMNS, FREQUENCY_COLUMNS, MONEY_COLUMNS

SKEWED_COLUMNS: frozenset[str] = frozenset(
    MONEY_COLUMNS + COUNT_COLUMNS + tuple(f.name for f in FEATURES if f.skewed)
)
SCALINGS: tuple[str, ...] = ("standard", "robust")


@dataclass(frozen=True)
class FeatureSet:
    """The columns a segmentation uses, and which of them get ``log1p`` before scaling."""

    name: str
    columns: tuple[str, ...]
    log_columns: tuple[str, ...]
    description: str

    @property
    def label(self) -> str:
        """How messages name the set: the preset name, or a custom set's columns."""
        return ", ".join(self.columns) if self.name == "custom" else self.name


def _preset(name: str, columns: Sequence[str], description: str) -> FeatureSet:
    columns = tuple(columns)
    return FeatureSet(name, columns, tuple(c for c in columns if c in SKEWED_COLUMNS), description)


PRESETS: dict[str, FeatureSet] = {
    "seed": FeatureSet(
        "seed",
        ("PURCHASES_FREQUENCY", "CASH_ADVANCE_FREQUENCY", "PURCHASES_TRX", "CASH_ADVANCE_TRX",
         "TOTAL_SPENDING"),
        ("PURCHASES_FREQUENCY", "CASH_ADVANCE_FREQUENCY", "PURCHASES_TRX", "CASH_ADVANCE_TRX",
         "TOTAL_SPENDING"),
        "The seed project's published pipeline: how often and how much customers buy and "
        "take cash (log-scaled).",
    ),
    "behaviour": _preset(
        "behaviour", BEHAVIOUR_COLUMNS,
        "All 17 behavioural columns; money amounts and counts log-scaled.",
    ),
    "engineered": _preset(
        "engineered",
        ("ONEOFF_SHARE", "INSTALLMENT_SHARE", "CASH_ADVANCE_SHARE", "UTILISATION",
         "PAYMENT_TO_MINIMUM", "CASH_ADVANCE_TO_LIMIT") + FREQUENCY_COLUMNS,
        "Shares, ratios and frequencies: the shape of behaviour, independent of wallet size.",
    ),
}


def resolve_feature_set(spec: str | Sequence[str], available: Sequence[str] = ()) -> FeatureSet:
    """A preset by name, or a custom feature set from a list of column names.

    Parameters
    ----------
    spec : str or sequence of str
        A preset name (``seed``, ``behaviour``, ``engineered``), a comma-separated string of
        columns, or a list of columns.
    available : sequence of str
        Extra numeric columns (pass-through attributes) a custom set may use.
    """
    if isinstance(spec, str) and spec in PRESETS:
        return PRESETS[spec]
    columns = [c.strip() for c in spec.split(",")] if isinstance(spec, str) else list(spec)
    columns = [c for c in columns if c]
    known = set(BEHAVIOUR_COLUMNS) | set(FEATURE_BY_NAME) | set(available)
    unknown = [c for c in columns if c not in known]
    if isinstance(spec, str) and len(columns) == 1 and unknown:
        raise ConfigError(f"unknown feature set {spec!r}; presets are {', '.join(PRESETS)}, "
                          "or give a comma-separated list of columns")
    if unknown:
        raise ConfigError(f"unknown feature column(s) {', '.join(map(repr, unknown))}; "
                          f"choose from the 17 behavioural columns, {', '.join(FEATURE_BY_NAME)}"
                          + (f" or {', '.join(available)}" if available else ""))
    if len(columns) < 2 or len(set(columns)) != len(columns):
        raise ConfigError(f"a feature set needs at least two distinct columns, got {columns!r}")
    return _preset("custom", columns, "Custom selection: " + ", ".join(columns) + ".")


class Preprocessor:
    """Select the feature set's columns, log1p the skewed ones, scale, and optionally PCA.

    Parameters
    ----------
    feature_set : FeatureSet
        Which columns to use and which to log-transform.
    scaling : {"standard", "robust"}
        Standard (mean / standard deviation) or robust (median / interquartile range) scaling.
    pca : int, float or None
        Number of components, or the share of variance to keep (0 < pca < 1), or no PCA.

    All learned state is plain arrays (``fill_``, ``center_``, ``scale_``, ``pca_mean_``,
    ``pca_components_``) so a fitted preprocessor saves to JSON without pickle. ``fit`` also
    notes ``constant_``, the columns with one value for every row (after filling): they scale
    to 0 and cannot tell segments apart. It is not saved; ``transform`` does not need it.
    """

    def __init__(self, *, feature_set: FeatureSet, scaling: str = "standard",
                 pca: int | float | None = None) -> None:
        self.feature_set = feature_set
        self.scaling = scaling
        self.pca = pca

    def _logged(self, frame: pd.DataFrame) -> np.ndarray:
        values = frame.loc[:, list(self.feature_set.columns)].to_numpy(dtype=float, copy=True)
        for j, column in enumerate(self.feature_set.columns):
            if column in self.feature_set.log_columns:
                values[:, j] = np.log1p(np.clip(values[:, j], 0, None))
        return values

    def fit(self, frame: pd.DataFrame) -> Preprocessor:
        """Learn fill values, scaling and PCA from ``frame``; returns self."""
        if self.scaling not in SCALINGS:
            raise ConfigError(f"scaling must be one of {SCALINGS}, got {self.scaling!r}")
        values = self._logged(frame)
        self.fill_ = np.nan_to_num(np.nanmedian(values, axis=0))
        values = np.where(np.isnan(values), self.fill_, values)
        self.constant_ = tuple(c for c, spread in zip(self.feature_set.columns,
                                                      np.ptp(values, axis=0), strict=True)
                               if spread == 0)
        if self.scaling == "standard":
            self.center_, scale = values.mean(axis=0), values.std(axis=0)
        else:
            q1, self.center_, q3 = np.percentile(values, [25, 50, 75], axis=0)
            scale = q3 - q1
        self.scale_ = np.where(scale > 0, scale, 1.0)  # a constant column scales to 0, not NaN
        scaled = (values - self.center_) / self.scale_
        if self.pca is not None:
            with np.errstate(invalid="ignore"):  # constant data: explained variance is 0 / 0
                pca = make_pca(self.pca, scaled.shape[1]).fit(scaled)
            self.pca_mean_, self.pca_components_ = pca.mean_, pca.components_
        return self

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """The model-space matrix for ``frame``."""
        values = self._logged(frame)
        values = np.where(np.isnan(values), self.fill_, values)
        scaled = (values - self.center_) / self.scale_
        if self.pca is None:
            return scaled
        return (scaled - self.pca_mean_) @ self.pca_components_.T

    @property
    def output_names(self) -> tuple[str, ...]:
        """Names of the model-space dimensions."""
        if self.pca is None:
            return self.feature_set.columns
        return tuple(f"PC{i + 1}" for i in range(len(self.pca_components_)))


def make_pca(pca: int | float, n_columns: int) -> PCA:
    """A PCA for ``pca`` components (int) or variance share (float), validated."""
    if isinstance(pca, float) and 0 < pca < 1:
        return PCA(pca, svd_solver="covariance_eigh")
    if isinstance(pca, int) and not isinstance(pca, bool) and 1 <= pca <= n_columns:
        return PCA(pca, svd_solver="covariance_eigh")
    raise ConfigError(f"pca must be a number of components from 1 to {n_columns} or a variance "
                      f"share between 0 and 1, got {pca!r}")
