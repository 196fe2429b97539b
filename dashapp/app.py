"""The Dash app factory."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Dash, html

from dashapp.config import Settings


def create_app(settings: Settings | None = None) -> Dash:
    """Build the app: vendored Bootstrap from ``assets/``, settings from the environment."""
    settings = settings or Settings.from_env()
    app = Dash(__name__, title="Clusters to Campaigns", assets_folder="../assets")
    app.server.config.update(SECRET_KEY=settings.secret_key)
    app.layout = dbc.Container(html.H1("Clusters to Campaigns"), className="py-4")
    return app
