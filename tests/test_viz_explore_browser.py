"""viz.explore in a real headless Chromium (Selenium): the page a student opens.

One browser for the module. The tests skip only when Chromium is absent and CI is not set
(bash scripts/install_browser.sh installs it); on CI a missing browser is a failure.
"""
import os
import shutil

import numpy as np
import pytest

import minigrad
import minigrad.viz as viz
from minigrad.viz.graph_walk import walk

import browser_support
from test_viz_explore import lstm_loss

PLANTED = 5          # the unit that is 1 inside double quotes and 0 outside


def planted_text():
    """A passage with quotes, and activations: noise, except unit PLANTED = "inside quotes"."""
    text = ('He said "stop" and then "go on, go" while she read. ' * 6 +
            'A line with "one more quote" at the end.\n')
    rng = np.random.default_rng(3)
    acts = rng.uniform(-1, 1, (len(text), 16))
    inside, quote = np.zeros(len(text)), 0
    for i, ch in enumerate(text):
        if ch == '"':
            quote = 1 - quote
        inside[i] = quote
    acts[:, PLANTED] = inside
    return text, acts, inside


@pytest.fixture(scope="module")
def browser():
    yield from browser_support.chromium_session("browser tests")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """A T=5 LSTM page with everything: states, a planted text, a comparison, attention."""
    if shutil.which("dot") is None:
        pytest.fail("graphviz's dot is needed for the explorer's graph (bash scripts/install_dot.sh)")
    loss, lstm, params = lstm_loss(T=5)
    text, acts, _ = planted_text()
    rng = np.random.default_rng(0)
    explorer = viz.explore(
        loss, states=lstm.hidden_states, text=text, activations={"c": acts, "h": np.tanh(acts)},
        cells={"in_quote": [(PLANTED, 0.93), (2, 0.41)]},
        flows={"RNN": [1e-4, 1e-3, 1e-2, 1e-1, 1.0], "GRU": [0.05, 0.08, 0.1, 0.2, 0.5]},
        attention={"words": ["a", "red", "circle", "<end>"], "maps": rng.random((4, 3, 3)),
                   "image": rng.random((48, 48, 3))},
        title="explore: T=5 LSTM")
    path = explorer.save(tmp_path_factory.mktemp("explore") / "explore.html")
    flow = viz.gradient_flow(loss, lstm.hidden_states)
    graph = walk(loss, keep_objects=True)
    objects = graph.objects
    loss.backward(retain_graph=True)
    has_grad = [i for i, obj in enumerate(objects)
                if not isinstance(obj, minigrad.Tensor) or obj.grad is not None]
    return {"path": str(path), "flow": flow, "has_grad": has_grad, "explorer": explorer}


@pytest.fixture()
def opened(browser, page):
    browser_support.open_page(browser, page["path"])
    return browser


def test_loads_from_file_with_no_console_error_and_no_network(opened, page):
    problems = [e for e in opened.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert problems == []
    urls = [u for u in browser_support.requested_urls(opened)
            if not u.startswith("chrome://")]      # the browser's own new-tab page
    assert urls and all(u.startswith(("file://", "data:")) for u in urls), urls
    assert opened.execute_script("return minigradExplorer.nodes.length") == len(page["explorer"].data["nodes"])


def test_stepper_first_state_is_the_seed_at_the_loss(opened, page):
    s = opened.execute_script("return minigradExplorer.step(0)")
    assert s["lit"] == [0] and s["edge"] is None and s["bars"] == [0] * 5
    lit = opened.execute_script("return Array.from(document.querySelectorAll('#graph .node.lit'))"
                                ".map(function (g) { return g.querySelector('title').textContent; })")
    assert lit == ["n0"]


def test_stepper_last_state_lights_every_node_with_a_gradient(opened, page):
    n = opened.execute_script("return minigradExplorer.numSteps")
    assert n == len(page["explorer"].data["events"]) > 0
    s = opened.execute_script(f"return minigradExplorer.step({n})")
    assert sorted(s["lit"]) == page["has_grad"]
    svg_lit = opened.execute_script("return document.querySelectorAll('#graph .node.lit').length")
    assert svg_lit == len(page["has_grad"])
    last = page["explorer"].data["events"][-1]
    assert (s["edge"]["src"], s["edge"]["dst"]) == (last[0], last[2])
    assert opened.execute_script("return document.querySelectorAll('#graph .edge.current').length") >= 1


def test_bar_chart_ends_at_gradient_flow_to_three_digits(opened, page):
    n = opened.execute_script("return minigradExplorer.numSteps")
    opened.execute_script(f"minigradExplorer.step({n})")
    drawn = opened.execute_script(
        "return Array.from(document.querySelectorAll('#flow-bars .col'))"
        ".map(function (c) { return Number(c.getAttribute('data-value')); })")
    assert len(drawn) == 5
    for got, want in zip(drawn, page["flow"]):
        assert float(f"{got:.3g}") == float(f"{want:.3g}")
    # and they fill in from the last step to the first
    filled = []
    for k in range(n + 1):
        bars = opened.execute_script(f"return minigradExplorer.step({k}).bars")
        filled.append(sum(1 for b in bars if b > 0))
        if bars[-1] == 0:
            assert sum(bars) == 0
    assert filled == sorted(filled) and filled[-1] == 5


def test_arrow_keys_walk_the_stepper(opened):
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.common.by import By
    opened.execute_script("minigradExplorer.step(0)")
    body = opened.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT, Keys.ARROW_LEFT)
    assert opened.execute_script("return minigradExplorer.state().step") == 2


