"""Browser benchmark of issue 10: from a user's input to the last callback response, in Chromium.

What runs: the real app under gunicorn with the Procfile's command and sign-in
(:func:`load.gunicorn`: fresh cache, one user), and the naive one-callback peer
(``bench/naive_peer.py``) under gunicorn (one worker, four threads: its fits are cached in the
process). One headless Chromium signs in and drives both with real input events:

* **k change** — ArrowRight / ArrowLeft on the k slider's handle. Each round opens
  ``/segments?k=3&seed=S`` (peer: ``/?seed=S``) with a seed not used before, so k = 4..10
  (ArrowRight) are *cold* (first fit of that k: KMeans, profiles, stability re-fits) and the way
  back 9..3 (ArrowLeft) is *warm* (fitted). Three rounds per network, app and peer alternating.
  The app fits the next k after each quick fit (``Store.prefetch_neighbours``), so a step up
  is usually fitted before it is asked for; ``k_change.without_prefetch`` measures the cold
  steps again on a second server with ``C2C_PREFETCH=0`` (loopback), where every step fits.
* **Overview filter** — clicks on the options of the Overview page's segment filter (select
  1, 2, 3, 4, then deselect them: every click is one change).
* **Plan form** — on the Campaigns page, tab of segment 1: a new holdout share is typed into
  the field, then Enter (the field commits on Enter) is the change.

Instrumentation (``INSTRUMENT``, installed with CDP ``Page.addScriptToEvaluateOnNewDocument``):
``window.fetch`` is wrapped; every ``/_dash-update-component`` request records when
dash-renderer called it, when its body had been read in JS (``response.clone().arrayBuffer()``),
its body bytes and the callback's output id, and gets ``&bench=<id>`` added to its URL. By that
id the request is matched to its Resource Timing entry (queue/connect, time to first byte,
download, last byte) and to gunicorn's access log, which logs ``%(D)s``, the time the worker
spent on it: the **server time per callback** (the app sends no Server-Timing header). The
first trusted ``keydown``/``pointerdown``/``mousedown`` after a reset is the input time
(``event.timeStamp``); a ``requestAnimationFrame`` loop records frame times.

A change is done when no request is in flight and none has started for ``QUIET_MS`` after the
last one was read. Per change, from the input: ``ms`` — the last response has arrived (its last
byte, Resource Timing ``responseEnd``; this is the figure of the targets); ``handled_ms`` — its
body was read in JS (later when the page's main thread is busy, e.g. drawing earlier responses);
``to_idle_ms`` — the main thread is idle again: the end of the last gap of more than
``LONG_FRAME_MS`` between animation frames that began within ``QUIET_MS`` after the last body
was read, else the first frame after it; ``client_ms`` = ``to_idle_ms`` − ``ms`` (rendering);
``first_request_ms`` — the first request was started (slider and renderer).
Waves: a request's wave is 1 + the highest wave of the requests of the same change that had
been read before it started (1 if none); ``waves`` is the highest. (The start is when
dash-renderer calls ``fetch``, before Chromium's six-connections-per-host queue, so waves are
rounds of dependent callbacks, not connection queueing.) Each callback's ``main_thread_ms`` is
last byte → body read in JS. ``main_thread_cpu_ms``: CPU time of the page's main thread from
the input to the end of the quiet period (CDP ``Performance.getMetrics``, thread ticks): all
tasks, and their script, style and layout parts (the rest is mostly painting and GC).

Networks: ``loopback`` (no emulation), and ``emulated`` with CDP
``Network.emulateNetworkConditions`` latency 50 ms, 10 Mbit/s down and up (1,250,000 bytes/s).
Chromium's throttle (services/network/throttling) holds each response body's first bytes until
``latency`` after the request was sent — the whole 50 ms once per request, which is one 50 ms
round trip (no TCP handshake is modelled) — and shares the throughput between the responses in
flight. ``Network.enable`` is on in both networks so both pay the same DevTools overhead.

Run: ``OMP_NUM_THREADS=1 TMPDIR=$PWD/.tmp .venv/bin/python bench/bench_browser.py`` (about 5
minutes; needs chromium and chromedriver). Prints JSON and stores it in ``bench/results.json``
under ``"browser"``. KB = 1,000 bytes (uncompressed bodies); ``load_average`` is recorded
before and after each part, as the machine is shared.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]
from bench_app import CHROME_FLAGS  # noqa: E402
from load import NAMES, gunicorn  # noqa: E402
from results import save  # noqa: E402

from tests.servers import free_port, wait_for_page  # noqa: E402

QUIET_MS = 300
ROUNDS = 3  # page loads (new seeds) per network and server: 3 x 7 cold + 3 x 7 warm changes
UP, DOWN = 7, 7  # ArrowRight from k = 3 to 10 (cold), ArrowLeft back to 3 (warm)
FORM_CHANGES = 16  # per network, for the Overview filter and the plan form
NETWORKS = {"loopback": None,
            "emulated": {"offline": False, "latency": 50, "downloadThroughput": 1_250_000,
                         "uploadThroughput": 1_250_000}}
NO_EMULATION = {"offline": False, "latency": 0, "downloadThroughput": -1,
                "uploadThroughput": -1}
# issue 10, loopback unless "emulated"; server time: summed over a change's callbacks; bytes:
# the largest k change of both networks
TARGETS = {"warm_p50_ms_max": 150, "cold_p50_ms_max": 250, "cold_server_p50_ms_max": 100,
           "emulated_warm_p50_ms_max": 300, "bytes_per_change_max": 60_000}
LOG_FORMAT = "%(q)s %(D)s"  # gunicorn access log: query string (with bench=ID), microseconds
LONG_FRAME_MS = 34  # a gap between animation frames this long: the main thread was busy
PEER = [str(Path(sys.executable).parent / "gunicorn"), "naive_peer:server", "--chdir", str(HERE),
        "--workers", "1", "--threads", "4", "--timeout", "120"]

INSTRUMENT = r"""
(() => {
  const bench = window.__bench = {input: null, requests: [], frames: [], seq: 0,
                                  page: Math.random().toString(36).slice(2, 8)};
  performance.setResourceTimingBufferSize(100000);
  const mark = event => { if (event.isTrusted && bench.input === null) {
    bench.input = event.timeStamp; } };
  for (const type of ["keydown", "pointerdown", "mousedown"]) {
    window.addEventListener(type, mark, true); }
  const frame = time => { bench.frames.push(time); requestAnimationFrame(frame); };
  requestAnimationFrame(frame);  // frame times: a busy main thread shows as a long gap
  bench.reset = () => {
    bench.input = null; bench.requests = []; bench.frames = [];
    performance.clearResourceTimings();
  };
  bench.state = () => {
    const ends = bench.requests.map(r => r.end);
    return {now: performance.now(), input: bench.input, count: bench.requests.length,
            open: bench.requests.filter(r => r.end === null).length,
            lastEnd: ends.length ? Math.max(...ends) : null};
  };
  bench.result = () => ({input: bench.input, requests: bench.requests, frames: bench.frames,
    timing: performance.getEntriesByType("resource")
      .filter(e => e.name.includes("bench=")).map(e => e.toJSON())});
  const original = window.fetch.bind(window);
  window.fetch = async (resource, init) => {
    if (typeof resource !== "string" || !resource.includes("/_dash-update-component")) {
      return original(resource, init);
    }
    const entry = {id: `${bench.page}-${++bench.seq}`, start: performance.now(), end: null,
                   bytes: 0, status: 0, output: null};
    try { entry.output = JSON.parse(init.body).output; } catch (error) { /* not JSON */ }
    bench.requests.push(entry);
    const url = `${resource}${resource.includes("?") ? "&" : "?"}bench=${entry.id}`;
    const done = () => { entry.end = performance.now(); };
    try {
      const response = await original(url, init);
      entry.status = response.status;
      response.clone().arrayBuffer().then(body => { entry.bytes = body.byteLength; done(); },
                                          done);
      return response;
    } catch (error) { done(); throw error; }
  };
})();
"""


class Browser:
    """One headless Chromium tab with the fetch instrumentation and CDP network emulation."""

    def __init__(self) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options

        options = Options()
        options.binary_location = "/usr/bin/chromium"
        for flag in CHROME_FLAGS:
            options.add_argument(flag)
        self.driver = webdriver.Chrome(options=options)
        self.cdp("Page.addScriptToEvaluateOnNewDocument", {"source": INSTRUMENT})
        self.cdp("Network.enable", {})
        self.cdp("Performance.enable", {"timeDomain": "threadTicks"})

    def cdp(self, command: str, params: dict) -> dict:
        return self.driver.execute_cdp_cmd(command, params)

    def network(self, conditions: dict | None) -> None:
        self.cdp("Network.emulateNetworkConditions", conditions or NO_EMULATION)

    def find(self, css: str, seconds: float = 30):
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, seconds, 0.05).until(
            lambda d: next(iter(d.find_elements("css selector", css)), None))

    def sign_in(self, base: str, name: str, password: str) -> None:
        self.driver.get(f"{base}/login")
        self.find("#username").send_keys(name)
        self.find("#password").send_keys(password)
        self.find("#sign-in").click()
        self.find(".navbar")

    def open(self, url: str, ready_css: str, conditions: dict | None) -> None:
        """Load ``url`` at loopback speed, wait until its callbacks have settled, then emulate
        ``conditions`` (None: loopback) for the changes that follow."""
        self.network(None)
        self.driver.get(url)
        self.find(ready_css, 60)
        self.open_settled(conditions)

    def open_settled(self, conditions: dict | None) -> None:
        """After a navigation inside the page: wait for its callbacks, then emulate."""
        self._settle(quiet_ms=1000, seconds=60)
        self.network(conditions)

    def _settle(self, quiet_ms: float, seconds: float) -> dict:
        deadline = time.monotonic() + seconds
        while True:
            state = self.driver.execute_script("return window.__bench.state()")
            if (state["count"] and not state["open"]
                    and state["now"] - state["lastEnd"] >= quiet_ms):
                return state
            if time.monotonic() > deadline:
                raise TimeoutError(f"callbacks did not settle: {state}")
            if not state["count"] and state["input"] is not None \
                    and state["now"] - state["input"] > 10_000:
                raise RuntimeError("the input fired no callback within 10 s")
            time.sleep(0.05)

    def change(self, act: Callable[[], None]) -> dict:
        """Reset, do ``act`` (one user input), wait for its callbacks; return what happened."""
        self.driver.execute_script("window.__bench.reset()")
        before = self.main_thread()
        act()
        self._settle(QUIET_MS, 120)
        data = self.driver.execute_script("return window.__bench.result()")
        if data["input"] is None:
            raise RuntimeError("no input event was seen")
        data["main_thread"] = {k: v - before[k] for k, v in self.main_thread().items()}
        return data

    def main_thread(self) -> dict[str, float]:
        """The page's main-thread time so far (ms): all tasks, and their script, style and
        layout parts (CDP ``Performance.getMetrics``)."""
        metrics = {m["name"]: m["value"] for m in self.cdp("Performance.getMetrics",
                                                           {})["metrics"]}
        return {part: 1000 * metrics[f"{name}Duration"] for part, name in (
            ("task", "Task"), ("script", "Script"), ("style", "RecalcStyle"),
            ("layout", "Layout"))}

    def quit(self) -> None:
        self.driver.quit()


# ---------------------------------------------------------------- the inputs
def k_changes(tab: Browser, url: str, slider: str, conditions) -> dict[str, list[dict]]:
    """Open ``url`` at k = 3, then ArrowRight ``UP`` times (cold), ArrowLeft ``DOWN`` times."""
    from selenium.webdriver.common.keys import Keys

    handle = f"{slider} [role=slider]"
    tab.open(url, handle, conditions)
    runs: dict[str, list[dict]] = {"cold": [], "warm": []}
    for name, key, count, step in (("cold", Keys.ARROW_RIGHT, UP, 1),
                                   ("warm", Keys.ARROW_LEFT, DOWN, -1)):
        for _ in range(count):
            before = int(tab.find(handle).get_attribute("aria-valuenow"))
            runs[name].append(tab.change(lambda key=key: tab.find(handle).send_keys(key)))
            after = int(tab.find(handle).get_attribute("aria-valuenow"))
            if after != before + step:
                raise RuntimeError(f"k went {before} -> {after}, not {before + step}")
    return runs


def overview_filter(tab: Browser, base: str, conditions) -> list[dict]:
    """Select segments 1..4 in the Overview filter, then deselect them, one click a change."""
    tab.open(f"{base}/", "#overview-filter", conditions)
    options = "[role=listbox] [role=option]"
    changes = []
    for i in range(FORM_CHANGES):
        if tab.find("#overview-filter").get_attribute("data-state") != "open":
            tab.find("#overview-filter").click()
        tab.find(options)
        option = tab.driver.find_elements("css selector", options)[i % 4]
        changes.append(tab.change(option.click))
    return changes


def plan_form(tab: Browser, base: str, conditions) -> list[dict]:
    """Segment 1's plan: type a new holdout share (%), then Enter commits it: one change."""
    from selenium.webdriver.common.keys import Keys

    field = "input[id*='\"holdout_share\"']"
    tab.open(f"{base}/campaigns", "#campaign-tabs .nav-link", None)
    tab.driver.find_elements("css selector", "#campaign-tabs .nav-link")[1].click()
    tab.find(field)
    tab.open_settled(conditions)
    changes = []
    for i in range(FORM_CHANGES):
        value = 11 + i % 8  # 11..18 %: never the shown value (default 10 %, then the last)
        tab.find(field).send_keys(Keys.CONTROL, "a")
        tab.find(field).send_keys(str(value))
        changes.append(tab.change(lambda: tab.find(field).send_keys(Keys.ENTER)))
    return changes


