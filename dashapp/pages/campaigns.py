"""Campaigns page: a plan per segment (tab), the portfolio across segments, member-list exports
and the standalone report."""

from __future__ import annotations

from datetime import datetime

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, dcc, html, no_update
from dash.exceptions import PreventUpdate

from core.campaign import GROUP_RULE, allocate, project
from core.currency import money_unit
from core.errors import C2CError
from core.export import (
    FORMATS,
    exportable_attributes,
    member_list,
    safe_label,
)
from core.plan_file import MAX_PLAN_BYTES, plan_from_json, plan_to_json
from core.plans import current_plans
from dashapp import ids
from dashapp.components import (
    GRAPH_CONFIG,
    create_allocation_table,
    create_plan_form,
    create_problem_alert,
    create_projection,
    create_unusable_alert,
    create_upload,
)
from dashapp.downloads import download_link
from dashapp.exports import export_failed, offer_members
from dashapp.figures import portfolio_figure
from dashapp.plan_form import FIELDS, FormError, form_values, plan_from_form
from dashapp.report import build_report
from dashapp.store import get_store
from dashapp.uploads import upload_bytes

dash.register_page(__name__, path="/campaigns", name="Campaigns",
                   title="Campaigns · Clusters to Campaigns", order=3)

FIELD_NAMES = [f.name for f in FIELDS]
HIDDEN = {"display": "none"}
TIME_FORMAT = "%d %b %Y %H:%M"
FIELD_STATES = [State({"type": ids.PLAN_FIELD, "field": ALL}, "value")]


def layout(**_query: str) -> html.Div:
    """Tabs (one per segment + portfolio), then the export and report cards."""
    return html.Div([
        dbc.Row([
            dbc.Col(html.H2("Campaigns", className="mb-0"), md=8),
            dbc.Col([dbc.Button("Download the report (HTML)", id=ids.REPORT_BUTTON,
                                color="secondary", outline=True),
                     dcc.Download(id=ids.REPORT_DOWNLOAD)], md=4, className="text-md-end"),
        ], className="align-items-center mb-2"),
        html.P("Plan one campaign per segment, see what it should return and whether a control "
               "group can measure it, then hand the member lists to your campaign tools.",
               className="text-muted"),
        dbc.Tabs(id=ids.CAMPAIGN_TABS, active_tab=ids.PORTFOLIO),
        html.Div(id=ids.PORTFOLIO_PANEL, className="py-3", children=[
            dbc.Row([dbc.Col(dbc.Label(f"Total budget ({money_unit()})"), md="auto"),
                     dbc.Col(dbc.Input(id=ids.PORTFOLIO_BUDGET, type="number", min=0,
                                       value=1_000, debounce=True), md=3)],
                    className="g-2 align-items-center mb-3"),
            dcc.Loading(html.Div(id=ids.PORTFOLIO_VIEW), delay_show=300),
        ]),
        html.Div(id=ids.PLAN_PANEL, className="py-3", style=HIDDEN, children=[
            dbc.Row([
                dbc.Col(dcc.Dropdown(id=ids.PLAN_PICK, clearable=False,
                                     placeholder="Saved plans of this segment…"), md=4),
                dbc.Col(dbc.Button("Save plan", id=ids.PLAN_SAVE, color="primary"), md="auto"),
                dbc.Col([dbc.Button("Download plan (JSON)", id=ids.PLAN_DOWNLOAD_BUTTON,
                                    color="secondary", outline=True),
                         dcc.Download(id=ids.PLAN_DOWNLOAD)], md="auto"),
                dbc.Col(create_upload(ids.PLAN_UPLOAD, ".json,application/json", MAX_PLAN_BYTES,
                                      "Load a plan (JSON)", "drop plan.json here or click"),
                        md=3, className="c2c-upload-compact"),
                dbc.Col(html.Div(id=ids.PLAN_STATUS, className="small"), md=True),
            ], className="g-2 mb-3 align-items-center"),
            dbc.Row([dbc.Col(html.Div(id=ids.PLAN_FORM), lg=8),
                     dbc.Col(html.Div(id=ids.PLAN_PROJECTION), lg=4)], className="g-3"),
        ]),
        dbc.Card([dbc.CardHeader("Export member lists", className="fw-semibold"), dbc.CardBody([
            dbc.Row([
                dbc.Col([dbc.Label("Who", className="small fw-semibold"),
                         dbc.RadioItems(id=ids.EXPORT_SCOPE, value="segments", options=[
                             {"label": "These segments", "value": "segments"},
                             {"label": "The customers selected on the Segments map",
                              "value": "selection"},
                             {"label": "Everyone", "value": "everyone"}]),
                         dcc.Dropdown(id=ids.EXPORT_SEGMENTS, multi=True,
                                      placeholder="Pick segments")], md=4),
                dbc.Col([dbc.Label("Extra columns", className="small fw-semibold"),
                         dcc.Dropdown(id=ids.EXPORT_ATTRIBUTES, multi=True,
                                      placeholder="Attributes to include")], md=4),
                dbc.Col([dbc.Label("Format", className="small fw-semibold"),
                         dbc.RadioItems(id=ids.EXPORT_FORMAT, value="csv", inline=True,
                                        options=[{"label": f.upper(), "value": f}
                                                 for f in FORMATS]),
                         dbc.Button("Download member list", id=ids.EXPORT_BUTTON,
                                    color="primary", className="mt-2"),
                         download_link(ids.EXPORT_DOWNLOAD),
                         html.Div(id=ids.EXPORT_STATUS, className="small mt-2")], md=4),
            ], className="g-3"),
            html.P(["Each customer of a planned segment gets a campaign_group: treatment, "
                    "control or not_contacted (left out by the budget cap). ", GROUP_RULE],
                   className="small text-muted mt-3 mb-0"),
        ])], className="mt-2"),
    ])


