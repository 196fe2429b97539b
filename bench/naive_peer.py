"""The naive Dash peer of the k-change browser benchmark (issue 10): one callback does it all.

A k slider, a map and a bar chart. Changing k runs one callback that fits KMeans on the 9k demo
customers (prepared by ``core.pipeline.prepare`` with the app's default settings, fitted by
``core.clustering.fit_clusters`` with the app's ``n_init``; fits are cached per (k, seed) in this
process, as a ``functools.lru_cache`` would in a simple app) and returns a fresh ``px.scatter``
of the 2-D PCA (the app's ``core.projection.project``) coloured by segment with the customer id
and three values on hover, and a ``px.bar`` of segment sizes. The page opens at k = 3; open
``/?seed=7`` for a new chain of fits (the seed is taken from the address).

Run: ``OMP_NUM_THREADS=1 .venv/bin/python bench/naive_peer.py --port 8060``, or under gunicorn:
``gunicorn --chdir bench naive_peer:server``.
"""

from __future__ import annotations

import argparse
import os
import sys
from functools import cache, lru_cache
from pathlib import Path
from urllib.parse import parse_qs

os.environ.setdefault("OMP_NUM_THREADS", "1")  # as the app's workers, before numpy loads

import pandas as pd  # noqa: E402
import plotly.express as px  # noqa: E402
from dash import Dash, Input, Output, dcc, html  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from core.clustering import K_MAX, K_MIN, fit_clusters  # noqa: E402
from core.demo import DEMO_PATH  # noqa: E402
from core.loading import load_customers  # noqa: E402
from core.pipeline import SegmentationConfig, prepare  # noqa: E402
from core.projection import project  # noqa: E402
from core.schema import ID_COLUMN  # noqa: E402

HOVER = (ID_COLUMN, "BALANCE", "PURCHASES", "CASH_ADVANCE")  # what the app's map shows on hover
CONFIG = SegmentationConfig()  # the app's default features, scaling and n_init


@cache
def _prepared():
    """The demo customers prepared once, and their points: PC1, PC2 and the hover columns."""
    prepared = prepare(load_customers(DEMO_PATH), CONFIG)
    coords = project(prepared.matrix, prepared.preprocessor.output_names).coords
    points = prepared.frame[list(HOVER)].reset_index(drop=True)
    return prepared.matrix, points.assign(PC1=coords[:, 0], PC2=coords[:, 1])


@lru_cache(maxsize=256)
def _labels(k: int, seed: int):
    return fit_clusters(_prepared()[0], k=k, random_state=seed, n_init=CONFIG.n_init).labels


def _seed(search: str | None) -> int:
    """The ``seed`` of the page address (``?seed=7``), else the app's default."""
    seed = parse_qs((search or "").lstrip("?")).get("seed", [""])[0]
    return int(seed) if seed.isdigit() else CONFIG.random_state


def create_app() -> Dash:
    app = Dash(__name__, title="Naive peer")
    app.layout = html.Div([
        dcc.Location(id="url"),
        dcc.Slider(id="k", min=K_MIN, max=K_MAX, step=1, value=3,
                   marks={n: str(n) for n in range(K_MIN, K_MAX + 1)}),
        dcc.Graph(id="map", style={"height": "440px"}),
        dcc.Graph(id="sizes", style={"height": "320px"}),
    ], style={"maxWidth": "1200px", "margin": "auto"})

    @app.callback(Output("map", "figure"), Output("sizes", "figure"),
                  Input("k", "value"), Input("url", "search"))
    def fit_and_draw(k: int, search: str | None):
        """Fit (cached per k and seed), then build both figures from scratch."""
        labels = _labels(int(k), _seed(search))
        points = _prepared()[1].assign(segment=labels.astype(str))
        scatter = px.scatter(points, x="PC1", y="PC2", color="segment", hover_data=list(HOVER),
                             category_orders={"segment": [str(s) for s in range(1, k + 1)]})
        sizes = pd.Series(labels).value_counts().sort_index()
        bar = px.bar(x=sizes.index.astype(str), y=sizes.to_numpy(),
                     labels={"x": "segment", "y": "customers"})
        return scatter, bar

    _prepared()  # before the first request, as the app prepares the demo data at start
    return app


server = create_app().server  # for gunicorn

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8060)
    server.run(host="127.0.0.1", port=parser.parse_args().port, threaded=True)
