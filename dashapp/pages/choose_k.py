"""Choose k: a sweep over k that runs as a job, followed from any page load, and "use this k".

A sweep is a job recorded in the shared store (diskcache, seen by every worker): Run records
it and keeps its id in a ``session`` store of the browser tab; the page hands the id to the
background callback that runs it. The page follows the job by polling the store, not through
Dash's own job handle, which the browser loses when it leaves the page; so coming back shows
the job's progress and then its result, and Cancel sets a flag the job checks before each k.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import replace

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from core.clustering import K_MAX, K_MIN
from core.errors import C2CError
from core.sweep import SweepCancelled, SweepResult, sweep_k
from dashapp import ids
from dashapp.components import GRAPH_CONFIG, create_problem_alert
from dashapp.figures import SWEEP_PANELS, empty_figure, sweep_figure
from dashapp.glossary import explained
from dashapp.state import ViewState, parse_state
from dashapp.store import UnknownDataSet, get_store

dash.register_page(__name__, path="/choose-k", name="Choose k",
                   title="Choose k · Clusters to Campaigns", order=2)


HIDDEN = {"display": "none"}
POLL_MS = 500
JOB_SECONDS = 3600  # a job's record is kept for an hour after its last progress
STALL_SECONDS = 90  # a job silent this long may have died: Run and Cancel work again
JOB_ID = re.compile(r"[0-9a-f]{32}")
RUNNING = ("queued", "running")


def layout(**_query: str) -> html.Div:
    """Range picker, run / cancel, progress and status, the verdict and the metric charts."""
    return html.Div([
        html.H2("How many segments?"),
        html.P("Fits every k in the range on the current data and features, and scores each fit. "
               "It runs in the background: you can keep working and come back.",
               className="text-muted"),
        dbc.Row([
            dbc.Col([dbc.Label("k from … to", html_for=ids.SWEEP_RANGE),
                     dcc.RangeSlider(id=ids.SWEEP_RANGE, min=K_MIN, max=K_MAX, step=1,
                                     value=[2, 12], marks={k: str(k) for k in
                                                           range(K_MIN, K_MAX + 1)})], lg=6),
            dbc.Col([dbc.Button("Run the sweep", id=ids.SWEEP_RUN, color="primary",
                                className="me-2"),
                     dbc.Button("Cancel", id=ids.SWEEP_CANCEL, color="secondary",
                                outline=True, disabled=True)], lg="auto",
                    className="d-flex align-items-end"),
        ], className="g-3 mb-3"),
        dbc.Progress(id=ids.SWEEP_PROGRESS, value=0, max=1, label="", striped=True,
                     className="mb-2 c2c-progress"),
        html.Div(id=ids.SWEEP_STATUS, role="status", className="c2c-sweep-status mb-2"),
        html.Div([html.Div(id=ids.SWEEP_SUMMARY),
                  dbc.Button("Use the recommended k", id=ids.USE_K, color="success", size="sm",
                             style=HIDDEN, className="mt-2 me-2"),
                  dbc.Button("Use k ≥ 3", id=ids.USE_ALTERNATIVE_K, color="success",
                             outline=True, size="sm", style=HIDDEN, className="mt-2")],
                 className="c2c-verdict mb-2"),
        dcc.Graph(id=ids.SWEEP_FIGURE, figure=empty_figure("Run the sweep to compare k values."),
                  config=GRAPH_CONFIG, style={"height": "560px"}),
        html.Ul([html.Li(explained(title.split(":")[0], metric), className="me-4")
                 for metric, title in SWEEP_PANELS], className="small text-muted c2c-terms"),
        dcc.Store(id=ids.SWEEP_JOB, storage_type="session"),
        dcc.Store(id=ids.SWEEP_START),
        dcc.Store(id=ids.SWEEP_DONE),
        dcc.Interval(id=ids.SWEEP_POLL, interval=POLL_MS, disabled=True),
    ])


# --- the job, as kept in the shared store ----------------------------------------------------
# A job is a plain dict (page modules are loaded outside sys.modules, so classes defined here
# neither build as dataclasses nor pickle reliably): ``data`` (data set id), ``config``
# (SegmentationConfig), ``ks`` (tuple of k), ``status`` ("queued", "running", then "done",
# "cancelled" or "failed"), ``done`` (k values fitted), ``error`` (why it failed) and
# ``updated`` (time of the last save).

def _key(kind: str, job_id: str) -> tuple[str, str]:
    """Store key of a job's record (``"job"``), cancel flag or claim by a worker."""
    return (f"sweep-{kind}", job_id)


