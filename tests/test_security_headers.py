"""Security headers on pages, assets and callback responses (the session-wide app, no users)."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import pytest

from dashapp import ids
from tests.dash_helpers import cards, plot_js, wait_for

CALLBACK = {  # state_from_url in dashapp/app.py: the first callback every page load fires
    "output": f"..{ids.STATE}.data...{ids.NOTICE}.children..",
    "outputs": [{"id": ids.STATE, "property": "data"}, {"id": ids.NOTICE, "property": "children"}],
    "inputs": [{"id": ids.URL, "property": "search", "value": "?k=5"}],
    "changedPropIds": [f"{ids.URL}.search"], "state": [],
}


@pytest.fixture
def client(app):
    return app.server.test_client()


def directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in policy.split(";"))}


def inline_script_hashes(page: str) -> set[str]:
    """The CSP hash of each script in the page that runs inline (not JSON data, not src=)."""
    bodies = re.findall(r"<script(?![^>]*(?:src=|application/json))[^>]*>(.*?)</script>",
                        re.sub(r"<!--.*?-->", "", page, flags=re.S), flags=re.S)
    return {"'sha256-" + base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() + "'"
            for b in bodies}


def responses(client) -> dict[str, object]:
    page = client.get("/segments")
    return {
        "page": page,
        "asset": client.get("/assets/style.css"),
        "script": client.get(re.search(r'<script src="([^"]+dash_renderer[^"]+)"',
                                       page.text).group(1)),
        "layout": client.get("/_dash-layout"),
        "callback": client.post("/_dash-update-component", json=CALLBACK),
        "missing": client.get("/assets/no-such-file.css"),
    }


def test_every_kind_of_response_carries_the_headers(client):
    for kind, response in responses(client).items():
        assert response.status_code == (404 if kind == "missing" else 200), kind
        assert response.headers["X-Frame-Options"] == "DENY", kind
        assert response.headers["X-Content-Type-Options"] == "nosniff", kind
        assert response.headers["Referrer-Policy"] == "same-origin", kind
        assert directives(response)["frame-ancestors"] == ["'none'"], kind
        assert "Strict-Transport-Security" not in response.headers  # plain HTTP, no C2C_HTTPS
        assert "Server" not in response.headers  # the app adds no version banner


def test_the_policy_allows_this_server_only_and_exactly_the_inline_scripts_dash_renders(client):
    page = client.get("/")
    policy = directives(page)
    assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert policy["connect-src"] == ["'self'"] and policy["base-uri"] == ["'self'"]
    scripts = policy["script-src"]
    assert scripts[:2] == ["'self'", "'unsafe-eval'"] and "'unsafe-inline'" not in scripts
    assert inline_script_hashes(page.text) <= set(scripts[1:])
    assert len(inline_script_hashes(page.text)) >= 2  # clientside callbacks and the renderer
    sources = [s for values in policy.values() for s in values]
    assert not [s for s in sources if s.startswith(("http", "*")) or "." in s.strip("'")]


def test_a_cross_site_text_plain_post_does_not_run_a_callback(client):
    """A form on another site can send text/plain without a CORS preflight; Dash wants JSON."""
    answer = client.post("/_dash-update-component", data=json.dumps(CALLBACK),
                         content_type="text/plain")
    assert answer.status_code == 415


@pytest.mark.browser
def test_the_policy_lets_the_webgl_segment_map_draw(dash_duo, app):
    """plotly's WebGL traces need 'unsafe-eval'; blocked, the map says so and logs nothing."""
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/segments")
    wait_for(dash_duo, lambda: cards(dash_duo) == 4, "segment cards")
    wait_for(dash_duo, lambda: dash_duo.driver.execute_script(
        plot_js(ids.SEGMENT_MAP, "gd._fullData.length")), "a drawn segment map")
    assert "WebGL is not supported" not in dash_duo.find_element(f"#{ids.SEGMENT_MAP}").text
    assert dash_duo.get_logs() == []
