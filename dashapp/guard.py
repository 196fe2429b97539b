"""The last line of defence for ``/_dash-update-component``: a request that no callback can
answer gets HTTP 400, never a 5xx with a traceback.

Callbacks validate what they receive themselves; what reaches this handler is a forged request
whose shape does not fit the callback (e.g. another number of pattern-matched outputs, which
Dash refuses) or a bug. Both are logged with their traceback on the server; the answer says
only that the request could not be processed, and ``X-C2C-Rejected`` tells tests which it was.
"""

from __future__ import annotations

import logging

import flask
from dash.exceptions import DashException
from werkzeug.exceptions import HTTPException

LOG = logging.getLogger(__name__)
CALLBACK_ROUTE = "/_dash-update-component"
REJECTED_HEADER = "X-C2C-Rejected"


def install_guard(server: flask.Flask) -> None:
    """Answer unhandled errors of callback requests with 400 instead of 500."""

    @server.errorhandler(Exception)
    def reject(error: Exception):
        if isinstance(error, HTTPException) or not flask.request.path.endswith(CALLBACK_ROUTE):
            return error if isinstance(error, HTTPException) else _internal(error)
        shape = isinstance(error, DashException)
        LOG.warning("callback request refused (%s)", "does not fit the callback" if shape
                    else "unexpected error", exc_info=error)
        response = flask.jsonify(message="The request could not be processed.")
        response.status_code = 400
        response.headers[REJECTED_HEADER] = "shape" if shape else "error"
        return response


def _internal(error: Exception) -> flask.Response:
    """Any other route: Flask's own 500, without the traceback in the page."""
    LOG.error("unhandled error on %s", flask.request.path, exc_info=error)
    return flask.Response("Internal server error", status=500, mimetype="text/plain")
