"""Benchmark the Segments page over HTTP and in a browser, and print JSON (never a timed test).

1. k changes, Flask test client against the real ``/_dash-update-component`` endpoint, 9k demo
   data. A small client (:class:`DashClient`) plays dash-renderer: it reads ``end_id`` from
   ``<script id="_dash-config">``, the callback graph from ``/_dash-dependencies``, keeps every
   component's props from the layout and from each response, and fires callbacks as the browser
   does (a changed prop fires the callbacks it is an Input of once their other inputs' producers
   are done; newly inserted children fire the callbacks with an output inside them). Checked
   against Chromium: for a k change it sends the same 12 request bodies as the browser. The page
   is loaded with ``?k=3``, then k moves 4→…→10 ("cold": first time that k is fitted) and
   9→…→3 ("warm": already fitted), in three rounds with a different seed each (a seed change
   starts a new chain of fits). For each k change: server time (wall time of each test-client
   request, summed over every callback the change fires, the stability re-fits included),
   response bytes, and the PCA map's part (the ``segment-map`` figure in the response).
2. The same k changes against a naive Dash app in this file whose callback returns
   ``px.scatter`` of the same 9k projection, coloured by segment, with customer id and three
   values on hover. Its labels are precomputed, so only building and sending the figure counts.
3. First page render: the real app served by werkzeug in a fresh process with a fresh cache;
   headless Chromium opens ``/segments``; time from navigation start until the map has drawn
   every customer and the segment cards are there (polled every 20 ms). Cold (fresh server
   cache, new browser), warm server with a new browser, and a reload in the same browser;
   medians over ``--render-runs`` fresh servers (default 3), every sample under ``runs``.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python bench/bench_app.py`` (1-2 minutes; needs
``chromium`` and ``chromedriver``). KB = 1,000 bytes; bytes are uncompressed response bodies.
Times depend on machine load: ``setup.load_average`` is the 1-minute load when it ran.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before numpy / scikit-learn are imported

import numpy as np  # noqa: E402
from results import save  # noqa: E402

TARGETS = {"server_ms_p50_max": 100, "bytes_max": 60_000, "map_bytes_max": 15_000,
           "first_render_s_max": 3}
UP, DOWN = list(range(4, 11)), list(range(9, 2, -1))  # from k = 3: 4..10 cold, 9..3 warm
SEEDS = (42, 7, 2024)
NAIVE_HOVER = ("BALANCE", "PURCHASES", "CASH_ADVANCE")  # the values the app's map shows on hover
CHROME_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1000", "--disable-background-networking", "--no-first-run",
                "--disable-component-update", "--disable-sync", "--disable-quic")


class Request(NamedTuple):
    """One ``_dash-update-component`` request: which callback, server time, response bytes
    and the part of them that is the PCA map's figure (or its Patch)."""

    callback: str
    ms: float
    bytes: int
    map_bytes: int


def _key(component_id) -> str:
    """A component id as dash-renderer writes it in requests and responses."""
    if isinstance(component_id, str):
        return component_id
    return json.dumps(component_id, sort_keys=True, separators=(",", ":"))


def _outputs(dep: dict) -> list[dict]:
    """``{"id", "property"}`` of each output of a ``/_dash-dependencies`` entry."""
    text = dep["output"]
    parts = text[2:-2].split("...") if text.startswith("..") else [text]
    return [dict(zip(("id", "property"), part.rsplit(".", 1), strict=True)) for part in parts]


