"""Segments page: move k and the feature set, and see why each segment exists.

The PCA map, distributions, profile heatmap, KPI cards, segment cards and the migration view
all follow the view state; a lasso on the map filters the distribution, the heatmap's
"Selection" row and the KPIs; the segment filter (or a click on a card) highlights segments.
Settings that fit in well under a second are fitted at once; slower ones (see
:data:`core.clustering.SLOW_FIT_SECONDS`) run as a background job that can be cancelled, and the
view renders them from the store when it is done. Settings the customers cannot support (fewer
distinct customers than k) are refused with the reason, and the view stays as it was.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from dataclasses import replace

import dash
import dash_bootstrap_components as dbc
import flask
import numpy as np
import pandas as pd
from dash import ALL, Input, Output, Patch, State, callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from core.clustering import ALGORITHMS, K_MAX, K_MIN, SLOW_FIT_SECONDS
from core.errors import C2CError
from core.features import FEATURES, label
from core.metrics import SILHOUETTE_SAMPLE
from core.pipeline import Segmentation, SegmentationConfig, check_segmentable
from core.preprocessing import PRESETS
from core.schema import BEHAVIOUR_COLUMNS, ID_COLUMN
from core.summary import box_stats, kpis, migration, selection_z_scores
from dashapp import ids
from dashapp.components import (
    ALGORITHM_LABELS,
    GRAPH_CONFIG,
    create_fit_message,
    create_kpi_cards,
    create_noise_note,
    create_problem_alert,
    create_segment_card,
    create_stability_badge,
    create_status_note,
    create_unusable_alert,
    noise_text,
)
from dashapp.figures import (
    column_label,
    distribution_figure,
    empty_figure,
    highlight_map,
    migration_sankey,
    profile_heatmap,
    recolour_map,
    segment_map,
    value_prefix,
    value_text,
)
from dashapp.glossary import explained
from dashapp.members_table import create_members_card
from dashapp.state import PCA_COMPONENTS, ViewState, parse_state, segment_numbers
from dashapp.store import get_store, map_key
from dashapp.theme import highlighted_colours

dash.register_page(__name__, path="/segments", name="Segments",
                   title="Segments · Clusters to Campaigns", order=1)

CUSTOM = "custom"
HIDDEN = {"display": "none"}
CONTROLS = ((ids.K_SLIDER, "value"), (ids.FEATURE_PRESET, "value"), (ids.FEATURE_COLUMNS, "value"),
            (ids.ALGORITHM, "value"), (ids.SCALING, "value"), (ids.PCA_SWITCH, "value"),
            (ids.SEED, "value"))
HOVER_VALUES = ("BALANCE", "PURCHASES", "CASH_ADVANCE")
HEATMAP_FEATURES = ("TOTAL_SPENDING", "PURCHASES_FREQUENCY", "ONEOFF_SHARE", "INSTALLMENT_SHARE",
                    "CASH_ADVANCE_SHARE", "CASH_ADVANCE_FREQUENCY", "BALANCE", "UTILISATION",
                    "CREDIT_LIMIT", "PAYMENTS", "PRC_FULL_PAYMENT", "TENURE")
FEATURE_CHOICES = BEHAVIOUR_COLUMNS + tuple(f.name for f in FEATURES)


def _control_values(config: SegmentationConfig) -> tuple:
    """What each of :data:`CONTROLS` shows for ``config``."""
    preset = config.features if isinstance(config.features, str) else CUSTOM
    custom = [] if isinstance(config.features, str) else list(config.features)
    return (config.k, preset, custom, config.algorithm, config.scaling, config.pca is not None,
            config.random_state)


def _controls(view: ViewState) -> dbc.Card:
    """k and the features up front; the model settings folded away unless they were changed."""
    k, preset, custom, algorithm, scaling, pca_on, seed = _control_values(view.config)
    presets = [{"label": name.capitalize(), "value": name} for name in PRESETS]
    tuned = (algorithm, scaling, pca_on, seed) != _control_values(SegmentationConfig())[3:]
    return dbc.Card(dbc.CardBody([
        html.Div([dbc.Label("Number of segments", html_for=ids.K_SLIDER,
                            className="fw-semibold mb-0"),
                  html.Span(f"k = {k}", id=ids.K_VALUE, className="badge text-bg-primary")],
                 className="d-flex justify-content-between align-items-center mb-2"),
        dcc.Slider(id=ids.K_SLIDER, min=K_MIN, max=K_MAX, step=1, value=k,
                   marks={k: str(k) for k in (K_MIN, 5, 10, K_MAX)}, updatemode="mouseup"),
        html.Div(id=ids.K_NOTE, className="small text-muted"),
        dbc.Label("Behaviour features", className="fw-semibold mt-3"),
        dbc.RadioItems(id=ids.FEATURE_PRESET, value=preset,
                       options=presets + [{"label": "Custom…", "value": CUSTOM}]),
        html.Div(id=ids.FEATURE_HELP, className="small text-muted mb-1"),
        dcc.Dropdown(id=ids.FEATURE_COLUMNS, multi=True, value=custom,
                     placeholder="Pick at least two columns",
                     options=[{"label": label(c), "value": c} for c in FEATURE_CHOICES]),
        html.Details([
            html.Summary("Model settings", className="fw-semibold"),
            dbc.Label(explained("Algorithm", "algorithm"), html_for=ids.ALGORITHM,
                      className="fw-semibold mt-2"),
            dbc.Select(id=ids.ALGORITHM, value=algorithm,
                       options=[{"label": ALGORITHM_LABELS[a] + (" (finds its own k)"
                                                                 if a == "hdbscan" else ""),
                                 "value": a} for a in ALGORITHMS]),
            dbc.Label(explained("Scaling", "scaling"), className="fw-semibold mt-3"),
            dbc.RadioItems(id=ids.SCALING, value=scaling, inline=True,
                           options=[{"label": "Standard", "value": "standard"},
                                    {"label": "Robust (median / IQR)", "value": "robust"}]),
            dbc.Switch(id=ids.PCA_SWITCH, value=pca_on, className="mt-2",
                       label=explained(f"PCA first (keep {PCA_COMPONENTS:.0%} of the "
                                       "differences)", "pca")),
            dbc.Label(explained("Random seed", "seed"), html_for=ids.SEED,
                      className="fw-semibold mt-2"),
            dbc.Input(id=ids.SEED, type="number", min=0, step=1, value=seed,
                      debounce=True, size="sm"),
        ], id=ids.MODEL_SETTINGS, open=tuned, className="c2c-more mt-3"),
        html.Div(id=ids.CONFIG_ERROR, className="mt-3"),
    ]), className="c2c-controls")


def _busy_banner() -> html.Div:
    """Shown while a slow fit runs in the background: spinner, what is fitted, and Cancel."""
    return html.Div([
        dbc.Spinner(size="sm", color="primary"),
        html.Div(id=ids.FIT_MESSAGE, className="flex-grow-1"),
        dbc.Button("Cancel", id=ids.FIT_CANCEL, color="secondary", outline=True, size="sm"),
    ], id=ids.FIT_BUSY, role="status", className="c2c-busy mb-2", style=HIDDEN)


def _graph(graph_id: str, title, height: int, **card) -> dbc.Card:
    return dbc.Card([dbc.CardHeader(title, className="fw-semibold"), dbc.CardBody(
        dcc.Loading(dcc.Graph(id=graph_id, config=GRAPH_CONFIG, style={"height": f"{height}px"},
                              figure=empty_figure("Loading…")), delay_show=300))],
        className="h-100", **card)


def layout(**query: str) -> html.Div:
    """Controls on the left; map, distribution, heatmap, migration and cards on the right."""
    view = parse_state(query)
    return html.Div([
        dcc.Store(id=ids.MAP_KEY),
        dcc.Store(id=ids.PREVIOUS_K),
        dcc.Store(id=ids.FIT_REQUEST),
        dcc.Store(id=ids.FIT_DONE),
        dcc.Store(id=ids.FIT_SUPERSEDED),
        dbc.Row([
            dbc.Col(_controls(view), lg=3),
            dbc.Col([
                _busy_banner(),
                html.Div(id=ids.FIT_STATUS),
                dbc.Row([
                    dbc.Col(dcc.Dropdown(id=ids.SEGMENT_FILTER, multi=True,
                                         placeholder="Highlight segments…"), md=6),
                    dbc.Col(html.Div(id=ids.MAP_NOTE, className="small text-muted"), md=6),
                ], className="mb-2 g-2 align-items-center"),
                dcc.Loading(html.Div(id=ids.SEGMENT_KPIS, className="mb-3"), delay_show=300),
                dbc.Row([
                    dbc.Col(_graph(ids.SEGMENT_MAP, html.Div([
                        explained("Segment map — lasso to select", "segment_map"),
                        dbc.Button("Clear selection", id=ids.CLEAR_SELECTION, size="sm",
                                   color="secondary", outline=True,
                                   className="py-0 text-nowrap ms-2"),
                    ], className="d-flex justify-content-between align-items-center"), 440),
                        xl=6),
                    dbc.Col(dbc.Card([
                        dbc.CardHeader(dbc.Row([
                            dbc.Col("Distribution by segment", className="fw-semibold"),
                            dbc.Col(dcc.Dropdown(
                                id=ids.DISTRIBUTION_FEATURE, value="TOTAL_SPENDING",
                                clearable=False,
                                options=[{"label": label(c), "value": c}
                                         for c in FEATURE_CHOICES]), width=7),
                        ], className="align-items-center g-2")),
                        dbc.CardBody(dcc.Graph(id=ids.DISTRIBUTION, config=GRAPH_CONFIG,
                                               style={"height": "440px"},
                                               figure=empty_figure("Loading…"))),
                    ], className="h-100"), xl=6),
                ], className="g-3 mb-3"),
                html.Div(id=ids.HOVER_CARD, className="small mb-3 c2c-hover-card"),
                dbc.Row([
                    dbc.Col(_graph(ids.HEATMAP, explained(
                        "Profiles: how each segment differs from the average customer",
                        "z_score"), 360), xl=12),
                    dbc.Col(_graph(ids.MIGRATION, "Where customers go when k changes", 320,
                                   id=ids.MIGRATION_CARD, style=HIDDEN), xl=12),
                ], className="g-3 mb-3"),
                html.Div(["Click a card to highlight its segment in every chart; click it again "
                          "to undo. ", explained("Stability", "stability")],
                         className="small text-muted mb-2"),
                # the spinner is for new cards only, not while their stability badges fill in
                dcc.Loading(dbc.Row(id=ids.SEGMENT_CARDS, className="g-3"), delay_show=300,
                            target_components={ids.SEGMENT_CARDS: "children"}),
                create_members_card(),
            ], lg=9),
        ], className="g-3"),
    ])


def _requested_view(current: ViewState, k, preset, columns, algorithm, scaling, pca_on,
                    seed) -> ViewState | None:
    """The view the controls ask for; None while "Custom…" has fewer than two columns picked.

    Every value comes from the browser: parse_state checks the settings, and only a preset
    name or a list of column names is taken as the feature set.
    """
    picked = tuple(c for c in columns if isinstance(c, str)) if isinstance(columns, list) else ()
    features = preset if isinstance(preset, str) and preset in PRESETS else picked
    if features == picked and len(set(picked)) < 2:
        return None
    view = parse_state({**current.to_dict(), "k": k, "algorithm": algorithm, "scaling": scaling,
                        "pca": PCA_COMPONENTS if pca_on else None, "seed": seed})
    return replace(view, config=replace(view.config, features=features))


def _unusable(error: C2CError) -> dbc.Alert:
    return create_problem_alert("These settings cannot be used; the segments shown are "
                                "unchanged.", [str(error)])


def _current(state) -> tuple[ViewState, Segmentation]:
    """The view and its segmentation; no update when it cannot be segmented
    (:func:`explain_unusable_view` says why)."""
    try:
        return get_store().current(state)
    except C2CError:
        raise PreventUpdate from None


def explain_unusable_view(state):
    """Why the view itself cannot be segmented (e.g. data just loaded has fewer distinct
    customers than its k), or None; the charts then wait for other settings."""
    store = get_store()
    view = store.active(state)
    try:
        check_segmentable(store.prepared(view.data, view.config), view.config)
    except C2CError as error:
        return create_unusable_alert(error)
    return None


@callback(Output(ids.FEATURE_HELP, "children"), Output(ids.FEATURE_COLUMNS, "style"),
          Input(ids.FEATURE_PRESET, "value"))
def describe_preset(preset: str):
    """Say what a preset contains; show the column picker only for a custom set."""
    if preset == CUSTOM:
        return "Pick at least two columns; the segments shown stay until you have.", {}
    feature_set = PRESETS.get(preset if isinstance(preset, str) else "seed", PRESETS["seed"])
    return feature_set.description, {"display": "none"}


@callback(Output(ids.STATE, "data", allow_duplicate=True), Output(ids.CONFIG_ERROR, "children"),
          Output(ids.FIT_STATUS, "children"), Output(ids.FIT_SUPERSEDED, "data"),
          Output(ids.FIT_REQUEST, "data"), Output(ids.FIT_MESSAGE, "children"),
          *(Input(i, p) for i, p in CONTROLS), State(ids.STATE, "data"),
          State(ids.FIT_BUSY, "style"), prevent_initial_call=True)
def apply_controls(k, preset, columns, algorithm, scaling, pca_on, seed, state, busy):
    """Fit quick settings at once, hand slow ones to :func:`fit_in_background` (any other
    change stops a job running); keep the view and say why when the settings cannot be used."""
    store = get_store()
    current = store.active(state)
    view = _requested_view(current, k, preset, columns, algorithm, scaling, pca_on, seed)
    stop = uuid.uuid4().hex if busy != HIDDEN else no_update
    if view is None:  # "Custom…" without two columns yet: the help text asks for them
        return no_update, None, no_update, stop, no_update, no_update
    if view == current:  # e.g. the controls were put back: nothing to fit
        return no_update, no_update, no_update, stop, no_update, no_update
    try:
        check_segmentable(store.prepared(view.data, view.config), view.config)
        seconds = store.fit_seconds(view.data, view.config)
        if seconds < SLOW_FIT_SECONDS:
            _fit_with_stability(store, view)
            return view.to_dict(), None, None, stop, no_update, no_update
    except C2CError as error:
        return no_update, _unusable(error), None, stop, no_update, no_update
    rows = len(store.prepared(view.data, view.config).frame)
    request = {"ticket": store.issue_ticket(view), "algorithm": view.config.algorithm}
    return (no_update, None, None, no_update, request,
            create_fit_message(view.config.algorithm, rows, seconds))


def _fit_with_stability(store, view: ViewState) -> None:
    """Fit the view and measure its stability (a quarter of a fit's time: re-fits on halves
    with one init) before it is shown, so its cards arrive with their badges instead of a
    further round trip after them."""
    store.segmentation(view.data, view.config)
    with contextlib.suppress(C2CError):  # e.g. too few customers to re-fit halves
        store.stability(view.data, view.config)


def _after_response(work) -> None:
    """Run ``work`` once this response has been sent, when the worker would be idle (outside
    a request, e.g. a callback called as a function, there is no response to wait for)."""
    if not flask.has_request_context():
        return

    def guarded() -> None:
        try:
            work()
        except Exception:  # nothing waits for it: log, never break the finished response
            logging.getLogger(__name__).exception("work after the response failed")

    @flask.after_this_request
    def schedule(response: flask.Response) -> flask.Response:
        response.call_on_close(guarded)
        return response


@callback(Output(ids.FIT_DONE, "data"),
          Output(ids.CONFIG_ERROR, "children", allow_duplicate=True),
          Input(ids.FIT_REQUEST, "data"), State(ids.NONCE, "data"),
          background=True, prevent_initial_call=True, interval=250,
          running=[(Output(ids.FIT_BUSY, "style"), {}, HIDDEN)],
          cancel=[Input(ids.FIT_CANCEL, "n_clicks"), Input(ids.FIT_SUPERSEDED, "data")])
def fit_in_background(request: dict | None, _nonce: str):
    """Background job: fit the settings of the request's ticket into the store for
    :func:`show_fitted`. Its stability is measured after the view is shown (by
    :func:`show_stability`, for the cards' badges): on a large table the re-fits take a
    quarter of the fit's time, which the user would otherwise wait for.

    Cancel, or other settings picked meanwhile, stop it; newer slow settings replace it.
    ``_nonce`` (one per page load) keeps two users' identical requests apart: Dash 4.4.1 keys
    background results by their inputs only.
    """
    store = get_store()
    view = store.redeem_ticket(request.get("ticket") if isinstance(request, dict) else None)
    if view is None:  # not a request this server made: nothing to fit
        return no_update, no_update
    try:
        store.segmentation(view.data, view.config)
    except C2CError as error:
        return no_update, _unusable(error)
    return view.to_dict(), None


@callback(Output(ids.STATE, "data", allow_duplicate=True), Input(ids.FIT_DONE, "data"),
          *(State(i, p) for i, p in CONTROLS), State(ids.STATE, "data"),
          prevent_initial_call=True)
def show_fitted(done, k, preset, columns, algorithm, scaling, pca_on, seed, state):
    """Show what the background job fitted, unless the controls or the view have moved on
    while it finished (a job stopped too late, or the page followed a link)."""
    store = get_store()
    current = store.active(state)
    fitted = store.active(done)
    wanted = _requested_view(current, k, preset, columns, algorithm, scaling, pca_on, seed)
    return fitted.to_dict() if fitted == wanted and fitted != current else no_update


@callback(Output(ids.FIT_STATUS, "children", allow_duplicate=True),
          *(Output(i, p) for i, p in CONTROLS),
          Input(ids.FIT_CANCEL, "n_clicks"), State(ids.FIT_REQUEST, "data"),
          State(ids.STATE, "data"), prevent_initial_call=True)
def fit_cancelled(clicks: int | None, request: dict | None, state: dict | None):
    """After Cancel the controls show the settings of the view again, and say it was cancelled."""
    if not clicks:
        return no_update
    algorithm = request.get("algorithm") if isinstance(request, dict) else None
    cancelled = ALGORITHM_LABELS.get(algorithm, "the segments")
    return (create_status_note(f"Fitting {cancelled} was cancelled; the segments and settings "
                               "shown are the previous ones."),
            *_control_values(get_store().active(state).config))


VIEWS = {"map": Output(ids.SEGMENT_MAP, "figure"), "map_key": Output(ids.MAP_KEY, "data"),
         "map_note": Output(ids.MAP_NOTE, "children"),
         "k_fixed": Output(ids.K_SLIDER, "disabled"), "k_note": Output(ids.K_NOTE, "children"),
         "status": Output(ids.FIT_STATUS, "children", allow_duplicate=True),
         "options": Output(ids.SEGMENT_FILTER, "options"),
         "highlight": Output(ids.SEGMENT_FILTER, "value"),
         "kpis": Output(ids.SEGMENT_KPIS, "children"),
         "distribution": Output(ids.DISTRIBUTION, "figure"),
         "heatmap": Output(ids.HEATMAP, "figure"), "cards": Output(ids.SEGMENT_CARDS, "children"),
         "history": Output(ids.PREVIOUS_K, "data"), "migration": Output(ids.MIGRATION, "figure"),
         "migration_card": Output(ids.MIGRATION_CARD, "style")}


@callback(*VIEWS.values(), Input(ids.STATE, "data"), Input(ids.SEGMENT_FILTER, "value"),
          Input(ids.SELECTION, "data"), Input(ids.DISTRIBUTION_FEATURE, "value"),
          State(ids.MAP_KEY, "data"), State(ids.PREVIOUS_K, "data"),
          prevent_initial_call="initial_duplicate")
def render_segments(state, highlight, selection, feature, drawn_key, history):
    """Every view of the page in one response, so a k change is one round trip after the
    controls' (no view waits for another's output). A highlight, a lasso or another feature
    redraws only the views that show it; the store is read once."""
    fired = set(ctx.triggered_prop_ids.values())  # inputs that changed together, or none
    out = dict.fromkeys(VIEWS, no_update)
    shown = _pair(history)[1]  # the view last drawn here; None on a page just opened
    new_view = ids.STATE in fired or drawn_key is None or \
        shown != get_store().active(state).to_dict()
    unusable = explain_unusable_view(state) if new_view else None
    if unusable is not None:
        out["status"] = unusable
        return tuple(out.values())
    view, result = _current(state)
    kept = segment_numbers(highlight, result.k)
    highlighted = ids.SEGMENT_FILTER in fired
    if new_view or highlighted or ids.SELECTION in fired:
        out["heatmap"] = draw_heatmap(state, selection, kept)
        if not _same_kpis(view, fired, drawn_key, highlight, selection):
            out["kpis"] = show_kpis(state, selection, kept)
    if new_view:
        out.update(zip(("map", "map_key", "map_note", "k_fixed", "k_note"),
                       draw_map(state, drawn_key, kept), strict=True))
        out["status"] = None
        out["options"] = [{"label": f"{p.segment} · {p.name}", "value": p.segment}
                          for p in result.profiles]
        out["highlight"] = no_update if kept == (highlight or []) else kept
        out["history"] = remember_previous(state, history)
        sankey = draw_migration(out["history"])
        out["migration"], out["migration_card"] = (sankey, {}) if sankey else (no_update,
                                                                                HIDDEN)
        # after this, the last response of a k change: the next k is fitted while the user
        # looks, without slowing this change's views
        _after_response(lambda: get_store().prefetch_neighbours(view))
    elif highlighted:
        out["map"] = highlight_map(kept)
    if new_view or highlighted:
        out["cards"] = draw_cards(state, kept)
    out["distribution"] = draw_distribution(state, feature, selection, kept)
    return tuple(out.values())


def _same_kpis(view: ViewState, fired: set, drawn_key, highlight, selection) -> bool:
    """True when only k changed and the KPIs describe customers that do not depend on it: the
    lasso selection on the same map, or everyone (no segment was highlighted)."""
    return fired == {ids.STATE} and drawn_key == map_key(view) and (
        not highlight or get_store().selection_mask(view, selection) is not None)


def draw_map(state, drawn_key, highlight=()):
    """Full map when the points change (data, features), else only recolour it (keeping the
    highlight); the map note and the k slider say how many segments there are (and when
    hdbscan chose that itself), how many customers a large table's map shows, and the note
    names any feature that is the same for every customer."""
    store = get_store()
    view, result = _current(state)
    projection = store.projection(view.data, view.config)
    names = [p.name for p in result.profiles]
    key = map_key(view)
    noise = result.clusters.n_noise
    more = [*([noise_text(noise, len(result.labels))] if noise else []),
            *([f"showing a random {len(projection.shown):,} of {len(result.labels):,} "
               "customers (a lasso selects among all of them)"]
              if projection.shown is not None else []),
            *result.prepared.warnings]
    note = [f"{result.k} segments ({ALGORITHM_LABELS[result.clusters.algorithm]}) · ",
            explained(_silhouette_text(result), "silhouette"), *(f" · {m}" for m in more)]
    own_k = result.clusters.algorithm == "hdbscan"
    k_note = f"HDBSCAN chooses k itself: found {result.k}" if own_k else None
    if key == drawn_key:
        return (recolour_map(projection.drawn(result.labels), names, highlight_map(highlight)),
                no_update, note, own_k, k_note)
    figure = highlight_map(highlight, segment_map(projection, result.labels, names,
                                                  revision=view.data))
    return figure, key, note, own_k, k_note


def _silhouette_text(result: Segmentation) -> str:
    """``silhouette 0.31``, and the sample's size when it was measured on a sample."""
    scored = min(len(result.labels), SILHOUETTE_SAMPLE)
    value = f"silhouette {result.metrics['silhouette']:.2f}"
    return value if scored == len(result.labels) else f"{value} ({scored:,}-customer sample)"


