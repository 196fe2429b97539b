"""Segment profiles: size, averages, how each segment differs from the rest, and its name.

Every statistic is computed for all segments at once — sums by ``numpy.bincount``, medians
from one sort by segment — so a million customers profile in about a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from core.errors import ConfigError, DataValidationError
from core.features import FEATURE_BY_NAME, FEATURES, STYLES, add_features
from core.levers import Lever, suggest_levers
from core.naming import name_segments, risk_flags
from core.schema import BEHAVIOUR_COLUMNS, COLUMN_BY_NAME

NUMERIC_FEATURES: tuple[str, ...] = BEHAVIOUR_COLUMNS + tuple(f.name for f in FEATURES)
LOG_SCALE_FEATURES: frozenset[str] = frozenset(
    [c for c in BEHAVIOUR_COLUMNS if COLUMN_BY_NAME[c].kind in ("money", "count")]
    + [f.name for f in FEATURES if f.skewed])
TOP_FEATURE_COUNT = 5
MONTHLY = "MONTHLY_"
EFFECT_SD_FLOOR = 0.01  # pooled sd used for effects is at least this share of the population sd


@dataclass(frozen=True)
class TopFeature:
    """A feature on which a segment differs from the other customers.

    ``effect`` is the standardised mean difference, segment versus the rest, with the pooled
    standard deviation; money and count features are compared on the log1p scale so a few very
    large accounts do not dominate. Its sign gives the direction. The pooled standard deviation is
    at least 1 % of the population's, so a feature constant within both groups gets a large
    finite effect. The means are on the feature's own scale.
    """

    name: str
    label: str
    effect: float
    segment_mean: float
    population_mean: float


@dataclass(frozen=True, eq=False)
class SegmentProfile:
    """Everything the app shows about one segment.

    ``means``, ``medians`` and ``z_scores`` are indexed by the 17 behavioural columns followed by
    the engineered features; a z-score is (segment mean - population mean) / population standard
    deviation (ddof 0), and 0 for a feature that does not vary. ``style_mix`` maps each style to
    the share of the segment in each of its categories.
    """

    segment: int
    size: int
    share: float
    means: pd.Series
    medians: pd.Series
    z_scores: pd.Series
    top_features: tuple[TopFeature, ...]
    style_mix: dict[str, dict[str, float]]
    name: str
    description: str
    levers: tuple[Lever, ...]
    risk_flags: tuple[str, ...]


def profile_segments(frame: pd.DataFrame, labels: np.ndarray) -> tuple[SegmentProfile, ...]:
    """Profile, name and suggest campaign levers for every segment.

    Parameters
    ----------
    frame : DataFrame
        Cleaned customer table (``core.cleaning.Cleaner``) with the 17 behavioural columns;
        engineered features and styles are added when missing. Other columns are ignored.
    labels : array-like of int, shape (n_customers,)
        Segment number of every row of ``frame``. Any integers are accepted: one profile is
        made per distinct value, so numbering with gaps keeps its numbers.

    Returns
    -------
    tuple of SegmentProfile
        One per segment, ordered by segment number.

    Raises
    ------
    DataValidationError
        If behavioural columns are missing or hold missing or infinite values.
    ConfigError
        If ``labels`` is not one integer per row.
    """
    frame = _with_features(frame)
    segments, codes = _checked_labels(labels, len(frame))
    stats = _statistics(_numeric_columns(frame), codes, len(segments))
    mixes = _style_mixes(frame, codes, len(segments))
    population = draft_profile(0, len(frame), len(frame), stats.population_means,
                               stats.population_medians, np.zeros(len(NUMERIC_FEATURES)), (),
                               _style_mixes(frame, np.zeros_like(codes), 1)[0])
    drafts = [draft_profile(int(segment), int(stats.sizes[i]), len(frame), stats.means[i],
                            stats.medians[i], stats.z_scores[i],
                            rank_top_features(stats.effects[i], stats.means[i],
                                              stats.population_means), mixes[i])
              for i, segment in enumerate(segments)]
    names = name_segments(drafts, population)
    return tuple(replace(p, name=name, description=text, levers=suggest_levers(p, population))
                 for p, (name, text) in zip(drafts, names, strict=True))


def profile_table(profiles: Sequence[SegmentProfile]) -> pd.DataFrame:
    """One row per segment: segment, name, size, share and the mean of every numeric feature."""
    head = pd.DataFrame({"segment": [p.segment for p in profiles],
                         "name": [p.name for p in profiles],
                         "size": [p.size for p in profiles],
                         "share": [p.share for p in profiles]})
    means = pd.DataFrame([p.means.to_numpy() for p in profiles],
                         columns=list(NUMERIC_FEATURES)).astype(float)
    return pd.concat([head, means], axis=1)


def _with_features(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every engineered feature and style, after checking its columns."""
    missing = [c for c in BEHAVIOUR_COLUMNS if c not in frame.columns]
    if missing:
        raise DataValidationError([f"cannot profile segments: missing columns {missing}"])
    derived = [f.name for f in FEATURES] + [s.name for s in STYLES]
    return frame if all(c in frame.columns for c in derived) else add_features(frame)


