"""Sign-in: with a users file (``C2C_USERS_FILE``), every route needs a signed-in session.

People sign in with the form at ``/login`` (Flask-Login; the cookie holds the id of a session
kept in the cache folder, ended by ``/logout`` or 12 hours without use); scripts send the same
user name and password with HTTP Basic on each request. Without a session, page requests are
redirected to ``/login?next=...`` and everything else (``/_dash-*``, ``/assets``, ...) answers
401. Failed sign-ins are limited per client address and per user name with Flask-Limiter; its
counts live in the memory of each process (each gunicorn worker counts its own, so N workers
allow up to N times the limit).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import diskcache
from dash import Dash
from flask import (
    Response,
    current_app,
    g,
    has_request_context,
    redirect,
    render_template_string,
    request,
    session,
    url_for,
)
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from limits import parse

from core.users import UserFileError, Users
from dashapp.config import Settings

LOGIN_LIMIT = "10 per minute"  # failed sign-ins, per client address and per user name
SESSION_LIFETIME = timedelta(hours=12)  # a session ends after this long without a request
PUBLIC_ASSETS = ("bootstrap.min.css", "style.css")  # the sign-in page's look: nothing private
REALM = "Clusters to Campaigns"
LOGIN, LOGOUT = "c2c_login", "c2c_logout"

LOGIN_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Sign in · Clusters to Campaigns</title>
  <link rel="icon" type="image/x-icon" href="{{ favicon }}">
  {% for sheet in stylesheets %}<link rel="stylesheet" href="{{ sheet }}">
  {% endfor %}
</head>
<body>
  <nav class="navbar navbar-dark bg-dark mb-2">
    <div class="container-xxl">
      <span class="navbar-brand"><span class="c2c-logo">◆</span> Clusters to Campaigns</span>
    </div>
  </nav>
  <main class="container-xxl py-3">
    <div class="card c2c-login">
      <div class="card-body">
        <h1 class="h4 mb-1">Sign in</h1>
        <p class="text-muted small mb-3">Segment customers by behaviour and plan a campaign
          for each segment.</p>
        {% if error %}
        <div class="alert alert-danger py-2" role="alert">{{ error }}</div>
        {% endif %}{% if notice %}
        <div class="alert alert-info py-2" role="status">{{ notice }}</div>
        {% endif %}
        <form method="post" action="{{ action }}">
          <input type="hidden" name="next" value="{{ next }}">
          <div class="mb-3">
            <label class="form-label" for="username">User name</label>
            <input class="form-control" id="username" name="username" value="{{ username }}"
                   autocomplete="username" autocapitalize="none" spellcheck="false" required
                   {% if not username %}autofocus{% endif %}>
          </div>
          <div class="mb-3">
            <label class="form-label" for="password">Password</label>
            <input class="form-control" id="password" name="password" type="password"
                   autocomplete="current-password" required
                   {% if username %}autofocus{% endif %}>
          </div>
          <button class="btn btn-primary w-100" id="sign-in" type="submit">Sign in</button>
        </form>
      </div>
    </div>
    <p class="c2c-login-note text-muted small">Accounts are managed with
      <code>c2c users</code> on the server.</p>
  </main>
</body>
</html>
"""


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else ``/``: sign-in never redirects elsewhere."""
    if (not target or not target.startswith("/") or target.startswith("//") or "\\" in target
            or any(ord(c) <= 32 or ord(c) == 127 for c in target)):
        return "/"
    parts = urlsplit(target)
    return "/" if parts.scheme or parts.netloc else target


def current_workspace() -> str | None:
    """The signed-in user's name, to key their private workspace.

    None when the app has no sign-in, or outside a request (background jobs run in another
    process: pass the name to them as an argument).
    """
    if not has_request_context() or not hasattr(current_app, "login_manager"):
        return None
    return current_user.name if current_user.is_authenticated else None


class User(UserMixin):
    """A signed-in user; ``id`` is their server-side session's (empty for HTTP Basic)."""

    def __init__(self, name: str, session_id: str = "") -> None:
        self.name = name
        self.id = session_id


class _UserFile:
    """The users file, read again whenever it changes (``c2c users`` while the app runs)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        users = Users.read(path)  # a missing or broken file stops the app at start
        self._cache = (self._stamp(), users)

    def _stamp(self) -> tuple[int, int, int]:
        status = os.stat(self.path)
        return status.st_ino, status.st_mtime_ns, status.st_size

    def users(self) -> Users:
        """The users now; nobody while the file is missing or broken (the log says why)."""
        try:
            stamp = self._stamp()
            if stamp != self._cache[0]:
                self._cache = (stamp, Users.read(self.path))
        except (OSError, UserFileError) as exc:
            current_app.logger.error("nobody can sign in: %s", exc)
            return Users()
        return self._cache[1]

    def fingerprint(self, name: str) -> str | None:
        """A digest of the user's password hash; None if there is no such user now."""
        hashed = self.users().hashes.get(name)
        return hashlib.sha256(hashed.encode()).hexdigest() if hashed else None


class _Sessions:
    """Signed-in sessions, kept on the server in the shared cache folder.

    The cookie carries only a random session id. Each session records its user and the
    fingerprint of their password hash, so signing out, a new password or removing the user ends
    it even where a copy of the cookie survives; so does SESSION_LIFETIME without a request.
    """

    def __init__(self, folder: Path, users: _UserFile) -> None:
        self._records = diskcache.Cache(str(folder))
        self._users = users

    def start(self, name: str) -> User:
        session_id = secrets.token_urlsafe(32)
        self._records.set(session_id, (name, self._users.fingerprint(name)),
                          expire=SESSION_LIFETIME.total_seconds())
        return User(name, session_id)

    def user(self, session_id: str) -> User | None:
        record = self._records.get(session_id)
        if record is None or record[1] != self._users.fingerprint(record[0]):
            return None
        self._records.touch(session_id, expire=SESSION_LIFETIME.total_seconds())
        return User(record[0], session_id)

    def end(self, session_id: str) -> None:
        self._records.delete(session_id)