# A click on a card toggles its segment in the highlight, in the browser (no round trip);
# new cards (n_clicks 0) change nothing.
dash.clientside_callback(  # the k shown follows the handle while it is dragged
    """function (k) { return k == null ? dash_clientside.no_update : "k = " + k; }""",
    Output(ids.K_VALUE, "children"), Input(ids.K_SLIDER, "drag_value"))

dash.clientside_callback(
    """function (clicks, highlight) {
        const fired = dash_clientside.callback_context.triggered.filter(t => t.value);
        if (!fired.length) { return dash_clientside.no_update; }
        const segment = JSON.parse(fired[0].prop_id.split(".")[0]).segment;
        const kept = (highlight || []).filter(s => s !== segment);
        return kept.length < (highlight || []).length ? kept : kept.concat([segment]);
    }""",
    Output(ids.SEGMENT_FILTER, "value", allow_duplicate=True),
    Input({"type": ids.SEGMENT_CARD, "segment": ALL}, "n_clicks"),
    State(ids.SEGMENT_FILTER, "value"),
    prevent_initial_call=True,
)


# Only the outline of a lasso or box travels to the server, with the map it was drawn on.
dash.clientside_callback(
    """function (selected, mapKey) {
        if (!selected) { return null; }
        if (selected.lassoPoints) { return {lasso: selected.lassoPoints, map: mapKey}; }
        if (selected.range) { return {box: selected.range, map: mapKey}; }
        return null;
    }""",
    Output(ids.SELECTION, "data"),
    Input(ids.SEGMENT_MAP, "selectedData"),
    State(ids.MAP_KEY, "data"),
)


