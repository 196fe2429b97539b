"""Segments page: move k and the feature set, and see why each segment exists.

The PCA map, distributions, profile heatmap, KPI cards, segment cards and the migration view
all follow the view state; a lasso on the map filters the distribution, the heatmap's
"Selection" row and the KPIs; the segment filter (or a click on a card) highlights segments.
"""

from __future__ import annotations

from dataclasses import replace

import dash
import dash_bootstrap_components as dbc
import numpy as np
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from core.clustering import ALGORITHMS, K_MAX, K_MIN
from core.errors import C2CError
from core.features import FEATURES, label
from core.preprocessing import PRESETS
from core.schema import BEHAVIOUR_COLUMNS, ID_COLUMN
from core.summary import box_stats, kpis, migration, selection_z_scores
from dashapp import ids
from dashapp.components import (
    ALGORITHM_LABELS,
    create_kpi_cards,
    create_problem_alert,
    create_segment_card,
    create_stability_badge,
)
from dashapp.figures import (
    distribution_figure,
    empty_figure,
    highlight_map,
    migration_sankey,
    profile_heatmap,
    recolour_map,
    segment_map,
)
from dashapp.state import PCA_COMPONENTS, ViewState, parse_state, segment_numbers
from dashapp.store import get_store, map_key
from dashapp.theme import MAX_SEGMENTS, highlighted_colours

dash.register_page(__name__, path="/segments", name="Segments",
                   title="Segments · Clusters to Campaigns", order=1)

CUSTOM = "custom"
HOVER_VALUES = ("BALANCE", "PURCHASES", "CASH_ADVANCE")
HEATMAP_FEATURES = ("TOTAL_SPENDING", "PURCHASES_FREQUENCY", "ONEOFF_SHARE", "INSTALLMENT_SHARE",
                    "CASH_ADVANCE_SHARE", "CASH_ADVANCE_FREQUENCY", "BALANCE", "UTILISATION",
                    "CREDIT_LIMIT", "PAYMENTS", "PRC_FULL_PAYMENT", "TENURE")
FEATURE_CHOICES = BEHAVIOUR_COLUMNS + tuple(f.name for f in FEATURES)
GRAPH_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["toImage"]}


def _controls(view: ViewState) -> dbc.Card:
    config = view.config
    preset = config.features if isinstance(config.features, str) else CUSTOM
    custom = [] if isinstance(config.features, str) else list(config.features)
    presets = [{"label": name.capitalize(), "value": name} for name in PRESETS]
    return dbc.Card(dbc.CardBody([
        dbc.Label("Number of segments (k)", html_for=ids.K_SLIDER, className="fw-semibold"),
        dcc.Slider(id=ids.K_SLIDER, min=K_MIN, max=K_MAX, step=1, value=config.k,
                   marks={k: str(k) for k in range(K_MIN, K_MAX + 1)}, updatemode="mouseup"),
        dbc.Label("Behaviour features", className="fw-semibold mt-3"),
        dbc.RadioItems(id=ids.FEATURE_PRESET, value=preset,
                       options=presets + [{"label": "Custom…", "value": CUSTOM}]),
        html.Div(id=ids.FEATURE_HELP, className="small text-muted mb-1"),
        dcc.Dropdown(id=ids.FEATURE_COLUMNS, multi=True, value=custom,
                     placeholder="Pick at least two columns",
                     options=[{"label": label(c), "value": c} for c in FEATURE_CHOICES]),
        dbc.Label("Algorithm", html_for=ids.ALGORITHM, className="fw-semibold mt-3"),
        dbc.Select(id=ids.ALGORITHM, value=config.algorithm,
                   options=[{"label": ALGORITHM_LABELS[a] + (" (finds its own k)"
                                                             if a == "hdbscan" else ""),
                             "value": a} for a in ALGORITHMS]),
        dbc.Label("Scaling", className="fw-semibold mt-3"),
        dbc.RadioItems(id=ids.SCALING, value=config.scaling, inline=True,
                       options=[{"label": "Standard", "value": "standard"},
                                {"label": "Robust (median / IQR)", "value": "robust"}]),
        dbc.Switch(id=ids.PCA_SWITCH, value=config.pca is not None, className="mt-2",
                   label=f"PCA first (keep {PCA_COMPONENTS:.0%} of variance)"),
        dbc.Label("Random seed", html_for=ids.SEED, className="fw-semibold mt-2"),
        dbc.Input(id=ids.SEED, type="number", min=0, step=1, value=config.random_state,
                  debounce=True, size="sm"),
        html.Div(id=ids.CONFIG_ERROR, className="mt-3"),
    ]), className="c2c-controls")


