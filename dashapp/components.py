"""Layout building blocks: ``create_*`` functions that return Dash components."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from core.campaign import Allocation, CampaignPlan, Projection
from core.cleaning import CleaningReport
from core.currency import money, money_prefix
from core.loading import CustomerData
from core.profiling import SegmentProfile
from core.schema import COLUMN_BY_NAME
from core.summary import Kpis
from dashapp import ids
from dashapp.auth import current_workspace
from dashapp.glossary import explained
from dashapp.plan_form import CHANNEL_OPTIONS, FIELDS, form_values
from dashapp.theme import segment_colour

ALGORITHM_LABELS = {"kmeans": "K-means", "minibatch": "Mini-batch k-means",
                    "gmm": "Gaussian mixture", "agglomerative": "Agglomerative (Ward)",
                    "hdbscan": "HDBSCAN", "birch": "BIRCH"}
STABILITY_COLOURS = {"stable": "success", "fairly stable": "info", "unstable": "danger"}
PAGES: tuple[tuple[str, str], ...] = (
    ("/", "Overview"), ("/segments", "Segments"), ("/choose-k", "Choose k"),
    ("/campaigns", "Campaigns"), ("/score", "Score"), ("/data", "Data"),
)


GRAPH_CONFIG = {"displayModeBar": "hover", "displaylogo": False,  # every chart's toolbar
                "modeBarButtonsToRemove": ["toImage"]}


def create_navbar() -> dbc.Navbar:
    """Brand and one link per page; links carry the view state in their query string. With
    sign-in, the user's name and a sign-out link end the bar."""
    links = [dbc.NavItem(dbc.NavLink(label, href=path, active="exact",
                                     id={"type": ids.NAV_LINK, "page": path}))
             for path, label in PAGES]
    user = current_workspace()
    if user:
        links += [dbc.NavItem(html.Span(user, className="nav-link c2c-user ms-lg-3")),
                  dbc.NavItem(dbc.NavLink("Sign out", href="/logout", external_link=True))]
    return dbc.Navbar(dbc.Container([
        dbc.NavbarBrand([html.Span("◆", className="c2c-logo"), " Clusters to Campaigns"],
                        href="/"),
        dbc.Nav(links, navbar=True, className="ms-auto"),
    ], fluid="xxl"), color="dark", dark=True, sticky="top", className="mb-2")


def create_intro() -> html.Div:
    """The first screen's one line on what the app does, and its three steps with the pages
    they happen on (the navbar's links carry the view; plain links here would drop it)."""
    steps = [("1", "Choose segments", "Segments, Choose k"), ("2", "Plan campaigns", "Campaigns"),
             ("3", "Export member lists", "Campaigns")]
    return html.Div([
        html.Span("Group your card customers by how they use the card, then turn each group "
                  "into a campaign: ", className="me-1"),
        *[html.Span([html.B(number, className="c2c-step"), html.B(label), f" ({pages})"],
                    className="me-3 text-nowrap") for number, label, pages in steps],
    ], className="c2c-intro mb-2")


def create_demo_banner(customers: int) -> dbc.Alert:
    """Shown while the built-in demo data is active: what it is and where to load one's own."""
    return dbc.Alert([html.B("Demo data: "), f"{customers:,} synthetic customers, no real "
                      "person among them. Load your own customer file on the ",
                      html.B("Data"), " page."], color="info", className="py-2 mb-2 small")


def create_segment_legend(profiles) -> html.Div:
    """What the dot colours of the Overview's charts mean: one swatch per segment."""
    return html.Div(["Dots are coloured by segment: "] + [
        html.Span([html.Span(className="c2c-swatch me-1 align-middle",
                             style={"backgroundColor": segment_colour(p.segment)}),
                   f"{p.segment} · {p.name}"], className="me-3 text-nowrap")
        for p in profiles], className="small text-muted mt-2 c2c-legend")


