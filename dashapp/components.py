"""Layout building blocks: ``create_*`` functions that return Dash components."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from core.cleaning import CleaningReport
from core.loading import CustomerData
from dashapp import ids

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
    ], id=ids.QUALITY_REPORT)