class DashClient:
    """Fires a Dash app's server callbacks over its test client the way dash-renderer does.

    Enough of dash-renderer for this app: string ids and ``ALL`` wildcards, multi-outputs,
    Patch responses (not applied: no server callback reads a figure), children replacement.
    """

    def __init__(self, app, path: str) -> None:
        self.http = app.server.test_client()
        page = self.http.get(path).get_data(as_text=True)
        config = re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>',
                           page, re.S)
        self.url = f"/_dash-update-component?endId={json.loads(config.group(1))['end_id']}"
        self.names = {out: getattr(entry.get("callback"), "__name__", out)
                      for out, entry in app.callback_map.items()}
        self.deps = [d for d in self.http.get("/_dash-dependencies").get_json()
                     if not d.get("clientside_function")]
        self.ids: dict[str, object] = {}
        self.props: dict[tuple[str, str], object] = {}
        self.owned: dict[tuple[str, str], set[str]] = {}  # (parent, "children") -> ids inside
        self._insert(("", "children"), self.http.get("/_dash-layout").get_json())

    def _insert(self, parent: tuple[str, str], tree) -> set[str]:
        """Replace ``parent``'s children by ``tree``; return the ids now inside it."""
        for key in self.owned.pop(parent, set()):
            self.ids.pop(key, None)
            for prop in [p for p in self.props if p[0] == key]:
                del self.props[prop]
        found: set[str] = set()
        stack = [tree]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(reversed(node))
            elif isinstance(node, dict) and "props" in node:
                props = node["props"]
                if "id" in props:
                    key = _key(props["id"])
                    found.add(key)
                    self.ids[key] = props["id"]
                    self.props.update({(key, p): v for p, v in props.items() if p != "children"})
                stack.append(props.get("children"))
        self.owned[parent] = found
        return found

    def _matches(self, pattern: str) -> list[str]:
        """Ids matching a dependency id: itself, or every id an ``ALL`` pattern covers."""
        if not pattern.startswith("{"):
            return [pattern] if pattern in self.ids else []
        want = json.loads(pattern)
        return [key for key, cid in self.ids.items() if isinstance(cid, dict)
                and cid.keys() == want.keys()
                and all(v == ["ALL"] or cid[f] == v for f, v in want.items())]

    def _live(self, dep: dict) -> bool:
        """Every plain (non-wildcard) input, state and output is in the page."""
        items = dep["inputs"] + dep["state"] + _outputs(dep)
        return all(i["id"].startswith("{") or i["id"] in self.ids for i in items)

    def _spec(self, item: dict, value: bool = True):
        entries = [{"id": self.ids[key], "property": item["property"]}
                   | ({"value": self.props[(key, item["property"])]}  # undefined: no value
                      if value and (key, item["property"]) in self.props else {})
                   for key in self._matches(item["id"])]
        return entries if item["id"].startswith("{") else entries[0]

    def _triggered(self, changed: set[tuple[str, str]]) -> dict[int, set[str]]:
        fired = {}
        for i, dep in enumerate(self.deps):
            hits = {f"{key}.{inp['property']}" for inp in dep["inputs"]
                    for key in self._matches(inp["id"]) if (key, inp["property"]) in changed}
            if hits and self._live(dep):
                fired[i] = hits
        return fired

    def _initial(self, inserted: set[str]) -> dict[int, set[str]]:
        """Callbacks fired because components appeared: an output inside, no prevent_initial."""
        return {i: set() for i, dep in enumerate(self.deps)
                if not dep["prevent_initial_call"] and self._live(dep)
                and any(key in inserted for out in _outputs(dep)
                        for key in self._matches(out["id"]))}

    def _produced(self, i: int) -> set[tuple[str, str]]:
        return {(key, out["property"].split("@")[0]) for out in _outputs(self.deps[i])
                for key in self._matches(out["id"])}

    def _call(self, i: int, changed: set[str]) -> tuple[dict, Request]:
        dep = self.deps[i]
        outputs = [self._spec(o, value=False) for o in _outputs(dep)]
        body = {"output": dep["output"], "outputs": outputs if len(outputs) > 1 else outputs[0],
                "inputs": [self._spec(x) for x in dep["inputs"]],
                "changedPropIds": sorted(changed), "parsedChangedPropsIds": sorted(changed)}
        if dep["state"]:
            body["state"] = [self._spec(x) for x in dep["state"]]
        start = time.perf_counter()
        reply = self.http.post(self.url, json=body)
        ms = (time.perf_counter() - start) * 1000
        if reply.status_code not in (200, 204):
            raise RuntimeError(f"{self.names[dep['output']]}: HTTP {reply.status_code}")
        response = reply.get_json()["response"] if reply.status_code == 200 else {}
        drawn = response.get("segment-map", {}).get("figure")
        map_bytes = len(json.dumps(drawn, separators=(",", ":"))) if drawn is not None else 0
        return response, Request(self.names[dep["output"]], ms, len(reply.data), map_bytes)

    def run(self, pending: dict[int, set[str]]) -> list[Request]:
        """Fire ``pending`` and everything it sets off, as the browser would."""
        log = []
        while pending:
            blocked = set().union(*(self._produced(i) for i in pending))
            ready = [i for i in pending if not any(
                (key, inp["property"]) in blocked - self._produced(i)
                for inp in self.deps[i]["inputs"] for key in self._matches(inp["id"]))]
            if not ready:
                raise RuntimeError("callback cycle")
            for i in ready:
                response, record = self._call(i, pending.pop(i))
                log.append(record)
                changed, inserted = set(), set()
                for key, props in response.items():
                    for prop, value in props.items():
                        changed.add((key, prop))
                        if prop == "children":
                            inserted |= self._insert((key, prop), value)
                        elif not (isinstance(value, dict) and "__dash_patch_update" in value):
                            self.props[(key, prop)] = value
                for j, hits in {**self._initial(inserted), **self._triggered(changed)}.items():
                    pending.setdefault(j, set()).update(hits)
        return log

    def load(self, locations: dict[tuple[str, str], str]) -> list[Request]:
        """The first page load: initial callbacks, and the Location components' props."""
        self.props.update(locations)
        return self.run({**self._initial(set(self.ids)), **self._triggered(set(locations))})

    def change(self, key: str, prop: str, value) -> list[Request]:
        """The user sets ``key.prop``; returns what it set off."""
        self.props[(key, prop)] = value
        return self.run(self._triggered({(key, prop)}))


