"""Layout building blocks: ``create_*`` functions that return Dash components."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from core.cleaning import CleaningReport
from core.loading import CustomerData
from core.profiling import SegmentProfile
from core.summary import Kpis
from dashapp import ids
from dashapp.theme import segment_colour

STABILITY_COLOURS = {"stable": "success", "fairly stable": "info", "unstable": "danger"}
PAGES: tuple[tuple[str, str], ...] = (
    ("/", "Overview"), ("/segments", "Segments"), ("/choose-k", "Choose k"), ("/data", "Data"),
)


def create_navbar() -> dbc.Navbar:
    """Brand and one link per page; links carry the view state in their query string."""
    links = [dbc.NavItem(dbc.NavLink(label, href=path, active="exact",
                                     id={"type": ids.NAV_LINK, "page": path}))
             for path, label in PAGES]
    return dbc.Navbar(dbc.Container([
        dbc.NavbarBrand([html.Span("◆", className="c2c-logo"), " Clusters to Campaigns"],
                        href="/"),
        dbc.Nav(links, navbar=True, className="ms-auto"),
    ], fluid="xxl"), color="dark", dark=True, className="mb-2")


def create_footer_text(data: CustomerData) -> list:
    """``Data: <name> · 9,000 customers · 17 behavioural columns (+ n attributes)``."""
    extra = f" + {len(data.attributes)} extra" if data.attributes else ""
    return [html.Span("Data: "), html.Strong(data.source),
            html.Span(f" · {len(data.frame):,} customers · 17 behavioural columns{extra}")]


def create_notice(message: str | None) -> dbc.Alert | None:
    """A dismissable warning above the page, or nothing."""
    return dbc.Alert(message, color="warning", dismissable=True) if message else None


def create_problem_alert(title: str, problems: tuple[str, ...] | list[str]) -> dbc.Alert:
    """Every problem found, as a list under one heading (text only, never HTML)."""
    return dbc.Alert([html.Strong(title), html.Ul([html.Li(p) for p in problems],
                                                  className="mb-0 mt-1")],
                     color="danger", className="c2c-problems")


def create_quality_report(data: CustomerData, cleaning: CleaningReport) -> html.Div:
    """What the loader noticed and what cleaning changed, in plain sentences."""
    notes = [html.Li(issue.message) for issue in data.quality.issues]
    fixes = [html.Li(line) for line in cleaning.lines()]
    renamed = [f"'{found}' → {canonical}" for found, canonical in data.renamed]
    return html.Div([
        html.H6("What we noticed in the file"),
        html.Ul(notes) if notes else html.P("No problems found.", className="text-muted"),
        html.P("Headers matched: " + "; ".join(renamed), className="small text-muted")
        if renamed else None,
        html.H6("What cleaning changed"),
        html.Ul(fixes) if fixes else html.P("Nothing needed filling or fixing.",
                                            className="text-muted"),
    ])


def compact_number(value: float) -> str:
    """``19.2 M``, ``845 k``, ``912``: short enough for a KPI card."""
    for size, suffix in ((1e9, " bn"), (1e6, " M"), (1e3, " k")):
        if abs(value) >= size:
            return f"{value / size:,.1f}{suffix}"
    return f"{value:,.0f}"


def create_kpi_cards(kpis: Kpis, scope: str) -> html.Div:
    """Six headline numbers for the customers in ``scope`` (e.g. "All customers")."""
    cards = [
        ("Customers", f"{kpis.customers:,}"),
        ("Avg balance frequency", f"{kpis.balance_frequency:.2f}"),
        ("Avg purchase frequency", f"{kpis.purchases_frequency:.2f}"),
        ("Avg cash-advance frequency", f"{kpis.cash_advance_frequency:.2f}"),
        ("Avg tenure", f"{kpis.tenure:.1f} months"),
        ("Total spending", compact_number(kpis.total_spending)),
    ]
    return html.Div([
        html.Div(scope, className="c2c-scope small text-muted mb-1"),
        dbc.Row([dbc.Col(dbc.Card(dbc.CardBody([
            html.Div(title, className="c2c-kpi-title"),
            html.Div(value, className="c2c-kpi-value"),
        ]), className="c2c-kpi h-100"), xs=6, md=4, xl=2) for title, value in cards],
            className="g-2"),
    ])


def create_stability_badge(verdict: str, jaccard: float) -> dbc.Badge:
    """``stable`` / ``fairly stable`` / ``unstable``, with the score on hover."""
    return dbc.Badge(verdict, color=STABILITY_COLOURS[verdict],
                     title=f"Re-fits on subsamples find this segment again with a mean Jaccard "
                           f"similarity of {jaccard:.2f} (stable ≥ 0.75)")


def create_segment_card(profile: SegmentProfile, highlighted: bool) -> html.Div:
    """A clickable card: name, size, description, stability, top traits and main lever.

    The stability badge is a placeholder filled in later (it takes seconds to measure).
    """
    colour = segment_colour(profile.segment)
    traits = [html.Li([html.Span("▲ " if t.effect > 0 else "▼ ", style={"color": colour}),
                       t.label]) for t in profile.top_features[:3]]
    lever = profile.levers[0] if profile.levers else None
    return html.Div(dbc.Card([
        dbc.CardHeader([
            html.Span(className="c2c-swatch", style={"backgroundColor": colour}),
            html.Strong(f"{profile.segment} · {profile.name}"),
        ], className="d-flex align-items-center gap-2"),
        dbc.CardBody([
            html.Div([html.Span(f"{profile.size:,} customers", className="fw-semibold"),
                      html.Span(f" · {profile.share:.1%} of all"),
                      html.Span(html.Span("checking stability…", className="text-muted small"),
                                id={"type": ids.STABILITY, "segment": profile.segment},
                                className="ms-2")]),
            html.P(profile.description, className="small mt-2 mb-2"),
            html.Div("Stands out for", className="small text-muted"),
            html.Ul(traits, className="small c2c-traits"),
            html.Div([dbc.Badge(flag, color="warning", text_color="dark", className="me-1")
                      for flag in profile.risk_flags]),
            html.Div([html.Span("Suggested: ", className="text-muted"), lever.offer,
                      html.Span(f" ({lever.channel})", className="text-muted")],
                     className="small mt-2") if lever else None,
        ]),
    ], className="c2c-segment-card h-100" + (" c2c-highlighted" if highlighted else ""),
        style={"borderTopColor": colour}),
        id={"type": ids.SEGMENT_CARD, "segment": profile.segment}, n_clicks=0,
        className="h-100", role="button", title="Click to highlight this segment everywhere")
