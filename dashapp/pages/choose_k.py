"""Choose k: a background sweep over k with progress and cancel, and "use this k"."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from core.clustering import K_MAX, K_MIN
from core.sweep import SweepResult, sweep_k
from dashapp import ids
from dashapp.figures import empty_figure, sweep_figure
from dashapp.state import parse_state
from dashapp.store import get_store

dash.register_page(__name__, path="/choose-k", name="Choose k",
                   title="Choose k · Clusters to Campaigns", order=2)


HIDDEN = {"display": "none"}


def layout(**_query: str) -> html.Div:
    """Range picker, run / cancel, progress bar, the four metric charts and the verdict."""
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
                     className="mb-3 c2c-progress"),
        html.Div([html.Div(id=ids.SWEEP_SUMMARY),
                  dbc.Button("Use the recommended k", id=ids.USE_K, color="success", size="sm",
                             style=HIDDEN, className="mt-2")],
                 className="c2c-verdict mb-2"),
        dcc.Graph(id=ids.SWEEP_FIGURE, figure=empty_figure("Run the sweep to compare k values."),
                  config={"displaylogo": False}, style={"height": "560px"}),
    ])


def _summary(result: SweepResult) -> tuple[list, str, dict]:
    """The verdict text, and the "use" button's label and (visible) style."""
    sample = (f" Silhouette computed on a seeded sample of {result.silhouette_sample_size:,} "
              "customers." if result.silhouette_sample_size else "")
    why = result.reason.removeprefix(f"k = {result.recommended_k}: ")
    text = [html.Strong(f"Recommended: k = {result.recommended_k}. "), why[:1].upper() + why[1:],
            html.Span(sample, className="small text-muted")]
    return text, f"Use k = {result.recommended_k} on the Segments page", {}


SUMMARY_OUTPUTS = (Output(ids.SWEEP_SUMMARY, "children"), Output(ids.USE_K, "children"),
                   Output(ids.USE_K, "style"))


@callback(Output(ids.SWEEP_FIGURE, "figure"), *SUMMARY_OUTPUTS, Input(ids.STATE, "data"))
def show_stored_sweep(state: dict | None):
    """Coming back to the page shows the last finished sweep for the same data and features."""
    view = parse_state(state)
    result = get_store().sweep(view.data, view.config) if view.data else None
    if result is None:
        return no_update, None, no_update, HIDDEN
    return sweep_figure(result), *_summary(result)


@callback(Output(ids.SWEEP_FIGURE, "figure", allow_duplicate=True),
          *(Output(o.component_id, o.component_property, allow_duplicate=True)
            for o in SUMMARY_OUTPUTS),
          Input(ids.SWEEP_RUN, "n_clicks"),
          State(ids.SWEEP_RANGE, "value"), State(ids.STATE, "data"), State(ids.NONCE, "data"),
          background=True, prevent_initial_call=True, interval=250,
          running=[(Output(ids.SWEEP_RUN, "disabled"), True, False),
                   (Output(ids.SWEEP_CANCEL, "disabled"), False, True)],
          cancel=[Input(ids.SWEEP_CANCEL, "n_clicks")],
          progress=[Output(ids.SWEEP_PROGRESS, "value"), Output(ids.SWEEP_PROGRESS, "max"),
                    Output(ids.SWEEP_PROGRESS, "label")])
def run_sweep(set_progress, _clicks: int, k_range: list[int], state: dict | None,
              _nonce: str):
    """Background job: fit and score every k, reporting progress after each one.

    ``_nonce`` (one per page load) keeps two users' identical sweeps apart: Dash 4.4.1 keys
    background results by their inputs only.
    """
    view = parse_state(state)
    low, high = sorted(int(k) for k in k_range)
    ks = range(max(low, K_MIN), min(high, K_MAX) + 1)
    store = get_store()
    set_progress((0, len(ks), "starting…"))
    result = sweep_k(store.prepared(view.data, view.config).matrix, ks,
                     algorithm=view.config.algorithm, random_state=view.config.random_state,
                     n_init=view.config.n_init,
                     progress=lambda done, total: set_progress((done, total, f"{done}/{total}")))
    store.keep_sweep(view.data, view.config, result)
    return sweep_figure(result), *_summary(result)


@callback(Output(ids.URL, "href"), Input(ids.USE_K, "n_clicks"),
          State(ids.STATE, "data"), prevent_initial_call=True)
def use_recommended_k(clicks: int | None, state: dict | None):
    """"Use k = …" opens the Segments page with that k."""
    view = parse_state(state)
    result = get_store().sweep(view.data, view.config) if clicks and view.data else None
    if result is None:
        return no_update
    return "/segments" + parse_state({**view.to_dict(), "k": result.recommended_k}).query()
