"""Large files leave by the download route, for the workspace that asked for them only."""

from __future__ import annotations

from dashapp.downloads import ROUTE, offer_file
from dashapp.workspace import SESSION_KEY


def test_a_kept_file_downloads_for_its_workspace_and_nobody_else(app):
    with app.server.test_client() as client:
        with client.session_transaction() as session:  # this browser's workspace
            session[SESSION_KEY] = "browser-under-test"
        assert client.get(ROUTE + "none-yet").status_code == 404  # a request of that browser
        link = offer_file(b"CUST_ID,segment\nC1,2\n", "members k4.csv")
        assert link["url"].startswith(ROUTE) and link["filename"] == "members k4.csv"
        reply = client.get(link["url"])
        assert reply.status_code == 200 and reply.data == b"CUST_ID,segment\nC1,2\n"
        assert reply.headers["Content-Disposition"].startswith("attachment;")
        assert "members k4.csv" in reply.headers["Content-Disposition"]
        assert client.get(link["url"]).status_code == 200  # a retried download still works
    with app.server.test_client() as other:  # another browser: as if it never existed
        assert other.get(link["url"]).status_code == 404
        for token in ("nope", "x" * 5000, link["url"].rpartition("/")[2] + "x"):
            assert other.get(ROUTE + token).status_code == 404