def test_clicking_a_node_shows_its_shape_and_module_path(opened, page):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    nodes = page["explorer"].data["nodes"]
    cell = next(n for n in nodes if n["label"] == "LSTM cell" and n["step"] == 4)
    target = opened.execute_script(
        "return Array.from(document.querySelectorAll('#graph g.node')).find(function (g) {"
        f" return g.querySelector('title').textContent === 'n{cell['id']}'; }}).querySelector('path,polygon')")
    ActionChains(opened).move_to_element(target).click().perform()
    assert opened.execute_script("return minigradExplorer.state().selected") == cell["id"]
    fact = {e.get_attribute("data-fact"): e.text
            for e in opened.find_elements(By.CSS_SELECTOR, "#node-info dd")}
    assert fact["shape"] == "(1, 8), (1, 8)"
    assert fact["module"] == (cell["module"] or "–")
    assert fact["time step"] == "4"
    assert opened.find_elements(By.CSS_SELECTOR, "#node-info canvas")


def test_hovering_a_time_step_highlights_its_column_and_cluster(opened):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    opened.execute_script("minigradExplorer.step(minigradExplorer.numSteps)")
    column = opened.find_elements(By.CSS_SELECTOR, "#flow-bars .col")[2]
    ActionChains(opened).move_to_element(column).perform()
    assert opened.execute_script("return minigradExplorer.state().hover") == 2
    hovered = opened.execute_script("return Array.from(document.querySelectorAll('#graph .cluster.hover'))"
                                    ".map(function (g) { return g.querySelector('title').textContent; })")
    assert hovered == ["cluster_t2"]


def test_selecting_a_text_range_ranks_the_planted_unit_first(opened):
    text, _, inside = planted_text()
    a = text.index('"go on')                     # the opening quote: the state turns 1 here
    b = text.index('"', a + 1)                   # the closing quote (state is 0 there)
    assert inside[a:b].all() and not inside[b]
    opened.execute_script(
        "var spans = document.querySelectorAll('#states-text span'), r = document.createRange();"
        "r.setStart(spans[arguments[0]].firstChild, 0); r.setEnd(spans[arguments[1]].firstChild, 1);"
        "var s = window.getSelection(); s.removeAllRanges(); s.addRange(r);"
        "document.getElementById('states-text').dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));",
        a, b - 1)
    matches = opened.execute_script("return minigradExplorer.state().matches")
    assert matches[0][0] == PLANTED and matches[0][1] > 0.99
    assert all(r < matches[0][1] for _, r in matches[1:])


def test_interpretable_cell_is_preselected_and_attention_switches_words(opened):
    s = opened.execute_script("return minigradExplorer.state()")
    assert (s["unitKind"], s["unit"]) == ("c", PLANTED)
    assert opened.execute_script("return minigradExplorer.showWord(2).word") == 2


def test_screenshot_of_each_panel(opened, tmp_path):
    opened.execute_script("minigradExplorer.step(Math.floor(minigradExplorer.numSteps / 2));"
                          "minigradExplorer.select(minigradExplorer.nodes.find(function (n) {"
                          " return n.label.indexOf('weight_hh') === 0; }).id)")
    out = os.environ.get("MINIGRAD_SCREENSHOTS", str(tmp_path))
    paths = browser_support.screenshot_panels(opened, out)
    assert [os.path.basename(p) for p in paths] == [
        f"explore_{name}.png" for name in ("stepper",) + browser_support.PANELS]
    for p in paths:
        with open(p, "rb") as f:
            head = f.read(24)
        assert head[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
        assert width > 100 and height > 20