# ---------------------------------------------------------------- servers
@contextlib.contextmanager
def app_server(folder: Path, name: str = "app",
               prefetch: bool = True) -> Iterator[tuple[str, str, str, Path]]:
    """The Procfile's gunicorn with sign-in (bench/load.py), logging each request's time;
    ``prefetch=False`` turns off fitting the next k ahead (``C2C_PREFETCH=0``)."""
    log = folder / f"{name}-access.log"
    password = secrets.token_urlsafe(12)
    settings = {"GUNICORN_CMD_ARGS": shlex.join(  # gunicorn reads it too
        ["--access-logfile", str(log), "--access-logformat", LOG_FORMAT]),
        "C2C_PREFETCH": "1" if prefetch else "0"}
    old = {key: os.environ.get(key) for key in settings}
    os.environ.update(settings)
    (folder / name).mkdir()
    try:
        with gunicorn(folder / name, {"bench": password}, 3600) as (base, command, _):
            yield base, password, command, log
    finally:
        for key, value in old.items():
            os.environ.pop(key) if value is None else os.environ.update({key: value})


@contextlib.contextmanager
def peer_server(folder: Path) -> Iterator[tuple[str, str, Path]]:
    """``bench/naive_peer.py`` under gunicorn on a free port, logging each request's time."""
    log, port = folder / "peer-access.log", free_port()
    command = [*PEER, "--bind", f"127.0.0.1:{port}"]
    env = {k: v for k, v in os.environ.items() if k != "GUNICORN_CMD_ARGS"}
    server = subprocess.Popen([*command, "--access-logfile", str(log),
                               "--access-logformat", LOG_FORMAT],
                              env=env | {"OMP_NUM_THREADS": "1"},
                              stdout=(folder / "peer.log").open("w"), stderr=subprocess.STDOUT)
    try:
        wait_for_page(f"http://127.0.0.1:{port}/")
        yield f"http://127.0.0.1:{port}", shlex.join(["gunicorn", *command[1:]]), log
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