def _scope(state, selection, highlight):
    """The segmentation, and which customers the KPIs and selection views describe."""
    view, result = _current(state)
    mask = get_store().selection_mask(view, selection)
    return result, mask, segment_numbers(highlight, result.k)


def show_kpis(state, selection, highlight):
    """KPIs of the lasso selection, else of the highlighted segments, else of everyone; the
    caption says which (and the info mark gives the rule)."""
    result, mask, highlight = _scope(state, selection, highlight)
    if mask is not None:
        scope = (f"Selected on the map: {int(mask.sum()):,} customers (clear the selection to "
                 "see the highlighted segments)" if highlight else
                 f"Selected on the map: {int(mask.sum()):,} customers")
    elif highlight:
        mask = np.isin(result.labels, highlight)
        scope = (f"Highlighted segment{'s' * (len(highlight) > 1)} "
                 f"{', '.join(map(str, sorted(highlight)))}: {int(mask.sum()):,} customers")
    else:
        scope = "All customers"
    return create_kpi_cards(kpis(result.prepared.frame, mask), explained(scope, "kpi_scope"))


@callback(Output(ids.SELECTION, "data", allow_duplicate=True),
          Output(ids.SEGMENT_MAP, "figure", allow_duplicate=True),
          Input(ids.CLEAR_SELECTION, "n_clicks"), prevent_initial_call=True)