def _graph(graph_id: str, title: str, height: int, **extra) -> dbc.Card:
    return dbc.Card([dbc.CardHeader(title, className="fw-semibold"), dbc.CardBody(
        dcc.Loading(dcc.Graph(id=graph_id, config=GRAPH_CONFIG, style={"height": f"{height}px"},
                              figure=empty_figure("Loading…")), delay_show=300), **extra)],
        className="h-100")


def layout(**query: str) -> html.Div:
    """Controls on the left; map, distribution, heatmap, migration and cards on the right."""
    view = parse_state(query)
    return html.Div([
        dcc.Store(id=ids.MAP_KEY),
        dcc.Store(id=ids.PREVIOUS_K),
        dbc.Row([
            dbc.Col(_controls(view), lg=3),
            dbc.Col([
                dbc.Row([
                    dbc.Col(dcc.Dropdown(id=ids.SEGMENT_FILTER, multi=True,
                                         placeholder="Highlight segments…"), md=6),
                    dbc.Col(html.Div(id=ids.MAP_NOTE, className="small text-muted"), md=6),
                ], className="mb-2 g-2 align-items-center"),
                dcc.Loading(html.Div(id=ids.SEGMENT_KPIS, className="mb-3"), delay_show=300),
                dbc.Row([
                    dbc.Col(_graph(ids.SEGMENT_MAP, "Segment map (PCA) — lasso to select",
                                   440), xl=7),
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
                    ], className="h-100"), xl=5),
                ], className="g-3 mb-3"),
                html.Div(id=ids.HOVER_CARD, className="small mb-3 c2c-hover-card"),
                dbc.Row([
                    dbc.Col(_graph(ids.HEATMAP, "Profiles: how each segment differs from the "
                                   "average customer", 360), xl=12),
                    dbc.Col(_graph(ids.MIGRATION, "Where customers go when k changes", 320),
                            xl=12),
                ], className="g-3 mb-3"),
                dcc.Loading(dbc.Row(id=ids.SEGMENT_CARDS, className="g-3"), delay_show=300),
            ], lg=9),
        ], className="g-3"),
    ])


def _custom_features(preset: str, columns: list[str] | None) -> str | tuple[str, ...]:
    return preset if preset != CUSTOM else tuple(columns or ())


@callback(Output(ids.FEATURE_HELP, "children"), Output(ids.FEATURE_COLUMNS, "style"),
          Input(ids.FEATURE_PRESET, "value"))
def describe_preset(preset: str):
    """Say what a preset contains; show the column picker only for a custom set."""
    if preset == CUSTOM:
        return "Choose the columns to segment on.", {}
    feature_set = PRESETS.get(preset, PRESETS["seed"])
    return feature_set.description, {"display": "none"}


@callback(Output(ids.STATE, "data", allow_duplicate=True), Output(ids.CONFIG_ERROR, "children"),
          Input(ids.K_SLIDER, "value"), Input(ids.FEATURE_PRESET, "value"),
          Input(ids.FEATURE_COLUMNS, "value"), Input(ids.ALGORITHM, "value"),
          Input(ids.SCALING, "value"), Input(ids.PCA_SWITCH, "value"), Input(ids.SEED, "value"),
          State(ids.STATE, "data"), prevent_initial_call=True)