def _current(state):
    """Store, view, segmentation and plan key; no update when the view cannot be segmented
    (the portfolio says why)."""
    store = get_store()
    try:
        view, result = store.current(state)
    except C2CError:
        raise PreventUpdate from None
    key = store.plan_key(result)
    return store, view, result, key


@callback(Output(ids.CAMPAIGN_TABS, "children"), Output(ids.EXPORT_SEGMENTS, "options"),
          Output(ids.EXPORT_ATTRIBUTES, "options"), Input(ids.STATE, "data"))
def build_tabs(state):
    """A tab per segment of the current segmentation, plus the portfolio."""
    _, _, result, _ = _current(state)
    tabs = [dbc.Tab(label="Portfolio", tab_id=ids.PORTFOLIO)]
    tabs += [dbc.Tab(label=f"{p.segment} · {p.name}", tab_id=str(p.segment))
             for p in result.profiles]
    segments = [{"label": f"{p.segment} · {p.name}", "value": p.segment}
                for p in result.profiles]
    return tabs, segments, list(exportable_attributes(result))


def _plan_options(saved) -> list[dict]:
    """Saved plans as picker options: name and when it was last saved, newest first."""
    return [{"label": f"{s.plan.name} · saved {s.updated_at.astimezone().strftime(TIME_FORMAT)}",
             "value": s.plan.name} for s in saved]


def _open_tab(state, tab):
    """Store, segmentation, plan key and the segment a tab shows (None for the portfolio).

    Tab ids come from the browser: anything but a segment number of this segmentation is None.
    """
    store, _, result, key = _current(state)
    segment = int(tab) if str(tab).isdigit() and 1 <= int(tab) <= result.k else None
    return store, result, key, segment


@callback(Output(ids.PORTFOLIO_PANEL, "style"), Output(ids.PLAN_PANEL, "style"),
          Output(ids.PLAN_FORM, "children"), Output(ids.PLAN_PICK, "options"),
          Output(ids.PLAN_PICK, "value"), Output(ids.PLAN_STATUS, "children"),
          Input(ids.CAMPAIGN_TABS, "active_tab"), State(ids.STATE, "data"))
def show_tab(tab, state):
    """The portfolio, or a segment's plan (its latest saved one, else the suggested default)."""
    store, result, key, segment = _open_tab(state, tab)
    if segment is None:
        return {}, HIDDEN, None, [], None, None
    saved = _plan_options(store.plans.plans(key, segment))
    plan = current_plans(store.plans, result, store.plan_key(result))[segment]
    names = [option["value"] for option in saved]
    return HIDDEN, {}, create_plan_form(plan), saved, \
        plan.name if plan.name in names else None, None


@callback(Output({"type": ids.PLAN_FIELD, "field": ALL}, "value"),
          Input(ids.PLAN_PICK, "value"), State(ids.CAMPAIGN_TABS, "active_tab"),
          State(ids.STATE, "data"), prevent_initial_call=True)