def create_footer_text(data: CustomerData) -> list:
    """``Data: <name> · 9,000 customers · 17 behavioural columns (+ n attributes)``."""
    extra = f" + {len(data.attributes)} extra" if data.attributes else ""
    return [html.Span("Data: "), html.Strong(data.source),
            html.Span(f" · {len(data.frame):,} customers · 17 behavioural columns{extra}")]


def create_upload(upload_id: str, accept: str, max_size: int, title: str,
                  note: str) -> dcc.Upload:
    """A drag-and-drop zone for one file, with what it takes written in it."""
    return dcc.Upload(id=upload_id, multiple=False, accept=accept, max_size=max_size,
                      className="c2c-upload", className_active="c2c-upload-active",
                      className_reject="c2c-upload-reject",
                      children=html.Div([html.Div(title, className="fw-semibold"),
                                         html.Div(note, className="small text-muted")]))


def create_notice(message: str | None) -> dbc.Alert | None:
    """A dismissable warning above the page, or nothing."""
    return dbc.Alert(message, color="warning", dismissable=True) if message else None


def sentence(text: str) -> str:
    """A message as a sentence on its own: first letter capitalised ('the file …' → 'The …')."""
    return text[:1].upper() + text[1:]


def create_problem_alert(title: str, problems: tuple[str, ...] | list[str],
                         note: str | None = None) -> dbc.Alert:
    """Every problem found, as a list under one heading (text only, never HTML)."""
    return dbc.Alert([html.Strong(title), html.Ul([html.Li(sentence(p)) for p in problems],
                                                  className="mb-0 mt-1"),
                      html.Div(note, className="small mt-1") if note else None],
                     color="danger", className="c2c-problems")


def create_unusable_alert(error: Exception) -> dbc.Alert:
    """Why the current data cannot be segmented with the current settings (e.g. k too large)."""
    return create_problem_alert("These customers cannot be segmented with these settings; "
                                "choose another k or other features on the Segments page.",
                                [str(error)])


