"""Helpers for app tests: text of a component tree, upload payloads, and browser waits."""

from __future__ import annotations

import base64

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.support.ui import WebDriverWait

from dashapp import ids


def data_url(content: bytes, kind: str = "text/csv") -> str:
    return f"data:{kind};base64," + base64.b64encode(content).decode()


def fetched(link: dict) -> bytes:
    """The file behind a download link (``dashapp.downloads.offer_file``), as the route sends
    it to the workspace that made it (outside a request: the one without sign-in)."""
    from dashapp.store import get_store

    return get_store().kept_file(link["url"].rpartition("/")[2])[0]


def text_of(component) -> str:
    """All text inside a Dash component tree."""
    if component is None or isinstance(component, bool):
        return ""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(text for text in map(text_of, component) if text)
    return text_of(getattr(component, "children", None))


TIMEOUT = 30


def plot_js(graph_id: str, expression: str) -> str:
    """JavaScript reading ``expression`` of the drawn plot (``gd``) inside ``#graph_id``; null
    while the plot is not drawn (or is being redrawn), so waits poll again."""
    return (f"const gd = document.querySelector('#{graph_id} .js-plotly-plot');"
            f"try {{ return gd && gd._fullData ? {expression} : null; }}"
            f" catch (error) {{ return null; }}")


def wait_for(dash_duo, condition, message: str):
    dash_duo.wait_for_element("body")
    WebDriverWait(dash_duo.driver, TIMEOUT).until(lambda _: condition(), message)


def cards(dash_duo) -> int:
    return len(dash_duo.find_elements(".c2c-segment-card"))


def legend_entries(dash_duo):
    return dash_duo.driver.execute_script(plot_js(
        ids.SEGMENT_MAP, "gd._fullData.slice(1).filter(t => t.visible === true).length"))


def click(dash_duo, selector: str) -> None:
    """Click an element wherever it is on the page (a DOM click, as from a mouse)."""
    element = dash_duo.wait_for_element(selector, timeout=TIMEOUT)
    dash_duo.driver.execute_script("arguments[0].click();", element)


def click_slider_mark(dash_duo, slider_id: str, value: int) -> None:
    """Click a slider mark the way a user does (marks sit under the slider root)."""
    marks = dash_duo.find_elements(f"#{slider_id} .dash-slider-mark")
    mark = next(m for m in marks if m.text.strip() == str(value))
    ActionChains(dash_duo.driver).move_to_element(mark).click().perform()


