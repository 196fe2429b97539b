"""Overview page: headline KPIs, the seed's three relationships, distributions, style mixes and
the data-quality report — all following the segment filter."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import numpy as np
from dash import Input, Output, callback, dcc, html, no_update

from core.errors import C2CError
from core.features import STYLE_BY_NAME, label
from core.summary import histogram, kpis, sample_rows, style_mix
from dashapp import ids
from dashapp.components import (
    GRAPH_CONFIG,
    create_demo_banner,
    create_intro,
    create_kpi_cards,
    create_quality_report,
    create_segment_legend,
    create_unusable_alert,
)
from dashapp.figures import (
    column_label,
    empty_figure,
    histogram_bars,
    relationship_scatter,
    style_mix_bar,
    value_prefix,
)
from dashapp.state import segment_numbers
from dashapp.store import DEMO_ID, get_store

dash.register_page(__name__, path="/", name="Overview", title="Clusters to Campaigns", order=0)

RELATIONSHIPS = (("BALANCE_FREQUENCY", "BALANCE", False),
                 ("MINIMUM_PAYMENTS", "PAYMENTS", True),
                 ("ONEOFF_PURCHASES", "INSTALLMENTS_PURCHASES", False))
DISTRIBUTIONS = ("BALANCE", "CREDIT_LIMIT", "PAYMENTS")
MIXES = ("PURCHASE_STYLE", "MONETARY_STYLE")
CHART_COUNT = len(RELATIONSHIPS) + len(DISTRIBUTIONS) + len(MIXES)
SCATTER_POINTS = 3000
CHART_HEIGHT = {"height": "320px"}


def _chart_grid() -> list:
    titles = ([f"{label(y)} vs {label(x).lower()}" for x, y, _ in RELATIONSHIPS]
              + [f"Distribution of {label(c).lower()}" for c in DISTRIBUTIONS]
              + [STYLE_BY_NAME[s].label for s in MIXES])
    return [dbc.Col(dbc.Card([dbc.CardHeader(title, className="fw-semibold"), dbc.CardBody(
        dcc.Graph(id=f"{ids.OVERVIEW_CHART}-{i}", style=CHART_HEIGHT,
                  config=GRAPH_CONFIG, figure=empty_figure("Loading…")))], className="h-100"),
        md=6, xl=4 if i < len(RELATIONSHIPS) + len(DISTRIBUTIONS) else 6)
        for i, title in enumerate(titles)]


def layout(**_query: str) -> html.Div:
    """KPI row, chart grid, quality report; the segment filter narrows all of them."""
    return html.Div([
        create_intro(),
        dbc.Row([
            dbc.Col(html.H2("Customer overview", className="mb-0"), md=6),
            dbc.Col(dcc.Dropdown(id=ids.OVERVIEW_FILTER, multi=True,
                                 placeholder="All segments — pick some to narrow down"), md=6),
        ], className="align-items-center mb-3 g-2"),
        dcc.Loading(html.Div(id=ids.KPI_ROW, className="mb-3"), delay_show=300),
        dbc.Row(_chart_grid(), className="g-3 mb-3"),
        dbc.Card([dbc.CardHeader("Data quality", className="fw-semibold"),
                  dbc.CardBody(html.Div(id=ids.QUALITY_REPORT))]),
    ])


@callback(Output(ids.OVERVIEW_FILTER, "options"), Input(ids.STATE, "data"))
def filter_options(state):
    """The filter offers the segments of the current segmentation."""
    try:
        _, result = get_store().current(state)
    except C2CError:
        return []
    return [{"label": f"{p.segment} · {p.name}", "value": p.segment} for p in result.profiles]


@callback(Output(ids.KPI_ROW, "children"),
          [Output(f"{ids.OVERVIEW_CHART}-{i}", "figure") for i in range(CHART_COUNT)],
          Output(ids.QUALITY_REPORT, "children"),
          Input(ids.STATE, "data"), Input(ids.OVERVIEW_FILTER, "value"))
def show_overview(state, segments):
    """KPIs and charts of the chosen segments (everyone when none is chosen)."""
    store = get_store()
    try:
        view, result = store.current(state)
    except C2CError as error:  # e.g. new data with fewer distinct customers than k
        return create_unusable_alert(error), *[no_update] * CHART_COUNT, no_update
    frame = result.prepared.frame
    segments = sorted(segment_numbers(segments, result.k))
    chosen = np.isin(result.labels, segments) if segments else np.ones(len(frame), bool)
    scope = (f"Segment{'s' * (len(segments) > 1)} "
             + "; ".join(f"{n} · {result.profiles[n - 1].name}" for n in segments)
             + f": {int(chosen.sum()):,} customers") if segments else "All customers"
    rows = np.flatnonzero(chosen)[sample_rows(int(chosen.sum()), SCATTER_POINTS)]
    figures = [relationship_scatter(frame[x].to_numpy()[rows], frame[y].to_numpy()[rows],
                                    column_label(x, unit=True, before_unit="<br>"),
                                    column_label(y, unit=True, before_unit="<br>"),
                                    log=log, colour=result.labels[rows], total=int(chosen.sum()),
                                    prefixes=(value_prefix(x), value_prefix(y)))
               for x, y, log in RELATIONSHIPS]
    figures += [histogram_bars(histogram(frame[c].to_numpy()[chosen], log=True),
                               column_label(c, unit=True), prefix=value_prefix(c))
                for c in DISTRIBUTIONS]
    # the mix of the chosen segments from their rows' style codes: no copy of their rows
    figures += [style_mix_bar(style_mix(frame, s, mask=chosen if segments else None)
                              .tail(1), "") for s in MIXES]
    data = store.data(view.data)
    banner = [create_demo_banner(len(frame))] if view.data == DEMO_ID else []
    return (html.Div([*banner, create_kpi_cards(kpis(frame, chosen), scope),
                      create_segment_legend([p for p in result.profiles
                                             if not segments or p.segment in segments])]),
            *figures, create_quality_report(data, result.prepared.cleaning))