def load_saved_plan(name, tab, state):
    """Fill the form with a saved plan picked by name."""
    store, result, key, segment = _open_tab(state, tab)
    plan = next((s.plan for s in store.plans.plans(key, segment) if s.plan.name == name),
                None) if name and segment else None
    if plan is None:
        return [no_update] * len(FIELDS)
    values = form_values(plan)
    return [values[f.name] for f in FIELDS]


@callback(Output(ids.PLAN_PROJECTION, "children"),
          Output({"type": ids.PLAN_FIELD, "field": ALL}, "invalid"),
          Input({"type": ids.PLAN_FIELD, "field": ALL}, "value"),
          State(ids.CAMPAIGN_TABS, "active_tab"), State(ids.STATE, "data"))
def project_plan(values, tab, state):
    """Live projection of the plan being edited; wrong fields are marked and explained."""
    _, result, _, segment = _open_tab(state, tab)
    if not values or segment is None:
        return no_update, [no_update] * len(values or ())
    try:
        plan = _form_plan(segment, values)
    except FormError as error:
        return (create_problem_alert("This plan cannot be projected yet.",
                                     list(error.problems.values())),
                [f.name in error.problems for f in FIELDS])
    return create_projection(project(plan, result.profiles[segment - 1].size)), \
        [False] * len(FIELDS)


def _form_plan(segment: int, values: list):
    """The plan in the form (values come from the browser: a list of the fields' values)."""
    if not isinstance(values, list) or len(values) != len(FIELDS):
        raise FormError({"name": "The form arrived incomplete; reload the page."})
    return plan_from_form(segment, 0, dict(zip(FIELD_NAMES, values, strict=True)))


@callback(Output(ids.PLAN_STATUS, "children", allow_duplicate=True),
          Output(ids.PLAN_PICK, "options", allow_duplicate=True),
          Input(ids.PLAN_SAVE, "n_clicks"), *FIELD_STATES,
          State(ids.CAMPAIGN_TABS, "active_tab"), State(ids.STATE, "data"),
          prevent_initial_call=True)
def save_plan(clicks, values, tab, state):
    """Save the plan under its name for this segmentation (same name: updated)."""
    store, result, key, segment = _open_tab(state, tab)
    if not clicks or segment is None:
        return no_update, no_update
    try:
        plan = _form_plan(segment, values)
        saved = store.plans.save(key, plan)
    except C2CError as error:
        return create_problem_alert("The plan was not saved.", [str(error)]), no_update
    when = saved.updated_at.astimezone().strftime(TIME_FORMAT)
    return (dbc.Badge(f"Saved “{plan.name}” at {when}", color="success"),
            _plan_options(store.plans.plans(key, segment)))


@callback(Output(ids.PORTFOLIO_VIEW, "children"), Input(ids.PORTFOLIO_BUDGET, "value"),
          Input(ids.STATE, "data"), Input(ids.PLAN_STATUS, "children"))
def show_portfolio(budget, state, _saved):
    """Allocation of the total budget across segments' current plans, best ROI first."""
    store = get_store()
    try:
        _, result = store.current(state)
    except C2CError as error:  # e.g. new data with fewer distinct customers than k
        return create_unusable_alert(error)
    try:
        plans = current_plans(store.plans, result, store.plan_key(result))
        allocation = allocate([(plans[p.segment], p.size) for p in result.profiles],
                              float(budget or 0))
    except (C2CError, TypeError, ValueError) as error:
        return create_problem_alert("The portfolio cannot be computed.", [str(error)])
    names = [p.name for p in result.profiles]
    return html.Div([
        html.P("Each segment uses its latest saved plan, or the suggested default until one "
               "is saved.", className="small text-muted"),
        dcc.Graph(figure=portfolio_figure(allocation.lines, names), config=GRAPH_CONFIG,
                  style={"height": "320px"}),
        create_allocation_table(allocation, names),
    ])


@callback(Output({"type": ids.DOWNLOAD_LINK, "name": ids.EXPORT_DOWNLOAD}, "data"),
          Output(ids.EXPORT_STATUS, "children"),
          Input(ids.EXPORT_BUTTON, "n_clicks"), State(ids.EXPORT_SCOPE, "value"),
          State(ids.EXPORT_SEGMENTS, "value"), State(ids.EXPORT_ATTRIBUTES, "value"),
          State(ids.EXPORT_FORMAT, "value"), State(ids.SELECTION, "data"),
          State(ids.STATE, "data"), prevent_initial_call=True)