def server_times(*logs: Path) -> dict[str, float]:
    """Request id -> milliseconds the gunicorn worker spent on it (from the access logs)."""
    times = {}
    for log in logs:
        for line in log.read_text().splitlines():
            query, _, micros = line.rpartition(" ")
            request_id = parse_qs(query).get("bench")
            if request_id and micros.isdigit():
                times[request_id[0]] = int(micros) / 1000
    return times


# ---------------------------------------------------------------- analysis
def client_ms(frames: list[float], last_end: float) -> float | None:
    """From the last response to the main thread's return to idle: the end of the last long
    gap between animation frames (render work) that began within ``QUIET_MS`` of it, else the
    first frame after it."""
    after = [f for f in frames if f > last_end]
    if not after:
        return None
    end, previous = after[0], max([f for f in frames if f <= last_end], default=last_end)
    for f in after:
        if previous > last_end + QUIET_MS:
            break
        if f - previous > LONG_FRAME_MS:
            end = f
        previous = f
    return end - last_end


def analyse(change: dict, names: dict[str, str], server: dict[str, float]) -> dict:
    """One change: times relative to the input, waves, bytes and time split per request."""
    t0 = change["input"]
    timing = {parse_qs(e["name"].partition("?")[2]).get("bench", [""])[0]: e
              for e in change["timing"]}
    requests = sorted(change["requests"], key=lambda r: r["start"])
    calls = []
    for r in requests:
        r["wave"] = 1 + max((q["wave"] for q in requests
                             if "wave" in q and q["end"] <= r["start"]), default=0)
        t, ms = timing.get(r["id"]), server.get(r["id"])
        calls.append({
            "name": names.get(r["output"], r["output"]), "wave": r["wave"],
            "start_ms": r["start"] - t0, "handled_ms": r["end"] - t0, "server_ms": ms,
            "bytes": r["bytes"], "status": r["status"],
            # arrived: last byte in the network stack (Resource Timing), else body read in JS
            "arrived_ms": (t["responseEnd"] if t else r["end"]) - t0,
            # browser queue (six connections per host) and TCP connect; request sent ->
            # first byte, of which the server's part is server_ms; first -> last byte; last
            # byte -> body handed to JS (the page's main thread was busy meanwhile)
            **({"stalled_ms": t["requestStart"] - t["startTime"],
                "ttfb_ms": t["responseStart"] - t["requestStart"],
                "download_ms": t["responseEnd"] - t["responseStart"],
                "main_thread_ms": r["end"] - t["responseEnd"]} if t else {})})
    arrived = max(c["arrived_ms"] for c in calls)
    handled = max(r["end"] for r in requests)
    waves = max(r["wave"] for r in requests)
    client = client_ms(change["frames"], handled)
    idle = None if client is None else handled + client - t0
    return {
        "ms": arrived, "handled_ms": handled - t0, "to_idle_ms": idle,
        "client_ms": None if idle is None else idle - arrived,
        "first_request_ms": requests[0]["start"] - t0, "requests": len(requests),
        "waves": waves, "bytes": sum(r["bytes"] for r in requests),
        "server_ms": sum(c["server_ms"] or 0 for c in calls),
        "server_path_ms": sum(max((c["server_ms"] or 0) for c in calls if c["wave"] == w)
                              for w in range(1, waves + 1)),
        "main_thread": change["main_thread"], "calls": calls,
    }