def _summary(changes: list[list[Request]]) -> dict:
    """Percentiles of the summed time and bytes per change, and the map's part."""
    ms = [sum(r.ms for r in c) for c in changes]
    size = [sum(r.bytes for r in c) for c in changes]
    map_size = [sum(r.map_bytes for r in c) for c in changes]
    return {"changes": len(changes),
            "requests_per_change": int(np.median([len(c) for c in changes])),
            "server_ms_p50": round(float(np.percentile(ms, 50)), 1),
            "server_ms_p95": round(float(np.percentile(ms, 95)), 1),
            "bytes_p50": int(np.percentile(size, 50)), "bytes_max": max(size),
            "map_bytes_p50": int(np.percentile(map_size, 50)), "map_bytes_max": max(map_size)}


def _per_callback(changes: list[list[Request]], field: str) -> dict[str, float]:
    """Median ``field`` ("ms" or "bytes") of each callback, largest first."""
    values: dict[str, list[float]] = {}
    for request in (r for c in changes for r in c):
        values.setdefault(request.callback, []).append(getattr(request, field))
    medians = {name: round(float(np.median(v)), 1) for name, v in values.items()}
    return dict(sorted(medians.items(), key=lambda item: -item[1]))


def bench_k_changes(cache_dir: Path) -> tuple[dict, dict]:
    """Measure k changes on the real app; return the report and the data for the naive app."""
    from dataclasses import replace

    from core.schema import ID_COLUMN
    from dashapp.app import create_app
    from dashapp.config import MB, Settings
    from dashapp.store import get_store

    app = create_app(Settings(secret_key="bench", cache_dir=cache_dir,
                              upload_max_bytes=50 * MB, redis_url=None))
    client = DashClient(app, "/segments?k=3")
    start = time.perf_counter()
    load = client.load({(loc, prop): value for loc in ("url", "_pages_location")
                        for prop, value in (("pathname", "/segments"), ("search", "?k=3"))})
    load_s = time.perf_counter() - start
    client.props[("selection", "data")] = None  # what the clientside lasso callback sets on load
    cold, warm = [], []
    for round_, seed in enumerate(SEEDS):
        if round_:
            client.change("seed", "value", seed)  # back at k = 3 on a new chain of fits
        cold += [client.change("k-slider", "value", k) for k in UP]
        warm += [client.change("k-slider", "value", k) for k in DOWN]
    report = {
        "cold": _summary(cold), "warm": _summary(warm),
        "per_callback_ms_p50": {"cold": _per_callback(cold, "ms"),
                                "warm": _per_callback(warm, "ms")},
        "per_callback_bytes_p50": _per_callback(cold + warm, "bytes"),
        "page_load_k3_server": {"ms": round(sum(r.ms for r in load), 1),
                                "wall_s": round(load_s, 2), "bytes": sum(r.bytes for r in load),
                                "map_bytes": sum(r.map_bytes for r in load)},
        "targets": {k: v for k, v in TARGETS.items() if k != "first_render_s_max"},
    }
    for name in ("cold", "warm"):
        s = report[name]
        s["met"] = {"server_ms_p50": s["server_ms_p50"] <= TARGETS["server_ms_p50_max"],
                    "bytes": s["bytes_max"] <= TARGETS["bytes_max"],
                    "map_bytes": s["map_bytes_max"] <= TARGETS["map_bytes_max"]}
    store = get_store()
    view = store.active(client.props[("view-state", "data")])
    frame = store.segmentation(view.data, view.config).prepared.frame
    naive = {"coords": store.projection(view.data, view.config).coords,
             "hover": frame[[ID_COLUMN, *NAIVE_HOVER]].reset_index(drop=True),
             "labels": {k: store.segmentation(view.data, replace(view.config, k=k)).labels
                        for k in set(UP + DOWN)}}
    return report, naive


def naive_app(coords: np.ndarray, hover, labels: dict[int, np.ndarray]):
    """The usual way: the callback takes k and returns a fresh ``px.scatter``."""
    import plotly.express as px
    from dash import Dash, Input, Output, dcc, html

    frame = hover.assign(PC1=coords[:, 0], PC2=coords[:, 1])
    app = Dash("naive_px_scatter")
    app.layout = html.Div([dcc.Slider(id="k", min=2, max=15, step=1, value=3),
                           dcc.Graph(id="map")])

    @app.callback(Output("map", "figure"), Input("k", "value"))
    def draw_naive_map(k):
        points = frame.assign(segment=labels[k].astype(str))
        return px.scatter(points, x="PC1", y="PC2", color="segment", hover_data=list(hover))

    return app


