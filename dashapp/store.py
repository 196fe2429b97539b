"""Server-side store of data sets and fitted segmentations, shared by every worker (diskcache).

Nothing customer-level travels through the browser: pages hold a data set id (its content
hash) and the segmentation settings; everything else is looked up here.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path

import diskcache
import numpy as np

from core.clustering import K_MAX, K_MIN, estimate_fit_seconds
from core.currency import currency
from core.demo import DEMO_PATH
from core.errors import C2CError, ConfigError
from core.loading import CustomerData, load_customers
from core.pipeline import (
    PreparedData,
    Segmentation,
    SegmentationConfig,
    check_segmentable,
    prepare,
    segment_prepared,
)
from core.plans import PlanStore, default_url, normalise_url, segmentation_key
from core.projection import MapProjection, inside_box, inside_polygon, project
from core.stability import StabilityResult, assess_stability
from core.sweep import SweepResult
from dashapp.state import ViewState, parse_state
from dashapp.workspace import workspace_id

DEMO_LABEL = "Demo customers (synthetic)"
DEMO_ID = "demo"  # the data set every workspace starts with, unless the server was given one
RETENTION_HOURS = 24.0
TICKET_SECONDS = 600  # a background fit must start this soon after it was asked for
STORE_BYTES = 2 * 1024 ** 3
RECENT_MASKS = 4  # lasso masks kept per process (a million customers: 1 MB each)
RECENT_VALUES = 24  # unpickled results kept per process (a 9k-row segmentation is ~2.5 MB)
STABILITY_RESAMPLES = 5  # re-fits on half the customers behind each card's stability badge
PREFETCH_SECONDS = 0.5  # a neighbouring k estimated to fit quicker than this is fitted ahead
COMPUTE_LOCK_SECONDS = 150  # a result's lock outlives a worker killed while computing it


class UnknownDataSet(KeyError):
    """A data set id that this server does not hold (expired, or never uploaded)."""


class Store:
    """Data sets keyed by random ids, each owned by a workspace; results keyed by data set id
    + parameters, kept for ``retention_hours`` like the data.

    Parameters
    ----------
    directory : Path
        The diskcache directory; every gunicorn worker must use the same one.
    plans_url : str, optional
        Database of campaign plans (SQLAlchemy URL); default: ``plans.db`` in ``directory``.
    retention_hours : float
        How long uploads and results are kept (``C2C_RETENTION_HOURS``).
    prefetch : bool
        Whether :meth:`prefetch_neighbours` fits ahead (``C2C_PREFETCH``).
    starting_file : Path, optional
        The customer table every workspace starts with (``c2c serve --data``, ``C2C_DATA``),
        of any size; default: the demo customers. Loaded once for all workers.
    """

    def __init__(self, directory: Path, plans_url: str | None = None, *,
                 retention_hours: float = RETENTION_HOURS, prefetch: bool = True,
                 starting_file: Path | None = None) -> None:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.plans = PlanStore(normalise_url(plans_url) if plans_url else default_url(directory))
        self.cache = diskcache.Cache(str(directory), size_limit=STORE_BYTES)
        self.retention_seconds = retention_hours * 3600
        self.prefetch = prefetch
        self._forget_recent()
        os.register_at_fork(after_in_child=self._forget_recent)
        self.starting_file = starting_file
        self.starting_name = starting_file.name if starting_file else "the demo customers"
        self.starting_id = self._keep_starting_data()

    def _keep_starting_data(self) -> str:
        """Load the starting data set into the cache unless a worker did; return its id.

        A served file's id is its content hash: a cache folder kept across restarts never
        shows results of another file under it.
        """
        if self.starting_file is None:
            self.cache.set(("data", DEMO_ID), load_customers(DEMO_PATH, filename=DEMO_LABEL))
            return DEMO_ID
        stat = self.starting_file.stat()
        signature = ("starting", str(self.starting_file.resolve()), stat.st_size,
                     stat.st_mtime_ns)
        with diskcache.Lock(self.cache, ("loading", *signature), expire=COMPUTE_LOCK_SECONDS):
            data_id = self.cache.get(signature)
            if data_id is None or ("data", data_id) not in self.cache:
                data = load_customers(self.starting_file, max_bytes=None)
                data_id = f"file-{data.content_hash[:24]}"
                self.cache.set(("data", data_id), data)
                self.cache.set(signature, data_id)
        return data_id

    def add(self, data: CustomerData) -> str:
        """Keep ``data`` in the current workspace for the retention time; return its new id.

        The id is random (never a content hash), so knowing a file does not reveal whether
        someone uploaded it.
        """
        data_id = secrets.token_urlsafe(24)
        self.cache.set(("owner", data_id), workspace_id(), expire=self.retention_seconds)
        self.cache.set(("data", data_id), data, expire=self.retention_seconds)
        return data_id

    def has(self, data_id: object) -> bool:
        """Whether ``data_id`` is the starting data or a data set of the current workspace.

        Another workspace's data set answers exactly like one that never existed (or expired).
        In a background job (no request) existence is enough: the request that started the job
        checked its input.
        """
        if data_id == self.starting_id:
            return True
        if not isinstance(data_id, str) or ("data", data_id) not in self.cache:
            return False
        owner = workspace_id()
        return owner is None or self.cache.get(("owner", data_id)) == owner

    def data(self, data_id: str) -> CustomerData:
        """The data set ``data_id``; raises UnknownDataSet when it is not here.

        The starting data is loaded again if the cache had to drop it for space.
        """
        data = self.cache.get(("data", data_id))
        if data is None and data_id == self.starting_id:
            self._keep_starting_data()
            data = self.cache.get(("data", data_id))
        if data is None:
            raise UnknownDataSet(data_id)
        return data

    def keep_file(self, content: bytes, filename: str, seconds: float) -> str:
        """Keep a file for the current workspace for ``seconds``; return its random token."""
        token = secrets.token_urlsafe(24)
        self.cache.set(("file", token), (workspace_id(), filename, content), expire=seconds)
        return token

    def kept_file(self, token: object) -> tuple[bytes, str] | None:
        """The content and name of the file under ``token`` if the current workspace kept it."""
        kept = self.cache.get(("file", token)) if isinstance(token, str) else None
        if kept is None or kept[0] != workspace_id():
            return None
        return kept[2], kept[1]

    def issue_ticket(self, view: ViewState) -> str:
        """A single-use random ticket for a background fit of ``view`` (checked settings).

        The job takes only the ticket, so a forged job request has nothing to fit.
        """
        ticket = secrets.token_urlsafe(16)
        self.cache.set(("ticket", ticket), view.to_dict(), expire=TICKET_SECONDS)
        return ticket

    def redeem_ticket(self, ticket: object) -> ViewState | None:
        """The settings of a ticket from :meth:`issue_ticket`, once; None for any other value."""
        values = self.cache.pop(("ticket", ticket)) if isinstance(ticket, str) else None
        return None if values is None else parse_state(values)

    def plan_key(self, segmentation: Segmentation) -> str:
        """The key of a segmentation's campaign plans in the current workspace."""
        return segmentation_key(f"{workspace_id()}/{segmentation.data_id}",
                                segmentation.config)

    def _memo(self, key: tuple, compute):
        """``cache[key]``, computed once even when several callbacks (in any worker) ask at the
        same time: the others wait for it under a lock kept in the shared cache.

        Recent values are also kept unpickled in this process: one k change reads the same
        segmentation in most of its callbacks.
        """
        value = self._stored_value(key)
        if value is None:
            with diskcache.Lock(self.cache, ("computing", *key), expire=COMPUTE_LOCK_SECONDS):
                value = self.cache.get(key)
                if value is None:
                    value = compute()
                    self.cache.set(key, value, expire=self.retention_seconds)
        with self._guard:
            self._recent[key] = value
            self._recent.move_to_end(key)
            while len(self._recent) > RECENT_VALUES:
                self._recent.popitem(last=False)
        return value

    def _stored_value(self, key: tuple):
        """The value under ``key`` in this process or the shared cache, or None: no computing."""
        value = self._recent.get(key)
        return self.cache.get(key) if value is None else value

    def _forget_recent(self) -> None:
        """A forked background job starts with its own recent values, and a lock the parent's
        threads may have held at the fork."""
        self._guard = threading.Lock()
        self._masks: OrderedDict[tuple, np.ndarray | None] = OrderedDict()
        self._recent: OrderedDict[tuple, object] = OrderedDict()

    def prepared(self, data_id: str, config: SegmentationConfig) -> PreparedData:
        """Cleaned, featured and scaled data; independent of k, algorithm and seed (its cleaning
        notes name amounts in the currency)."""
        key = ("prepared", data_id, config.features, config.scaling, config.pca, currency())
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
        def compute() -> Segmentation:
            check_segmentable(self.prepared(data_id, config), config)  # names this k
            # kept without its prepared data (2.4 MB of the 2.6 MB on the demo data), which is
            # stored once under its own key: a new k writes and reads a tenth as much
            return replace(self._segment(data_id, config), prepared=None)

        slim = self._memo(segmentation_cache_key(data_id, config), compute)
        return replace(slim, prepared=self.prepared(data_id, config))

    def _segment(self, data_id: str, config: SegmentationConfig) -> Segmentation:
        previous = _numbering_reference(config)
        reference = self.segmentation(data_id, previous).labels if previous else None
        return segment_prepared(self.prepared(data_id, config), config, data_id,
                                reference_labels=reference)

    def fit_seconds(self, data_id: str, config: SegmentationConfig) -> float:
        """Estimated seconds before :meth:`segmentation` returns; 0 when it is stored.

        The :func:`~core.clustering.estimate_fit_seconds` of every fit still missing from the
        chain of k values its numbering follows. Raises ConfigError for an unusable feature set.
        """
        rows = len(self.prepared(data_id, config).frame)
        seconds, link = 0.0, config
        while link is not None and not self._stored(segmentation_cache_key(data_id, link)):
            seconds += estimate_fit_seconds(link.algorithm, rows, link.k)
            link = _numbering_reference(link)
        return seconds

    def _stored(self, key: tuple) -> bool:
        return key in self._recent or key in self.cache

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

    def stability_if_ready(self, data_id: str,
                           config: SegmentationConfig) -> StabilityResult | None:
        """The stability of these settings if it is already measured, without measuring it."""
        return self._stored_value(("stability", data_id, config))

    def prefetch_neighbours(self, view: ViewState) -> None:
        """Fit k + 1 and measure the stability of k + 1 and k - 1 ahead of the user, each only
        when it takes well under a second: the next step of the k slider is then warm. (k - 1
        itself is fitted already: k's numbering follows it.)

        At most one such fit per k change, by the worker that just answered, so it at most
        doubles what a user's own clicks cost the server; ``C2C_PREFETCH=0`` turns it off. (The
        load average is too slow a signal to gate it: in the browser benchmark Chromium alone
        lifted it above the cores and would have turned prefetching off when it helps.)
        """
        if not self.prefetch or view.config.algorithm == "hdbscan":
            return
        for k in (view.config.k + 1, view.config.k - 1):
            config = replace(view.config, k=k)
            if not K_MIN <= k <= K_MAX:
                continue
            with contextlib.suppress(C2CError):  # e.g. too few distinct customers for k + 1
                if self.fit_seconds(view.data, config) < PREFETCH_SECONDS:
                    self.segmentation(view.data, config)
                    self.stability(view.data, config)

    def active(self, state: dict | None) -> ViewState:
        """The view state of ``state`` with an unknown data set replaced by the demo data."""
        view = parse_state(state)
        if view.data is None or not self.has(view.data):
            view = replace(view, data=self.starting_id)
        return view

    def current(self, state: dict | None) -> tuple[ViewState, Segmentation]:
        """The view state of ``state`` (see :meth:`active`) and its segmentation."""
        view = self.active(state)
        return view, self.segmentation(view.data, view.config)

    def selection_mask(self, view: ViewState, selection: dict | None) -> np.ndarray | None:
        """The customers inside a lasso or box drawn on the current map; None if there is none.

        A selection drawn on another map (other data, features, scaling or PCA) is ignored, and
        so is one that is not a well-formed outline (it comes from the browser). The last masks
        are kept in this process: one render asks for the same one in each of its views.
        """
        if not isinstance(selection, dict) or selection.get("map") != map_key(view):
            return None
        key = ("mask", repr(selection))
        with self._guard:
            if key in self._masks:
                return self._masks[key]
        mask = self._inside(view, selection)
        if mask is not None:
            mask.flags.writeable = False  # shared by every view that asks
        with self._guard:
            self._masks[key] = mask
            while len(self._masks) > RECENT_MASKS:
                self._masks.popitem(last=False)
        return mask

    def _inside(self, view: ViewState, selection: dict) -> np.ndarray | None:
        shape = "lasso" if "lasso" in selection else "box"
        outline = selection.get(shape)
        if not isinstance(outline, dict):
            return None
        coords = self.projection(view.data, view.config).coords
        test = inside_polygon if shape == "lasso" else inside_box
        try:
            return test(coords, outline.get("x"), outline.get("y"))
        except ConfigError:
            return None

    def sweep(self, data_id: str, config: SegmentationConfig) -> SweepResult | None:
        """A finished k sweep for these settings, if one was stored."""
        return self.cache.get(("sweep", data_id, replace(config, k=0)))

    def keep_sweep(self, data_id: str, config: SegmentationConfig, result: SweepResult) -> None:
        """Store a finished k sweep so returning to the page shows it."""
        self.cache.set(("sweep", data_id, replace(config, k=0)), result)


def segmentation_cache_key(data_id: str, config: SegmentationConfig) -> tuple:
    """Where a segmentation is kept: its descriptions name amounts in ``C2C_CURRENCY``, so a
    cache folder kept across a change of currency never shows the old one."""
    return ("segmentation", data_id, config, currency())


def _numbering_reference(config: SegmentationConfig) -> SegmentationConfig | None:
    """The settings (k - 1) whose segment numbers ``config``'s follow; hdbscan follows none."""
    chained = config.k > K_MIN and config.algorithm != "hdbscan"
    return replace(config, k=config.k - 1) if chained else None


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