def _pct(values: list) -> dict:
    values = [v for v in values if v is not None]
    if not values:
        return {"p50": None, "p90": None}
    p50, p90 = np.percentile(values, [50, 90])
    return {"p50": round(float(p50), 1), "p90": round(float(p90), 1)}


def _p50(values: list) -> float | None:
    return _pct(values)["p50"]


def summarise(changes: list[dict]) -> dict:
    """p50 and p90 over the changes, the callbacks of each wave, and each callback's times."""
    calls: dict[str, list[dict]] = {}
    for call in (c for change in changes for c in change["calls"]):
        calls.setdefault(call["name"], []).append(call)
    per_callback = {name: {
        "waves": dict(sorted(Counter(str(c["wave"]) for c in cs).items())),
        "per_change": round(len(cs) / len(changes), 2),
        "bytes_p50": int(np.median([c["bytes"] for c in cs])),
        "server_ms_p50": _p50([c["server_ms"] for c in cs]),
        "browser_ms_p50": _p50([c["arrived_ms"] - c["start_ms"] for c in cs]),
        **{f"{part}_ms_p50": _p50([c.get(f"{part}_ms") for c in cs])
           for part in ("stalled", "ttfb", "download", "main_thread")},
        "start_ms_p50": _p50([c["start_ms"] for c in cs]),
        "arrived_ms_p50": _p50([c["arrived_ms"] for c in cs]),
    } for name, cs in sorted(calls.items(), key=lambda i: np.median([c["start_ms"]
                                                                     for c in i[1]]))}
    by_wave = {}
    for wave in range(1, max(c["waves"] for c in changes) + 1):
        inside = [[c for c in change["calls"] if c["wave"] == wave] for change in changes]
        inside = [w for w in inside if w]
        by_wave[str(wave)] = {
            "in_changes": len(inside),
            "callbacks": dict(Counter(c["name"] for w in inside for c in w)),
            "start_ms_p50": _p50([min(c["start_ms"] for c in w) for w in inside]),
            "arrived_ms_p50": _p50([max(c["arrived_ms"] for c in w) for w in inside]),
            "server_ms_max_p50": _p50([max(c["server_ms"] or 0 for c in w) for w in inside])}
    return {"changes": len(changes), "ms": _pct([c["ms"] for c in changes]),
            "handled_ms": _pct([c["handled_ms"] for c in changes]),
            "to_idle_ms": _pct([c["to_idle_ms"] for c in changes]),
            "client_ms": _pct([c["client_ms"] for c in changes]),
            "first_request_ms": _pct([c["first_request_ms"] for c in changes]),
            "main_thread_cpu_ms": {part: _pct([c["main_thread"][part] for c in changes])
                                   for part in changes[0]["main_thread"]},
            "server_ms_sum": _pct([c["server_ms"] for c in changes]),
            "server_ms_critical_path": _pct([c["server_path_ms"] for c in changes]),
            "requests_p50": int(np.median([c["requests"] for c in changes])),
            "waves_p50": int(np.median([c["waves"] for c in changes])),
            "waves_max": max(c["waves"] for c in changes),
            "bytes": {"p50": int(np.median([c["bytes"] for c in changes])),
                      "max": max(c["bytes"] for c in changes)},
            "shortest_request_ms": round(min(c["arrived_ms"] - c["start_ms"]
                                             for cs in calls.values() for c in cs), 1),
            "by_wave": by_wave, "per_callback": per_callback}


