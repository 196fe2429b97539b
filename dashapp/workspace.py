"""Whose data a request may see: the signed-in user's workspace, else the browser session's.

Data sets, their results and campaign plans belong to one workspace. Without sign-in, each
browser gets a random workspace id in its (signed) session cookie on first use, so two browsers
never see each other's uploads, even when one knows the other's data set id.
"""

from __future__ import annotations

import secrets

from flask import has_request_context, session

from dashapp.auth import current_workspace

SESSION_KEY = "c2c_workspace"


def workspace_id() -> str | None:
    """``user:<name>`` when signed in, else ``browser:<random id>``; None outside a request.

    Outside a request (a background job) there is nobody to ask: the job's input was checked
    by the request that started it.
    """
    if not has_request_context():
        return None
    name = current_workspace()
    if name:
        return f"user:{name}"
    token = session.get(SESSION_KEY)
    if not isinstance(token, str):
        token = session[SESSION_KEY] = secrets.token_urlsafe(16)
        session.permanent = True
    return f"browser:{token}"