def create_quality_report(data: CustomerData, cleaning: CleaningReport) -> html.Div:
    """What the loader noticed and what cleaning changed, in plain sentences."""
    notes = [html.Li(sentence(issue.message)) for issue in data.quality.issues]
    fixes = [html.Li(line) for line in cleaning.lines()]
    renamed = [f"'{found}' → {canonical}" for found, canonical in data.renamed]
    return html.Div([
        html.H6("What we noticed in the file"),
        html.Ul(notes) if notes else html.P("No problems found.", className="text-muted"),
        html.P(data.quality.convention, className="small text-muted")
        if any(issue.rows for issue in data.quality.issues) else None,
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


def create_kpi_cards(kpis: Kpis, scope: str | html.Span) -> html.Div:
    """Six headline numbers for the customers in ``scope`` (e.g. "All customers")."""
    cards = [
        ("Customers", f"{kpis.customers:,}"),
        (explained("Avg balance frequency", "balance_frequency"),
         f"{kpis.balance_frequency:.2f}"),
        (explained("Avg purchase frequency", "frequency"), f"{kpis.purchases_frequency:.2f}"),
        (explained("Avg cash-advance frequency", "frequency"),
         f"{kpis.cash_advance_frequency:.2f}"),
        ("Avg tenure", [f"{kpis.tenure:.1f} ", html.Span("months", className="c2c-kpi-unit")]),
        ("Total spending", money_prefix() + compact_number(kpis.total_spending)),
    ]
    return html.Div([
        html.Div(scope, className="c2c-scope small text-muted mb-1"),
        html.Div([html.Div(html.Div([
            html.Div(title, className="c2c-kpi-title"),
            html.Div(value, className="c2c-kpi-value"),
        ], className="card card-body c2c-kpi h-100"), className="col-6 col-md-4 col-xl-2")
            for title, value in cards], className="row g-2"),
    ])


def create_stability_badge(verdict: str, jaccard: float) -> dbc.Badge:
    """``stable`` / ``fairly stable`` / ``unstable``, with the score on hover."""
    return dbc.Badge(verdict, color=STABILITY_COLOURS[verdict],  # the term: the cards' hint
                     title=f"Score {jaccard:.2f} of 1 (stable from 0.75)")


def create_segment_card(profile: SegmentProfile, highlighted: bool,
                        stability: dbc.Badge | None = None) -> html.Div:
    """A segment's card in a grid cell: name, size, stability and what stands out in one line
    (a click there highlights the segment), then the description and the suggested offer
    behind "More".

    ``stability`` is the badge when it is already measured; otherwise the card holds a
    placeholder that the page fills in later (measuring takes seconds). Plain elements with
    Bootstrap's classes, and the segment colour once as the card's ``--c2c-segment`` (the
    swatch, ring and arrows take it in style.css), keep a k change's payload small.
    """
    badge = (html.Span(stability, className="ms-2") if stability is not None else
             html.Span(html.Span("checking stability…", className="text-muted small"),
                       id={"type": ids.STABILITY, "segment": profile.segment}, className="ms-2"))
    lead = [
        html.Div([html.B(f"{profile.size:,} customers"), f" · {profile.share:.1%} of all", badge]),
        html.Ul([html.Li(t.label, className="up" if t.effect > 0 else "down")
                 for t in profile.top_features[:3]], className="small c2c-traits"),
    ]
    if profile.risk_flags:
        lead.append(html.Div([dbc.Badge(flag, color="warning", text_color="dark",
                                        className="me-1") for flag in profile.risk_flags]))
    lever = profile.levers[0] if profile.levers else None
    more = [html.Summary("More"),
            html.P(profile.description, className="mt-2 mb-2")]
    if lever:
        more.append(html.Div([html.Span("Suggested: ", className="text-muted"), lever.offer,
                              html.Span(f" ({lever.channel})", className="text-muted")]))
    card = html.Div([
        html.Div([html.Div(f"{profile.segment} · {profile.name}",
                           className="card-header c2c-card-title"),
                  html.Div(lead, className="card-body pb-1")],
                 id={"type": ids.SEGMENT_CARD, "segment": profile.segment}, n_clicks=0,
                 role="button"),
        html.Details(more, className="card-body pt-0 small c2c-more"),
    ], className="card c2c-segment-card h-100" + (" c2c-highlighted" if highlighted else ""),
        style={"--c2c-segment": segment_colour(profile.segment)})
    return html.Div(card, className="col-md-6 col-lg-4")


def noise_text(n_noise: int, n_customers: int) -> str:
    """``1,234 customers (13.8 %) fit no segment and were assigned to the nearest one``."""
    return (f"{n_noise:,} customer{'' if n_noise == 1 else 's'} "
            f"({100 * n_noise / n_customers:.1f}\u00a0%) fit no segment and were assigned to the "
            "nearest one")


def create_noise_note(n_noise: int, n_customers: int) -> dbc.Alert:
    """Above the segment cards: how many customers the algorithm left outside every segment."""
    return dbc.Alert([html.Strong(noise_text(n_noise, n_customers) + ". "),
                      "Their segment is only the closest match, so the cards describe them "
                      "less well than the rest."], color="warning", className="small py-2 mb-0")


def create_fit_message(algorithm: str, customers: int, seconds: float) -> list:
    """The busy state of a slow fit: what runs on how many customers, and for how long."""
    return [html.Strong(f"Fitting {ALGORITHM_LABELS[algorithm]} on {customers:,} customers…"),
            html.Span(f" Usually about {max(1, round(seconds))} s. The segments shown stay "
                      "usable until the new ones are ready.", className="small")]


def create_status_note(message: str) -> dbc.Alert:
    """A neutral, dismissable note on what just happened (not an error)."""
    return dbc.Alert(message, color="secondary", dismissable=True, className="small py-2 mb-2")


def _text_colour_on(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (``#RRGGBB``)."""
    red, green, blue = (int(background[i:i + 2], 16) for i in (1, 3, 5))
    return "#000000" if 0.299 * red + 0.587 * green + 0.114 * blue > 150 else "#FFFFFF"


def create_number_field(column: str, hint: str) -> html.Label:
    """A number field for one behavioural column, labelled from the data dictionary.

    A text input with a numeric keypad, not ``type="number"``: a number input hands an
    out-of-range or half-typed value to the server as empty, so it could not say what is wrong.
    The server checks the value and fills the feedback line under the field.
    """
    spec = COLUMN_BY_NAME[column]
    return html.Label([
        html.Span(spec.label, className="small"),
        dbc.Input(id={"type": ids.SCORE_FIELD, "column": column}, type="text",
                  inputmode="decimal", size="sm", placeholder=hint, autocomplete="off"),
        dbc.FormFeedback(id={"type": ids.SCORE_FEEDBACK, "column": column}, type="invalid"),
    ], title=f"{spec.description} ({column})", className="d-block mb-2")


def create_field_group(title: str, unit: str, fields: list) -> html.Fieldset:
    """Related form fields under one heading that names their unit."""
    return html.Fieldset([
        html.Legend([title, html.Span(f" · {unit}", className="fw-normal text-muted small")],
                    className="fs-6 fw-semibold mb-1"),
        *fields,
    ], className="mb-3")


def create_model_description(title: str, source: str, details: str, in_use: bool) -> html.Div:
    """Which model: where it comes from and its settings, marked when the page scores with it."""
    return html.Div([
        html.Div([html.Span(title, className="fw-semibold"),
                  dbc.Badge("in use", color="primary", className="ms-2") if in_use else None]),
        html.Div(source),
        html.Div(details, className="small text-muted"),
    ], className="mb-2")


def create_segment_result(segment: int, name: str, description: str | None, distance: float,
                          typical: float | None, model_source: str,
                          notes: list[str]) -> html.Div:
    """The segment found for one customer: number and name in its colour, meaning, distance."""
    colour = segment_colour(segment)
    typical_text = f" (its members are typically {typical:.2f} away)" if typical is not None \
        else ""
    return html.Div([
        html.Div("This customer belongs to", className="small text-muted mb-1"),
        html.Div(f"{segment} · {name}", className="fs-5 fw-semibold rounded px-2 py-1 mb-2",
                 style={"backgroundColor": colour, "color": _text_colour_on(colour)}),
        html.P(description or "Descriptions come with the current segmentation; a model file "
               "carries segment names only.",
               className="small mb-2" + ("" if description else " text-muted")),
        html.Div(explained(f"Distance to the segment's centre: {distance:.2f}{typical_text}",
                           "distance"), className="small"),
        html.Div(f"Model: {model_source}", className="small text-muted"),
        *[dbc.Alert(note, color="warning", className="small py-1 px-2 mt-2 mb-0")
          for note in notes],
    ])


def create_batch_summary(source: str, counts: list[tuple[int, str, int]],
                         model_source: str) -> html.Div:
    """Customers per segment for a scored file: number and name, count and share."""
    total = sum(count for _, _, count in counts)
    rows = [html.Tr([
        html.Td([html.Span(className="c2c-swatch me-2 align-middle",
                           style={"backgroundColor": segment_colour(segment)}),
                 f"{segment} · {name}"]),
        html.Td(f"{count:,}", className="text-end"),
        html.Td(f"{count / total:.1%}" if total else "–", className="text-end"),
    ]) for segment, name, count in counts]
    head = html.Thead(html.Tr([html.Th("Segment"), html.Th("Customers", className="text-end"),
                               html.Th("Share", className="text-end")]))
    return html.Div([
        html.Div([html.Strong(source), f" · {total:,} customers scored"]),
        html.Div(f"Model: {model_source}", className="small text-muted mb-2"),
        dbc.Table([head, html.Tbody(rows)], size="sm", className="small mb-0"),
    ])


def create_plan_form(plan: CampaignPlan) -> dbc.Row:
    """The editable fields of one segment's plan, filled with ``plan``."""
    values = form_values(plan)

    def field_input(field):
        field_id = {"type": ids.PLAN_FIELD, "field": field.name}
        if field.kind == "channel":
            options = list(dict.fromkeys([*CHANNEL_OPTIONS, plan.channel]))
            return dbc.Select(id=field_id, options=options, value=values[field.name])
        kind = {"text": "text", "date": "date"}.get(field.kind, "number")
        # no min / max: the browser would send nothing for a value outside them, and the
        # server's message says what is allowed and what was typed
        return dbc.Input(id=field_id, type=kind, value=values[field.name], debounce=True,
                         step="any")

    return dbc.Row([dbc.Col([dbc.Label(f.heading, className="small fw-semibold mb-0"),
                             field_input(f), dbc.FormText(f.help) if f.help else None],
                            md=6, xl=4) for f in FIELDS], className="g-3")


def create_projection(projection: Projection) -> dbc.Card:
    """What the plan is expected to do, in numbers, with the measurement warning if any."""
    roi = "—" if projection.roi is None else f"{projection.roi:.0%}"
    mde = "—" if projection.mde is None else f"{100 * projection.mde:.2f} points"
    figures = [
        ("Audience", f"{projection.audience:,}"), ("Contacted", f"{projection.treated:,}"),
        (explained("Control group", "control_group"), f"{projection.control:,}"),
        ("Not contacted (budget cap)", f"{projection.not_contacted:,}"),
        ("Total cost", money(projection.total_cost)),
        ("Expected responders", f"{projection.expected_responders:,.0f}"),
        (explained("Incremental revenue", "incremental_revenue"),
         money(projection.incremental_revenue)), (explained("ROI", "roi"), roi),
        (explained("Smallest measurable uplift", "mde"), mde),
    ]
    return dbc.Card(dbc.CardBody([
        html.H6("Projection", className="card-title"),
        html.Dl([part for title, value in figures
                 for part in (html.Dt(title, className="col-7 fw-normal text-muted"),
                              html.Dd(value, className="col-5 text-end fw-semibold mb-1"))],
                className="row mb-2 small"),
        html.Div("Capped by the budget: the member list marks the customers left out as "
                 "not_contacted.", className="small text-muted mb-2")
        if projection.capped_by_budget else None,
        dbc.Alert(projection.warning, color="warning", className="small py-2 mb-0")
        if projection.warning else dbc.Alert("The control group can measure the expected "
                                             "uplift.", color="success",
                                             className="small py-2 mb-0"),
    ]), className="h-100")


def create_allocation_table(allocation: Allocation, names: list[str]) -> dbc.Table:
    """Who gets how much of the portfolio budget, and why."""
    head = html.Thead(html.Tr([html.Th(h) for h in (
        "Segment", "Plan", explained("ROI", "roi"), "Can contact", "Funded", "Spend",
        explained("Incremental revenue", "incremental_revenue"), "Why")]))
    body = [html.Tr([
        html.Td(f"{line.segment} · {names[line.segment - 1]}"), html.Td(line.plan_name),
        html.Td("—" if line.roi is None else f"{line.roi:.0%}"), html.Td(f"{line.available:,}"),
        html.Td(f"{line.funded:,}"), html.Td(money(line.spent)),
        html.Td(money(line.incremental_revenue)), html.Td(line.reason, className="small"),
    ]) for line in sorted(allocation.lines, key=lambda line: line.segment)]
    total = html.Tr([html.Th("Total"), html.Td(), html.Th(
        "—" if allocation.roi is None else f"{allocation.roi:.0%}"), html.Td(),
        html.Td(), html.Th(money(allocation.spent)),
        html.Th(money(allocation.incremental_revenue)),
        html.Td(f"{money(allocation.remaining)} left unspent", className="small")])
    return dbc.Table([head, html.Tbody([*body, total])], size="sm", hover=True,
                     className="small")