def _numeric_columns(frame: pd.DataFrame) -> list[np.ndarray]:
    """The NUMERIC_FEATURES as float arrays; rejects missing or infinite values."""
    columns = [frame[name].to_numpy(dtype=float) for name in NUMERIC_FEATURES]
    problems = [f"{name}: {int((~np.isfinite(values)).sum()):,} missing or infinite values; "
                "clean the table first (core.cleaning.Cleaner)"
                for name, values in zip(NUMERIC_FEATURES, columns, strict=True)
                if not np.isfinite(values).all()]
    if problems:
        raise DataValidationError(problems)
    return columns


def _checked_labels(labels: np.ndarray, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct segment numbers and, per row, the position of its segment."""
    array = np.asarray(labels)
    if array.ndim != 1 or len(array) != rows:
        raise ConfigError(f"labels must hold one segment number per customer ({rows:,}); "
                          f"got shape {array.shape}")
    if rows == 0:
        raise ConfigError("cannot profile an empty table")
    if array.dtype.kind not in "iu":
        numeric = pd.to_numeric(pd.Series(array), errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(numeric) | (numeric != np.round(numeric))
        if bad.any():
            raise ConfigError(f"labels must be whole numbers; got {array[bad][:3].tolist()} "
                              f"({int(bad.sum()):,} such labels)")
        array = numeric.astype(np.int64)
    codes, segments = pd.factorize(array, sort=True)
    return segments, codes


@dataclass(frozen=True, eq=False)
class _Statistics:
    """Per-segment arrays of shape (k, features) and population arrays of shape (features,)."""

    sizes: np.ndarray
    means: np.ndarray
    medians: np.ndarray
    effects: np.ndarray
    z_scores: np.ndarray
    population_means: np.ndarray
    population_medians: np.ndarray


def _statistics(columns: list[np.ndarray], codes: np.ndarray, k: int) -> _Statistics:
    """Means, medians, effects and z-scores of every segment; the population's means and medians.

    Works one column at a time, so memory stays at a few copies of one column.
    """
    sizes = np.bincount(codes, minlength=k)
    order = np.argsort(codes, kind="stable")
    bounds = np.cumsum(sizes)[:-1]
    rows = []
    for name, values in zip(NUMERIC_FEATURES, columns, strict=True):
        means, squares, centre = _moments(values, codes, sizes)
        sd = np.sqrt(squares.sum() / len(values))
        scaled = np.log1p(np.maximum(values, 0)) if name in LOG_SCALE_FEATURES else values
        rows.append((means,
                     [np.median(part) for part in np.split(values[order], bounds)],
                     effect_sizes(*_moments(scaled, codes, sizes), sizes),
                     (means - centre) / sd if sd > 0 else np.zeros(k),
                     centre, np.median(values)))
    means, medians, effects, z_scores, centres, population_medians = (
        np.array(part, dtype=float) for part in zip(*rows, strict=True))
    return _Statistics(sizes=sizes, means=means.T, medians=medians.T, effects=effects.T,
                       z_scores=z_scores.T, population_means=centres,
                       population_medians=population_medians)


def _moments(values: np.ndarray, codes: np.ndarray,
             sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Segment means, segment sums of squared deviations from the population mean, and that mean.

    Deviations from the population mean keep the sums exact for a constant column.
    """
    means = np.bincount(codes, weights=values, minlength=len(sizes)) / sizes
    centre = float(sizes @ means / len(values))
    squares = np.bincount(codes, weights=np.square(values - centre), minlength=len(sizes))
    return means, squares, centre


def effect_sizes(means: np.ndarray, squares: np.ndarray, centre: float,
             sizes: np.ndarray) -> np.ndarray:
    """Standardised mean difference of each segment versus the rest, with the pooled sd.

    The pooled sd is floored at EFFECT_SD_FLOOR times the population sd, so a feature that is
    constant within both groups but differs between them gets a large finite effect. A segment
    with no rest (k = 1) or a constant feature gets 0.
    """
    n = sizes.sum()
    rest = n - sizes
    rest_means = np.divide(n * centre - sizes * means, rest, out=np.zeros_like(means),
                           where=rest > 0)
    within = (squares - sizes * (means - centre) ** 2
              + squares.sum() - squares - rest * (rest_means - centre) ** 2)
    pooled_sd = np.maximum(np.sqrt(np.clip(within, 0, None) / max(n - 2, 1)),
                           EFFECT_SD_FLOOR * np.sqrt(squares.sum() / n))
    usable = (rest > 0) & (pooled_sd > 0)
    return np.divide(means - rest_means, pooled_sd, out=np.zeros_like(means), where=usable)


def rank_top_features(effects: np.ndarray, means: np.ndarray,
                  population_means: np.ndarray) -> tuple[TopFeature, ...]:
    """The TOP_FEATURE_COUNT features with the largest non-zero absolute effect, largest first.

    A per-month feature and its six-month column (MONTHLY_PURCHASES and PURCHASES, ...) say the
    same thing: only the first of the two is kept.
    """
    top: list[TopFeature] = []
    for j in np.argsort(-np.abs(effects), kind="stable"):
        name = NUMERIC_FEATURES[j]
        if len(top) == TOP_FEATURE_COUNT or effects[j] == 0:
            break
        if _twin(name) in {t.name for t in top}:
            continue
        top.append(TopFeature(name=name, label=_label(name), effect=float(effects[j]),
                              segment_mean=float(means[j]),
                              population_mean=float(population_means[j])))
    return tuple(top)


def _twin(name: str) -> str:
    """The six-month column of a per-month feature and vice versa (else ``name`` itself)."""
    if name.startswith(MONTHLY):
        return name.removeprefix(MONTHLY)
    return MONTHLY + name if MONTHLY + name in FEATURE_BY_NAME else name


def _label(name: str) -> str:
    """Business label of a behavioural column or engineered feature."""
    return COLUMN_BY_NAME[name].label if name in COLUMN_BY_NAME else FEATURE_BY_NAME[name].label


def _style_mixes(frame: pd.DataFrame, codes: np.ndarray,
                 k: int) -> list[dict[str, dict[str, float]]]:
    """Per segment, style name → category → share of the segment's customers."""
    mixes: list[dict[str, dict[str, float]]] = [{} for _ in range(k)]
    for style in STYLES:
        category = pd.Categorical(frame[style.name], categories=style.categories).codes
        width = len(style.categories)
        known = category >= 0
        counts = np.bincount(codes[known] * width + category[known],
                             minlength=k * width).reshape(k, width)
        totals = counts.sum(axis=1, keepdims=True)
        shares = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
        for i in range(k):
            mixes[i][style.name] = dict(zip(style.categories, shares[i].tolist(), strict=True))
    return mixes


def draft_profile(segment: int, size: int, rows: int, means: np.ndarray, medians: np.ndarray,
           z_scores: np.ndarray, top: tuple[TopFeature, ...],
           mix: dict[str, dict[str, float]]) -> SegmentProfile:
    """A profile with its statistics and risk flags, before it is named."""
    index = pd.Index(NUMERIC_FEATURES)
    median_series = pd.Series(medians, index=index)
    return SegmentProfile(segment=segment, size=size, share=size / rows,
                          means=pd.Series(means, index=index), medians=median_series,
                          z_scores=pd.Series(z_scores, index=index), top_features=top,
                          style_mix=mix, name="", description="", levers=(),
                          risk_flags=risk_flags(median_series, mix))
