"""The Members table of the Segments page: who is in a segment, before it is exported.

It lists the customers the Segments page's KPIs describe: the map selection, else the
highlighted segments, else everyone. The grid (dash-ag-grid's infinite row model) asks for
rows a block at a time; the server sorts, filters and pages the member list
(:mod:`core.member_rows`), so a million customers never travel to the browser. "Export these"
writes what the table shows, through the same member list and export as the Campaigns page.
The list opens on request: while it is closed a k change fetches no rows for it.
"""

from __future__ import annotations

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import Input, Output, State, callback, html, no_update

from core.errors import C2CError
from core.export import FORMATS, exportable_attributes, member_list
from core.features import label
from core.member_rows import matching_members, member_page, records
from core.pipeline import Segmentation
from core.plans import current_plans
from core.schema import BEHAVIOUR_COLUMNS, ID_COLUMN
from dashapp import ids
from dashapp.downloads import download_link
from dashapp.exports import export_failed, offer_members
from dashapp.figures import value_prefix
from dashapp.glossary import TERMS
from dashapp.state import ViewState, segment_numbers
from dashapp.store import Store, get_store

KEY_COLUMNS = ("BALANCE", "PURCHASES", "CASH_ADVANCE", "CREDIT_LIMIT", "PAYMENTS",
               "PURCHASES_FREQUENCY", "TENURE")
MAX_ATTRIBUTE_COLUMNS = 30  # pass-through columns shown (and exported) by the table
HEADERS = {ID_COLUMN: "Customer id", "segment": "Segment",
           "distance_to_centre": "Distance to centre"}
NUMBER_FORMATS = {"distance_to_centre": ".2f", "PURCHASES_FREQUENCY": ".0%", "TENURE": "d",
                  **dict.fromkeys(("BALANCE", "PURCHASES", "CASH_ADVANCE", "CREDIT_LIMIT",
                                   "PAYMENTS"), ",.0f")}
OTHER_NUMBERS = ",.2~f"
BLOCK_ROWS = 50  # rows per request (a few pages); core.member_rows caps a request at 500
NO_ROWS = {"rowData": [], "rowCount": 0}


def table_attributes(result: Segmentation) -> list[str]:
    """The extra columns of the table: the file's pass-through attributes, then key behaviour."""
    passed = [a for a in exportable_attributes(result) if a not in BEHAVIOUR_COLUMNS]
    return [*passed[:MAX_ATTRIBUTE_COLUMNS], *KEY_COLUMNS]


def column_defs(members: pd.DataFrame) -> list[dict]:
    """AG Grid columns for a member list (its rows are not needed: ``members`` may be empty)."""
    return [_column(name, members[name]) for name in members.columns if name != "segment_name"]


def _column(name: str, values: pd.Series) -> dict:
    number = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    column = {"field": name, "headerName": HEADERS.get(name, label(name)),
              "filter": "agNumberColumnFilter" if number else "agTextColumnFilter"}
    if name == "segment":  # "2 · Big spenders"; sorted and filtered by number
        column.update(minWidth=230, valueFormatter={
            "function": "params.value == null ? '' : params.value + ' · ' + "
                        "params.data.segment_name"})
    elif number:
        fmt = NUMBER_FORMATS.get(name, OTHER_NUMBERS)
        column.update(type="rightAligned", filterParams={"inRangeInclusive": True},
                      valueFormatter={"function": f"params.value == null ? '' : "
                                                  f"'{value_prefix(name)}' + "
                                                  f"d3.format('{fmt}')(params.value)"})
    if name == ID_COLUMN:
        column.update(pinned="left", flex=0, width=130)
    if name == "distance_to_centre":
        column.update(headerTooltip=TERMS["distance"])
    return column


def _base_columns() -> list[dict]:
    """The columns every data set has, for the grid's first paint."""
    frame = pd.DataFrame({ID_COLUMN: pd.Series(dtype="str"), "segment": pd.Series(dtype=int),
                          "segment_name": pd.Series(dtype="str"),
                          "distance_to_centre": pd.Series(dtype=float),
                          **{c: pd.Series(dtype=float) for c in KEY_COLUMNS}})
    return column_defs(frame)