def clear_selection(clicks):
    """Drop the lasso or box: the map shows no selection, the views describe everyone again."""
    if not clicks:
        raise PreventUpdate
    patch = Patch()
    patch["layout"]["selections"] = []
    patch["data"][0]["selectedpoints"] = None
    return None, patch


def draw_distribution(state, feature, selection, highlight):
    """Box plot of a feature per segment, plus the lasso selection."""
    result, mask, highlight = _scope(state, selection, highlight)
    feature = feature if feature in FEATURE_CHOICES else "TOTAL_SPENDING"
    stats = box_stats(result.prepared.frame[feature].to_numpy(), result.labels, mask)
    return distribution_figure(stats, column_label(feature, unit=True, before_unit="<br>"),
                               [p.name for p in result.profiles], highlighted_colours(highlight),
                               prefix=value_prefix(feature))


def draw_heatmap(state, selection, highlight):
    """Segment z-scores, with the lasso selection as the top row."""
    result, mask, highlight = _scope(state, selection, highlight)
    frame = result.prepared.frame
    row = (pd.DataFrame({"z_score": selection_z_scores(frame, mask, HEATMAP_FEATURES),
                         "mean": frame.loc[mask, list(HEATMAP_FEATURES)].mean()})
           if mask is not None else None)
    return profile_heatmap(result.profiles, HEATMAP_FEATURES, row, highlight)