def _ratio(app: dict, peer: dict) -> dict:
    """App p50 / peer p50, to the last response (the targets) and to idle (with rendering)."""
    return {key: round(app[key]["p50"] / peer[key]["p50"], 2) for key in ("ms", "to_idle_ms")}


def verdict(k: dict) -> dict:
    loop, emu = k["loopback"], k["emulated"]
    bytes_max = max(k[n][s]["app"]["bytes"]["max"] for n in NETWORKS for s in ("warm", "cold"))
    return {
        "warm_p50": loop["warm"]["app"]["ms"]["p50"] <= TARGETS["warm_p50_ms_max"],
        "warm_below_peer": loop["warm"]["app"]["ms"]["p50"] < loop["warm"]["peer"]["ms"]["p50"],
        "cold_p50": loop["cold"]["app"]["ms"]["p50"] <= TARGETS["cold_p50_ms_max"],
        "cold_server_p50": (loop["cold"]["app"]["server_ms_sum"]["p50"]
                            <= TARGETS["cold_server_p50_ms_max"]),
        "cold_p50_without_prefetch": k["without_prefetch"]["cold"]["ms"]["p50"]
        <= TARGETS["cold_p50_ms_max"],
        "cold_server_p50_without_prefetch": (k["without_prefetch"]["cold"]["server_ms_sum"]["p50"]
                                             <= TARGETS["cold_server_p50_ms_max"]),
        "emulated_warm_p50": emu["warm"]["app"]["ms"]["p50"]
        <= TARGETS["emulated_warm_p50_ms_max"],
        "bytes_per_change": bytes_max <= TARGETS["bytes_per_change_max"],
    }


