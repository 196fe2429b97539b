"""Load test: signed-in users on gunicorn with the Procfile's settings; print JSON.

gunicorn runs the Procfile's command on a free port of 127.0.0.1, with a fresh cache, a
``SECRET_KEY`` and ``--users`` users. Each user (own ``requests.Session``) signs in, loads
``/segments`` as a browser does, then for ``--seconds``, pausing ``--think`` seconds between
actions, moves k, highlights segments, saves a campaign plan or downloads a member list. Callbacks
are sent as dash-renderer sends them (:class:`bench_app.DashClient` over ``/_dash-dependencies``;
background jobs polled with ``endId``/``cacheKey``/``job``). Every request is recorded, worker RSS
sampled. Run: ``.venv/bin/python bench/load.py --seconds 60``; the JSON also goes to
``bench/results.json`` under ``"load"``. Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psutil
import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]
from bench_app import DashClient, Request, _key, _outputs  # noqa: E402
from results import save  # noqa: E402

from core.users import Users  # noqa: E402
from tests.servers import free_port  # noqa: E402

HOST = "127.0.0.1"
TIMEOUT = 130  # seconds per request (and per background job): above gunicorn's --timeout 120
GRACE = 60  # seconds users get to finish their last action after --seconds
ACTIONS = {"k_change": 50, "filter": 25, "save_plan": 15, "export": 10}  # relative weights
NAMES = ("import json; from dashapp.app import create_app; app = create_app(); "  # callbacks
         "app.server.test_client().get('/'); print(json.dumps({o: getattr(e.get('callback'), "
         "'__name__', o) for o, e in app.callback_map.items()}))")  # register on 1st request
PROBLEMS = re.compile(r"\[ERROR\]|\[CRITICAL\]|Traceback|WORKER TIMEOUT")


class Recorder:
    """Requests ``(t, kind, status, ms, bytes, error)`` and actions ``(kind, ms)``, from all
    users; ``soft`` asks users to stop, ``hard`` says gunicorn may be stopping."""

    def __init__(self, max_requests: int) -> None:
        self.start, self.max_requests = time.perf_counter(), max_requests
        self.requests: list[tuple] = []
        self.actions: list[tuple] = []
        self.failed: Counter = Counter()
        self.soft, self.hard, self.lock = threading.Event(), threading.Event(), threading.Lock()

    def add(self, kind: str, status, ms: float, size: int, error: str | None) -> None:
        with self.lock:
            self.requests.append((round(time.perf_counter() - self.start, 2), kind, status,
                                  round(ms, 1), size, error))
            if len(self.requests) >= self.max_requests:
                self.soft.set()


class User(DashClient):
    """One signed-in browser tab: its own cookie jar, page state and callback requests."""

    def __init__(self, base: str, name: str, password: str, names: dict, rec: Recorder):
        assert base.startswith(f"http://{HOST}:"), base  # never anything but this machine
        self.base, self.name, self.names, self.rec = base, name, names, rec
        self.http, self.plans, self.last = requests.Session(), 0, {}
        signed_in = self.fetch("login", "POST", "/login", data={
            "username": name, "password": password, "next": "/segments"})
        if signed_in is None or signed_in.status_code != 303:
            raise RuntimeError(f"{name} could not sign in")
        page = self.fetch("page", "GET", "/segments").text
        config = re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>',
                           page, re.S)
        self.end_id = json.loads(config.group(1))["end_id"]
        for path in re.findall(r'(?:src|href)="(/(?:_dash-component-suites|assets)/[^"]+)"',
                               page):
            self.fetch("static", "GET", path)
        self.deps = [d for d in self.fetch("dependencies", "GET", "/_dash-dependencies").json()
                     if not d.get("clientside_function")]
        self.ids, self.props, self.owned = {}, {}, {}
        self._insert(("", "children"), self.fetch("layout", "GET", "/_dash-layout").json())
        self.load({(loc, prop): value for loc in ("url", "_pages_location")
                   for prop, value in (("pathname", "/segments"), ("search", ""))})
        self.props[("selection", "data")] = None  # what the clientside lasso callback sets

    def fetch(self, kind: str, method: str, path: str, **kwargs) -> requests.Response | None:
        """One recorded request; None if it failed or the test is over."""
        if self.rec.hard.is_set():
            return None
        start = time.perf_counter()
        try:
            reply = self.http.request(method, self.base + path, timeout=TIMEOUT,
                                      allow_redirects=False, **kwargs)
        except requests.RequestException as error:
            cause = ("client_shutdown" if self.rec.hard.is_set() else
                     "timeout" if isinstance(error, requests.Timeout) else "connection")
            self.rec.add(kind, None, (time.perf_counter() - start) * 1000, 0, cause)
            return None
        code = reply.status_code
        self.rec.add(kind, code, (time.perf_counter() - start) * 1000, len(reply.content),
                     "http_5xx" if code >= 500 else "http_4xx" if code >= 400 else None)
        return reply

    def _live(self, dep: dict) -> bool:
        """As dash-renderer, drop a callback none of whose outputs is in the page."""
        return super()._live(dep) and any(self._matches(o["id"]) for o in _outputs(dep))

    def _call(self, i: int, changed: set[str]) -> tuple[dict, Request | None]:
        dep = self.deps[i]
        name = self.names.get(dep["output"], dep["output"][:40])
        if not self._live(dep):  # its outputs left the page while it waited
            return {}, None
        outputs = [self._spec(o, value=False) for o in _outputs(dep)]
        body = {"output": dep["output"], "outputs": outputs if len(outputs) > 1 else outputs[0],
                "inputs": [self._spec(x) for x in dep["inputs"]],
                "changedPropIds": sorted(changed), "parsedChangedPropsIds": sorted(changed),
                **({"state": [self._spec(x) for x in dep["state"]]} if dep["state"] else {})}
        running = dep.get("running") or {}  # props a background job shows while it runs
        self.props.update({tuple(k.rsplit(".", 1)): v for k, v in running.get("running", {})
                           .items()})
        start, query = time.perf_counter(), {"endId": self.end_id}
        reply = self.fetch(f"cb:{name}", "POST", "/_dash-update-component", params=query,
                           json=body)
        data = reply.json() if reply is not None and reply.status_code == 200 else {}
        if dep.get("background") and "job" in data:  # poll as the renderer does: values nulled
            query |= {"cacheKey": data.get("cacheKey"), "job": data["job"]}
            for entry in (e for x in body["inputs"] + body.get("state", [])
                          for e in (x if isinstance(x, list) else [x])):
                entry["value"] = None
            while "response" not in data and time.perf_counter() - start < TIMEOUT:
                time.sleep(dep["background"].get("interval", 500) / 1000)
                reply = self.fetch(f"poll:{name}", "POST", "/_dash-update-component",
                                   params=query, json=body)
                if reply is None or reply.status_code != 200:
                    break  # 204: no result (Dash 4.4.1 hands a result to one reader only)
                data = reply.json()
        self.props.update({tuple(k.rsplit(".", 1)): v
                           for k, v in running.get("runningOff", {}).items()})
        self.last[name] = data.get("response", {})
        return self.last[name], Request(name, (time.perf_counter() - start) * 1000,
                                        len(reply.content) if reply is not None else 0)

    def click(self, button: str) -> None:
        self.change(button, "n_clicks", (self.props.get((button, "n_clicks")) or 0) + 1)

    def navigate(self, page: str) -> None:
        """Follow the navbar link to ``page``; its href carries the view state."""
        href = str(self.props.get((_key({"page": page, "type": "nav-link"}), "href"), page))
        path, _, query = href.partition("?")
        new = {"pathname": path, "search": f"?{query}" if query else ""}
        changed = {(loc, prop) for loc in ("url", "_pages_location") for prop in new
                   if self.props.get((loc, prop)) != new[prop]}
        self.props.update({(loc, prop): new[prop] for loc, prop in changed})
        self.run(self._triggered(changed))

    def some(self, options: list, least: int) -> list:
        return random.sample(options, random.randint(min(least, len(options)),
                                                     min(3, len(options))))

    # what business users do
    def k_change(self) -> None:
        k = self.props.get(("k-slider", "value"))
        self.change("k-slider", "value", random.choice([n for n in range(2, 16) if n != k]))

    def filter(self) -> None:
        options = self.props.get(("segment-filter", "options")) or []
        self.change("segment-filter", "value", self.some([o["value"] for o in options], 0))

    def campaigns(self) -> list[int]:
        self.navigate("/campaigns")
        tabs = self.last.get("build_tabs", {}).get("export-segments", {}).get("options", [])
        return [t["value"] for t in tabs] or [1]

    def save_plan(self) -> None:
        """Open a segment's tab, rename its pre-filled plan, save it, go back to Segments."""
        self.change("campaign-tabs", "active_tab", str(random.choice(self.campaigns())))
        self.plans += 1
        self.change(_key({"field": "name", "type": "plan-field"}), "value",
                    f"{self.name} plan {self.plans}")
        self.click("plan-save")
        if "Saved" not in json.dumps(self.last.get("save_plan")):
            self.rec.failed["save_plan: not saved"] += 1
        self.navigate("/segments")

    def export(self) -> None:
        """Download the member list of 1-3 segments in one of the formats, go back."""
        self.change("export-segments", "value", self.some(self.campaigns(), 1))
        self.change("export-format", "value", random.choice(["csv", "xlsx", "parquet"]))
        self.click("export-button")
        if not self.last.get("export_members", {}).get("export-download", {}).get("data"):
            self.rec.failed["export: no file"] += 1
        self.navigate("/segments")