def draw_cards(state, highlight):
    """One card per segment, after a note on the customers that fit none (hdbscan's noise);
    stability is shown when already measured, else filled in by :func:`show_stability`."""
    view, result = _current(state)
    highlight = segment_numbers(highlight, result.k)
    noise = result.clusters.n_noise
    note = [dbc.Col(create_noise_note(noise, len(result.labels)), width=12)] if noise else []
    stability = get_store().stability_if_ready(view.data, view.config)
    badges = {p.segment: create_stability_badge(stability.verdict(p.segment),
                                                stability.jaccard[p.segment])
              for p in result.profiles} if stability is not None else {}
    return note + [create_segment_card(p, p.segment in highlight, badges.get(p.segment))
                   for p in result.profiles]


@callback(Output({"type": ids.STABILITY, "segment": ALL}, "children"),
          Input({"type": ids.STABILITY, "segment": ALL}, "id"), State(ids.STATE, "data"))
def show_stability(placeholders, state):
    """Fill each card's stability badge once the (slower) re-fits are done."""
    if not placeholders:
        return []
    store = get_store()
    view = store.active(state)
    try:
        stability = store.stability(view.data, view.config)
    except C2CError:  # e.g. too few customers to re-fit halves of them
        return [html.Span("stability not measured (too few customers)",
                          className="text-muted small")] * len(placeholders)
    return [create_stability_badge(stability.verdict(o["id"]["segment"]),
                                   stability.jaccard[o["id"]["segment"]])
            for o in ctx.outputs_list]


