"""Data page: upload a customer table, see its quality report, or go back to the demo data."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from core.errors import DataValidationError
from core.schema import COLUMNS, ID_COLUMN, ID_LABEL
from dashapp import ids
from dashapp.components import create_problem_alert, create_quality_report, create_upload
from dashapp.state import parse_state
from dashapp.store import get_store
from dashapp.uploads import ACCEPT, load_upload, upload_limit

dash.register_page(__name__, path="/data", name="Data", title="Data · Clusters to Campaigns",
                   order=5)


def _dictionary() -> dbc.Table:
    rows = [html.Tr([html.Td(html.Code(ID_COLUMN)), html.Td(ID_LABEL), html.Td("text"),
                     html.Td("Card holder id")])]
    rows += [html.Tr([html.Td(html.Code(c.name)), html.Td(c.label), html.Td(c.unit),
                      html.Td(c.description)]) for c in COLUMNS]
    head = html.Thead(html.Tr([html.Th(h) for h in ("Column", "Label", "Unit", "Meaning")]))
    return dbc.Table([head, html.Tbody(rows)], size="sm", striped=True, className="small")


def layout(**_query: str) -> html.Div:
    """Upload zone with its limits, the active data set's report, and the data dictionary."""
    limit_mb = upload_limit() / 2 ** 20
    return html.Div([
        html.H2("Customer data"),
        dbc.Row([
            dbc.Col([
                create_upload(ids.UPLOAD, ACCEPT, upload_limit(),
                              "Drop a customer file here, or click to choose one",
                              f"CSV (also gzip), Excel (.xlsx, .xls) or Parquet · up to "
                              f"{limit_mb:.0f} MB · "
                              "CC GENERAL columns (see the dictionary below)"),
                html.Div(f"Your uploads are private to you and kept for "
                         f"{get_store().retention_seconds / 3600:g} hours.",
                         className="small text-muted mt-1"),
                dcc.Loading(html.Div(id=ids.UPLOAD_STATUS, className="mt-2")),
                dbc.Button(f"Back to {get_store().starting_name}", id=ids.BACK_TO_DEMO,
                           color="secondary", outline=True, size="sm", className="mt-1"),
            ], lg=5),
            dbc.Col(dcc.Loading(html.Div(id=ids.DATA_SUMMARY)), lg=7),
        ], className="g-4"),
        html.H4("Data dictionary", className="mt-4"),
        html.P("Headers are matched forgivingly: case, spaces and common renamings "
               "(e.g. 'Cust Id', 'PRCFULLPAYMENT') are recognised. Extra columns are kept "
               "and can be exported.", className="text-muted small"),
        _dictionary(),
    ])


@callback(Output(ids.STATE, "data", allow_duplicate=True),
          Output(ids.UPLOAD_STATUS, "children"),
          Input(ids.UPLOAD, "contents"), State(ids.UPLOAD, "filename"), State(ids.STATE, "data"),
          prevent_initial_call=True)
def upload(contents: str | None, filename: str | None, state: dict | None):
    """A good file becomes the active data set; a bad one is explained and changes nothing."""
    if not contents:
        return no_update, no_update
    try:
        data = load_upload(contents, filename, upload_limit())
    except DataValidationError as error:
        return no_update, create_problem_alert(
            f"{error.source or 'The file'} was not loaded — the current data stays active.",
            error.problems, error.note)
    data_id = get_store().add(data)
    notes = len(data.quality.issues)
    message = (f"Loaded {data.source}: {len(data.frame):,} customers"
               + (f", {notes} note{'s' * (notes != 1)} in the report." if notes else "."))
    return ({**parse_state(state).to_dict(), "data": data_id},
            dbc.Alert(message, color="success", className="py-2"))


@callback(Output(ids.STATE, "data", allow_duplicate=True),
          Output(ids.UPLOAD_STATUS, "children", allow_duplicate=True),
          Input(ids.BACK_TO_DEMO, "n_clicks"), State(ids.STATE, "data"),
          prevent_initial_call=True)
def back_to_demo(clicks: int | None, state: dict | None):
    """Make the starting data (the demo customers, or the server's file) active again."""
    if not clicks:  # fires when the page is inserted, too
        return no_update, no_update
    return ({**parse_state(state).to_dict(), "data": get_store().starting_id},
            dbc.Alert(f"Showing {get_store().starting_name} again.", color="info",
                      className="py-2"))


@callback(Output(ids.DATA_SUMMARY, "children"), Input(ids.STATE, "data"))
def summarise(state: dict | None):
    """Name, size and quality report of the active data set."""
    view = parse_state(state)
    store = get_store()
    data_id = view.data if view.data and store.has(view.data) else store.starting_id
    data = store.data(data_id)
    cleaning = store.prepared(data_id, view.config).cleaning
    extra = ", ".join(data.attributes) if data.attributes else "none"
    return dbc.Card(dbc.CardBody([
        html.H5(data.source, className="card-title"),
        html.P(f"{len(data.frame):,} customers · extra columns kept: {extra}",
               className="text-muted"),
        create_quality_report(data, cleaning),
    ]))