def simulate(base: str, name: str, password: str, names: dict, rec: Recorder, think) -> None:
    """One user's session until the recorder says stop."""
    try:
        user = User(base, name, password, names, rec)
    except Exception as error:  # no page or no JSON after a failed request: recorded
        rec.failed[f"page_load: {type(error).__name__}: {error}"[:100]] += 1
        return
    while not rec.soft.is_set():
        action = random.choices(list(ACTIONS), weights=list(ACTIONS.values()))[0]
        start = time.perf_counter()
        try:
            getattr(user, action)()
        except Exception as error:  # a replay that went wrong: count it, keep the user going
            rec.failed[f"{action}: {type(error).__name__}: {error}"[:100]] += 1
        rec.actions.append((action, (time.perf_counter() - start) * 1000))
        rec.soft.wait(random.uniform(*think))


def sample_rss(master: psutil.Process, rec: Recorder, series: list, every: float) -> None:
    """RSS (MB) of each worker every ``every`` seconds, and of their background jobs."""
    while not rec.hard.wait(every):
        point = {"t": round(time.perf_counter() - rec.start, 1), "rss_mb": {}, "jobs_mb": 0.0}
        for worker in master.children():
            with contextlib.suppress(psutil.Error):
                point["rss_mb"][str(worker.pid)] = round(worker.memory_info().rss / 2**20, 1)
                point["jobs_mb"] += round(sum(c.memory_info().rss for c in
                                              worker.children(recursive=True)) / 2**20, 1)
        series.append(point)


