"""Files too large for a callback response (member lists, scored files) leave by a route.

The callback keeps the file's bytes in the shared store for the current workspace under a
random token and returns only a link; a clientside callback starts the download, so a million
customers' export never travels as base64 inside a callback response. The route is behind
sign-in like every page, and answers 404 to another workspace, as for a token that never was.
"""

from __future__ import annotations

import io

import dash
import flask
from dash import MATCH, Input, Output, dcc

from dashapp import ids
from dashapp.store import get_store

ROUTE = "/download/"
KEEP_SECONDS = 600  # a link works this long after the click that made it


def download_link(name: str) -> dcc.Store:
    """Where the callback of the ``name`` download puts :func:`offer_file`'s link."""
    return dcc.Store(id={"type": ids.DOWNLOAD_LINK, "name": name})


def offer_file(content: bytes, filename: str) -> dict:
    """Keep ``content`` for this workspace; the link a :func:`download_link` store takes."""
    return {"url": ROUTE + get_store().keep_file(content, filename, KEEP_SECONDS),
            "filename": filename}


def install_downloads(server: flask.Flask) -> None:
    """Serve the kept files (each as an attachment, under its file name)."""

    @server.get(ROUTE + "<token>")
    def download(token: str) -> flask.Response:
        kept = get_store().kept_file(token)
        if kept is None:
            flask.abort(404)
        content, filename = kept
        return flask.send_file(io.BytesIO(content), as_attachment=True, download_name=filename,
                               max_age=0)


# A new link starts its download in the browser: the page stays where it is.
dash.clientside_callback(
    """function (link) {
        if (link && typeof link.url === "string" && link.url.startsWith("/download/")) {
            const anchor = document.createElement("a");
            anchor.href = link.url;
            anchor.download = link.filename || "";
            document.body.appendChild(anchor);
            anchor.click();
            anchor.remove();
        }
        return window.dash_clientside.no_update;
    }""",
    Output({"type": ids.DOWNLOAD_LINK, "name": MATCH}, "id"),  # never set: no_update
    Input({"type": ids.DOWNLOAD_LINK, "name": MATCH}, "data"),
)