def apply_controls(k, preset, columns, algorithm, scaling, pca_on, seed, state):
    """Validate and fit the new settings; on a problem keep the current view and say why."""
    current = get_store().active(state)
    view = parse_state({**current.to_dict(), "k": k, "algorithm": algorithm,
                        "scaling": scaling, "pca": PCA_COMPONENTS if pca_on else None,
                        "seed": seed})
    view = replace(view, config=replace(view.config,
                                        features=_custom_features(preset, columns)))
    if view == current:  # the page was just inserted: nothing changed
        return no_update, no_update
    try:
        get_store().segmentation(view.data, view.config)
    except C2CError as error:
        return no_update, create_problem_alert("These settings cannot be used; the segments "
                                               "shown are unchanged.", [str(error)])
    return view.to_dict(), None


@callback(Output(ids.SEGMENT_MAP, "figure"), Output(ids.MAP_KEY, "data"),
          Output(ids.MAP_NOTE, "children"),
          Input(ids.STATE, "data"), State(ids.MAP_KEY, "data"))
def draw_map(state, drawn_key):
    """Full map when the points change (data, features); otherwise only recolour it."""
    store = get_store()
    view, result = store.current(state)
    names = [p.name for p in result.profiles]
    key = map_key(view)
    noise = result.clusters.n_noise
    note = (f"{result.k} segments · silhouette {result.metrics['silhouette']:.2f} "
            f"({ALGORITHM_LABELS[result.clusters.algorithm]})"
            + (f" · {noise:,} customers fitted no cluster and joined the nearest segment"
               if noise else ""))
    if key == drawn_key:
        return recolour_map(result.labels, names), no_update, note
    figure = segment_map(store.projection(view.data, view.config), result.labels, names,
                         revision=view.data)
    return figure, key, note


@callback(Output(ids.SEGMENT_MAP, "figure", allow_duplicate=True),
          Input(ids.SEGMENT_FILTER, "value"), Input(ids.MAP_KEY, "data"),
          prevent_initial_call=True)
def highlight_segments_on_map(highlight, _drawn_key):
    """Grey out the segments not highlighted."""
    return highlight_map(segment_numbers(highlight, MAX_SEGMENTS))


@callback(Output(ids.SEGMENT_FILTER, "options"), Output(ids.SEGMENT_FILTER, "value"),
          Input(ids.STATE, "data"), Input({"type": ids.SEGMENT_CARD, "segment": ALL}, "n_clicks"),
          State(ids.SEGMENT_FILTER, "value"))
def segment_filter(state, _clicks, highlight):
    """Options follow the segmentation; clicking a card toggles that segment."""
    _, result = get_store().current(state)
    kept = segment_numbers(highlight, result.k)
    clicked = ctx.triggered_id
    if isinstance(clicked, dict) and ctx.triggered[0]["value"]:
        segment = clicked["segment"]
        kept = [s for s in kept if s != segment] if segment in kept else kept + [segment]
    options = [{"label": f"{p.segment} · {p.name}", "value": p.segment} for p in result.profiles]
    return options, no_update if kept == (highlight or []) else kept


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
    store = get_store()
    view, result = store.current(state)
    mask = store.selection_mask(view, selection)
    return result, mask, segment_numbers(highlight, result.k)


@callback(Output(ids.SEGMENT_KPIS, "children"), Input(ids.STATE, "data"),
          Input(ids.SELECTION, "data"), Input(ids.SEGMENT_FILTER, "value"))
def show_kpis(state, selection, highlight):
    """KPIs of the lasso selection, else of the highlighted segments, else of everyone."""
    result, mask, highlight = _scope(state, selection, highlight)
    if mask is not None:
        return create_kpi_cards(kpis(result.prepared.frame, mask),
                                f"Selected on the map: {int(mask.sum()):,} customers")
    if highlight:
        chosen = np.isin(result.labels, highlight)
        return create_kpi_cards(kpis(result.prepared.frame, chosen),
                                "Highlighted segments " + ", ".join(map(str, sorted(highlight))))
    return create_kpi_cards(kpis(result.prepared.frame), "All customers")


@callback(Output(ids.DISTRIBUTION, "figure"), Input(ids.STATE, "data"),
          Input(ids.DISTRIBUTION_FEATURE, "value"), Input(ids.SELECTION, "data"),
          Input(ids.SEGMENT_FILTER, "value"))
