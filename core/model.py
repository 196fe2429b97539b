"""A fitted segmentation as a portable JSON model that scores new customers (never pickle)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd

from core.cleaning import Cleaner
from core.clustering import nearest_centre
from core.errors import ModelFileError
from core.features import FEATURE_BY_NAME, add_features
from core.levers import Lever
from core.preprocessing import FeatureSet, Preprocessor
from core.schema import BEHAVIOUR_COLUMNS, ID_COLUMN

if TYPE_CHECKING:
    from core.pipeline import SegmentationConfig

SCHEMA_VERSION = 1
FORMAT = "clusters-to-campaigns/segment-model"


class ModelSegment(NamedTuple):
    """One segment of a model: its number, name and suggested campaign levers."""

    segment: int
    name: str
    levers: tuple[Lever, ...]


@dataclass(frozen=True, eq=False)
class SegmentModel:
    """Cleaning values, feature set, scaling, PCA, segment centres, names and levers.

    ``predict`` applies them to new customers and returns the nearest segment, so a model
    saved from a segmentation gives the same numbers and names when it scores that data again;
    the levers let a scheduled job pre-fill the same campaign plans as the app.
    """

    cleaner: Cleaner
    preprocessor: Preprocessor
    centres: np.ndarray
    names: tuple[str, ...]
    config: dict[str, Any]
    levers: tuple[tuple[Lever, ...], ...] = ()

    @classmethod
    def from_fit(cls, cleaner: Cleaner, preprocessor: Preprocessor, centres: np.ndarray,
                 names: tuple[str, ...], config: SegmentationConfig,
                 levers: tuple[tuple[Lever, ...], ...] = ()) -> SegmentModel:
        """Bundle the fitted parts of a segmentation."""
        return cls(cleaner, preprocessor, np.asarray(centres, dtype=float), names, asdict(config),
                   levers)

    @property
    def k(self) -> int:
        """Number of segments."""
        return len(self.names)

    def segment(self, number: int) -> ModelSegment:
        """Segment ``number`` (1..k); ModelFileError when there is no such segment."""
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= self.k:
            raise ModelFileError(f"the model has segments 1-{self.k}; got {number!r}")
        levers = self.levers[number - 1] if self.levers else ()
        return ModelSegment(number, self.names[number - 1], levers)

    def predict(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Segment number (1..k) and distance to its centre for every row of ``frame``."""
        missing = [c for c in self.preprocessor.feature_set.columns
                   if c not in frame.columns and c not in FEATURE_BY_NAME]
        if missing:
            raise ModelFileError(f"the model uses column(s) {', '.join(missing)} "
                                 "that the data does not have")
        prepared = add_features(self.cleaner.transform(frame))
        return nearest_centre(self.preprocessor.transform(prepared), self.centres)

    def score(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Assignments for ``frame``: customer id, segment, segment name, distance to centre."""
        labels, distances = self.predict(frame)
        return pd.DataFrame({
            ID_COLUMN: frame[ID_COLUMN].to_numpy(),
            "segment": labels,
            "segment_name": np.array(self.names, dtype=object)[labels - 1],
            "distance_to_centre": distances,
        })

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary of everything the model needs."""
        pre = self.preprocessor
        return {
            "format": FORMAT,
            "schema_version": SCHEMA_VERSION,
            "config": {**self.config, "features": _jsonable(self.config["features"])},
            "cleaning": self.cleaner.fill_values_,
            "feature_set": asdict(pre.feature_set),
            "scaling": pre.scaling,
            "pca": pre.pca,
            "fill": pre.fill_.tolist(),
            "center": pre.center_.tolist(),
            "scale": pre.scale_.tolist(),
            "pca_mean": pre.pca_mean_.tolist() if pre.pca is not None else None,
            "pca_components": pre.pca_components_.tolist() if pre.pca is not None else None,
            "centres": self.centres.tolist(),
            "names": list(self.names),
            "levers": [[asdict(lever) for lever in levers] for levers in self.levers],
        }

    def to_json(self) -> str:
        """The model as JSON text."""
        return json.dumps(self.to_dict(), indent=2)

    def save(self, path: str | os.PathLike) -> None:
        """Write the model to ``path`` as JSON."""
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(self.to_json())

    @classmethod
    def from_json(cls, text: str | bytes) -> SegmentModel:
        """Read a model written by :meth:`to_json`; raises ModelFileError when it is not one."""
        try:
            payload = json.loads(text)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise ModelFileError(f"the model file is not valid JSON ({exc})") from None
        return _model_from_dict(payload)

    @classmethod
    def load(cls, path: str | os.PathLike) -> SegmentModel:
        """Read a model file from ``path``."""
        try:
            with open(path, "rb") as handle:
                return cls.from_json(handle.read())
        except OSError as exc:
            raise ModelFileError(f"cannot read the model file {os.fspath(path)!r}: "
                                 f"{exc.strerror}") from None


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _array(payload: dict[str, Any], key: str, shape: tuple[int | None, ...]) -> np.ndarray:
    """``payload[key]`` as a finite float array of ``shape`` (None = any length)."""
    if key not in payload:
        raise ModelFileError(f"the model file has no field {key!r}; it is incomplete or damaged")
    try:
        values = np.asarray(payload[key], dtype=float)
    except (TypeError, ValueError):
        raise ModelFileError(f"model field {key!r} must be numbers") from None
    fits = values.ndim == len(shape) and all(
        want is None or want == got for want, got in zip(shape, values.shape, strict=False))
    if not fits or not np.isfinite(values).all():
        raise ModelFileError(f"model field {key!r} has the wrong shape {values.shape} or "
                             f"non-finite values (expected {shape})")
    return values


def _model_from_dict(payload: Any) -> SegmentModel:
    """Validate a decoded model file and rebuild the model."""
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelFileError("this is not a Clusters to Campaigns model file "
                             f"(expected \"format\": \"{FORMAT}\")")
    version = payload.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ModelFileError(f"model schema version {version!r} is not supported; this version "
                             f"of the app reads version {SCHEMA_VERSION}")
    try:
        feature_set = FeatureSet(**{k: (tuple(v) if isinstance(v, list) else v)
                                    for k, v in payload["feature_set"].items()})
        cleaning = {str(k): float(v) for k, v in payload["cleaning"].items()}
        names = tuple(str(n) for n in payload["names"])
        scaling, pca, config = payload["scaling"], payload["pca"], dict(payload["config"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelFileError(f"the model file is incomplete or damaged ({exc!r})") from None
    if set(cleaning) != set(BEHAVIOUR_COLUMNS):
        raise ModelFileError("model field 'cleaning' must give a fill value for each of the "
                             "17 behavioural columns")
    n = len(feature_set.columns)
    preprocessor = Preprocessor(feature_set=feature_set, scaling=scaling, pca=pca)
    preprocessor.fill_ = _array(payload, "fill", (n,))
    preprocessor.center_ = _array(payload, "center", (n,))
    preprocessor.scale_ = _array(payload, "scale", (n,))
    dims = n
    if pca is not None:
        preprocessor.pca_mean_ = _array(payload, "pca_mean", (n,))
        preprocessor.pca_components_ = _array(payload, "pca_components", (None, n))
        dims = len(preprocessor.pca_components_)
    centres = _array(payload, "centres", (len(names), dims))
    cleaner = Cleaner()
    cleaner.fill_values_ = cleaning
    return SegmentModel(cleaner, preprocessor, centres, names, config,
                        _levers(payload.get("levers", []), len(names)))


def _levers(payload: Any, k: int) -> tuple[tuple[Lever, ...], ...]:
    """The model's levers: none (older model files), or a list of levers per segment."""
    keys = [f.name for f in fields(Lever)]
    try:
        if payload == []:
            return ()
        if not isinstance(payload, list) or len(payload) != k:
            raise TypeError(f"expected {k} lists, one per segment")
        return tuple(tuple(Lever(**{key: _text(lever[key]) for key in keys})
                           for lever in segment) for segment in payload)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"model field 'levers' is damaged ({exc})") from None


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {value!r}")
    return value
