"""The Dash app factory: shell (navbar, state, footer) around the pages in ``dashapp/pages``."""

from __future__ import annotations

import secrets
import uuid

import dash
import diskcache
from dash import ALL, Dash, Input, Output, State, dcc, html, no_update

from core.pipeline import SegmentationConfig
from core.resources import shipped_folder
from dashapp import ids
from dashapp.auth import install_auth
from dashapp.components import create_footer_text, create_navbar, create_notice
from dashapp.config import MB, Settings
from dashapp.downloads import install_downloads
from dashapp.guard import install_guard
from dashapp.security import install_security
from dashapp.state import parse_query, parse_state
from dashapp.store import Store, configure_store, get_store

JOB_RESULT_SECONDS = 3600  # unread background results expire after an hour
ASSETS_FOLDER = shipped_folder("dashapp", "assets")  # CSS, incl. the vendored Bootstrap


def background_manager(settings: Settings):
    """Celery + Redis when REDIS_URL is set, else diskcache in the shared cache directory."""
    if settings.redis_url:
        try:
            from celery import Celery
        except ImportError:
            raise RuntimeError("REDIS_URL is set, but Celery is not installed: "
                               "pip install '.[celery]'") from None

        celery = Celery(__name__, broker=settings.redis_url, backend=settings.redis_url)
        return dash.CeleryManager(celery, expire=JOB_RESULT_SECONDS)
    jobs = diskcache.Cache(str(settings.cache_dir / "jobs"))
    return dash.DiskcacheManager(jobs, expire=JOB_RESULT_SECONDS)


def _shell() -> html.Div:
    """The layout around every page; a function, so each page load gets its own nonce."""
    return html.Div([
        dcc.Location(id=ids.URL, refresh="callback-nav"),
        dcc.Store(id=ids.STATE),
        dcc.Store(id=ids.QUERY),
        dcc.Store(id=ids.SELECTION),  # the map's lasso outline, kept across pages for exports
        dcc.Store(id=ids.NONCE, data=uuid.uuid4().hex),
        create_navbar(),
        html.Div(id=ids.NOTICE, className="container-xxl"),
        html.Main(dash.page_container, className="container-xxl py-3"),
        html.Footer(id=ids.FOOTER, className="c2c-footer container-xxl"),
    ])


def create_app(settings: Settings | None = None, manager=None) -> Dash:
    """Build the app.

    Parameters
    ----------
    settings : Settings, optional
        Deployment settings; read from the environment when omitted.
    manager : DiskcacheManager or CeleryManager, optional
        Runs background callbacks; :func:`background_manager` of the settings when omitted.
    """
    settings = settings or Settings.from_env()
    store = Store(settings.cache_dir / "store", settings.plans_url,
                  retention_hours=settings.retention_hours, prefetch=settings.prefetch,
                  starting_file=settings.data_file)
    store.segmentation(store.starting_id, SegmentationConfig())  # the first page opens warm
    configure_store(store)
    app = Dash(__name__, use_pages=True, pages_folder="pages", assets_folder=str(ASSETS_FOLDER),
               title="Clusters to Campaigns", suppress_callback_exceptions=False,
               background_callback_manager=manager or background_manager(settings))
    app.server.config.update(MAX_CONTENT_LENGTH=int(settings.upload_max_bytes * 1.4) + MB,
                             C2C_UPLOAD_MAX_BYTES=settings.upload_max_bytes)
    # sessions carry the workspace id: c2c serve without SECRET_KEY signs them with a key of
    # its own process (gunicorn refuses to start without one)
    app.server.config.update(SECRET_KEY=settings.secret_key or secrets.token_hex(32))
    install_security(app, settings)
    install_guard(app.server)
    install_auth(app, settings)
    install_downloads(app.server)
    app.layout = _shell
    return app


@dash.callback(Output(ids.STATE, "data"), Output(ids.NOTICE, "children"),
               Input(ids.URL, "search"))
def state_from_url(search: str | None) -> tuple[dict, object]:
    """Opening or following a link sets the view state from its query string."""
    state = parse_query(search)
    store = get_store()
    notice = None
    if state.data is not None and not store.has(state.data):
        notice = (f"The data set in this link is not available to you: uploads are private "
                  f"to whoever uploaded them and kept for {store.retention_seconds / 3600:g} "
                  f"hours. Showing {store.starting_name} instead.")
    if state.data is None or notice:
        state = parse_state({**state.to_dict(), "data": store.starting_id})
    return state.to_dict(), create_notice(notice)


@dash.callback(Output(ids.FOOTER, "children"),
               Output({"type": ids.NAV_LINK, "page": ALL}, "href"),
               Output(ids.QUERY, "data"),
               Input(ids.STATE, "data"),
               State({"type": ids.NAV_LINK, "page": ALL}, "id"))
def follow_state(state: dict | None, links: list[dict]) -> tuple:
    """Footer names the data set; navigation links and the address bar carry the state."""
    view = parse_state(state)
    store = get_store()
    data = store.data(view.data) if view.data and store.has(view.data) else \
        store.data(store.starting_id)
    query = view.query()
    links = links if isinstance(links, list) else []
    pages = [link.get("page") if isinstance(link, dict) else None for link in links]
    return (create_footer_text(data), [f"{page}{query}" if isinstance(page, str) else no_update
                                       for page in pages], query)


# Write the state into the address bar without a navigation (no page re-render), so a copied
# link reproduces the view.
dash.clientside_callback(
    """function (query) {
        window.history.replaceState(null, "", window.location.pathname + (query || ""));
        return window.dash_clientside.no_update;
    }""",
    Output(ids.QUERY, "id"),
    Input(ids.QUERY, "data"),
)