def _job(job_id) -> dict | None:
    """The job ``job_id`` (a value from the browser) names, or None."""
    if not isinstance(job_id, str) or not JOB_ID.fullmatch(job_id):
        return None
    job = get_store().cache.get(_key("job", job_id))
    return job if isinstance(job, dict) else None


def _save(job_id: str, job: dict, **changes) -> None:
    """Store ``job`` with ``changes``; the record expires JOB_SECONDS after its last save."""
    get_store().cache.set(_key("job", job_id), {**job, **changes, "updated": time.time()},
                          expire=JOB_SECONDS)


def _cancel(job_id: str) -> None:
    get_store().cache.set(_key("cancel", job_id), True, expire=JOB_SECONDS)


def _cancel_requested(job_id: str) -> bool:
    return _key("cancel", job_id) in get_store().cache


def _stalled(job: dict) -> bool:
    """Whether a queued or running job has been silent for STALL_SECONDS (it may have died)."""
    return job["status"] in RUNNING and time.time() - job["updated"] > STALL_SECONDS


def _checked_range(value) -> tuple[int, ...] | None:
    """The k values between the slider's two ends (untrusted), within K_MIN..K_MAX, or None."""
    if not (isinstance(value, list) and len(value) == 2
            and all(isinstance(k, int) and not isinstance(k, bool) for k in value)):
        return None
    low, high = sorted(min(max(k, K_MIN), K_MAX) for k in value)
    return tuple(range(low, high + 1))


def _run(job_id: str, job: dict) -> None:
    """Fit the job's sweep, recording its progress, then its result or why it stopped."""
    store, config = get_store(), job["config"]
    running = {**job, "status": "running"}
    _save(job_id, running)
    try:
        prepared = store.prepared(job["data"], config)
        result = sweep_k(prepared.matrix, job["ks"], algorithm=config.algorithm,
                         random_state=config.random_state, n_init=config.n_init,
                         progress=lambda done, _: _save(job_id, running, done=done),
                         should_stop=lambda: _cancel_requested(job_id),
                         feature_label=prepared.feature_label)
    except SweepCancelled:
        _save(job_id, _job(job_id) or running, status="cancelled")
    except UnknownDataSet:
        _save(job_id, running, status="failed",
              error="This data set is no longer on the server; load it again.")
    except C2CError as error:
        _save(job_id, running, status="failed", error=str(error))
    else:
        store.keep_sweep(job["data"], config, result)
        _save(job_id, running, status="done", done=len(job["ks"]))


def _same_settings(job: dict, view: ViewState) -> bool:
    """Whether ``job`` swept the data and settings of ``view`` (k aside)."""
    return job["data"] == view.data and replace(job["config"], k=0) == replace(view.config, k=0)


# progress value, max, label, colour; status; Run, Cancel, poll disabled; done, start, range
IDLE = (0, 1, "", "primary", None, False, True, True, no_update, no_update, no_update)


def _running(job: dict, cancelling: bool) -> tuple[str, bool, bool]:
    """Status of a queued or running job, and whether Run and Cancel are disabled."""
    ks, done = job["ks"], job["done"]
    if _stalled(job):
        return (f"No progress for over {STALL_SECONDS} seconds: the sweep may have stopped. "
                "Cancel it, or run it again."), False, False
    if cancelling:
        return "Cancelling… (the sweep stops before its next k)", True, True
    return (f"Sweeping k = {ks[0]} to {ks[-1]}: {done} of {len(ks)} fitted. You can leave this "
            "page and come back."), True, False