def latency(values: list) -> dict:
    p50, p95, p99 = np.percentile(values, [50, 95, 99]) if values else (0, 0, 0)
    return {"n": len(values), "p50_ms": round(p50, 1), "p95_ms": round(p95, 1),
            "p99_ms": round(p99, 1), "max_ms": round(max(values, default=0), 1)}


def report(rec: Recorder, series: list, seconds: float, settings: dict, log: str) -> dict:
    rows, kinds = rec.requests, sorted({r[1] for r in rec.requests})
    errors = Counter(r[5] for r in rows if r[5])
    dropped = errors["http_5xx"] + errors["connection"] + errors["timeout"]
    workers: dict[str, list] = {}
    for point in series:
        for pid, mb in point["rss_mb"].items():
            workers.setdefault(pid, []).append((point["t"], mb))
    return {
        "settings": settings, "duration_s": round(seconds, 1),
        "requests": {"total": len(rows), "per_second": round(len(rows) / seconds, 1),
                     "by_kind": {k: sum(r[1] == k for r in rows) for k in kinds},
                     "by_status": dict(Counter(str(r[2]) for r in rows))},
        "errors": {"by_kind": dict(errors), "by_request": dict(Counter(r[1] for r in rows
                                                                        if r[5])),
                   "http_5xx": errors["http_5xx"],
                   "dropped_connections": errors["connection"] + errors["timeout"],
                   "client_shutdown": errors["client_shutdown"], "target_met": dropped == 0,
                   "failed_actions": dict(rec.failed), "examples": [r for r in rows if r[5]][:10]},
        "latency_ms": {"overall": latency([r[3] for r in rows if r[2]]),
                       "by_kind": {k: latency([r[3] for r in rows if r[1] == k and r[2]])
                                   for k in kinds}},
        "actions_ms": {a: latency([ms for k, ms in rec.actions if k == a]) for a in ACTIONS},
        "timeline_10s": [{"t": t, **latency([r[3] for r in rows if t <= r[0] < t + 10 and r[2]]),
                          "errors": sum(1 for r in rows if t <= r[0] < t + 10 and r[5])}
                         for t in range(0, int(seconds) + 1, 10)],
        "workers": {
            "rss_mb": {pid: {"first": p[0][1], "max": max(mb for _, mb in p), "last": p[-1][1],
                             "first_t": p[0][0], "last_t": p[-1][0]}
                       for pid, p in workers.items()},
            "booted": log.count("Booting worker"), "timeouts": log.count("WORKER TIMEOUT"),
            "log_problems": [x for x in log.splitlines() if PROBLEMS.search(x)][:20],
            "series": series},
    }


