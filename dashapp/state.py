"""The view state (data set + segmentation settings) and its query-string form.

Every value arrives from the browser and is untrusted: parsing validates it and falls back to
the default, never raising, so a tampered or stale link still opens a working page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from core.clustering import ALGORITHMS, K_MAX, K_MIN
from core.errors import ConfigError
from core.pipeline import SegmentationConfig
from core.preprocessing import PRESETS, SCALINGS, resolve_feature_set

PCA_COMPONENTS = 0.9  # "PCA on" keeps 90 % of the variance
MAX_SEED = 2 ** 31 - 1
MAX_FEATURES_TEXT = 2_000  # a comma-separated column list; longer is no real feature set
MAX_QUERY_TEXT = 4_000  # a link's query string is read up to this many characters


@dataclass(frozen=True)
class ViewState:
    """What a page shows: which data set, segmented how."""

    data: str | None = None
    config: SegmentationConfig = field(default_factory=SegmentationConfig)

    def to_dict(self) -> dict:
        """JSON-ready form for a ``dcc.Store``."""
        c = self.config
        features = c.features if isinstance(c.features, str) else ",".join(c.features)
        return {"data": self.data, "k": c.k, "features": features, "algorithm": c.algorithm,
                "scaling": c.scaling, "pca": c.pca, "seed": c.random_state}

    def query(self) -> str:
        """``?data=…&k=…`` for links; default values are left out."""
        defaults = ViewState().to_dict()
        values = {k: v for k, v in self.to_dict().items()
                  if v is not None and v != defaults[k]}
        return "?" + urlencode(values) if values else ""


def _int(value, low: int, high: int, default: int) -> int:
    if isinstance(value, bool) or (isinstance(value, str) and len(value) > 20):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return default
    return number if low <= number <= high else default


def _features(value) -> str | tuple[str, ...]:
    if not isinstance(value, str) or len(value) > MAX_FEATURES_TEXT:
        return "seed"
    if not value or value in PRESETS:
        return value or "seed"
    columns = tuple(c for c in value.split(",") if c)
    try:
        return resolve_feature_set(columns).columns
    except ConfigError:
        return "seed"


def _pca(value) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        share = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return share if 0 < share < 1 else None


def parse_state(values: dict | None) -> ViewState:
    """A ViewState from query-string or store values; anything invalid takes its default."""
    values = values if isinstance(values, dict) else {}
    default = SegmentationConfig()
    data = values.get("data")
    config = SegmentationConfig(
        features=_features(values.get("features")),
        algorithm=values.get("algorithm") if values.get("algorithm") in ALGORITHMS
        else default.algorithm,
        k=_int(values.get("k"), K_MIN, K_MAX, default.k),
        scaling=values.get("scaling") if values.get("scaling") in SCALINGS else default.scaling,
        pca=_pca(values.get("pca")),
        random_state=_int(values.get("seed"), 0, MAX_SEED, default.random_state),
    )
    return ViewState(data if isinstance(data, str) and len(data) <= 128 else None, config)


def parse_query(search: str | None) -> ViewState:
    """A ViewState from ``location.search`` (anything but text is an empty query)."""
    text = search[:MAX_QUERY_TEXT] if isinstance(search, str) else ""
    return parse_state(dict(parse_qsl(text.lstrip("?"))))


def segment_numbers(values, k: int) -> list[int]:
    """The valid segment numbers (1..k) among ``values`` from the browser, in order, no repeats."""
    if not isinstance(values, list):
        return []
    numbers = [v for v in values if isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= k]
    return list(dict.fromkeys(numbers))