def _job_view(job_id: str, job: dict, *, cancelling: bool, loaded: bool) -> tuple:
    """The page's view of a job, in the order of :data:`IDLE`.

    ``loaded``: the job is new or the page was (re)loaded, not a poll tick; then the range
    picker shows the job's range, and a job no worker has started yet is handed to one.
    """
    ks, done, status = job["ks"], job["done"], job["status"]
    total = len(ks)
    handover = ((job_id if status == "queued" else no_update, [ks[0], ks[-1]]) if loaded
                else (no_update, no_update))
    if status in RUNNING:
        label = f"{done}/{total}" if status == "running" else "starting…"
        return (done, total, label, "primary", *_running(job, cancelling), False, no_update,
                *handover)
    if status == "done":
        return (total, total, f"{total}/{total}", "primary", None, False, True, True, job_id,
                *handover)
    if status == "cancelled":
        return (done, total, f"{done}/{total}", "secondary",
                html.Span(f"Sweep cancelled after {done} of {total} values of k.",
                          className="text-warning-emphasis fw-semibold"),
                False, True, True, no_update, *handover)
    return (*IDLE[:4], create_problem_alert("The sweep failed.", [job["error"]]), *IDLE[5:])


# --- callbacks -------------------------------------------------------------------------------

@callback(Output(ids.SWEEP_JOB, "data"), Input(ids.SWEEP_RUN, "n_clicks"),
          State(ids.SWEEP_RANGE, "value"), State(ids.STATE, "data"),
          State(ids.SWEEP_JOB, "data"), prevent_initial_call=True)
def start_sweep(clicks: int | None, k_range, state: dict | None, previous):
    """Run: record a new job for the current settings (cancelling this tab's previous one)."""
    ks = _checked_range(k_range)
    if not clicks or ks is None:
        return no_update
    if _job(previous) is not None:
        _cancel(previous)
    job_id = uuid.uuid4().hex
    view = get_store().active(state)
    _save(job_id, {"data": view.data, "config": view.config, "ks": ks, "status": "queued",
                   "done": 0, "error": ""})
    return job_id


@callback(Input(ids.SWEEP_START, "data"), background=True, prevent_initial_call=True)
def run_sweep(job_id) -> None:
    """Background job: run the sweep ``job_id`` names, once (the first worker claims it).

    The job id, new for every run, is the callback's only input, so two users' identical
    sweeps never share a Dash result key (Dash 4.4.1 keys background results by inputs only);
    it does what the per-page-load nonce does elsewhere. :func:`follow_sweep` hands the job
    over once its own read of the store is done, so that this page is not reading the store
    when the DiskcacheManager forks the job's process (SQLite caught mid-call by a fork can
    hang the forked process).
    """
    job = _job(job_id)
    if (job is not None and job["status"] == "queued"
            and get_store().cache.add(_key("claim", job_id), True, expire=JOB_SECONDS)):
        _run(job_id, job)


@callback(Output(ids.SWEEP_CANCEL, "disabled", allow_duplicate=True),
          Input(ids.SWEEP_CANCEL, "n_clicks"), State(ids.SWEEP_JOB, "data"),
          prevent_initial_call=True)
def cancel_sweep(clicks: int | None, job_id):
    """Cancel: flag this tab's job, which stops before its next k (a stalled one at once)."""
    job = _job(job_id) if clicks else None
    if job is None or job["status"] not in RUNNING:
        return no_update
    _cancel(job_id)
    if _stalled(job):
        _save(job_id, job, status="cancelled")
    return True


@callback(Output(ids.SWEEP_PROGRESS, "value"), Output(ids.SWEEP_PROGRESS, "max"),
          Output(ids.SWEEP_PROGRESS, "label"), Output(ids.SWEEP_PROGRESS, "color"),
          Output(ids.SWEEP_STATUS, "children"),
          Output(ids.SWEEP_RUN, "disabled"), Output(ids.SWEEP_CANCEL, "disabled"),
          Output(ids.SWEEP_POLL, "disabled"), Output(ids.SWEEP_DONE, "data"),
          Output(ids.SWEEP_START, "data"), Output(ids.SWEEP_RANGE, "value"),
          Input(ids.SWEEP_POLL, "n_intervals"), Input(ids.SWEEP_JOB, "data"),
          Input(ids.STATE, "data"))