class _FailedSignIns:
    """Failed sign-ins (form and HTTP Basic) per client address and per user name."""

    def __init__(self, limiter: Limiter) -> None:
        self._limiter = limiter
        self._limit = parse(LOGIN_LIMIT)

    def _keys(self, name: str) -> list[tuple[str, str]]:
        return [("address", get_remote_address() or "unknown"), ("user", name.strip().lower()[:64])]

    def retry_after(self, name: str) -> int:
        """Seconds until ``name`` may try again from this address; 0 if it may now."""
        waits = [self._limiter.limiter.get_window_stats(self._limit, "sign-in", *key).reset_time
                 - time.time() for key in self._keys(name)
                 if not self._limiter.limiter.test(self._limit, "sign-in", *key)]
        return max(1, int(max(waits)) + 1) if waits else 0

    def record(self, name: str) -> None:
        for key in self._keys(name):
            self._limiter.limiter.hit(self._limit, "sign-in", *key)


def install_auth(app: Dash, settings: Settings) -> None:
    """Require sign-in on every route when ``settings.users_file`` is set; else do nothing.

    Raises
    ------
    UserFileError
        If the users file is missing or malformed.
    """
    if settings.users_file is None:
        return
    server = app.server
    users = _UserFile(settings.users_file)
    sessions = _Sessions(settings.cache_dir / "sessions", users)
    if not server.secret_key:  # one process (c2c serve): its sessions end when it stops
        server.secret_key = secrets.token_hex(32)
    server.config.update(SESSION_COOKIE_NAME="c2c_session",
                         PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME)
    failures = _FailedSignIns(Limiter(get_remote_address, app=server, storage_uri="memory://",
                                      strategy="moving-window"))
    manager = LoginManager(server)
    manager.user_loader(sessions.user)

    @manager.request_loader
    def load_from_basic_auth(req) -> User | None:
        auth = req.authorization
        if auth is None or auth.type != "basic":
            return None
        name = auth.username or ""
        g.sign_in_wait = failures.retry_after(name)
        if g.sign_in_wait:
            return None
        verified = users.users().verify(name, auth.password or "")
        if verified is None:
            failures.record(name)
            return None
        return User(verified)

    def page(status: int = 200, **values) -> Response:
        html = render_template_string(
            LOGIN_PAGE, action=url_for(LOGIN), favicon=app.get_relative_path("/_favicon.ico"),
            stylesheets=[app.get_asset_url(name) for name in PUBLIC_ASSETS],
            **{"error": None, "notice": None, "username": "", "next": "/", **values})
        return Response(html, status, mimetype="text/html")

    def login() -> Response:
        target = safe_next(request.values.get("next"))
        if request.method == "GET":
            if current_user.is_authenticated:
                return redirect(target)
            return page(next=target, notice="You have signed out." if "signed_out" in
                        request.args else None)
        name = request.form.get("username", "")
        if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
            return page(403, next=target, error="Sign in from this site's own sign-in page.")
        wait = failures.retry_after(name)
        if wait:
            response = page(429, next=target, username=name, error=f"Too many failed sign-ins; "
                            f"try again in {wait} seconds.")
            response.headers["Retry-After"] = str(wait)
            return response
        verified = users.users().verify(name, request.form.get("password", ""))
        if verified is None:
            failures.record(name)
            return page(401, next=target, username=name, error="Wrong user name or password.")
        session.clear()
        login_user(sessions.start(verified))
        session.permanent = True
        return redirect(target, 303)

    def logout() -> Response:
        if current_user.is_authenticated and current_user.id:
            sessions.end(current_user.id)
        logout_user()
        session.clear()
        return redirect(url_for(LOGIN, signed_out=1))

    server.add_url_rule("/login", LOGIN, login, methods=["GET", "POST"])
    server.add_url_rule("/logout", LOGOUT, logout)

    prefix = app.config.routes_pathname_prefix
    public_endpoints = {LOGIN, LOGOUT, prefix + "_favicon.ico"}
    public_paths = {app.get_asset_url(name) for name in PUBLIC_ASSETS}
    page_endpoints = {prefix, prefix + "<path:path>"}  # Dash's index: the pages themselves

    def require_sign_in() -> Response | None:
        if request.endpoint in public_endpoints or request.path in public_paths:
            return None
        if current_user.is_authenticated:
            return None
        if g.get("sign_in_wait"):
            return Response("Too many failed sign-ins; try again later.\n", 429,
                            {"Retry-After": str(g.sign_in_wait)}, mimetype="text/plain")
        if request.method in ("GET", "HEAD") and request.endpoint in page_endpoints:
            query = request.query_string.decode("utf-8", "replace")
            here = request.path + (f"?{query}" if query else "")
            return redirect(url_for(LOGIN, next=here))
        response = Response("Sign in at /login, or send a user name and password with HTTP "
                            "Basic.\n", 401, mimetype="text/plain")
        if request.authorization is not None:  # a script's credentials were wrong: challenge
            response.headers["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
        return response

    # First of all request hooks: nothing of Dash runs for a request that is not signed in.
    server.before_request_funcs.setdefault(None, []).insert(0, require_sign_in)
