"""Every callback the app registers, sent hostile values the way an attacker would send them.

The callbacks are read from ``/_dash-dependencies``, so a new callback is covered without
writing a test for it. Each input and state in turn gets each hostile value (the others keep a
plausible value) and the answer must be a normal response or "no update": never a 5xx, never a
traceback. A request whose shape fits no callback (another number of pattern-matched outputs)
may be refused with 400; an unexpected error inside one of the app's callbacks fails the test
even though the guard answers it with 400 too. Dash's own page-routing callback trusts its input
to be text: there the guard's 400 is the defence.
"""

from __future__ import annotations

import json

from dashapp import ids
from dashapp.guard import REJECTED_HEADER
from dashapp.store import get_store

HOSTILE = [None, "abc", -1, 10**9, 2.5, 1e308, [], {}, "../../etc/passwd", "x" * 10_000,
           [{"a": 1}], {"x": [1e308] * 5}, True, ["a", "b"], [None],
           {"lasso": {"x": [0, 1, 2], "y": "abc"}, "map": []},
           {"lasso": {"x": list(range(200_000)), "y": list(range(200_000))}}]


DASH_OWN = ".._pages_content"  # Dash's page-routing callback


def _dependencies(app) -> list[dict]:
    response = app.server.test_client().get("/_dash-dependencies")
    return [d for d in response.get_json() if not d.get("clientside_function")]


def _spec(dependency_id: str) -> tuple[object, bool]:
    """A concrete component id for a dependency id, and whether it is a wildcard (ALL)."""
    if not dependency_id.startswith("{"):
        return dependency_id, False
    pattern = json.loads(dependency_id)
    wildcard = any(v in (["ALL"], ["ALLSMALLER"]) for v in pattern.values())
    concrete = {k: (1 if isinstance(v, list) else v) for k, v in pattern.items()}
    return concrete, wildcard


def _outputs(output: str) -> tuple[list, bool]:
    """The ``outputs`` of a request for a dependency's output string."""
    multi = output.startswith("..")
    parts = output.strip(".").split("...") if multi else [output]
    specs = []
    for part in parts:
        name, _, prop = part.split("@")[0].rpartition(".")
        component, wildcard = _spec(name)
        spec = {"id": component, "property": prop}
        specs.append([spec] if wildcard else spec)
    return specs, multi


def _plausible(item: dict, state: dict) -> object:
    if item["id"] == ids.STATE:
        return state
    if item["property"] == "n_clicks":
        return 1
    return None


def _slot(item: dict, value: object) -> object:
    """An ``inputs`` / ``state`` entry with ``value`` (a list of one match for wildcards)."""
    component, wildcard = _spec(item["id"])
    entry = {"id": component, "property": item["property"], "value": value}
    return [entry] if wildcard else entry


def _prop_id(item: dict) -> str:
    """``id.property`` as the renderer names a changed input (ids as compact sorted JSON)."""
    component, _ = _spec(item["id"])
    name = component if isinstance(component, str) else json.dumps(
        component, sort_keys=True, separators=(",", ":"))
    return f"{name}.{item['property']}"


def _payloads(dependency: dict, state: dict):
    """The request bodies: each slot with each hostile value, the others plausible."""
    outputs, multi = _outputs(dependency["output"])
    slots = [("inputs", i) for i in dependency["inputs"]] + \
        [("state", s) for s in dependency.get("state", [])]
    for position, (_, target) in enumerate(slots):
        for value in HOSTILE:
            body = {"output": dependency["output"], "outputs": outputs if multi else outputs[0],
                    "inputs": [], "state": [],
                    "changedPropIds": [_prop_id(target)]}
            for index, (kind, item) in enumerate(slots):
                chosen = value if index == position else _plausible(item, state)
                body[kind].append(_slot(item, chosen))
            yield target, value, body


def test_the_suite_covers_every_callback(app):
    dependencies = _dependencies(app)
    assert len(dependencies) >= 40
    assert all(d["inputs"] for d in dependencies)


def test_no_hostile_value_ends_in_a_server_error(app):
    client = app.server.test_client()
    state = {"data": get_store().starting_id}
    failures: dict[str, list[str]] = {}
    sent = 0
    for dependency in _dependencies(app):
        for target, value, body in _payloads(dependency, state):
            response = client.post("/_dash-update-component", json=body)
            sent += 1
            broke = (response.status_code >= 500
                     or "Traceback" in response.get_data(as_text=True)
                     or (response.headers.get(REJECTED_HEADER) == "error"
                         and not dependency["output"].startswith(DASH_OWN)))
            if broke:
                where = f"{dependency['output'][:70]} <- {target['id']}.{target['property']}"
                failures.setdefault(where, []).append(str(value)[:12])
    assert sent > 1000
    assert not failures, f"{sum(map(len, failures.values()))} of {sent} hostile requests " \
        "failed:\n" + "\n".join(f"{where}: {', '.join(values)}"
                                 for where, values in failures.items())
