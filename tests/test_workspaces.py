"""Private workspaces: one browser (or signed-in user) never sees another's data sets or plans,
even with their ids, and an id of another workspace answers like one that never existed."""

from __future__ import annotations

import base64
import json

import pytest
import requests

from core.demo import generate_demo_data
from dashapp import ids
from dashapp.store import get_store
from tests.auth_servers import USERS, serving, sign_in_env
from tests.dash_helpers import TIMEOUT, wait_for

PLAN_FIELDS = '{"field":["ALL"],"type":"plan-field"}'


class Browser:
    """Callback requests as the renderer sends them, with one cookie jar (one session)."""

    def __init__(self, post, dependencies: list[dict]) -> None:
        self.post = post
        self.dependencies = dependencies

    def call(self, trigger: str, values: dict[str, object], output: str = "") -> dict:
        """Run the callback whose first input is ``trigger`` (``id.prop``) and whose outputs
        name ``output``, with ``values`` (by ``id.prop``) for its inputs and states."""
        dependency = next(d for d in self.dependencies if output in d["output"] and
                          f"{d['inputs'][0]['id']}.{d['inputs'][0]['property']}" == trigger)

        def entry(item):
            name = f"{item['id']}.{item['property']}"
            return {"id": item["id"], "property": item["property"], "value": values.get(name)}

        outputs = [{"id": o.split("@")[0].rpartition(".")[0],
                    "property": o.split("@")[0].rpartition(".")[2]}
                   for o in dependency["output"].strip(".").split("...")]
        body = {"output": dependency["output"],
                "outputs": outputs if dependency["output"].startswith("..") else outputs[0],
                "inputs": [entry(i) for i in dependency["inputs"]],
                "state": [entry(s) for s in dependency.get("state", [])],
                "changedPropIds": [f"{dependency['inputs'][0]['id']}."
                                   f"{dependency['inputs'][0]['property']}"]}
        response = self.post("/_dash-update-component", body)
        assert response.status_code == 200, response.status_code
        return response.json() if callable(getattr(response, "json", None)) else \
            response.get_json()


def _csv_upload() -> str:
    content = generate_demo_data(120, seed=5).to_csv(index=False).encode()
    return "data:text/csv;base64," + base64.b64encode(content).decode()


def _upload(browser: Browser, name: str) -> str:
    """Upload a file on the Data page; the id of the new data set."""
    answer = browser.call(f"{ids.UPLOAD}.contents", {f"{ids.UPLOAD}.contents": _csv_upload(),
                                                    f"{ids.UPLOAD}.filename": name,
                                                    f"{ids.STATE}.data": {}})
    return answer["response"][ids.STATE]["data"]["data"]


def _open_link(browser: Browser, data_id: str) -> tuple[dict, str]:
    """Follow a link with ``data_id``: the view state and the notice it shows."""
    answer = browser.call(f"{ids.URL}.search",
                          {f"{ids.URL}.search": f"?data={data_id}&k=3"}, ids.NOTICE)["response"]
    return answer[ids.STATE]["data"], json.dumps(answer[ids.NOTICE]["children"])


def _summary(browser: Browser, state: dict) -> str:
    """The Data page's summary of the data set ``state`` names."""
    answer = browser.call(f"{ids.STATE}.data", {f"{ids.STATE}.data": state}, ids.DATA_SUMMARY)
    return json.dumps(answer["response"][ids.DATA_SUMMARY]["children"])


def _test_client_browser(app) -> Browser:
    client = app.server.test_client()
    dependencies = client.get("/_dash-dependencies").get_json()
    return Browser(lambda path, body: client.post(path, json=body), dependencies)


def test_two_browsers_never_share_uploads(app):
    alice, bob = _test_client_browser(app), _test_client_browser(app)
    data_id = _upload(alice, "alice-cards.csv")
    assert len(data_id) >= 24 and data_id != get_store().data(data_id).content_hash
    state, notice = _open_link(alice, data_id)
    assert state["data"] == data_id and "null" in notice
    assert "alice-cards.csv" in _summary(alice, state)
    # Bob has Alice's link: he gets the demo, told exactly what an unknown id tells
    state, notice = _open_link(bob, data_id)
    assert state["data"] == get_store().starting_id
    _, unknown_notice = _open_link(bob, "x" * 32)
    assert notice == unknown_notice and "not available to you" in notice
    # ... and a forged view state with her id shows him the demo data, never her file
    summary = _summary(bob, {"data": data_id, "k": 3})
    assert "alice-cards.csv" not in summary and "Demo customers" in summary


def test_signed_in_users_have_private_data_and_plans(tmp_path):
    """Two users of a server with sign-in (HTTP Basic, as a script signs in)."""
    env = sign_in_env(tmp_path, SECRET_KEY="workspace-test")
    with serving(tmp_path, env) as url:
        def user(name: str) -> Browser:
            session = requests.Session()
            session.auth = (name, USERS[name])
            dependencies = session.get(f"{url}/_dash-dependencies", timeout=30).json()
            return Browser(lambda path, body: session.post(url + path, json=body, timeout=60),
                           dependencies)

        ana, bea = user("ana"), user("bea")
        data_id = _upload(ana, "ana-cards.csv")
        assert "ana-cards.csv" in _summary(ana, {"data": data_id})
        assert "ana-cards.csv" not in _summary(bea, {"data": data_id})
        state, notice = _open_link(bea, data_id)
        assert state["data"] == get_store_demo_id(url, bea) and "not available" in notice


def get_store_demo_id(url: str, browser: Browser) -> str:
    """The demo data's id as the server reports it (a link without data opens it)."""
    return _open_link(browser, "")[0]["data"]


def test_plans_are_kept_per_workspace(app):
    store = get_store()
    segmentation = store.segmentation(store.starting_id, store.active({}).config)
    keys = []
    for _ in range(2):
        with app.server.test_request_context("/"):
            keys.append(store.plan_key(segmentation))
            assert store.plan_key(segmentation) == keys[-1]  # stable within a session
    assert keys[0] != keys[1]  # two browsers, two plan books for the same demo segmentation


@pytest.mark.browser
def test_a_second_browser_session_cannot_open_the_first_ones_upload(dash_duo, app, tmp_path):
    """Session one uploads; session two (new cookies) follows the very same link."""
    mine = tmp_path / "private_cards.csv"
    generate_demo_data(300, seed=8).to_csv(mine, index=False)
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/data")
    dash_duo.wait_for_contains_text(f"#{ids.FOOTER}", "Demo customers", timeout=TIMEOUT)
    dash_duo.find_element(f"#{ids.UPLOAD} input[type=file]").send_keys(str(mine))
    dash_duo.wait_for_contains_text(f"#{ids.FOOTER}", "private_cards.csv", timeout=TIMEOUT)
    wait_for(dash_duo, lambda: "data=" in dash_duo.driver.current_url, "the id in the link")
    link = dash_duo.driver.current_url
    dash_duo.driver.delete_all_cookies()  # another browser: a session of its own
    dash_duo.driver.get(link)
    dash_duo.wait_for_contains_text(f"#{ids.NOTICE}", "not available to you", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text(f"#{ids.FOOTER}", "Demo customers", timeout=TIMEOUT)
    assert "private_cards.csv" not in dash_duo.find_element("body").text
    assert dash_duo.get_logs() == []