@contextlib.contextmanager
def gunicorn(folder: Path, users: dict[str, str], cap: float) -> Iterator[tuple]:
    """The Procfile's web command on a free port of 127.0.0.1, killed after ``cap`` seconds
    whatever happens; yields its URL, arguments and master process once it answers."""
    line = next(x for x in (ROOT / "Procfile").read_text().splitlines() if x.startswith("web:"))
    words, env = shlex.split(line[4:]), {k: v for k, v in os.environ.items() if k not in (
        "REDIS_URL", "DATABASE_URL", "PORT", "C2C_ALLOW_ANONYMOUS")}
    while "=" in words[0]:  # the Procfile's environment, e.g. OMP_NUM_THREADS=1
        env.update([words.pop(0).split("=", 1)])
    port = free_port()
    words[words.index("--bind") + 1] = f"{HOST}:{port}"
    accounts = Users()
    for name, password in users.items():
        accounts = accounts.with_password(name, password)
    accounts.write(folder / "users.json")
    env |= {"SECRET_KEY": secrets.token_hex(32), "C2C_USERS_FILE": str(folder / "users.json"),
            "C2C_CACHE_DIR": str(folder / "cache")}
    server = subprocess.Popen([str(Path(sys.executable).parent / words[0]), *words[1:]],
                              cwd=ROOT, env=env, start_new_session=True,
                              stdout=(folder / "gunicorn.log").open("w"), stderr=subprocess.STDOUT)
    watchdog = threading.Timer(cap, hard_stop, (server,))
    watchdog.daemon = True
    watchdog.start()
    try:
        for _ in range(360):  # gunicorn accepts connections before its workers have the app
            with contextlib.suppress(requests.RequestException):
                requests.get(f"http://{HOST}:{port}/login", timeout=30)
                break
            time.sleep(0.5)
        else:
            raise RuntimeError("gunicorn did not answer; see its log")
        yield f"http://{HOST}:{port}", shlex.join(words), psutil.Process(server.pid)
    finally:
        family = psutil.Process(server.pid).children(recursive=True)
        server.terminate()  # SIGTERM: graceful; then whatever of its processes is left
        try:
            server.wait(40)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
        for process in psutil.wait_procs(family, timeout=10)[1]:
            process.kill()
        watchdog.cancel()


def hard_stop(server: subprocess.Popen) -> None:
    """The hard cap: kill gunicorn's process group and leave, whatever is still running."""
    with contextlib.suppress(OSError):
        os.killpg(server.pid, signal.SIGKILL)
    os._exit(3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--think", type=float, nargs=2, default=(1.0, 4.0), metavar=("MIN", "MAX"))
    parser.add_argument("--max-requests", type=int, default=300_000)
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between RSS samples")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="c2c-load-"))
    names = json.loads(subprocess.run(  # callback function names, from an app of our own
        [sys.executable, "-c", NAMES], cwd=ROOT, capture_output=True, text=True, check=True,
        env={**os.environ, "C2C_CACHE_DIR": str(folder / "names"), "OMP_NUM_THREADS": "1"},
    ).stdout.splitlines()[-1])
    users = {f"user{i:02d}": secrets.token_urlsafe(12) for i in range(args.users)}
    rec, series = Recorder(args.max_requests), []
    settings = {"users": args.users, "seconds": args.seconds, "think_s": list(args.think),
                "max_requests": args.max_requests, "action_weights": ACTIONS,
                "cpus": os.cpu_count(),
                "load_average_before": [round(x, 2) for x in os.getloadavg()]}
    with gunicorn(folder, users, args.seconds + GRACE + 300) as (base, command, master):
        settings["gunicorn"], rec.start = command, time.perf_counter()
        threading.Thread(target=sample_rss, args=(master, rec, series, args.sample),
                         daemon=True).start()
        threads = [threading.Thread(target=simulate, daemon=True,
                                    args=(base, name, password, names, rec, args.think))
                   for name, password in users.items()]
        for thread in threads:
            thread.start()
        rec.soft.wait(args.seconds)
        rec.soft.set()
        finish = time.perf_counter() + GRACE
        for thread in threads:
            thread.join(max(0.0, finish - time.perf_counter()))
        seconds = time.perf_counter() - rec.start
        settings["users_still_busy_at_stop"] = sum(t.is_alive() for t in threads)
        settings["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        rec.hard.set()  # from here, failed requests are the client's own doing
    log = (folder / "gunicorn.log").read_text(errors="replace")
    shutil.rmtree(folder, ignore_errors=True)
    result = report(rec, series, seconds, settings, log)
    save("load", result)


if __name__ == "__main__":
    main()