def follow_sweep(_ticks: int | None, job_id, state: dict | None):
    """Progress, status and buttons of this tab's job, read from the shared store.

    Runs on every page load too, so a job started before leaving the page is picked up
    again; polling stops once the job has finished, been cancelled or failed.
    """
    job = _job(job_id)
    if job is None or not _same_settings(job, get_store().active(state)):
        return IDLE
    return _job_view(job_id, job, cancelling=_cancel_requested(job_id),
                     loaded=ctx.triggered_id != ids.SWEEP_POLL)


def _sentence(reason: str, k: int) -> str:
    """A recommendation reason without its ``k = …:`` prefix, capitalised."""
    why = reason.removeprefix(f"k = {k}: ")
    return why[:1].upper() + why[1:]


def _summary(result: SweepResult) -> tuple[list, str, dict]:
    """The verdict text, and the "use" button's label and (visible) style."""
    sample = (f"Silhouette computed on a seeded sample of {result.silhouette_sample_size:,} "
              "customers." if result.silhouette_sample_size else "")
    text = [html.Div([html.Strong(f"Recommended: k = {result.recommended_k}. "),
                      _sentence(result.reason, result.recommended_k)])]
    if result.alternative_k is not None:
        text.append(html.Div([
            "Two segments rarely make two useful campaigns. ",
            html.Strong(f"Best with 3 or more: k = {result.alternative_k}. "),
            _sentence(result.alternative_reason, result.alternative_k)], className="mt-1"))
    text.append(html.Div(sample, className="small text-muted mt-1"))
    return text, f"Use k = {result.recommended_k} on the Segments page", {}


def _stored(state: dict | None) -> SweepResult | None:
    """The last finished sweep for the data and settings of ``state``, if any."""
    view = parse_state(state)
    return get_store().sweep(view.data, view.config) if view.data else None


SUMMARY_OUTPUTS = (Output(ids.SWEEP_SUMMARY, "children"), Output(ids.USE_K, "children"),
                   Output(ids.USE_K, "style"))


@callback(Output(ids.SWEEP_FIGURE, "figure"), *SUMMARY_OUTPUTS, Input(ids.STATE, "data"),
          Input(ids.SWEEP_DONE, "data"))
def show_stored_sweep(state: dict | None, _done: str | None = None):
    """The last finished sweep for the same data and features: on coming back to the page,
    and when this tab's job finishes."""
    result = _stored(state)
    if result is None:
        return no_update, None, no_update, HIDDEN
    return sweep_figure(result), *_summary(result)


@callback(Output(ids.USE_ALTERNATIVE_K, "children"), Output(ids.USE_ALTERNATIVE_K, "style"),
          Input(ids.STATE, "data"), Input(ids.SWEEP_DONE, "data"))
def offer_alternative_k(state: dict | None, _done: str | None = None):
    """A second "use" button for the best k ≥ 3 when the recommended k is 2."""
    result = _stored(state)
    if result is None or result.alternative_k is None:
        return no_update, HIDDEN
    return f"Use k = {result.alternative_k} on the Segments page", {}


def _segments_link(state: dict | None, k: int | None):
    """The Segments page with the current settings and ``k``; no update without a k."""
    if k is None:
        return no_update
    return "/segments" + parse_state({**parse_state(state).to_dict(), "k": k}).query()


@callback(Output(ids.URL, "href"), Input(ids.USE_K, "n_clicks"),
          State(ids.STATE, "data"), prevent_initial_call=True)
def use_recommended_k(clicks: int | None, state: dict | None):
    """"Use k = …" opens the Segments page with the recommended k."""
    result = _stored(state) if clicks else None
    return _segments_link(state, result.recommended_k if result else None)


@callback(Output(ids.URL, "href", allow_duplicate=True), Input(ids.USE_ALTERNATIVE_K, "n_clicks"),
          State(ids.STATE, "data"), prevent_initial_call=True)
def use_alternative_k(clicks: int | None, state: dict | None):
    """The second "use" button opens the Segments page with the best k ≥ 3."""
    result = _stored(state) if clicks else None
    return _segments_link(state, result.alternative_k if result else None)