def bench_naive(data: dict, real_map_bytes: int) -> dict:
    client = DashClient(naive_app(**data), "/")
    changes = [client.change("k", "value", k) for _ in SEEDS for k in UP + DOWN]
    summary = _summary(changes)
    return {"changes": len(changes), "server_ms_p50": summary["server_ms_p50"],
            "server_ms_p95": summary["server_ms_p95"], "bytes_p50": summary["bytes_p50"],
            "bytes_vs_app_map": round(summary["bytes_p50"] / max(real_map_bytes, 1), 1)}


def serve(cache_dir: str) -> None:
    """Child process: serve the real app on a free port and print the port."""
    import logging

    from werkzeug.serving import make_server

    from dashapp.app import create_app
    from dashapp.config import MB, Settings

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = create_app(Settings(secret_key="bench", cache_dir=Path(cache_dir),
                              upload_max_bytes=50 * MB, redis_url=None))
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    print(server.server_port, flush=True)
    server.serve_forever()


def _render_times(url: str, rows: int, options) -> dict[str, float]:
    """Seconds from navigation start until the map shows every customer and the cards are in."""
    from selenium import webdriver

    ready = ("const g = document.querySelector('#segment-map .js-plotly-plot');"
             "const ok = g && g._fullData && g._fullData.length && g._fullData[0].x"
             f" && g._fullData[0].x.length === {rows}"
             " && document.querySelectorAll('#segment-cards .card').length > 0;"
             "return ok ? performance.now() : null;")

    def render(driver) -> float:
        driver.get(url)
        deadline = time.monotonic() + 60
        while (ms := driver.execute_script(ready)) is None:
            if time.monotonic() > deadline:
                raise TimeoutError("the segment map did not draw within 60 s")
            time.sleep(0.02)
        return ms / 1000

    drivers, times = [], {}
    try:
        for name in ("cold", "warm_server_new_browser"):
            drivers.append(webdriver.Chrome(options=options))
            times[name] = render(drivers[-1])
        times["warm_reload"] = render(drivers[-1])
    finally:
        for driver in drivers:
            driver.quit()
    return times


def bench_first_render(rows: int, workdir: Path, runs: int) -> dict:
    """Each run: a fresh server process and cache, then cold / new-browser / reload loads."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    (workdir / "chromium").mkdir()
    old_tmp = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(workdir / "chromium")  # Chromium leaves a folder per session
    samples: dict[str, list[float]] = {}
    try:
        for run in range(runs):
            server = subprocess.Popen([sys.executable, __file__, "--serve",
                                       str(workdir / f"render-{run}")],
                                      stdout=subprocess.PIPE, text=True)
            try:
                url = f"http://127.0.0.1:{int(server.stdout.readline())}/segments"
                for name, seconds in _render_times(url, rows, options).items():
                    samples.setdefault(name, []).append(round(seconds, 2))
            finally:
                server.terminate()
                server.wait()
    finally:
        if old_tmp is None:
            del os.environ["TMPDIR"]
        else:
            os.environ["TMPDIR"] = old_tmp
    medians = {name: float(np.median(v)) for name, v in samples.items()}
    return {**medians, "runs": samples, "target": TARGETS["first_render_s_max"],
            "met": {name: s <= TARGETS["first_render_s_max"] for name, s in medians.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", metavar="CACHE_DIR", help=argparse.SUPPRESS)
    parser.add_argument("--render-runs", type=int, default=3, help="fresh servers to load")
    parser.add_argument("--no-browser", action="store_true", help="skip the first-render part")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    with tempfile.TemporaryDirectory(prefix="c2c-bench-", ignore_cleanup_errors=True) as tmp:
        k_change, naive_data = bench_k_changes(Path(tmp) / "k-change")
        rows = len(naive_data["coords"])
        report = {"setup": {"rows": rows, "k_from_3": UP + DOWN, "seeds": list(SEEDS),
                            "omp_num_threads": os.environ["OMP_NUM_THREADS"],
                            "cpus": os.cpu_count(), "load_average": os.getloadavg()[0]},
                  "k_change": k_change,
                  "naive_px_scatter": bench_naive(naive_data,
                                                  k_change["warm"]["map_bytes_p50"])}
        if not args.no_browser:
            report["first_render_s"] = bench_first_render(rows, Path(tmp), args.render_runs)
    save("app", report, indent=2)


if __name__ == "__main__":
    main()