def remember_previous(state, history):
    """The previous and the current settings, kept in the browser for the migration view."""
    current = get_store().active(state).to_dict()
    before, now = _pair(history)
    return [before, now] if now == current else [now, current]


def _pair(history) -> list:
    """The (previous, current) settings kept in the browser; anything else is no history."""
    return list(history) if isinstance(history, list) and len(history) == 2 else [None, None]


def draw_migration(history):
    """Sankey from the previous k to the current one (same data and features only); None when
    there is no previous k to compare with (the card stays hidden)."""
    store = get_store()
    before, now = (store.active(s) if isinstance(s, dict) else None for s in _pair(history))
    if before is None or now is None or replace(before, config=replace(before.config, k=0)) \
            != replace(now, config=replace(now.config, k=0)):
        return None
    try:
        old, new = (store.segmentation(view.data, view.config) for view in (before, now))
    except C2CError:  # one of them could not be segmented
        return None
    return migration_sankey(migration(old.labels, new.labels),
                            [p.name for p in old.profiles], [p.name for p in new.profiles])


@callback(Output(ids.HOVER_CARD, "children"), Input(ids.SEGMENT_MAP, "hoverData"),
          State(ids.STATE, "data"))
def describe_hovered(hover, state):
    """The hovered customer in words: id, segment name and key values."""
    points = hover.get("points") if isinstance(hover, dict) else None
    point = points[0] if isinstance(points, list) and points else None
    view, result = _current(state)
    rows = get_store().projection(view.data, view.config).drawn(np.arange(len(result.labels)))
    index = point.get("pointIndex") if isinstance(point, dict) else None
    if (point is None or point.get("curveNumber") != 0 or not isinstance(index, int)
            or isinstance(index, bool) or not 0 <= index < len(rows)):
        return html.Span("Hover over a customer on the map to see who it is.",
                         className="text-muted")
    index = int(rows[index])
    profile = result.profiles[result.labels[index] - 1]
    row = result.prepared.frame.iloc[index]
    values = " · ".join(f"{label(c)} {value_text(c, row[c])}" for c in HOVER_VALUES)
    return [html.Strong(f"Customer {row[ID_COLUMN]}"),
            f" — segment {profile.segment}, {profile.name} · {values}"]