def create_members_card() -> dbc.Card:
    """The card: which customers it lists, the grid, and "Export these" with a format; the
    list behind a "Show the customers" button."""
    return dbc.Card([
        dbc.CardHeader(html.Div([
            html.Span("Customer list", className="fw-semibold"),
            dbc.Button("Show the customers", id=ids.MEMBERS_TOGGLE, size="sm", color="primary",
                       outline=True, className="py-0"),
        ], className="d-flex justify-content-between align-items-center")),
        dbc.Collapse(dbc.CardBody([
            html.Div(id=ids.MEMBERS_CAPTION, className="small text-muted mb-2"),
            dag.AgGrid(
                id=ids.MEMBERS_GRID, rowModelType="infinite", columnDefs=_base_columns(),
                defaultColDef={"sortable": True, "resizable": True, "flex": 1, "minWidth": 110,
                               "floatingFilter": True, "wrapHeaderText": True,
                               "autoHeaderHeight": True,
                               "filterParams": {"maxNumConditions": 2}},
                dashGridOptions={"pagination": True, "paginationAutoPageSize": True,
                                 "cacheBlockSize": BLOCK_ROWS, "maxBlocksInCache": 20,
                                 "rowHeight": 34, "suppressFieldDotNotation": True,
                                 "localeText": {"noRowsToShow": "No customers match."}},
                style={"height": "520px"}),
            dbc.Row([
                dbc.Col(dbc.RadioItems(id=ids.MEMBERS_FORMAT, value="csv", inline=True,
                                       options=[{"label": f.upper(), "value": f}
                                                for f in FORMATS]), width="auto"),
                dbc.Col(dbc.Button("Export these", id=ids.MEMBERS_EXPORT, color="primary",
                                   size="sm"), width="auto"),
                dbc.Col(html.Div(id=ids.MEMBERS_STATUS, className="small"), md=True),
            ], className="g-2 mt-2 align-items-center"),
            html.P("The export is the member list of the Campaigns page (with campaign group "
                   "and plan name) for the customers in the table, in its order.",
                   className="small text-muted mt-2 mb-0"),
            download_link(ids.MEMBERS_DOWNLOAD),
        ]), id=ids.MEMBERS_OPEN, is_open=False),
    ], className="mt-3")


def _scope(store: Store, view: ViewState, result: Segmentation, highlight, selection):
    """(segments, mask) the table lists, as the KPIs: the map selection, else the highlighted
    segments, else everyone (both None)."""
    mask = store.selection_mask(view, selection)
    if mask is not None:
        return None, mask
    return sorted(segment_numbers(highlight, result.k)) or None, None


def _caption(result: Segmentation, segments, mask: np.ndarray | None, total: int, count: int,
             filtered: bool) -> list:
    """Which customers the table lists, and how many pass its column filters."""
    if mask is not None:
        who = "selected on the map"
    elif segments:
        names = {p.segment: p.name for p in result.profiles}
        who = (f"in segment{'s' if len(segments) > 1 else ''} "
               + ", ".join(f"{s} · {names[s]}" for s in segments))
    else:
        who = "in all segments; highlight segments or lasso the map to narrow the list"
    shown = html.Span(f"{count:,}", className="c2c-members-count fw-semibold")
    if not filtered:
        return [shown, f" customers {who}."]
    return [f"{total:,} customers {who}; ", shown, " match the column filters."]


def _listed(state, highlight, selection, *, plans: bool = False):
    """The view, segmentation, (segments, mask) and member list the table lists; with
    ``plans``, with campaign group and plan name as the Campaigns export writes them."""
    store = get_store()
    view, result = store.current(state)
    segments, mask = _scope(store, view, result, highlight, selection)
    chosen = current_plans(store.plans, result, store.plan_key(result)) if plans else None
    return view, result, segments, mask, member_list(
        result, segments=segments, mask=mask, attributes=table_attributes(result), plans=chosen)


def _request(request) -> dict:
    return request if isinstance(request, dict) else {}