# ---------------------------------------------------------------- the run
def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run(folder: Path, rounds: int) -> dict:
    names = json.loads(subprocess.run(  # callback function names of the app, by output id
        [sys.executable, "-c", NAMES], cwd=ROOT, capture_output=True, text=True, check=True,
        env={**os.environ, "C2C_CACHE_DIR": str(folder / "names")}).stdout.splitlines()[-1])
    raw: dict = {net: {"cold": {"app": [], "peer": []}, "warm": {"app": [], "peer": []}}
                 for net in NETWORKS}
    raw["without_prefetch"] = {"cold": []}  # loopback, the app only
    forms: dict = {"overview_filter": {}, "plan_form": {}}
    loads = {"start": _load()}
    with app_server(folder) as (base, password, command, app_log), \
            peer_server(folder) as (peer, peer_command, peer_log):
        tab = Browser()
        chromium = tab.driver.capabilities.get("browserVersion")
        try:
            tab.sign_in(base, "bench", password)
            seed = 100
            for net, conditions in NETWORKS.items():
                for _ in range(rounds):
                    seed += 1  # never 42: the app fits the default settings at start
                    for side, url, slider in (
                            ("app", f"{base}/segments?k=3&seed={seed}", "#k-slider"),
                            ("peer", f"{peer}/?seed={seed}", "#k")):
                        for name, changes in k_changes(tab, url, slider, conditions).items():
                            raw[net][name][side] += changes
                loads[f"k_change_{net}"] = _load()
            for net, conditions in NETWORKS.items():
                for name, measure in (("overview_filter", overview_filter),
                                      ("plan_form", plan_form)):
                    forms[name][net] = measure(tab, base, conditions)
                loads[f"forms_{net}"] = _load()
            tab.network(None)
        finally:
            tab.quit()
    with app_server(folder, "app-without-prefetch", prefetch=False) as (
            base, password, _, alone_log):
        tab = Browser()
        try:
            tab.sign_in(base, "bench", password)
            for _ in range(rounds):
                seed += 1
                raw["without_prefetch"]["cold"] += k_changes(
                    tab, f"{base}/segments?k=3&seed={seed}", "#k-slider", None)["cold"]
            loads["k_change_without_prefetch"] = _load()
        finally:
            tab.quit()
    times = server_times(app_log, peer_log, alone_log)
    alone = raw.pop("without_prefetch")
    k_change = {net: {speed: {side: summarise([analyse(c, names, times) for c in changes])
                              for side, changes in sides.items()}
                      for speed, sides in speeds.items()}
                for net, speeds in raw.items()}
    k_change["without_prefetch"] = {"cold": summarise([analyse(c, names, times)
                                                       for c in alone["cold"]])}
    for speeds in (k_change[net] for net in NETWORKS):
        for sides in speeds.values():
            sides["ratio_app_to_peer"] = _ratio(sides["app"], sides["peer"])
    return {
        "setup": {"data": "demo (core.demo.DEMO_PATH)", "rounds": rounds,
                  "cold": "k 3->10, one step a change", "warm": "k 10->3",
                  "quiet_ms": QUIET_MS, "networks": NETWORKS,
                  "app": command, "peer": peer_command, "chromium": chromium,
                  "cpus": os.cpu_count(),
                  "omp_num_threads": os.environ.get("OMP_NUM_THREADS"), "load_average": loads},
        "k_change": k_change,
        "overview_filter": {net: summarise([analyse(c, names, times) for c in changes])
                            for net, changes in forms["overview_filter"].items()},
        "plan_form": {net: summarise([analyse(c, names, times) for c in changes])
                      for net, changes in forms["plan_form"].items()},
        "targets": TARGETS, "met": verdict(k_change),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS,
                        help="page loads (new seeds) per network and server")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    folder = Path(tempfile.mkdtemp(prefix="c2c-browser-"))
    old_tmp = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(folder)  # Chromium leaves a profile folder per session
    try:
        report = run(folder, args.rounds)
    finally:
        os.environ.pop("TMPDIR") if old_tmp is None else os.environ.update(TMPDIR=old_tmp)
        shutil.rmtree(folder, ignore_errors=True)
    save("browser", report)


if __name__ == "__main__":
    main()
