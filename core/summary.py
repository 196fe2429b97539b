"""Small aggregates the app draws: KPIs, box statistics, histograms, style mixes, migrations.

Everything here reduces a column of customers to a few numbers per segment, so a chart never
needs the raw values (1M values in a histogram are ~11 MB of JSON; the bars are ~15 KB).
``mask`` arguments are boolean arrays with one entry per customer: the customers a user
selected (e.g. with the lasso on the segment map).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import ConfigError
from core.features import FEATURE_BY_NAME, STYLE_BY_NAME, add_features

SELECTION = "selection"  # row label of the selected customers in the tables below
POPULATION = "all"  # row label of all customers when there are no segments
WHISKER_IQR = 1.5

__all__ = ["POPULATION", "SELECTION", "Histogram", "Kpis", "box_stats",
           "histogram", "kpis", "migration", "sample_rows",
           "selection_z_scores", "style_mix"]


@dataclass(frozen=True)
class Kpis:
    """Headline numbers of a group of customers; averages are NaN for an empty group."""

    customers: int
    balance_frequency: float
    purchases_frequency: float
    cash_advance_frequency: float
    tenure: float
    total_spending: float


@dataclass(frozen=True, eq=False)
class Histogram:
    """Counts of one column in ``len(edges) - 1`` bins.

    ``edges`` are in the column's units; with ``log`` they are evenly spaced on the
    ``log1p`` scale (so zeros keep their own bin).
    """

    edges: np.ndarray
    counts: np.ndarray
    log: bool


def kpis(frame: pd.DataFrame, mask: np.ndarray | None = None) -> Kpis:
    """Customers, average frequencies and tenure, and total spending of the masked customers.

    Parameters
    ----------
    frame : DataFrame
        Cleaned customer table; ``TOTAL_SPENDING`` is computed when missing.
    mask : array of bool, shape (n_customers,), optional
        The customers to summarise; all when None.
    """
    rows = _mask(mask, len(frame))

    def average(name: str) -> float:
        values = _column(frame, name)[rows]
        return float(values.mean()) if len(values) else float("nan")

    return Kpis(customers=int(rows.sum()),
                balance_frequency=average("BALANCE_FREQUENCY"),
                purchases_frequency=average("PURCHASES_FREQUENCY"),
                cash_advance_frequency=average("CASH_ADVANCE_FREQUENCY"),
                tenure=average("TENURE"),
                total_spending=float(_column(frame, "TOTAL_SPENDING")[rows].sum()))


def box_stats(values: np.ndarray, labels: np.ndarray,
              mask: np.ndarray | None = None) -> pd.DataFrame:
    """Box-plot statistics of ``values`` per segment, to draw boxes without the raw points.

    Quartiles use numpy's linear interpolation; whiskers reach the most extreme values within
    1.5 IQR of the box. Missing and infinite values are ignored.

    Parameters
    ----------
    values : array of float, shape (n_customers,)
    labels : array of int, shape (n_customers,)
        Segment number of every customer.
    mask : array of bool, shape (n_customers,), optional
        Adds a row :data:`SELECTION` for these customers (NaN statistics, count 0, when empty).

    Returns
    -------
    DataFrame
        Index ``segment`` (segment numbers, then :data:`SELECTION`); columns ``q1``, ``median``,
        ``q3``, ``lower``, ``upper`` (whisker ends), ``mean``, ``count``.
    """
    values = _values(values)
    groups = _groups(labels, mask, len(values))
    table = pd.DataFrame([_box(values[rows & np.isfinite(values)]) for rows in groups.values()],
                         index=pd.Index(list(groups), name="segment", dtype=object))
    return table.astype({"count": int})


def histogram(values: np.ndarray, bins: int = 40, log: bool = False) -> Histogram:
    """Counts of ``values`` in ``bins`` equal bins (on the ``log1p`` scale when ``log``).

    Missing and infinite values are ignored; ``log`` needs values >= 0.
    """
    edges, index = _binned(_values(values), bins, log)
    return Histogram(edges, np.bincount(index[index >= 0], minlength=bins), log)


def style_mix(frame: pd.DataFrame, style_name: str, labels: np.ndarray | None = None,
              mask: np.ndarray | None = None) -> pd.DataFrame:
    """Share of customers in each category of a behaviour style.

    Parameters
    ----------
    frame : DataFrame
        Cleaned customer table; styles are computed when missing.
    style_name : str
        A name from :data:`core.features.STYLES`, e.g. ``"PURCHASE_STYLE"``.
    labels : array of int, optional
        Segment numbers: one row per segment instead of one row :data:`POPULATION`.
    mask : array of bool, optional
        Adds a row :data:`SELECTION` for these customers (zeros when empty).

    Returns
    -------
    DataFrame
        One row per group, one column per category (in the style's order); rows sum to 1.
    """
    if style_name not in STYLE_BY_NAME:
        raise ConfigError(f"unknown style {style_name!r}; choose one of {sorted(STYLE_BY_NAME)}")
    categories = STYLE_BY_NAME[style_name].categories
    codes = pd.Categorical(_column(frame, style_name), categories=categories).codes
    groups = _groups(labels, mask, len(frame))
    counts = pd.DataFrame([np.bincount(codes[rows & (codes >= 0)], minlength=len(categories))
                           for rows in groups.values()],
                          index=pd.Index(list(groups), name="segment", dtype=object),
                          columns=pd.Index(categories, name=style_name))
    return counts.div(counts.sum(axis=1).clip(lower=1), axis=0)


def sample_rows(n: int, max_points: int, seed: int = 0) -> np.ndarray:
    """Sorted positions of at most ``max_points`` of ``n`` rows, drawn without replacement."""
    if n < 0 or max_points < 0:
        raise ConfigError(f"n and max_points must be >= 0; got n={n}, max_points={max_points}")
    if n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_points, replace=False))


def migration(from_labels: np.ndarray, to_labels: np.ndarray) -> pd.DataFrame:
    """Customers moving from each old segment (rows, ``from``) to each new one (columns, ``to``)."""
    old, new = np.asarray(from_labels), np.asarray(to_labels)
    if old.shape != new.shape or old.ndim != 1:
        raise ConfigError(f"both labellings need one segment per customer; got shapes "
                          f"{old.shape} and {new.shape}")
    old_codes, old_segments = pd.factorize(old, sort=True)
    new_codes, new_segments = pd.factorize(new, sort=True)
    counts = np.bincount(old_codes * len(new_segments) + new_codes,
                         minlength=len(old_segments) * len(new_segments))
    return pd.DataFrame(counts.reshape(len(old_segments), len(new_segments)),
                        index=pd.Index(old_segments, name="from"),
                        columns=pd.Index(new_segments, name="to"))


def selection_z_scores(frame: pd.DataFrame, mask: np.ndarray,
                       features: Sequence[str]) -> pd.Series:
    """(mean of the selected customers - population mean) / population sd, per feature.

    The same scale as :attr:`core.profiling.SegmentProfile.z_scores` (sd with ddof 0; 0 for a
    feature that does not vary), so the selection is a row of the profile heatmap. NaN for an
    empty selection.
    """
    rows = _mask(mask, len(frame))
    scores = {}
    for name in features:
        values = _column(frame, name).astype(float)
        sd = values.std()
        if not rows.any():
            scores[name] = np.nan
        else:
            scores[name] = (values[rows].mean() - values.mean()) / sd if sd > 0 else 0.0
    return pd.Series(scores, dtype=float)


def _box(values: np.ndarray) -> dict[str, float]:
    """Quartiles, whisker ends, mean and count of finite ``values``."""
    if not len(values):
        return dict.fromkeys(("q1", "median", "q3", "lower", "upper", "mean"), np.nan) | {
            "count": 0}
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    reach = WHISKER_IQR * (q3 - q1)
    return {"q1": q1, "median": median, "q3": q3,
            "lower": values[values >= q1 - reach].min(),
            "upper": values[values <= q3 + reach].max(),
            "mean": values.mean(), "count": len(values)}


def _binned(values: np.ndarray, bins: int, log: bool) -> tuple[np.ndarray, np.ndarray]:
    """Shared bin edges (in value units) and each value's bin, -1 for non-finite values."""
    if bins < 1:
        raise ConfigError(f"bins must be at least 1; got {bins}")
    finite = np.isfinite(values)
    if log and (values[finite] < 0).any():
        raise ConfigError("log bins need values >= 0; got negative values")
    scaled = np.log1p(values, where=finite, out=np.full(len(values), np.nan)) if log else values
    edges = np.histogram_bin_edges(scaled[finite], bins=bins)
    index = np.clip(np.searchsorted(edges, scaled, side="right") - 1, 0, bins - 1)
    index[~finite] = -1
    return (np.expm1(edges) if log else edges), index


def _values(values: np.ndarray) -> np.ndarray:
    """``values`` as a one-dimensional float array."""
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ConfigError(f"values must be one number per customer; got shape {array.shape}")
    return array


def _labels(labels: np.ndarray, n: int) -> np.ndarray:
    """``labels`` as an int array of length ``n``."""
    array = np.asarray(labels)
    if array.shape != (n,) or array.dtype.kind not in "iu":
        raise ConfigError(f"labels must be {n:,} segment numbers, one per customer; got "
                          f"{array.dtype} of shape {array.shape}")
    return array


def _groups(labels: np.ndarray | None, mask: np.ndarray | None,
            n: int) -> dict[int | str, np.ndarray]:
    """Row masks per segment (or :data:`POPULATION` without labels), then :data:`SELECTION`."""
    if labels is None:
        groups: dict[int | str, np.ndarray] = {POPULATION: np.ones(n, dtype=bool)}
    else:
        labels = _labels(labels, n)
        groups = {int(s): labels == s for s in np.unique(labels)}
    if mask is not None:
        groups[SELECTION] = _mask(mask, n)
    return groups


def _mask(mask: np.ndarray | None, n: int) -> np.ndarray:
    """``mask`` as a boolean array of length ``n`` (all True when None)."""
    if mask is None:
        return np.ones(n, dtype=bool)
    array = np.asarray(mask)
    if array.dtype != bool or array.shape != (n,):
        raise ConfigError(f"mask must be {n:,} booleans, one per customer; got "
                          f"{array.dtype} of shape {array.shape}")
    return array


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    """Column ``name`` of ``frame``; an engineered feature or style is computed when missing."""
    if name in frame.columns:
        return frame[name].to_numpy()
    if name in FEATURE_BY_NAME:
        return FEATURE_BY_NAME[name].compute(frame).to_numpy()
    if name in STYLE_BY_NAME:
        return add_features(frame)[name].to_numpy()
    raise ConfigError(f"unknown column {name!r}")