def export_members(clicks, scope, segments, attributes, fmt, selection, state):
    """The member list as a file, with campaign group and plan name for planned segments."""
    if not clicks:
        return no_update, no_update
    store, view, result, _ = _current(state)
    mask = store.selection_mask(view, selection) if scope == "selection" else None
    if scope == "selection" and mask is None:
        return no_update, dbc.Alert("Nothing is selected: lasso customers on the Segments "
                                    "map first.", color="warning", className="py-2")
    chosen = segments if scope == "segments" else None
    if scope == "segments" and not chosen:
        return no_update, dbc.Alert("Pick at least one segment.", color="warning",
                                    className="py-2")
    try:
        members = member_list(result, segments=chosen, mask=mask, attributes=attributes or (),
                              plans=current_plans(store.plans, result, store.plan_key(result)))
    except C2CError as error:
        return no_update, export_failed(error)
    return offer_members(members, fmt, data_label=store.data(view.data).source, k=result.k,
                         segments=chosen, selection=scope == "selection")


@callback(Output(ids.PLAN_DOWNLOAD, "data"), Output(ids.PLAN_STATUS, "children",
                                                     allow_duplicate=True),
          Input(ids.PLAN_DOWNLOAD_BUTTON, "n_clicks"), *FIELD_STATES,
          State(ids.CAMPAIGN_TABS, "active_tab"), State(ids.STATE, "data"),
          prevent_initial_call=True)
def download_plan(clicks, values, tab, state):
    """The plan in the form as plan.json, for ``c2c export`` or another session."""
    _, result, _, segment = _open_tab(state, tab)
    if not clicks or segment is None:
        return no_update, no_update
    try:
        plan = _form_plan(segment, values)
    except FormError as error:
        return no_update, create_problem_alert("The plan was not downloaded.",
                                               list(error.problems.values()))
    return dcc.send_string(plan_to_json(plan), f"plan_segment-{segment}_"
                           f"{safe_label(plan.name)}.json"), None


@callback(Output({"type": ids.PLAN_FIELD, "field": ALL}, "value", allow_duplicate=True),
          Output(ids.PLAN_STATUS, "children", allow_duplicate=True),
          Input(ids.PLAN_UPLOAD, "contents"), State(ids.PLAN_UPLOAD, "filename"),
          State(ids.CAMPAIGN_TABS, "active_tab"), State(ids.STATE, "data"),
          prevent_initial_call=True)
def load_plan_file(contents, filename, tab, state):
    """Fill the form from an uploaded plan.json (validated); nothing changes when it is bad."""
    _, result, _, segment = _open_tab(state, tab)
    if not contents or segment is None:
        return [no_update] * len(FIELDS), no_update
    name = str(filename or "plan.json")[:100]
    try:
        plan, segments = plan_from_json(upload_bytes(contents, MAX_PLAN_BYTES))
    except C2CError as error:
        return [no_update] * len(FIELDS), create_problem_alert(
            f"{name} was not loaded.", [str(error)])
    values = form_values(plan)
    note = "" if segment in segments else (
        f" It was written for segment {', '.join(map(str, segments))}.")
    return [values[f.name] for f in FIELDS], dbc.Badge(
        f"Loaded “{plan.name}” from {name} — save it to keep it.{note}", color="info",
        className="text-wrap")


@callback(Output(ids.REPORT_DOWNLOAD, "data"), Input(ids.REPORT_BUTTON, "n_clicks"),
          State(ids.STATE, "data"), prevent_initial_call=True)
def download_report(clicks, state):
    """The standalone HTML report of this segmentation and its plans."""
    if not clicks:
        return no_update
    store, view, result, _ = _current(state)
    plans = current_plans(store.plans, result, store.plan_key(result))
    projected = [(plans[p.segment], project(plans[p.segment], p.size)) for p in result.profiles]
    html_text = build_report(store.data(view.data), result,
                             sweep=store.sweep(view.data, view.config),
                             stability=store.stability(view.data, view.config), plans=projected)
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    return dcc.send_string(html_text, f"segments-report_k{result.k}_{stamp}.html")
