"""HTTP hardening on every response, with or without sign-in.

A Content-Security-Policy that allows this server only (scripts: its files plus the hash of each
inline script Dash renders, no ``unsafe-inline``; ``unsafe-eval`` for plotly's WebGL; styles:
``unsafe-inline``, as Dash's components insert style elements), no framing, no MIME sniffing,
same-origin referrers, ``HttpOnly``/``SameSite=Lax`` session cookies, and ``Secure`` cookies
plus HSTS when served over HTTPS (``C2C_HTTPS=1``). Flask adds no ``Server`` header; the HTTP
server in front does (gunicorn: ``gunicorn``, no version; werkzeug under ``c2c serve``: its and
Python's versions).
"""

from __future__ import annotations

from collections.abc import Iterator

from dash import Dash
from flask_talisman import DENY, Talisman
from werkzeug.middleware.proxy_fix import ProxyFix

from dashapp.config import Settings


class _ScriptSources:
    """``script-src``: this server, and the hash of each inline script Dash renders.

    Talisman joins it anew for every response, so the pages router's script, which Dash adds
    at the first request, is covered as well.
    """

    def __init__(self, app: Dash) -> None:
        self._app = app

    def __iter__(self) -> Iterator[str]:
        # plotly.js's WebGL traces (the segment maps) build shader code with new Function();
        # without 'unsafe-eval' they show "WebGL is not supported" and log nothing
        return iter(["'self'", "'unsafe-eval'", *self._app.csp_hashes()])


def content_security_policy(app: Dash) -> dict:
    """The CSP directives: nothing from other sites, no plugins, no framing."""
    return {
        "default-src": "'self'",
        "script-src": _ScriptSources(app),
        # Dash's components and plotly.js insert <style> elements at run time (no nonce hook)
        "style-src": "'self' 'unsafe-inline'",
        "img-src": "'self' data: blob:",  # plotly's legend and modebar images
        "font-src": "'self' data:",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }


def install_security(app: Dash, settings: Settings) -> None:
    """Trust ``settings.proxies`` proxies' forwarded headers, and set the security headers."""
    server = app.server
    if settings.proxies:
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=settings.proxies,
                                   x_proto=settings.proxies)
    Talisman(server, force_https=False, strict_transport_security=settings.https,
             session_cookie_secure=settings.https, session_cookie_samesite="Lax",
             frame_options=DENY, referrer_policy="same-origin",
             content_security_policy=content_security_policy(app))