def draw_distribution(state, feature, selection, highlight):
    """Box plot of a feature per segment, plus the lasso selection."""
    result, mask, highlight = _scope(state, selection, highlight)
    feature = feature if feature in FEATURE_CHOICES else "TOTAL_SPENDING"
    stats = box_stats(result.prepared.frame[feature].to_numpy(), result.labels, mask)
    return distribution_figure(stats, label(feature), [p.name for p in result.profiles],
                               highlighted_colours(highlight))


@callback(Output(ids.HEATMAP, "figure"), Input(ids.STATE, "data"),
          Input(ids.SELECTION, "data"), Input(ids.SEGMENT_FILTER, "value"))
def draw_heatmap(state, selection, highlight):
    """Segment z-scores, with the lasso selection as the top row."""
    result, mask, highlight = _scope(state, selection, highlight)
    row = (selection_z_scores(result.prepared.frame, mask, HEATMAP_FEATURES)
           if mask is not None else None)
    return profile_heatmap(result.profiles, HEATMAP_FEATURES, row, highlight)


@callback(Output(ids.SEGMENT_CARDS, "children"), Input(ids.STATE, "data"),
          Input(ids.SEGMENT_FILTER, "value"))
def draw_cards(state, highlight):
    """One card per segment; stability is filled in by :func:`show_stability`."""
    _, result = get_store().current(state)
    highlight = segment_numbers(highlight, result.k)
    return [dbc.Col(create_segment_card(p, p.segment in highlight), md=6, xxl=4)
            for p in result.profiles]


@callback(Output({"type": ids.STABILITY, "segment": ALL}, "children"),
          Input({"type": ids.STABILITY, "segment": ALL}, "id"), State(ids.STATE, "data"))
def show_stability(placeholders, state):
    """Fill each card's stability badge once the (slower) re-fits are done."""
    if not placeholders:
        return []
    store = get_store()
    view = store.active(state)
    stability = store.stability(view.data, view.config)
    return [create_stability_badge(stability.verdict(o["id"]["segment"]),
                                   stability.jaccard[o["id"]["segment"]])
            for o in ctx.outputs_list]


@callback(Output(ids.PREVIOUS_K, "data"), Input(ids.STATE, "data"),
          State(ids.PREVIOUS_K, "data"))
def remember_previous(state, history):
    """Keep the previous and the current settings, for the migration view."""
    current = get_store().active(state).to_dict()
    history = history or [None, None]
    return history if history[1] == current else [history[1], current]


@callback(Output(ids.MIGRATION, "figure"), Input(ids.PREVIOUS_K, "data"))
def draw_migration(history):
    """Sankey from the previous k to the current one (same data and features only)."""
    before, now = (history or [None, None])
    if before is None or {**before, "k": 0} != {**now, "k": 0}:
        return empty_figure("Move k to see how customers move between segments.")
    store = get_store()
    old, new = (store.segmentation(parse_state(s).data, parse_state(s).config)
                for s in (before, now))
    return migration_sankey(migration(old.labels, new.labels),
                            [p.name for p in old.profiles], [p.name for p in new.profiles])


@callback(Output(ids.HOVER_CARD, "children"), Input(ids.SEGMENT_MAP, "hoverData"),
          State(ids.STATE, "data"))
def describe_hovered(hover, state):
    """The hovered customer in words: id, segment name and key values."""
    points = (hover or {}).get("points") or []
    if not points or points[0].get("curveNumber") != 0:
        return html.Span("Hover over a customer on the map to see who it is.",
                         className="text-muted")
    _, result = get_store().current(state)
    index = int(points[0]["pointIndex"])
    profile = result.profiles[result.labels[index] - 1]
    row = result.prepared.frame.iloc[index]
    values = " · ".join(f"{label(c)} {row[c]:,.0f}" for c in HOVER_VALUES)
    return [html.Strong(f"Customer {row[ID_COLUMN]}"),
            f" — segment {profile.segment}, {profile.name} · {values}"]
