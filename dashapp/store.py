"""Server-side store of data sets and fitted segmentations, shared by every worker (diskcache).

Nothing customer-level travels through the browser: pages hold a data set id (its content
hash) and the segmentation settings; everything else is looked up here.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path

import diskcache
import numpy as np

from core.clustering import K_MIN
from core.demo import DEMO_PATH
from core.loading import CustomerData, load_customers
from core.pipeline import PreparedData, Segmentation, SegmentationConfig, prepare, segment_prepared
from core.plans import PlanStore, default_url, normalise_url
from core.projection import MapProjection, inside_box, inside_polygon, project
from core.stability import StabilityResult, assess_stability
from core.sweep import SweepResult
from dashapp.state import ViewState, parse_state

DEMO_LABEL = "Demo customers (synthetic)"
STORE_BYTES = 2 * 1024 ** 3
RECENT_VALUES = 24  # unpickled results kept per process (a 9k-row segmentation is ~2.5 MB)
STABILITY_RESAMPLES = 5  # re-fits on half the customers behind each card's stability badge


class UnknownDataSet(KeyError):
    """A data set id that this server does not hold (expired, or never uploaded)."""


class Store:
    """Data sets keyed by content hash; results keyed by data set id + parameters.

    Parameters
    ----------
    directory : Path
        The diskcache directory; every gunicorn worker must use the same one.
    plans_url : str, optional
        Database of campaign plans (SQLAlchemy URL); default: ``plans.db`` in ``directory``.
    """

    def __init__(self, directory: Path, plans_url: str | None = None) -> None:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.plans = PlanStore(normalise_url(plans_url) if plans_url else default_url(directory))
        self.cache = diskcache.Cache(str(directory), size_limit=STORE_BYTES)
        self._forget_locks()
        os.register_at_fork(after_in_child=self._forget_locks)
        self.demo_id = self.add(load_customers(DEMO_PATH, filename=DEMO_LABEL))

    def add(self, data: CustomerData) -> str:
        """Keep ``data`` and return its id."""
        self.cache.set(("data", data.content_hash), data)
        return data.content_hash

    def has(self, data_id: str) -> bool:
        """Whether the data set ``data_id`` is here."""
        return ("data", data_id) in self.cache

    def data(self, data_id: str) -> CustomerData:
        """The data set ``data_id``; raises UnknownDataSet when it is not here."""
        data = self.cache.get(("data", data_id))
        if data is None:
            raise UnknownDataSet(data_id)
        return data

    def _memo(self, key: tuple, compute):
        """``cache[key]``, computed once even when several callbacks ask at the same time.

        Recent values are also kept unpickled in this process: one k change reads the same
        segmentation in most of its callbacks.
        """
        value = self._recent.get(key)
        if value is None:
            value = self.cache.get(key)
        if value is None:
            with self._guard:
                lock = self._locks.setdefault(key, threading.Lock())
            with lock:
                value = self.cache.get(key)
                if value is None:
                    value = compute()
                    self.cache.set(key, value)
        with self._guard:
            self._recent[key] = value
            self._recent.move_to_end(key)
            while len(self._recent) > RECENT_VALUES:
                self._recent.popitem(last=False)
        return value

    def _forget_locks(self) -> None:
        """In a forked background job, locks held by the parent's threads must not carry over."""
        self._guard = threading.Lock()
        self._locks: dict[tuple, threading.Lock] = {}
        self._recent: OrderedDict[tuple, object] = OrderedDict()

    def prepared(self, data_id: str, config: SegmentationConfig) -> PreparedData:
        """Cleaned, featured and scaled data; independent of k, algorithm and seed."""
        key = ("prepared", data_id, config.features, config.scaling, config.pca)
        return self._memo(key, lambda: prepare(self.data(data_id), config))

    def projection(self, data_id: str, config: SegmentationConfig) -> MapProjection:
        """The 2-D PCA map of the prepared data."""
        key = ("projection", data_id, config.features, config.scaling, config.pca)
        return self._memo(key, lambda: self._project(data_id, config))

    def _project(self, data_id: str, config: SegmentationConfig) -> MapProjection:
        prepared = self.prepared(data_id, config)
        return project(prepared.matrix, prepared.preprocessor.output_names)

    def segmentation(self, data_id: str, config: SegmentationConfig) -> Segmentation:
        """The segmentation for ``config``, numbered to follow the one with k - 1 segments.

        Numbering follows a chain from k = 2 upward, so segment numbers (and colours) are a
        pure function of data and settings: moving k keeps customers under their number, and a
        copied link shows the same numbers.
        """
        return self._memo(("segmentation", data_id, config),
                          lambda: self._segment(data_id, config))

    def _segment(self, data_id: str, config: SegmentationConfig) -> Segmentation:
        chained = config.k > K_MIN and config.algorithm != "hdbscan"
        reference = (self.segmentation(data_id, replace(config, k=config.k - 1)).labels
                     if chained else None)
        return segment_prepared(self.prepared(data_id, config), config, data_id,
                                reference_labels=reference)

    def stability(self, data_id: str, config: SegmentationConfig) -> StabilityResult:
        """How often re-fits on subsamples find each segment again (seconds: run apart)."""
        def compute() -> StabilityResult:
            result = self.segmentation(data_id, config)
            return assess_stability(result.prepared.matrix, result.labels,
                                    algorithm=result.clusters.algorithm, k=result.k,
                                    n_resamples=STABILITY_RESAMPLES, sample_fraction=0.5,
                                    n_init=1,
                                    random_state=config.random_state)
        return self._memo(("stability", data_id, config), compute)

    def active(self, state: dict | None) -> ViewState:
        """The view state of ``state`` with an unknown data set replaced by the demo data."""
        view = parse_state(state)
        if view.data is None or not self.has(view.data):
            view = replace(view, data=self.demo_id)
        return view

    def current(self, state: dict | None) -> tuple[ViewState, Segmentation]:
        """The view state of ``state`` (see :meth:`active`) and its segmentation."""
        view = self.active(state)
        return view, self.segmentation(view.data, view.config)

    def selection_mask(self, view: ViewState, selection: dict | None) -> np.ndarray | None:
        """The customers inside a lasso or box drawn on the current map; None if there is none.

        A selection drawn on another map (other data, features, scaling or PCA) is ignored.
        """
        if not selection or selection.get("map") != map_key(view):
            return None
        coords = self.projection(view.data, view.config).coords
        if "lasso" in selection:
            return inside_polygon(coords, selection["lasso"]["x"], selection["lasso"]["y"])
        return inside_box(coords, selection["box"]["x"], selection["box"]["y"])

    def sweep(self, data_id: str, config: SegmentationConfig) -> SweepResult | None:
        """A finished k sweep for these settings, if one was stored."""
        return self.cache.get(("sweep", data_id, replace(config, k=0)))

    def keep_sweep(self, data_id: str, config: SegmentationConfig, result: SweepResult) -> None:
        """Store a finished k sweep so returning to the page shows it."""
        self.cache.set(("sweep", data_id, replace(config, k=0)), result)


def map_key(view: ViewState) -> list:
    """What the PCA map's points depend on: data set, features, scaling and PCA."""
    c = view.config
    return [view.data, repr(c.features), c.scaling, c.pca]


_STORE: Store | None = None


def configure_store(store: Store) -> None:
    """Set the process's store; called once by ``create_app`` at start-up."""
    global _STORE
    _STORE = store


def get_store() -> Store:
    """The store ``create_app`` configured."""
    if _STORE is None:
        raise RuntimeError("create_app() has not configured the store yet")
    return _STORE