# The button opens and closes the list, in the browser.
dash.clientside_callback(
    """function (clicks, open) {
        return clicks ? [!open, open ? "Show the customers" : "Hide the customers"]
                      : [window.dash_clientside.no_update, window.dash_clientside.no_update];
    }""",
    Output(ids.MEMBERS_OPEN, "is_open"), Output(ids.MEMBERS_TOGGLE, "children"),
    Input(ids.MEMBERS_TOGGLE, "n_clicks"), State(ids.MEMBERS_OPEN, "is_open"),
    prevent_initial_call=True,
)


@callback(Output(ids.MEMBERS_GRID, "columnDefs"), Input(ids.MEMBERS_OPEN, "is_open"),
          State(ids.STATE, "data"), State(ids.MEMBERS_GRID, "columnDefs"),
          prevent_initial_call=True)
def show_columns(is_open, state, shown):
    """The columns of the loaded file's member list (its pass-through attributes vary), when
    the list opens (the data set does not change while the page is open)."""
    if not is_open:
        return no_update
    try:
        _, result = get_store().current(state)
    except C2CError:
        return no_update
    columns = column_defs(member_list(result, segments=[], attributes=table_attributes(result)))
    return no_update if columns == shown else columns


@callback(Output(ids.MEMBERS_GRID, "getRowsResponse"), Output(ids.MEMBERS_CAPTION, "children"),
          Input(ids.MEMBERS_GRID, "getRowsRequest"), State(ids.STATE, "data"),
          State(ids.SEGMENT_FILTER, "value"), State(ids.SELECTION, "data"),
          prevent_initial_call=True)
def serve_rows(request, state, highlight, selection):
    """The block of rows the grid asked for, sorted and filtered, and the caption."""
    request = _request(request)
    try:
        _, result, segments, mask, members = _listed(state, highlight, selection)
        page = member_page(members, request)
    except C2CError as error:
        return NO_ROWS, html.Span(f"No customers to list: {error}", className="text-danger")
    return ({"rowData": records(page.rows), "rowCount": page.count},
            _caption(result, segments, mask, len(members), page.count,
                     bool(request.get("filterModel"))))


# The list changes with the view, the highlight and the map selection: while it is open the
# grid drops its blocks and asks again from the first page (serve_rows reads them as State);
# a closed list does so when it opens.
dash.clientside_callback(
    """function (state, highlight, selection, open, grid) {
        if (open) {
            dash_ag_grid.getApiAsync(grid).then(api => {
                api.paginationGoToFirstPage();
                api.purgeInfiniteCache();
            });
        }
        return window.dash_clientside.no_update;
    }""",
    Output(ids.MEMBERS_GRID, "id"),  # never set: no_update
    Input(ids.STATE, "data"), Input(ids.SEGMENT_FILTER, "value"), Input(ids.SELECTION, "data"),
    Input(ids.MEMBERS_OPEN, "is_open"), State(ids.MEMBERS_GRID, "id"),
    prevent_initial_call=True,
)


@callback(Output({"type": ids.DOWNLOAD_LINK, "name": ids.MEMBERS_DOWNLOAD}, "data"),
          Output(ids.MEMBERS_STATUS, "children"),
          Input(ids.MEMBERS_EXPORT, "n_clicks"), State(ids.MEMBERS_FORMAT, "value"),
          State(ids.MEMBERS_GRID, "getRowsRequest"), State(ids.STATE, "data"),
          State(ids.SEGMENT_FILTER, "value"), State(ids.SELECTION, "data"),
          prevent_initial_call=True)
def export_these(clicks, fmt, request, state, highlight, selection):
    """The customers of the table, with its filters and order, as the Campaigns page's export."""
    if not clicks:
        return no_update, no_update
    request = _request(request)
    try:
        view, result, segments, mask, members = _listed(state, highlight, selection, plans=True)
        shown = matching_members(members, request.get("filterModel"), request.get("sortModel"))
    except C2CError as error:
        return no_update, export_failed(error)
    return offer_members(shown, fmt, data_label=get_store().data(view.data).source, k=result.k,
                         segments=segments, selection=mask is not None)
